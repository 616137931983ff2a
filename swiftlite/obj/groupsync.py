"""Group commit for object writes: one syncfs makes many writers' files durable at once.

A small object write needs its file (content and xattrs) durable before it is renamed into
place, and the rename (and any new directories) durable before the client hears 2xx. Done per
file that is an fsync of the file, of the hash directory and of every directory created: about
five journal commits per replica, each a thread-pool hand-off. With many writes in flight the
journal commits coalesce anyway; ``GroupSync`` makes that explicit: a writer asks for "a sync
of this file system that starts after now" and every writer asking while one ``syncfs(2)`` runs
shares the next one. Two syncs per write (before and after the rename) then cost two
``syncfs`` calls per *round* of concurrent writers.

``syncfs`` flushes every dirty inode of the file system, so it gives at least what the
per-file fsyncs gave; it reports a writeback error on the file system (Linux 5.8+) and the
writers of that round then fail (503), never succeed wrongly. Where ``syncfs`` is missing,
``available()`` is False and the disk layer keeps the per-file fsyncs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

from swiftlite.common import green

_libc: Any = None


def _syncfs_func() -> Any:
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name, use_errno=True) if name else False
    func = getattr(_libc, "syncfs", None) if _libc else None
    return func


def available() -> bool:
    return _syncfs_func() is not None


def syncfs(fd: int) -> None:
    """syncfs(2) on the file system holding ``fd``; OSError on failure. Releases the GIL."""
    func = _syncfs_func()
    if func is None:
        raise OSError("syncfs is not available")
    if func(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class GroupSync:
    """Shared syncs of one file system; ``sync`` is called from pool threads."""

    def __init__(self) -> None:
        self._cond = green.real_threading.Condition()
        self._started = 0  # syncs begun
        self._done = 0  # syncs finished
        self._running = False
        self._errors: dict[int, OSError] = {}
        self.syncs = 0  # tests and the bench read it

    def sync(self, fd: int) -> None:
        """Return once a syncfs that began after this call has finished (raise its error)."""
        with self._cond:
            need = self._started + 1  # the first sync to start from now on
            while self._done < need:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                self._started += 1
                generation = self._started
                self._cond.release()
                try:
                    syncfs(fd)
                    error = None
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                self.syncs += 1
                self._running = False
                self._done = generation
                if error is not None:
                    self._errors[generation] = error
                    for old in [g for g in self._errors if g < generation - 64]:
                        del self._errors[old]
                self._cond.notify_all()
            error = self._errors.get(need)
        if error is not None:
            raise error
