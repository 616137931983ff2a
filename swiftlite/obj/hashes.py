"""Per-partition suffix hashes for replication: invalidate on write, recompute lazily.

Owns ``objects/<part>/hashes.json`` and ``objects/<part>/hashes.invalid`` (docs/formats/object.md).

- ``invalidate(part_dir, suffix)`` appends the suffix to the invalidations log under the
  partition lock. Every PUT, POST and DELETE calls it after its rename.
- ``get_hashes(part_dir, recalculate)`` folds the log into ``hashes.json``, rehashes the
  invalidated and requested suffixes (cleaning obsolete files and reclaiming old tombstones as it
  goes), writes the file durably and empties the log. A missing or unreadable ``hashes.json``
  means a full rehash. The REPLICATE verb returns the result; the replicator compares it.
- ``remove_synced`` and ``remove_partition_if_empty`` let the replicator drop a handoff
  partition once every primary holds it, without losing a write that raced the push.

A suffix hash is the MD5 of the sorted hash directory names each followed by its sorted kept
file names. An empty suffix directory is removed and left out of the result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping

from swiftlite.common import fs
from swiftlite.obj import layout

VERSION = 1
LOCK_TIMEOUT = 10.0


@contextlib.contextmanager
def _partition_locked(part_dir: str) -> Iterator[bool]:
    """Hold the partition lock; yields False (nothing held) when the partition dir has gone.

    Another replicator (the daemon beside a ``once`` run) may remove an empty handoff
    partition while this process waits for its lock.
    """
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                fs.flock(os.path.join(part_dir, layout.PARTITION_LOCK), LOCK_TIMEOUT)
            )
        except FileNotFoundError:
            yield False
            return
        yield True


def invalidate(part_dir: str, suffix: str) -> None:
    """Record that ``suffix`` changed; the next ``get_hashes`` rehashes it."""
    with fs.flock(os.path.join(part_dir, layout.PARTITION_LOCK), LOCK_TIMEOUT):
        fd = os.open(
            os.path.join(part_dir, layout.INVALIDATIONS_FILE),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND,
            0o644,
        )
        try:
            fs.write_all(fd, suffix.encode("ascii") + b"\n")
        finally:
            os.close(fd)


def hash_suffix(suffix_path: str, reclaim_age: float, now: float | None = None) -> str | None:
    """MD5 of a suffix directory's live files; None (and the dir removed) when nothing is left."""
    now = time.time() if now is None else now
    md5 = hashlib.md5()
    try:
        hash_names = sorted(os.listdir(suffix_path))
    except (FileNotFoundError, NotADirectoryError):
        return None
    found = False
    for name_hash in hash_names:
        path = os.path.join(suffix_path, name_hash)
        kept = _clean_hash_dir(path, reclaim_age, now)
        if not kept:
            continue
        found = True
        md5.update(name_hash.encode("ascii"))
        for name in kept:
            md5.update(name.encode("ascii"))
    if not found:
        with contextlib.suppress(OSError):
            os.rmdir(suffix_path)  # fails harmlessly if a writer just added something
        return None
    return md5.hexdigest()


def _clean_hash_dir(path: str, reclaim_age: float, now: float) -> list[str]:
    """Unlink obsolete files in a hash dir; the sorted kept names (dir removed when empty)."""
    try:
        names = os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    files = layout.pick(names, now, reclaim_age)
    for name in files.obsolete:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(path, name))
    kept = sorted(n for n in (files.data, files.meta, files.tombstone) if n)
    if not kept and not (set(names) - set(files.obsolete)):
        with contextlib.suppress(OSError):
            os.rmdir(path)
    return kept


