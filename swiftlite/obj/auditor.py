"""The object auditor: find rotten object files and move them aside for replication to heal.

Owns the audit pass (console script ``swiftlite-object-auditor CONF [once]``, section
``[object-auditor]``). It walks every hash directory on every local device, for every
configured storage policy (``objects/<part>/<sfx>/<hash>/``, ``objects-N/...``) and, for the
``.data`` file that decides the object (``layout.pick``), checks that:

- the metadata record reads back (version, checksum, JSON) and names an object whose path
  hash is this directory;
- the file size matches ``Content-Length`` (plus the metadata trailer, when there is one);
- the MD5 of the content equals ``ETag``.

A file that fails is quarantined (``diskfile.quarantine_file``: moved under
``quarantined/objects/<hash>/``, never deleted; its suffix invalidated, so the next replication
pass sees the difference and a peer pushes a good copy). Reads are paced at
``files_per_second`` and ``bytes_per_second`` (``ratelimit``).

On the way it also keeps two promises of other modules: a hash directory holding obsolete
files or a tombstone older than ``reclaim_age`` gets its suffix invalidated (the next rehash
cleans it), and an expiring object whose expiry queue entry is missing (a replica that arrived
by rsync) gets one (``expiry_queue.record``). Summary: files and bytes checked (also per
policy), quarantined, errors.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from swiftlite.common import daemon, errors, fs, green, hashing, policies, recon_cache
from swiftlite.common.config import DeviceOptions
from swiftlite.obj import expiry_queue, hashes, layout, metadata
from swiftlite.obj.diskfile import delete_at, quarantine_file
from swiftlite.obj.ratelimit import RateLimiter


@dataclass(frozen=True)
class ObjectAuditorOptions(DeviceOptions):
    """``[object-auditor]`` options (Swift's names and defaults)."""

    recon_cache_path: str = recon_cache.DEFAULT_RECON_DIR
    interval: float = 30.0
    concurrency: int = 1
    files_per_second: float = 20.0
    bytes_per_second: float = 10000000.0
    disk_chunk_size: int = 65536
    reclaim_age: int = 604800


class AuditFailure(Exception):
    """The file is damaged; the message says how."""


@dataclass
class AuditStats:
    files_checked: int = 0
    bytes_checked: int = 0
    quarantined: int = 0
    errors: int = 0
    suffixes_invalidated: int = 0
    expiry_entries_restored: int = 0
    devices: int = 0
    # per policy index (as text, for JSON): .data files checked
    policy_files_checked: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def hash_dirs(dev_path: str, policy: int = 0) -> Iterator[tuple[str, str, str]]:
    """(partition dir, name hash, hash dir path) for every hash dir of a policy on a device."""
    objects = layout.objects_dir(dev_path, policy)
    for part in fs.sorted_names(objects):
        if not part.isdigit():
            continue
        part_dir = os.path.join(objects, part)
        for suffix in fs.sorted_names(part_dir):
            if not layout.is_suffix(suffix):
                continue
            suffix_dir = os.path.join(part_dir, suffix)
            for name_hash in fs.sorted_names(suffix_dir):
                if layout.is_hash(name_hash) and name_hash.endswith(suffix):
                    yield part_dir, name_hash, os.path.join(suffix_dir, name_hash)


def check_data_file(
    path: str, name_hash: str, chunk_size: int, pace: RateLimiter | None = None
) -> tuple[dict[str, str], int]:
    """Verify one ``.data`` file; (its metadata, content bytes read) or AuditFailure.

    FileNotFoundError passes through: a file replaced or removed meanwhile is not damaged.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            meta, where = metadata.read(fd)
        except errors.Corrupt as exc:
            raise AuditFailure(f"bad metadata: {exc}") from None
        _check_name(meta, name_hash)
        length = _check_size(fd, meta, where)
        md5 = hashlib.md5()
        pos = 0
        while pos < length:
            chunk = os.pread(fd, min(chunk_size, length - pos), pos)
            if not chunk:
                raise AuditFailure(f"short read at {pos} of {length}")
            md5.update(chunk)
            pos += len(chunk)
            if pace is not None:
                pace.wait(len(chunk))
        if md5.hexdigest() != meta.get("ETag", "").lower():
            raise AuditFailure(f"ETag {meta.get('ETag')!r} != content MD5 {md5.hexdigest()}")
        return meta, length
    finally:
        os.close(fd)


def _check_name(meta: dict[str, str], name_hash: str) -> None:
    name = meta.get("name", "")
    parts = name.split("/", 3)
    if len(parts) != 4 or parts[0] or not all(parts[1:]):
        raise AuditFailure(f"metadata name {name!r} is not /account/container/object")
    if hashing.hash_path(parts[1], parts[2], parts[3]) != name_hash:
        raise AuditFailure(f"metadata name {name!r} does not hash to {name_hash}")


def _check_size(fd: int, meta: dict[str, str], where: metadata.Location) -> int:
    try:
        length = int(meta.get("Content-Length", ""))
    except ValueError:
        raise AuditFailure(f"bad Content-Length {meta.get('Content-Length')!r}") from None
    size = os.fstat(fd).st_size
    trailer = where.length if where.kind == "trailer" else 0
    if length < 0 or size != length + trailer:
        raise AuditFailure(f"file size {size} != Content-Length {length} + trailer {trailer}")
    return length


class ObjectAuditor(daemon.Daemon):
    name = "object-auditor"
    recon_kind = "object"

    def __init__(self, options: ObjectAuditorOptions, logger: logging.Logger | None = None) -> None:
        super().__init__(options, logger)
        self.options: ObjectAuditorOptions = options
        self.files_pace = RateLimiter(options.files_per_second)
        self.bytes_pace = RateLimiter(options.bytes_per_second)

    def run_once(self) -> dict[str, Any]:
        stats = AuditStats()
        local = fs.local_devices(self.options.devices, self.options.mount_check)
        stats.devices = len(local)
        pool = green.GreenPool(max(1, self.options.concurrency))
        for _, dev_path in local:
            pool.spawn_n(self.audit_device, dev_path, stats)
        pool.waitall()
        return stats.summary()

    def audit_device(self, dev_path: str, stats: AuditStats) -> None:
        """Audit every configured policy's ``objects[-N]`` dir on the device."""
        configured = policies.load()
        for policy, _ in layout.policy_dirs(dev_path, layout.OBJECTS):
            if policy not in configured:
                continue
            before = stats.files_checked
            for part_dir, name_hash, hash_dir in hash_dirs(dev_path, policy):
                try:
                    self.audit_hash_dir(dev_path, part_dir, name_hash, hash_dir, stats, policy)
                except Exception:
                    self.logger.exception("object-auditor: cannot audit %s", hash_dir)
                    stats.errors += 1
            key = str(policy)
            checked = stats.files_checked - before
            stats.policy_files_checked[key] = stats.policy_files_checked.get(key, 0) + checked

    def audit_hash_dir(
        self,
        dev_path: str,
        part_dir: str,
        name_hash: str,
        hash_dir: str,
        stats: AuditStats,
        policy: int = 0,
    ) -> None:
        try:
            names = os.listdir(hash_dir)
        except (FileNotFoundError, NotADirectoryError):
            return
        files = layout.pick(names, time.time(), float(self.options.reclaim_age))
        if files.obsolete:
            # leftovers (rsync, crashes) or a reclaimable tombstone: the next rehash cleans up
            hashes.invalidate(part_dir, name_hash[-3:])
            stats.suffixes_invalidated += 1
        if not files.data:
            return
        path = os.path.join(hash_dir, files.data)
        self.files_pace.wait()
        try:
            meta, length = check_data_file(
                path, name_hash, self.options.disk_chunk_size, self.bytes_pace
            )
        except FileNotFoundError:
            return  # replaced or deleted while we looked
        except AuditFailure as exc:
            target = quarantine_file(dev_path, part_dir, name_hash, path, policy)
            stats.quarantined += 1
            self.logger.error("object-auditor: quarantined %s to %s: %s", path, target, exc)
            return
        stats.files_checked += 1
        stats.bytes_checked += length
        self._keep_expiry_promise(dev_path, name_hash, hash_dir, files, meta, stats, policy)

    def _keep_expiry_promise(
        self,
        dev_path: str,
        name_hash: str,
        hash_dir: str,
        files: layout.FileSet,
        meta: dict[str, str],
        stats: AuditStats,
        policy: int = 0,
    ) -> None:
        """Queue an expiring object whose entry is missing (the .meta's X-Delete-At rules)."""
        current = meta
        if files.meta:
            try:
                fd = os.open(os.path.join(hash_dir, files.meta), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return
            try:
                current = metadata.read(fd)[0]
            except errors.Corrupt:
                return  # the object server quarantines it on the next read
            finally:
                os.close(fd)
        when = delete_at(current)
        if when is None or expiry_queue.exists(dev_path, name_hash, when):
            return
        _, account, container, obj = meta["name"].split("/", 3)
        entry = expiry_queue.Entry(account, container, obj, when, policy)
        expiry_queue.record(dev_path, name_hash, entry)
        stats.expiry_entries_restored += 1


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-object-auditor CONF [once]``."""
    return daemon.main(
        "swiftlite-object-auditor", "object-auditor", ObjectAuditorOptions, ObjectAuditor, argv
    )
