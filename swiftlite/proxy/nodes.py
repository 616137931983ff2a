"""Which backend nodes a request tries, in what order: NodeIter and ErrorLimiter.

``NodeIter`` yields a partition's primaries, then its handoffs (``Ring.get_more_nodes``),
skipping nodes the ``ErrorLimiter`` has suppressed, and stops after ``request_node_count``
nodes. It is safe to share between the greenthreads of one request: ``next`` never blocks, so
two greenthreads can never be inside it at once. Ring nodes (``ring.node.Node``) are shared
and frozen.

``ErrorLimiter`` counts errors per node (``ip:port/device``). A node with more than
``suppression_limit`` errors, the last within ``suppression_interval`` seconds, is skipped
until that interval has passed since its last error; a 507 suppresses a node at once (its disk
is gone, as Swift treats it). The clock is injectable so tests need no sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from swiftlite.ring.node import Node


class RingLike(Protocol):
    replica_count: int

    def get_part_nodes(self, part: int) -> list[Node]: ...

    def get_more_nodes(self, part: int) -> Iterator[Node]: ...


def node_key(node: Node) -> str:
    return f"{node.ip}:{node.port}/{node.device}"


class ErrorLimiter:
    """Per-node error counts with time-boxed suppression."""

    def __init__(
        self,
        suppression_interval: float = 60.0,
        suppression_limit: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = suppression_interval
        self.limit_count = suppression_limit
        self.clock = clock
        self._stats: dict[str, list[float]] = {}  # key -> [errors, last_error_time]

    def is_limited(self, node: Node) -> bool:
        stats = self._stats.get(node_key(node))
        if stats is None:
            return False
        if stats[1] < self.clock() - self.interval:
            self._stats.pop(node_key(node), None)
            return False
        return stats[0] > self.limit_count

    def increment(self, node: Node) -> bool:
        """Count one error; returns True when the node became (or stays) suppressed."""
        key = node_key(node)
        now = self.clock()
        stats = self._stats.get(key)
        if stats is None or stats[1] < now - self.interval:
            stats = self._stats[key] = [0, now]
        stats[0] += 1
        stats[1] = now
        return stats[0] > self.limit_count

    def limit(self, node: Node) -> None:
        """Suppress a node now (a 507: its device is unmounted or full)."""
        self._stats[node_key(node)] = [self.limit_count + 1, self.clock()]

    def errors(self, node: Node) -> int:
        stats = self._stats.get(node_key(node))
        return int(stats[0]) if stats else 0

    def suppressed(self) -> list[str]:
        """The keys (``ip:port/device``) of the nodes suppressed now, for /metrics."""
        cutoff = self.clock() - self.interval
        return sorted(
            key
            for key, (count, last) in list(self._stats.items())
            if count > self.limit_count and last >= cutoff
        )

    def clear(self) -> None:
        self._stats.clear()


class NodeIter:
    """Primaries then handoffs for one partition, minus suppressed nodes, at most N of them.

    ``primaries`` may be passed in (already looked up or shuffled); ``handoffs_used`` counts
    the handoffs handed out so far (for logging and tests).
    """

    def __init__(
        self,
        ring: RingLike,
        part: int,
        limiter: ErrorLimiter | None = None,
        request_node_count: int | None = None,
        primaries: Sequence[Node] | None = None,
        shuffle: bool = False,
    ) -> None:
        self.ring = ring
        self.part = part
        self.limiter = limiter
        self.primaries: list[Node] = list(
            ring.get_part_nodes(part) if primaries is None else primaries
        )
        if shuffle:
            random.shuffle(self.primaries)
        self.left = 2 * len(self.primaries) if request_node_count is None else request_node_count
        self.handoffs_used = 0
        self._gen = self._walk()

    def _walk(self) -> Iterator[Node]:
        for node in self.primaries:
            if self.limiter is None or not self.limiter.is_limited(node):
                yield node
        for node in self.ring.get_more_nodes(self.part):
            if self.limiter is None or not self.limiter.is_limited(node):
                self.handoffs_used += 1
                yield node

    def __iter__(self) -> NodeIter:
        return self

    def __next__(self) -> Node:
        if self.left <= 0:
            raise StopIteration
        node = next(self._gen)
        self.left -= 1
        return node


def request_node_count(setting: str, replicas: int) -> int:
    """Parse Swift's ``request_node_count``: ``"2 * replicas"`` or a plain integer."""
    text = setting.strip().lower().replace(" ", "")
    if text.endswith("*replicas"):
        return int(text[: -len("*replicas")]) * replicas
    return int(text)
