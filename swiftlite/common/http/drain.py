"""Draining a worker: stop taking requests, let the ones in flight finish.

A worker that is told to go (a reload, a graceful stop) calls ``begin``: keep-alive
connections waiting for their next request head are closed at once (their clients see an idle
keep-alive close, which HTTP clients and the proxy's backend pools retry), a connection in the
middle of a request is closed after its response, and ``wait`` returns when none are left or
the time is up. A connection accepted but not yet read still has its first request served.
``common/http/server.py`` registers connections here while they wait for a head.
"""

from __future__ import annotations

from typing import Any

from swiftlite.common import green


class Drain:
    """The drain state one worker's ``serve`` shares with its supervisor code."""

    def __init__(self) -> None:
        self.draining = False
        self.waiting: set[Any] = set()  # Connections waiting for a request head
        self.pool: Any = None  # the serve loop's GreenPool, once serving

    def begin(self) -> None:
        """Take no new request; close the connections that sit idle between requests."""
        self.draining = True
        for conn in list(self.waiting):
            if conn.served:  # a new connection still gets its first request answered
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
