"""The pending journal: updates queued beside a database and merged into it in batches.

Writers append one line per update to ``<hash>.pending`` while holding an exclusive ``flock``
on it; nothing opens SQLite on that path, so a hot container takes thousands of updates a
second with no "database is locked". ``drain`` takes the same lock, reads every line, hands the
records to the broker's ``merge`` (one SQLite transaction) and truncates the file. A crash
between the commit and the truncate replays the records on the next drain, which is harmless
because merging is idempotent.

Line format (version 1): a JSON array ``[1, field, ...]`` followed by ``\\n``. The fields are
the broker's record (see ``docs/formats/db.md``). A line that does not parse is a torn write
from a crash and is dropped with a warning; a writer that finds the file not ending in a newline
starts its line with one, so one torn line never swallows the next.

Durability: an append is a ``write()`` without ``fsync``, as in Swift. It survives the process
dying, not the machine losing power; other replicas and replication cover that window.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from swiftlite.common import fs
from swiftlite.common.errors import DiskFull

PENDING_VERSION = 1
# Merge once the journal passes this size (Swift's PENDING_CAP), or before any read.
PENDING_CAP = 131072
DEFAULT_LOCK_TIMEOUT = 25.0

Record = list[Any]

log = logging.getLogger("swiftlite.db.pending")


def encode(record: Sequence[Any]) -> bytes:
    """One journal line for ``record`` (its version is prepended here)."""
    return (
        json.dumps([PENDING_VERSION, *record], ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def decode(data: bytes) -> tuple[list[Record], int]:
    """Records from journal bytes, and how many lines were unreadable and skipped."""
    records: list[Record] = []
    bad = 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(item, list) or not item or item[0] != PENDING_VERSION:
            bad += 1
            continue
        records.append(item[1:])
    return records, bad


def append(path: str, record: Sequence[Any], timeout: float = DEFAULT_LOCK_TIMEOUT) -> int:
    """Append one record under the lock; returns the journal's size afterwards."""
    return append_many(path, [record], timeout)


def append_many(
    path: str, records: Sequence[Sequence[Any]], timeout: float = DEFAULT_LOCK_TIMEOUT
) -> int:
    """Append records as one write under the lock; returns the journal's size afterwards.

    A write that fails (ENOSPC: ``DiskFull``) is cut back off, so a refused update leaves no
    torn line behind and the journal is exactly what it was.
    """
    data = b"".join(encode(r) for r in records)
    with fs.flock(path, timeout) as fd:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # the previous writer died mid-line
        view = memoryview(data)
        offset = size
        try:
            while view:
                written = os.pwrite(fd, view, offset)
                offset += written
                view = view[written:]
        except OSError as exc:
            os.ftruncate(fd, size)
            if fs.is_disk_full(exc):
                raise DiskFull(f"{path}: {exc}") from None
            raise
        return offset


def size_of(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def drain(
    path: str,
    merge: Callable[[list[Record]], None],
    timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> int:
    """Merge every queued record with ``merge`` and empty the journal; returns the count.

    The lock is held through the merge so no record is appended to a journal that is about to
    be truncated. A journal that is empty or absent costs one ``stat`` and takes no lock.
    """
    if size_of(path) == 0:
        return 0
    with fs.flock(path, timeout) as fd:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        data = os.pread(fd, size, 0)
        records, bad = decode(data)
        if bad:
            log.warning("%s: skipped %d unreadable pending line(s)", path, bad)
        if records:
            merge(records)
        os.ftruncate(fd, 0)
        return len(records)
