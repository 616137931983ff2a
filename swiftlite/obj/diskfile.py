"""DiskFile: one object's files on one device; the Writer that publishes them durably; readers.

Owns the crash rules for object files: content goes to a temp file under ``<dev>/tmp``, is
preallocated, hashed and written, gets its metadata (``obj.metadata``), is fsynced and renamed
into ``objects/<part>/<sfx>/<hash>/<ts>.<ext>``, and the directory is fsynced. Until that rename
nothing is visible; after it everything is. Older files are then cleaned up and the suffix is
invalidated (``obj.hashes``).

Reading opens the deciding files once (``layout.pick``), merges a newer ``.meta`` over the
``.data`` metadata and keeps the data fd open, so a concurrent overwrite or delete never tears a
response. Damaged files are moved to ``quarantined/`` and reported as not found. Raises domain
errors only; knows nothing about HTTP.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftlite.common import errors, fs, hashing
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import groupsync, hashes, layout, metadata
from swiftlite.obj.groupsync import GroupSync

# Metadata that belongs to the data and survives a POST; everything else comes from the .meta.
DATA_KEYS = frozenset({"name", "Content-Length", "ETag", "Content-Type"})
# Of those, what a POST cannot change at all (Swift's DATAFILE_SYSTEM_META): the SLO marker,
# without which a manifest would read back as its JSON after a metadata POST.
DATA_ONLY_KEYS = frozenset({"x-static-large-object"})
SYSMETA_PREFIX = "x-object-sysmeta-"
MIB = 1 << 20
# A large PUT keeps at most about this much of its newest content in the page cache.
DROP_BEHIND = 8 * MIB
# Chunks at least this big are hashed and written in a pool thread (see Writer.write).
THREADED_WRITE = 256 * 1024


@dataclass(frozen=True)
class DiskConfig:
    """Tunables of the object disk layer (taken from the server's options)."""

    disk_chunk_size: int = 65536
    reclaim_age: float = 604800.0
    fallocate_reserve: int = 0
    mb_per_sync: int = 512
    # objects larger than this are not kept in the page cache (Swift's option name)
    keep_cache_size: int = 5 * MIB


def _direct(func: Callable[..., Any], *args: Any) -> Any:
    return func(*args)


class ExpiredObject(errors.Expired):
    """An object past its X-Delete-At; carries its data timestamp and metadata."""

    def __init__(self, timestamp: Timestamp, meta: dict[str, str]) -> None:
        super().__init__(timestamp)
        self.data_timestamp = timestamp
        self.metadata = meta


def merge(data_meta: Mapping[str, str], meta_meta: Mapping[str, str] | None) -> dict[str, str]:
    """The object's current metadata: a .meta replaces all but the data's own keys and sysmeta."""
    if not meta_meta:
        return dict(data_meta)
    kept = {
        k: v for k, v in data_meta.items() if k in DATA_KEYS or k.lower().startswith(SYSMETA_PREFIX)
    }
    kept.update(meta_meta)
    kept.update((k, v) for k, v in data_meta.items() if k.lower() in DATA_ONLY_KEYS)
    return kept


def delete_at(meta: Mapping[str, str]) -> int | None:
    value = meta.get("X-Delete-At")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Probe:
    """What a hash directory holds, for writers deciding on 409/412/404.

    ``state`` is missing, deleted, expired or live; ``timestamp`` is the deciding .data or .ts
    time; ``meta_timestamp`` is the newest of data and .meta (the object's X-Timestamp).
    """

    state: str
    timestamp: Timestamp | None = None
    meta_timestamp: Timestamp | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class DiskFileManager:
    """Builds DiskFiles for the devices of one server."""

    def __init__(
        self,
        config: DiskConfig,
        run_blocking: Callable[..., Any] | None = None,
        group_sync: bool = False,
    ) -> None:
        self.config = config
        # runs fsync/rename steps; a server may pass a thread-pool runner to keep its hub free
        self.run_blocking = run_blocking or _direct
        # one GroupSync per file system (st_dev) when writes commit with shared syncfs calls
        self.group_syncs: dict[int, GroupSync] | None = (
            {} if group_sync and groupsync.available() else None
        )
        self._device_groups: dict[str, GroupSync] = {}  # dev_path -> its file system's

    def group_for(self, dev_path: str) -> GroupSync | None:
        """The shared syncer of ``dev_path``'s file system, or None for per-file fsyncs."""
        if self.group_syncs is None:
            return None
        group = self._device_groups.get(dev_path)
        if group is None:  # first write to this device: one stat, then a dict lookup
            dev = os.stat(dev_path).st_dev
            group = self.group_syncs.get(dev)
            if group is None:
                group = self.group_syncs[dev] = GroupSync(dev_path)
            self._device_groups[dev_path] = group
        return group

    def get(
        self,
        dev_path: str,
        partition: int,
        account: str,
        container: str,
        obj: str,
        policy: int = 0,
    ) -> DiskFile:
        return DiskFile(self, dev_path, partition, account, container, obj, policy)


class DiskFile:
    """The files of one object name on one device partition."""

    def __init__(
        self,
        manager: DiskFileManager,
        dev_path: str,
        partition: int,
        account: str,
        container: str,
        obj: str,
        policy: int = 0,
    ) -> None:
        self.manager = manager
        self.config = manager.config
        self.dev_path = dev_path
        self.partition = partition
        self.policy = policy  # the storage policy index: which objects-N/ holds the files
        self.account, self.container, self.obj = account, container, obj
        self.name = f"/{account}/{container}/{obj}"
        self.name_hash = hashing.hash_path(account, container, obj)
        self.suffix = hashing.suffix_of(self.name_hash)
        self.part_dir = layout.partition_dir(dev_path, partition, policy)
        self.hash_dir = layout.hash_dir(dev_path, partition, self.name_hash, policy)

    # -- reading -------------------------------------------------------------------------

    def _files(self) -> layout.FileSet:
        try:
            names = os.listdir(self.hash_dir)
        except (FileNotFoundError, NotADirectoryError):
            return layout.FileSet()
        return layout.pick(names)

    def open(self, now: float | None = None) -> OpenObject:
        """Open the live object; NotFound, Deleted(ts) or ExpiredObject otherwise.

        The caller must ``close()`` the result (or the body made from it).
        """
        for _attempt in range(3):
            files = self._files()
            if files.tombstone:
                raise errors.Deleted(files.timestamp)
            if not files.data:
                raise errors.NotFound(self.name)
            try:
                opened = self._open_data(files.data, files.meta)
            except FileNotFoundError:
                continue  # replaced between listdir and open: look again
            return self._check_expiry(opened, now)
        raise errors.NotFound(self.name)

    def _check_expiry(self, opened: OpenObject, now: float | None) -> OpenObject:
        when = delete_at(opened.metadata)
        if when is not None and when <= (time.time() if now is None else now):
            opened.close()
            raise ExpiredObject(opened.data_timestamp, opened.metadata)
        return opened

    def _open_data(self, data_name: str, meta_name: str | None) -> OpenObject:
        path = os.path.join(self.hash_dir, data_name)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            data_meta, where = self._read_meta(fd, path)
            length = self._check_size(fd, path, data_meta, where)
            meta_meta = self._read_meta_file(meta_name) if meta_name else None
        except BaseException:
            os.close(fd)
            raise
        merged = merge(data_meta, meta_meta)
        data_ts = layout.timestamp_of(data_name)
        ts = layout.timestamp_of(meta_name) if meta_name and meta_meta else data_ts
        merged["X-Timestamp"] = ts.internal
        return OpenObject(self, fd, path, merged, data_ts, ts, length)

    def _read_meta(self, fd: int, path: str) -> tuple[dict[str, str], metadata.Location]:
        try:
            return metadata.read(fd)
        except errors.Corrupt as exc:
            self.quarantine(path)
            raise errors.NotFound(f"{self.name} quarantined: {exc}") from None

    def _check_size(
        self, fd: int, path: str, meta: dict[str, str], where: metadata.Location
    ) -> int:
        size = os.fstat(fd).st_size
        try:
            length = int(meta.get("Content-Length", ""))
        except ValueError:
            length = -1
        expected = length + (where.length if where.kind == "trailer" else 0)
        if length < 0 or size != expected or (where.kind == "trailer" and where.offset != length):
            self.quarantine(path)
            raise errors.NotFound(f"{self.name} quarantined: size {size} != {expected}")
        return length

    def _read_meta_file(self, name: str) -> dict[str, str] | None:
        path = os.path.join(self.hash_dir, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            return self._read_meta(fd, path)[0]
        finally:
            os.close(fd)

    def probe(self, now: float | None = None) -> Probe:
        """What is stored now, without keeping anything open."""
        try:
            opened = self.open(now)
        except errors.Deleted as exc:
            when = exc.timestamp if isinstance(exc.timestamp, Timestamp) else None
            return Probe("deleted", when, when)
        except ExpiredObject as exc:
            meta = exc.metadata
            return Probe("expired", exc.data_timestamp, Timestamp(meta["X-Timestamp"]), meta)
        except errors.NotFound:
            return Probe("missing")
        opened.close()
        return Probe("live", opened.data_timestamp, opened.timestamp, opened.metadata)

    # -- writing -------------------------------------------------------------------------

    def writer(self, size: int | None = None) -> Writer:
        """A Writer for new content of ``size`` bytes (None when chunked)."""
        return Writer(self, size)

    def write_metadata(self, meta: Mapping[str, str]) -> None:
        """Publish a ``.meta`` (POST) holding ``meta``, which must include X-Timestamp."""
        with self.writer(0) as w:
            w.commit(meta, layout.META)

    def delete(self, timestamp: Timestamp, extra: Mapping[str, str] | None = None) -> None:
        """Publish a tombstone at ``timestamp``."""
        meta = {"name": self.name, "X-Timestamp": timestamp.internal, **(extra or {})}
        with self.writer(0) as w:
            w.commit(meta, layout.TOMBSTONE)

    def cleanup(self) -> None:
        """Unlink obsolete files after a write (and tombstones past reclaim_age).

        The unlinks, when there are any, go through the manager's runner: unlinking a data
        file frees its blocks in the journal, and on a server's hub that stalls every other
        request (14% of the object server's hub under DELETEs: bench/README.md, step 21)."""
        try:
            names = os.listdir(self.hash_dir)
        except FileNotFoundError:
            return
        files = layout.pick(names, time.time(), self.config.reclaim_age)
        if files.obsolete:
            self.manager.run_blocking(self._unlink_all, files.obsolete)

    def _unlink_all(self, names: Iterable[str]) -> None:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.hash_dir, name))

    def quarantine(self, path: str) -> str:
        """Move a damaged file aside to ``quarantined/objects/<hash>/`` and invalidate."""
        return quarantine_file(self.dev_path, self.part_dir, self.name_hash, path, self.policy)


