"""Quorum arithmetic and the choice of one answer from several backend answers (pure).

Swift counts a quorum as ``(n + 1) // 2`` (2 of 3, 1 of 2, 2 of 4, 3 of 5). The proxy asks n
replicas and answers the client with the *best* response: the first status class (2xx, then
3xx, then 4xx) that a quorum of backends agree on, and within it the highest status (so a
container PUT that created on one replica and found on two answers 202). No quorum in any of
those classes means 503. This module holds no I/O and knows nothing of webob.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

SERVICE_UNAVAILABLE = 503
_CLASSES = (200, 300, 400)


def quorum_size(n: int) -> int:
    """Backend successes needed for n replicas: Swift's ceil-half, ``(n + 1) // 2``."""
    return (n + 1) // 2


def have_quorum(statuses: Sequence[int], node_count: int, quorum: int | None = None) -> bool:
    """True once the answers so far already decide the outcome (a class holds a quorum)."""
    need = quorum_size(node_count) if quorum is None else quorum
    if len(statuses) < need:
        return False
    for hundred in (100, *_CLASSES):
        if sum(1 for s in statuses if hundred <= s < hundred + 100) >= need:
            return True
    return False


def best_index(statuses: Sequence[int], quorum: int | None = None) -> int | None:
    """Index of the status to answer with, or None when no class reaches the quorum.

    ``quorum`` defaults to ``quorum_size(len(statuses))``; callers that pad missing answers
    with 503 get Swift's behaviour exactly.
    """
    if not statuses:
        return None
    need = quorum_size(len(statuses)) if quorum is None else quorum
    for hundred in _CLASSES:
        members = [(s, i) for i, s in enumerate(statuses) if hundred <= s < hundred + 100]
        if members and len(members) >= need:
            # highest status wins; among equals the first one answered
            best = max(members, key=lambda pair: (pair[0], -pair[1]))
            return best[1]
    return None


def best_status(statuses: Sequence[int], quorum: int | None = None) -> int:
    """The status the client gets: the best one by quorum, else 503."""
    index = best_index(statuses, quorum)
    return SERVICE_UNAVAILABLE if index is None else statuses[index]


def pad(statuses: Sequence[int], node_count: int) -> list[int]:
    """Fill in 503 for the replicas that never answered, as Swift does before choosing."""
    out = list(statuses)
    out.extend([SERVICE_UNAVAILABLE] * (node_count - len(out)))
    return out


def is_success(status: int) -> bool:
    return 200 <= status < 300


@dataclass
class Reply:
    """One backend's answer, read in full: what best-response choosing needs."""

    status: int
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return default


def best_reply(replies: Sequence[Reply], quorum: int | None = None) -> Reply | None:
    """The reply chosen by ``best_index`` over the replies' statuses; None means 503."""
    index = best_index([r.status for r in replies], quorum)
    return None if index is None else replies[index]
