"""Open SQLite connections that a server process keeps between requests for the same file.

Opening a database costs a container server more than most of its requests spend reading it:
the connect, the checks in ``DatabaseBroker._open``, SQLite's parse of the schema on the first
statement and the close were a quarter of its CPU for a 100-row listing page. A server
therefore gives the connection a request closed to its ``ConnPool``, and the next request for
the same file takes it back instead of opening another.

Why a kept connection is safe to hand back:

- Identity. An entry is filed under the file's ``(st_dev, st_ino)``, stated before the
  connect and again after the checks, and kept only when the two agree. While the connection
  is open its inode cannot be freed, so its number cannot be given to another file: a path
  that still stats to the same pair is the file the connection holds. A database renamed
  over (replication), removed (reclaim, a deleted container) or quarantined stats to another
  pair, or to none, and its entry is closed the next time that path is taken, when it is
  evicted, or when it has been idle too long.
- Freshness. In rollback-journal mode SQLite checks the file's change counter at the start
  of every read and drops its page cache when another connection wrote; a schema changed by
  another process makes statements prepare again.
- Locks. A connection goes back only outside a transaction and only after a request that
  raised nothing (a traceback may still hold a cursor). Python resets a statement when its
  cursor is freed, so a kept connection holds no SHARED lock that would keep writers out.

Bounds: at most ``size`` connections in all (the least recently used is closed first), and a
connection unused for ``idle`` seconds (10) is closed within half that again, by a green
thread that runs while any connection is kept: a quiet server holds no database open for
long, so a removed database's space is freed and an operator's unmount is not refused. One pool
per server; it is used from green threads of one OS thread only, and a forked worker
starts with an empty one.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from swiftlite.common import green

Ident = tuple[int, int]

DEFAULT_SIZE = 16
DEFAULT_IDLE = 10.0


def ident_of(path: str) -> Ident:
    """``(st_dev, st_ino)`` of ``path``; FileNotFoundError when there is none."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


class ConnPool:
    def __init__(self, size: int = DEFAULT_SIZE, idle: float = DEFAULT_IDLE) -> None:
        self.size = size
        self.idle = idle
        # (path, ident, connection, when it was given back), oldest first; a handful, so scanned
        self._free: list[tuple[str, Ident, sqlite3.Connection, float]] = []
        self.hits = 0
        self.misses = 0
        self._pid = os.getpid()
        self._sweeper: Any = None  # a green thread closing idle connections while any is kept

    def __len__(self) -> int:
        return len(self._free)

    def take(self, path: str, ident: Ident) -> sqlite3.Connection | None:
        """A kept connection to the file ``path`` names now (``ident``), or None."""
        self._after_fork()
        self._expire(time.monotonic())
        found = None
        for i in range(len(self._free) - 1, -1, -1):
            kept_path, kept_ident, conn, _ = self._free[i]
            if kept_path != path:
                continue
            if kept_ident != ident:  # that file was replaced or removed since
                del self._free[i]
                conn.close()
            elif found is None:
                del self._free[i]
                found = conn
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def give(self, path: str, ident: Ident, conn: sqlite3.Connection) -> None:
        """Keep ``conn`` (open on ``path`` as ``ident``); closed instead when in a transaction."""
        if conn.in_transaction or self.size <= 0:
            conn.close()
            return
        self._after_fork()
        now = time.monotonic()
        self._free.append((path, ident, conn, now))
        while len(self._free) > self.size:
            self._free.pop(0)[2].close()
        self._expire(now)
        if self._sweeper is None and self._free and self.idle > 0:
            self._sweeper = green.spawn(self._sweep_while_kept)

    def clear(self) -> None:
        """Close every kept connection."""
        while self._free:
            self._free.pop()[2].close()

    def _after_fork(self) -> None:
        """A forked worker forgets the parent's connections (SQLite's own rule: a connection
        is not used across fork), without closing what the parent still uses."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._free = []
            self._sweeper = None

    def _sweep_while_kept(self) -> None:
        """Close idle connections on a quiet server too: an open database file pins its
        inode (a removed database's space) and its device (an unmount is refused as busy)."""
        try:
            while self._free:
                green.sleep(self.idle / 2)
                self._after_fork()
                self._expire(time.monotonic())
        finally:
            self._sweeper = None

    def _expire(self, now: float) -> None:
        while self._free and now - self._free[0][3] >= self.idle:
            self._free.pop(0)[2].close()