def quarantine_file(
    dev_path: str, part_dir: str, name_hash: str, path: str, policy: int = 0
) -> str:
    """Move the damaged object file ``path`` to ``quarantined/objects/<hash>/``; the new path.

    The suffix is invalidated so that replication notices the loss and restores a good copy.
    A file already moved (or removed) by someone else is not an error.
    """
    target_dir = layout.quarantine_dir(dev_path, name_hash, policy)
    os.makedirs(target_dir, exist_ok=True)
    target = os.path.join(target_dir, os.path.basename(path))
    if os.path.exists(target):
        target += "-" + os.urandom(4).hex()
    with contextlib.suppress(FileNotFoundError):
        os.rename(path, target)
    hashes.invalidate(part_dir, name_hash[-3:])
    return target


def _make_missing(path: str, root: str | None) -> list[str]:
    """mkdir every missing directory of ``path``; the ones made. Nothing above ``root`` (a
    device directory) is ever made: a device that is gone (unmounted while a write was in
    flight) is DeviceUnavailable, never silently re-created on the disk underneath."""
    missing = []
    probe = path
    while not os.path.isdir(probe):
        if root is not None and not probe.startswith(root + os.sep):
            raise errors.DeviceUnavailable(f"{root} is gone")
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:
            if root is None:
                raise
            raise errors.DeviceUnavailable(f"{root} is gone") from None
    return missing