def _read_hashes(part_dir: str) -> dict[str, str | None] | None:
    try:
        with open(os.path.join(part_dir, layout.HASHES_FILE), "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return None
    hashes = doc.get("hashes")
    if not isinstance(hashes, dict):
        return None
    return {k: v for k, v in hashes.items() if layout.is_suffix(k) and (v is None or len(v) == 32)}


def _read_invalid(part_dir: str) -> set[str]:
    try:
        with open(os.path.join(part_dir, layout.INVALIDATIONS_FILE), "rb") as fh:
            lines = fh.read().decode("ascii", "replace").split()
    except FileNotFoundError:
        return set()
    return {line for line in lines if layout.is_suffix(line)}


def _write_hashes(part_dir: str, hashes: dict[str, str | None], now: float) -> None:
    doc = {"version": VERSION, "updated": now, "hashes": dict(sorted(hashes.items()))}
    data = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    fs.write_file_durable(os.path.join(part_dir, layout.HASHES_FILE), data)


def get_hashes(
    part_dir: str,
    recalculate: Iterable[str] = (),
    reclaim_age: float = 604800.0,
    now: float | None = None,
) -> dict[str, str | None]:
    """The partition's {suffix: hash}, rehashing invalidated and ``recalculate`` suffixes.

    A partition directory that does not exist has no hashes (and is not created).
    """
    if not os.path.isdir(part_dir):
        return {}
    now = time.time() if now is None else now
    with _partition_locked(part_dir) as held:
        if not held:
            return {}
        hashes = _read_hashes(part_dir)
        rewrite = hashes is None
        stale = _read_invalid(part_dir) | {s for s in recalculate if layout.is_suffix(s)}
        if hashes is None:
            hashes = {}
            stale |= {n for n in os.listdir(part_dir) if layout.is_suffix(n)}
        stale |= {s for s, h in hashes.items() if h is None}
        for suffix in stale:
            value = hash_suffix(os.path.join(part_dir, suffix), reclaim_age, now)
            if value is None:
                hashes.pop(suffix, None)
            else:
                hashes[suffix] = value
        if not (stale or rewrite):
            return hashes
        _write_hashes(part_dir, hashes, now)
        # the log is emptied only once hashes.json holds everything it said
        with contextlib.suppress(FileNotFoundError):
            os.truncate(os.path.join(part_dir, layout.INVALIDATIONS_FILE), 0)
    return hashes


def remove_synced(
    part_dir: str, synced: Mapping[str, str | None], reclaim_age: float = 604800.0
) -> list[str]:
    """Delete the suffix dirs whose content still hashes to ``synced``; the suffixes removed.

    Used by the replicator once a handoff partition is safe on every primary. Each suffix is
    rehashed under the partition lock first, so one that a writer changed after it was pushed
    is kept for the next pass. Removed suffixes are dropped from ``hashes.json`` too.
    """
    if not os.path.isdir(part_dir):
        return []
    removed = []
    with _partition_locked(part_dir) as held:
        if not held:
            return []
        for suffix, expected in synced.items():
            path = os.path.join(part_dir, suffix)
            if not layout.is_suffix(suffix):
                continue
            if hash_suffix(path, reclaim_age) in (expected, None):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(suffix)
        known = _read_hashes(part_dir)
        if known is not None and removed:
            for suffix in removed:
                known.pop(suffix, None)
            _write_hashes(part_dir, known, time.time())
    return removed


def remove_partition_if_empty(part_dir: str) -> bool:
    """Remove a partition dir that holds no suffix dirs any more; True when it is gone.

    The hashes files go first; the final ``rmdir`` fails harmlessly if a writer has just
    created a suffix dir, and that writer's own invalidation rebuilds the hashes.
    """
    try:
        names = os.listdir(part_dir)
    except FileNotFoundError:
        return True
    if any(layout.is_suffix(n) for n in names):
        return False
    with _partition_locked(part_dir) as held:
        if not held:
            return True
        if any(layout.is_suffix(n) for n in os.listdir(part_dir)):
            return False
        for name in (layout.HASHES_FILE, layout.INVALIDATIONS_FILE):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(part_dir, name))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(part_dir, layout.PARTITION_LOCK))
    try:
        os.rmdir(part_dir)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
