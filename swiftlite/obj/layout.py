"""Every object path on a device, and which files in a hash directory count.

Owns the names under ``<devices>/<device>/``::

    objects/<partition>/<suffix>/<hash>/<timestamp>.data|.meta|.ts
    objects/<partition>/hashes.json, hashes.invalid, .lock
    async_pending/<suffix>/<hash>-<timestamp>
    expiring/<bucket>/<delete_at>-<hash>.json
    tmp/
    quarantined/objects/<hash>/
    quarantined/async_pending/<name>

for storage policy 0; policy N's objects, updates and temporary files live in ``objects-N``,
``async_pending-N`` and ``tmp-N`` (quarantined: ``quarantined/objects-N``), as Swift lays them
out. Every path function takes the policy index (``policy``, default 0).

and the pure rule that picks the files describing an object (``pick``): the newest ``.data`` or
``.ts`` decides what the object is, a ``.meta`` newer than that ``.data`` carries its current
metadata, and everything else is obsolete. A tombstone older than ``reclaim_age`` is obsolete
too. This module does no I/O beyond building strings (see docs/formats/object.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from swiftlite.common.policies import dir_name
from swiftlite.common.policies import policy_dirs as _policy_dirs
from swiftlite.common.timestamp import Timestamp

OBJECTS = "objects"
ASYNC_PENDING = "async_pending"
EXPIRING = "expiring"
TMP = "tmp"
QUARANTINED = "quarantined"
HASHES_FILE = "hashes.json"
INVALIDATIONS_FILE = "hashes.invalid"
PARTITION_LOCK = ".lock"

DATA = ".data"
META = ".meta"
TOMBSTONE = ".ts"
EXTENSIONS = (DATA, META, TOMBSTONE)


def objects_dir(dev_path: str, policy: int = 0) -> str:
    return os.path.join(dev_path, dir_name(OBJECTS, policy))


def async_dir(dev_path: str, policy: int = 0) -> str:
    return os.path.join(dev_path, dir_name(ASYNC_PENDING, policy))


def policy_dirs(dev_path: str, base: str) -> list[tuple[int, str]]:
    """(policy index, path) of each ``base`` / ``base-N`` directory on a device, by index."""
    return _policy_dirs(dev_path, base)


def partition_dir(dev_path: str, partition: int | str, policy: int = 0) -> str:
    return os.path.join(objects_dir(dev_path, policy), str(partition))


def suffix_dir(dev_path: str, partition: int | str, suffix: str, policy: int = 0) -> str:
    return os.path.join(partition_dir(dev_path, partition, policy), suffix)


def hash_dir(dev_path: str, partition: int | str, name_hash: str, policy: int = 0) -> str:
    return os.path.join(suffix_dir(dev_path, partition, name_hash[-3:], policy), name_hash)


def tmp_dir(dev_path: str, policy: int = 0) -> str:
    return os.path.join(dev_path, dir_name(TMP, policy))


def quarantine_dir(dev_path: str, name_hash: str, policy: int = 0) -> str:
    return os.path.join(dev_path, QUARANTINED, dir_name(OBJECTS, policy), name_hash)


def quarantine_async_dir(dev_path: str, policy: int = 0) -> str:
    return os.path.join(dev_path, QUARANTINED, dir_name(ASYNC_PENDING, policy))


def expiring_dir(dev_path: str) -> str:
    return os.path.join(dev_path, EXPIRING)


# The expiry queue groups entries in hour buckets so the expirer lists only buckets that are due.
EXPIRY_BUCKET_SECONDS = 3600
EXPIRY_ENTRY_EXT = ".json"


def expiry_bucket_name(delete_at: int) -> str:
    """The bucket dir of a delete-at time: its hour's start, 10 digits so names sort by time."""
    return f"{delete_at - delete_at % EXPIRY_BUCKET_SECONDS:010d}"


