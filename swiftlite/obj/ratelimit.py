"""Pacing for the object daemons: at most N units (files, bytes, requests) per second.

A ``RateLimiter`` keeps the time at which the next unit may start and sleeps greenly
(``green.sleep``) until then, so other greenthreads of the daemon keep running. A short burst
(``burst`` seconds' worth of units) is allowed after an idle spell, as in Swift's
``ratelimit_sleep``. A rate of 0 or less means unlimited. The clock and sleep are injectable
so that tests can check the pacing without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from swiftlite.common import green


class RateLimiter:
    def __init__(
        self,
        per_second: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = green.sleep,
    ) -> None:
        self.per_second = float(per_second)
        self.burst = float(burst)
        self.clock = clock
        self.sleep = sleep
        self._next: float | None = None

    def wait(self, units: float = 1.0) -> float:
        """Account for ``units`` and sleep as long as the rate requires; the time slept."""
        if self.per_second <= 0 or units <= 0:
            return 0.0
        now = self.clock()
        start = now - self.burst if self._next is None else max(self._next, now - self.burst)
        self._next = start + units / self.per_second
        delay = self._next - now
        if delay <= 0:
            return 0.0
        self.sleep(delay)
        return delay
