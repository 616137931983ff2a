"""Draining a worker: stop taking connections, let the requests in flight finish.

A worker that is told to go (a reload, a graceful stop) calls ``begin``. From then on every
response carries ``Connection: close`` and ends its connection, so a keep-alive client learns
to reconnect (to another worker) from the response itself instead of from a reset. A
connection that sits idle, waiting for a request head, for ``IDLE_GRACE`` seconds after that
is closed (its client sees an idle keep-alive close, which HTTP clients and the proxy's backend
pools retry). ``wait`` returns when no connection is left or the time is up.
``common/http/server.py`` registers connections here while they wait for a head.
"""

from __future__ import annotations

from typing import Any

from swiftlite.common import green

IDLE_GRACE = 2.0


class Drain:
    """The drain state one worker's ``serve`` shares with its supervisor code."""

    def __init__(self) -> None:
        self.draining = False
        self.waiting: set[Any] = set()  # Connections waiting for a request head
        self.pool: Any = None  # the serve loop's GreenPool, once serving

    def begin(self, idle_grace: float = IDLE_GRACE) -> None:
        """Take no new connection; close idle ones after ``idle_grace`` seconds."""
        self.draining = True
        green.spawn_n(self._close_idle, idle_grace)

    def _close_idle(self, idle_grace: float) -> None:
        green.sleep(idle_grace)
        for conn in list(self.waiting):
            conn.evict()

    def wait(self, timeout: float) -> bool:
        """Wait for the connections in flight; False when ``timeout`` ran out first."""
        if self.pool is None:
            return True
        timer = green.Timeout(timeout)
        try:
            self.pool.waitall()
            return True
        except green.Timeout as exc:
            if exc is not timer:
                raise
            return False
        finally:
            timer.cancel()
