"""``Backend``: what the getter and putter use of the proxy, and nothing else.

The connection pool, the error limiter, the logger and the handful of options that shape a
walk over nodes (how many to try, in what order, the timeouts of a client body and of a
resumed read). ``ProxyApp`` builds one; tests can build one around a pool of their own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from swiftlite.common import logs
from swiftlite.common.http.client import BackendPool
from swiftlite.proxy.nodes import ErrorLimiter, RingLike, node_key, request_node_count
from swiftlite.ring.node import Node


@dataclass
class Backend:
    pool: BackendPool
    limiter: ErrorLimiter
    logger: logging.Logger | logging.LoggerAdapter[Any]
    request_node_count: str = "2 * replicas"
    shuffle: bool = True  # sorting_method = shuffle
    client_chunk_size: int = 65536
    client_timeout: float = 60.0
    post_quorum_timeout: float = 0.5
    recoverable_node_timeout: float = 10.0
    log_handoffs: bool = True

    def node_count(self, ring: RingLike) -> int:
        """How many nodes a request may try in ``ring`` (``request_node_count``)."""
        return request_node_count(self.request_node_count, ring.replica_count)

    def node_error(
        self, node: Node, server_type: str, what: str, status: int | None = None
    ) -> None:
        """Charge a failure to a node: a 507 suppresses it at once, anything else counts one."""
        where = node_key(node)
        what = logs.escape(what)  # it names the client's path: a line break in it is quoted
        if status == 507:
            self.limiter.limit(node)
            self.logger.error(
                "ERROR Insufficient Storage %s server %s re: %s", server_type, where, what
            )
            return
        if self.limiter.increment(node):
            self.logger.error("ERROR %s server %s is now error-limited", server_type, where)
        detail = f" (status {status})" if status else ""
        self.logger.warning("ERROR with %s server %s re: %s%s", server_type, where, what, detail)
