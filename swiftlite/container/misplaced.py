"""Container policy conflicts: which replica's policy wins, and the misplaced-object queue.

Two replicas of one container can disagree about its storage policy when the container was
created concurrently on both sides of a network split, each with another policy. Replication
settles it with ``prefers`` (Swift's rule): a live container beats a deleted one; of two
recreated ones (put after a delete) the newer ``status_changed_at`` wins; otherwise the
oldest ``status_changed_at`` wins: the policy of the container that existed first. Ties go to
the lower index so both sides always agree.

Objects written meanwhile under the losing policy are *misplaced*: their rows name another
policy than the container's. The container replicator queues them in the hidden account
``.misplaced_objects``, one container per hour of the object's timestamp (``queue_container``),
one row per object named ``<policy index>:/<account>/<container>/<object>`` (``queue_name``)
at the object's timestamp, its content type ``application/x-put`` (``application/x-delete``
for a delete made under the losing policy). The container reconciler
(``container/reconciler.py``) works through that queue and moves each object to the
container's policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from swiftlite.common.timestamp import Timestamp

MISPLACED_ACCOUNT = ".misplaced_objects"
QUEUE_BUCKET_SECONDS = 3600
PUT_OP = "application/x-put"
DELETE_OP = "application/x-delete"


def _deleted(info: Mapping[str, Any]) -> bool:
    count = int(info.get("object_count", info.get("count", 0)) or 0)
    return Timestamp(info["delete_timestamp"]) > Timestamp(info["put_timestamp"]) and not count


def _recreated(info: Mapping[str, Any]) -> bool:
    put, delete = Timestamp(info["put_timestamp"]), Timestamp(info["delete_timestamp"])
    return put > delete > Timestamp(0)


def prefers(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    """Whether ``theirs`` (a replica's put/delete/status_changed_at timestamps, object count
    and ``storage_policy_index``) decides the container's policy over ``ours``."""
    mine, other = Timestamp(ours["status_changed_at"]), Timestamp(theirs["status_changed_at"])
    if _deleted(ours) or _deleted(theirs):
        if _deleted(ours) != _deleted(theirs):
            return _deleted(ours)
        better = other > mine
    elif _recreated(ours) or _recreated(theirs):
        if _recreated(ours) != _recreated(theirs):
            return _recreated(theirs)
        better = other > mine
    else:
        better = other < mine
    if other == mine:
        return int(theirs["storage_policy_index"]) < int(ours["storage_policy_index"])
    return better


def best_policy(infos: Sequence[Mapping[str, Any]]) -> int | None:
    """The policy index the replicas' infos settle on (None without any)."""
    best: Mapping[str, Any] | None = None
    for info in infos:
        if best is None or prefers(best, info):
            best = info
    return None if best is None else int(best["storage_policy_index"])


def queue_container(timestamp: Timestamp | str) -> str:
    """The queue container of an object timestamp: the start of its hour, in seconds."""
    seconds = int(Timestamp(timestamp).seconds)
    return str(seconds - seconds % QUEUE_BUCKET_SECONDS)


def queue_name(policy: int, account: str, container: str, obj: str) -> str:
    return f"{policy}:/{account}/{container}/{obj}"


def parse_queue_name(name: str) -> tuple[int, str, str, str] | None:
    """(policy index, account, container, object) of a queue row name; None if malformed."""
    index, sep, path = name.partition(":/")
    parts = path.split("/", 2)
    if not sep or not index.isdigit() or len(parts) != 3 or not all(parts):
        return None
    return int(index), parts[0], parts[1], parts[2]