def makedirs_plain(path: str, root: str | None = None) -> None:
    """mkdir -p (below ``root``) without syncs (the caller syncs the whole file system)."""
    _make_missing(path, root)


def makedirs_durable(path: str, root: str | None = None) -> None:
    """mkdir -p (below ``root``), fsyncing the parent of every directory made."""
    for parent in {os.path.dirname(d) for d in _make_missing(path, root)}:
        fs.fsync_dir(parent)


class Writer:
    """Stage content in a temp file and publish it atomically with ``commit``.

    Use as a context manager: leaving without a commit removes the temp file, so an error, a
    client that goes away or a timeout leaves nothing behind.
    """

    def __init__(self, diskfile: DiskFile, size: int | None) -> None:
        self.diskfile = diskfile
        self.size = size
        self.fd = -1
        self.tmp_path = ""
        self.bytes_written = 0
        self._md5 = hashlib.md5()
        self._unsynced = 0
        self._dropped_to = 0  # the page cache was last asked to let go of [0, this)
        self.committed_path: str | None = None

    def __enter__(self) -> Writer:
        df = self.diskfile
        tmp = layout.tmp_dir(df.dev_path, df.policy)
        makedirs_plain(tmp, df.dev_path)
        reserve = df.config.fallocate_reserve
        if reserve and fs.free_bytes(tmp) - (self.size or 0) < reserve:
            raise errors.DiskFull(f"{df.dev_path}: less than {reserve} bytes would stay free")
        self.tmp_path = os.path.join(tmp, f"{df.name_hash}.{os.urandom(6).hex()}.tmp")
        self.fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            if self.size:
                fs.fallocate(self.fd, self.size)
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.committed_path is None:
            self._discard()

    def _discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.tmp_path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp_path)

    @property
    def etag(self) -> str:
        return self._md5.hexdigest()

    def write(self, chunk: bytes) -> None:
        """Append content; DiskFull when the device fills.

        A big chunk is hashed and written in the manager's thread pool: MD5 and write() both
        release the GIL, so a large PUT's hashing overlaps the server reading its sockets.
        """
        if len(chunk) >= THREADED_WRITE:
            self.diskfile.manager.run_blocking(self._absorb, chunk)
        else:
            self._absorb(chunk)
        self.bytes_written += len(chunk)
        self._unsynced += len(chunk)
        config = self.diskfile.config
        limit = config.mb_per_sync * MIB
        if limit and self._unsynced >= limit:
            # flush as we go so the final fsync does not stall on a huge dirty backlog
            self.diskfile.manager.run_blocking(os.fdatasync, self.fd)
            self._unsynced = 0
        behind = self.bytes_written - DROP_BEHIND
        if behind - self._dropped_to >= DROP_BEHIND and self.bytes_written > config.keep_cache_size:
            # A large object streams through: start writeback of all but its newest window
            # and free what is written, rather than fill the page cache (a new page costs far
            # more than a reused one: measured in bench/README.md, large PUT). The range
            # starts at 0 each time, so pages still under writeback last time go now.
            self.diskfile.manager.run_blocking(fs.drop_cache, self.fd, 0, behind)
            self._dropped_to = behind

    def _absorb(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        fs.write_all(self.fd, chunk)

    def commit(self, meta: Mapping[str, str], ext: str = layout.DATA) -> str:
        """Write ``meta`` (must hold X-Timestamp), make it durable and visible; the final path."""
        df = self.diskfile
        timestamp = Timestamp(meta["X-Timestamp"])
        where = metadata.write(self.fd, meta, self.bytes_written)
        target = os.path.join(df.hash_dir, layout.file_name(timestamp, ext))
        group = df.manager.group_for(df.dev_path)
        if group is None:
            df.manager.run_blocking(self._publish, target)
        else:
            # a tombstone has no bytes, and no reader needs its xattr: its name is all of it
            bare = ext == layout.TOMBSTONE and not self.bytes_written and where.kind == "inline"
            self._publish_grouped(group, target, sync_first=not bare)
        if self.bytes_written > df.config.keep_cache_size:
            fs.drop_cache(self.fd)  # all clean after the fsync: this only frees pages
        os.close(self.fd)
        self.fd = -1
        self.committed_path = target
        df.cleanup()
        hashes.invalidate(df.part_dir, df.suffix)
        return target

    def _publish_grouped(self, group: GroupSync, target: str, sync_first: bool = True) -> None:
        """``_publish`` with shared syncs: the file system is synced before the rename (content
        and xattrs) and after it (the new name and directories), once per round of writers.

        Without ``sync_first`` (a tombstone) only the second sync runs. A crash before it
        ends can then leave the new name with its xattr unwritten; a tombstone is read by its
        name alone, so that is the delete done, and it was not acknowledged either way."""
        run = self.diskfile.manager.run_blocking
        if run is _direct:  # no hub to return to: plain blocking calls
            if sync_first:
                group.sync()
            self._rename_into(target, makedirs_plain)
            group.sync()
            return
        if sync_first:
            group.wait()  # green: no pool thread held while the round runs
        # mkdir and rename wait on the journal while a sync commits it: off the hub they go
        run(self._rename_into, target, makedirs_plain)
        group.wait()

    def _rename_into(self, target: str, makedirs: Callable[[str, str], None]) -> None:
        hash_dir = os.path.dirname(target)
        for attempt in range(3):
            makedirs(hash_dir, self.diskfile.dev_path)
            try:
                os.rename(self.tmp_path, target)
                return
            except FileNotFoundError:
                # a rehash removed the empty hash dir between mkdir and rename: make it again
                if attempt == 2:
                    raise

    def _publish(self, target: str) -> None:
        fs.fsync(self.fd)
        self._rename_into(target, makedirs_durable)
        fs.fsync_dir(os.path.dirname(target))


class OpenObject:
    """An opened live object: merged metadata and the data fd, ready to stream."""

    def __init__(
        self,
        diskfile: DiskFile,
        fd: int,
        path: str,
        meta: dict[str, str],
        data_timestamp: Timestamp,
        timestamp: Timestamp,
        content_length: int,
    ) -> None:
        self.diskfile = diskfile
        self.fd = fd
        self.path = path
        self.metadata = meta
        self.data_timestamp = data_timestamp
        self.timestamp = timestamp
        self.content_length = content_length

    @property
    def etag(self) -> str:
        return self.metadata.get("ETag", "")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> OpenObject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_range(self, start: int, stop: int) -> Iterator[bytes]:
        """Yield the bytes [start, stop) in disk_chunk_size pieces."""
        chunk = self.diskfile.config.disk_chunk_size
        pos = start
        while pos < stop:
            data = os.pread(self.fd, min(chunk, stop - pos), pos)
            if not data:
                raise errors.Corrupt(f"{self.path}: short read at {pos}")
            pos += len(data)
            yield data

    def read_all_checked(self) -> Iterator[bytes]:
        """The whole content; quarantines the file if it does not match its ETag."""
        md5 = hashlib.md5()
        for data in self.read_range(0, self.content_length):
            md5.update(data)
            yield data
        if md5.hexdigest() != self.etag:
            self.diskfile.quarantine(self.path)


class ObjectBody:
    """A WSGI body over an OpenObject: iterates ``chunks`` and closes the fd when done.

    ``span`` is the single byte range it covers, or None for multipart bodies; a server may
    send such a body with sendfile instead of iterating it (``sent_by_sendfile``).
    """

    def __init__(
        self, opened: OpenObject, chunks: Iterator[bytes], span: tuple[int, int] | None
    ) -> None:
        self.opened = opened
        self.chunks = chunks
        self.span = span
        self.sent_by_sendfile = False

    @property
    def fd(self) -> int:
        return self.opened.fd

    def __iter__(self) -> Iterator[bytes]:
        if self.sent_by_sendfile:
            return iter(())
        return self.chunks

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        self.opened.close()
