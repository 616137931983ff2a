"""File-system primitives with the durability rules in one place.

fsync of files and directories, atomic rename-into-place, preallocation, advisory locks,
mount checks, the device list and free space. Every durable write in swiftlite goes through
these, so the crash rules (write to a temp file, fsync, rename, fsync the directory) are
written down once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Callable, Iterator

from swiftlite.common.errors import DeviceUnavailable, DiskFull, Timeout

# A write that fails with one of these means the device is full, not broken.
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in _FULL_ERRNOS


def fsync(fd: int) -> None:
    """fdatasync is not enough for a new file's size and xattrs; use a full fsync."""
    os.fsync(fd)


def fsync_dir(path: str) -> None:
    """fsync a directory so a rename or create inside it survives a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def drop_cache(fd: int, offset: int = 0, length: int = 0) -> None:
    """Ask the kernel to drop ``fd``'s cached pages in the range (0 length: to the end).

    Dirty pages get their writeback started and stay until written; clean ones are freed.
    Only advice: a file system that refuses it loses nothing.
    """
    with contextlib.suppress(OSError):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def makedirs(path: str) -> bool:
    """mkdir -p; True when at least the last component was created (caller may fsync parent)."""
    try:
        os.makedirs(path)
    except FileExistsError:
        return False
    return True


def rename_durable(src: str, dst: str) -> None:
    """Rename ``src`` over ``dst`` and fsync the destination directory."""
    os.rename(src, dst)
    fsync_dir(os.path.dirname(dst) or ".")


def fallocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes so a full disk fails before the body is read, not halfway."""
    if size <= 0:
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(str(exc)) from None
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until every byte is written; ENOSPC becomes DiskFull."""
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(str(exc)) from None
        raise


def write_file_durable(path: str, data: bytes, tmp_dir: str | None = None) -> None:
    """Write ``data`` to ``path`` atomically: temp file, fsync, rename, fsync dir."""
    directory = os.path.dirname(path) or "."
    tmp_dir = tmp_dir or directory
    tmp = os.path.join(tmp_dir, f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_all(fd, data)
        fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    rename_durable(tmp, path)


@contextlib.contextmanager
def flock(path: str, timeout: float = 10.0, shared: bool = False) -> Iterator[int]:
    """Hold an advisory lock on ``path`` (created if missing); Timeout after ``timeout`` s.

    Polls with a non-blocking lock and a green-friendly sleep, so a waiting greenthread does not
    block its whole process. A lock won on a file that its holder unlinked meanwhile (a
    partition removed under the lock) guards nothing, so the file is opened again; when its
    directory has gone too, that open raises FileNotFoundError.
    """
    from swiftlite.common import green  # late: keeps fs importable without a hub

    op = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    waited = 0.0
    delay = 0.001
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, op)
                    break
                except BlockingIOError:
                    if waited >= timeout:
                        raise Timeout(f"lock {path} held longer than {timeout}s") from None
                    green.sleep(delay)
                    waited += delay
                    delay = min(delay * 2, 0.05)
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)


def _same_file(fd: int, path: str) -> bool:
    held = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def sorted_names(path: str) -> list[str]:
    """The names in directory ``path``, sorted; none when it is missing or not a directory."""
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


def check_mount(devices: str, device: str) -> bool:
    """True when ``devices/device`` is a mount point (Swift's mount_check)."""
    path = os.path.join(devices, device)
    return os.path.ismount(path)


def check_device(devices: str, device: str, mount_check: bool) -> str:
    """The device's root path; DeviceUnavailable when unmounted (mount_check) or missing."""
    if not device or "/" in device or device in (".", ".."):
        raise DeviceUnavailable(f"bad device name {device!r}")
    path = os.path.join(devices, device)
    if mount_check and not os.path.ismount(path):
        raise DeviceUnavailable(f"{path} is not mounted")
    if not os.path.isdir(path):
        raise DeviceUnavailable(f"{path} does not exist")
    return path


def local_devices(
    devices: str,
    mount_check: bool,
    skipped: Callable[[str, DeviceUnavailable], None] | None = None,
) -> list[tuple[str, str]]:
    """(name, path) of each usable device dir under ``devices``, by name: what a daemon walks.

    Unmounted (with ``mount_check``) or missing ones are left out, each told to ``skipped``
    when given; no ``devices`` dir at all gives no devices.
    """
    names = sorted_names(devices)
    found = []
    for name in names:
        try:
            found.append((name, check_device(devices, name, mount_check)))
        except DeviceUnavailable as exc:
            if skipped is not None:
                skipped(name, exc)
    return found


def free_bytes(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def disk_usage(path: str) -> dict[str, int]:
    """size/used/avail in bytes, for recon."""
    st = os.statvfs(path)
    size = st.f_blocks * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    return {"size": size, "used": size - st.f_bfree * st.f_frsize, "avail": avail}