def expiry_entry_path(dev_path: str, delete_at: int, name_hash: str) -> str:
    return os.path.join(
        expiring_dir(dev_path),
        expiry_bucket_name(delete_at),
        f"{delete_at:010d}-{name_hash}{EXPIRY_ENTRY_EXT}",
    )


def parse_expiry_bucket(name: str) -> int | None:
    """The start time of a bucket dir name, or None for anything else."""
    return int(name) if len(name) == 10 and name.isdigit() else None


def parse_expiry_entry(name: str) -> tuple[int, str] | None:
    """(delete_at, name hash) of an expiry entry file name, or None for anything else."""
    stem, ext = os.path.splitext(name)
    when, dash, name_hash = stem.partition("-")
    if ext != EXPIRY_ENTRY_EXT or not dash or not when.isdigit() or not is_hash(name_hash):
        return None
    return int(when), name_hash


def async_pending_path(dev_path: str, name_hash: str, timestamp: Timestamp, policy: int = 0) -> str:
    return os.path.join(
        async_dir(dev_path, policy), name_hash[-3:], f"{name_hash}-{timestamp.internal}"
    )


def file_name(timestamp: Timestamp, ext: str) -> str:
    if ext not in EXTENSIONS:
        raise ValueError(f"unknown object file extension {ext!r}")
    return timestamp.internal + ext


def parse_file_name(name: str) -> tuple[Timestamp, str] | None:
    """(timestamp, extension) of an object file name, or None for anything else."""
    stem, dot, ext = name.rpartition(".")
    if not dot or "." + ext not in EXTENSIONS:
        return None
    try:
        return Timestamp(stem), "." + ext
    except ValueError:
        return None


def timestamp_of(name: str) -> Timestamp:
    """The timestamp of an object file name; ValueError for anything else."""
    parsed = parse_file_name(name)
    if parsed is None:
        raise ValueError(f"not an object file name: {name!r}")
    return parsed[0]


def is_suffix(name: str) -> bool:
    return len(name) == 3 and all(c in "0123456789abcdef" for c in name)


def is_hash(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


@dataclass(frozen=True)
class FileSet:
    """The files of one hash directory that describe the object, and those that are obsolete."""

    data: str | None = None
    meta: str | None = None
    tombstone: str | None = None
    obsolete: tuple[str, ...] = field(default=())

    @property
    def timestamp(self) -> Timestamp | None:
        """The timestamp of the deciding file (.data or .ts)."""
        chosen = self.data or self.tombstone
        return timestamp_of(chosen) if chosen else None

    @property
    def is_empty(self) -> bool:
        return not (self.data or self.meta or self.tombstone)


# At equal timestamps a tombstone outranks data (a delete wins a tie), data outranks meta.
_RANK = {TOMBSTONE: 2, DATA: 1, META: 0}


def pick(
    names: Iterable[str], now: float | None = None, reclaim_age: float | None = None
) -> FileSet:
    """Choose the deciding files among ``names``; unknown names are neither kept nor obsolete.

    With ``now`` and ``reclaim_age`` a lone tombstone older than ``reclaim_age`` is obsolete.
    """
    parsed = [(p[0], _RANK[p[1]], p[1], n) for n in names if (p := parse_file_name(n))]
    parsed.sort(reverse=True)
    data = meta = tombstone = None
    obsolete: list[str] = []
    for _, _, ext, name in parsed:
        decided = data is not None or tombstone is not None
        if decided:
            obsolete.append(name)
        elif ext == META:
            if meta is None:
                meta = name
            else:
                obsolete.append(name)
        elif ext == DATA:
            data = name
        else:
            tombstone = name
    if tombstone is not None and meta is not None:
        # a POST newer than a delete cannot apply to anything
        obsolete.append(meta)
        meta = None
    if (
        tombstone is not None
        and now is not None
        and reclaim_age is not None
        and timestamp_of(tombstone).seconds < now - reclaim_age
    ):
        obsolete.append(tombstone)
        tombstone = None
    return FileSet(data, meta, tombstone, tuple(obsolete))
