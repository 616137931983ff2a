"""Group commit for object writes: one syncfs makes many writers' files durable at once.

A small object write needs its file (content and xattrs) durable before it is renamed into
place, and the rename (and any new directories) durable before the client hears 2xx. Done per
file that is an fsync of the file, of the hash directory and of every directory created: about
five journal commits per replica, each a thread-pool hand-off. With many writes in flight the
journal commits coalesce anyway; ``GroupSync`` makes that explicit: a writer asks for "a sync
of this file system that starts after now" and every writer asking while one ``syncfs(2)`` runs
shares the next one. Two syncs per write (before and after the rename; a tombstone needs only
the second) then cost two ``syncfs`` calls per *round* of concurrent writers. One syncer
thread per file system runs the rounds; a green writer waits on the hub without holding a pool
thread, and the hub is woken once per round, not once per writer (pool threads parked on a
condition cost a futex storm).

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
    """Shared syncs of one file system, run by one syncer thread.

    ``wait()`` is for green threads on the hub: a waiter holds no pool thread while its round
    runs, and the syncer wakes the hub once per round (a byte on a pipe) rather than once per
    waiter. ``sync()`` is the same promise for plain threads. Each returns once a ``syncfs``
    that *began after the call* has finished, and raises that sync's error.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._cond = green.real_threading.Condition()
        self._started = 0  # syncs begun
        self._done = 0  # syncs finished
        self._wanted = 0  # the newest sync anyone waits for
        self._errors: dict[int, OSError] = {}
        self._thread: Any = None
        self._green: list[tuple[int, Any]] = []  # (sync needed, green Event): hub-only
        self._wake: tuple[int, int] | None = None  # pipe: syncer -> hub
        self._listener: Any = None
        self.syncs = 0  # tests and the bench read it

    # -- asking ----------------------------------------------------------------------------
    def _ask(self) -> int:
        """Under the lock: the first sync to begin from now on, and make sure it will run."""
        need = self._started + 1
        if need > self._wanted:
            self._wanted = need
            self._cond.notify_all()
        if self._thread is None:
            self._thread = green.real_threading.Thread(
                target=self._run, name=f"syncfs {self.path}", daemon=True
            )
            self._thread.start()
        return need

    def sync(self) -> None:
        """Block this (real) thread until a sync that began after now has finished."""
        with self._cond:
            need = self._ask()
            while self._done < need:
                self._cond.wait()
            error = self._errors.get(need)
        if error is not None:
            raise error

    def wait(self) -> None:
        """``sync()`` for a green thread: the hub runs on while the round is in progress."""
        if self._listener is None:
            self._wake = os.pipe()
            os.set_blocking(self._wake[0], False)
            self._listener = green.spawn(self._listen, self._wake[0])
        event = green.Event()
        with self._cond:
            need = self._ask()
        self._green.append((need, event))
        error = event.wait()
        if error is not None:
            raise error

    # -- the syncer thread and the hub's listener ------------------------------------------
    def _run(self) -> None:
        with self._cond:
            while True:
                while self._wanted <= self._done:
                    self._cond.wait()
                self._started += 1
                generation = self._started
                self._cond.release()
                try:
                    # opened per round: a held fd would keep the device from being unmounted
                    fd = os.open(self.path, os.O_RDONLY)
                    try:
                        syncfs(fd)
                    finally:
                        os.close(fd)
                    error = None
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                self.syncs += 1
                self._done = generation
                if error is not None:
                    self._errors[generation] = error
                    for old in [g for g in self._errors if g < generation - 64]:
                        del self._errors[old]
                self._cond.notify_all()
                if self._wake is not None:
                    os.write(self._wake[1], b"!")

    def _listen(self, wake: int) -> None:
        while True:
            green.trampoline(wake, read=True)
            try:
                while os.read(wake, 4096):
                    pass
            except BlockingIOError:
                pass
            with self._cond:
                done = self._done
                errors = dict(self._errors)
            ready = [(n, e) for n, e in self._green if n <= done]
            self._green = [(n, e) for n, e in self._green if n > done]
            for need, event in ready:
                event.send(errors.get(need))
