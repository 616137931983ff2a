"""SQLite below the brokers: the journal mode a database is kept in, and what its errors mean.

Journal mode: a rollback journal (``journal_mode = DELETE``, as Swift's databases), not WAL.
Servers open a database per request, and in WAL mode the first connection creates the ``-wal``
and ``-shm`` files and the last one checkpoints and deletes them: about 200 us of every
request. A reader in rollback mode only takes a lock and reads pages. A database made in WAL
mode by an older release is switched over when it is opened with no other connection on it
(``leave_wal``); until then it keeps working in WAL mode.

Errors: "locked" or "busy" is a retry (``is_busy``); "disk is full", or an I/O error on a file
system with no space left, is ``errors.DiskFull``; a malformed file is ``errors.Corrupt``
(``domain_error``). Everything else is the caller's to raise.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

from swiftlite.common import errors, fs


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def domain_error(exc: sqlite3.DatabaseError, path: str) -> errors.SwiftliteError | None:
    text = str(exc).lower()
    if "disk is full" in text or (_is_io_error(exc) and _no_space_left(path)):
        return errors.DiskFull(f"{path}: {exc}")
    if "malformed" in text or "not a database" in text or "file is encrypted" in text:
        return errors.Corrupt(f"{path}: {exc}")
    return None


def leave_wal(conn: sqlite3.Connection) -> None:
    """Switch a WAL database to the rollback journal; left as it is while another connection
    has it open (SQLite needs the only connection for the switch), to be tried on a later open."""
    try:
        conn.execute("PRAGMA journal_mode = DELETE").fetchone()
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise


def _is_io_error(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_IOERR and its extended codes: a write of the WAL index (``-shm``) that could not
    grow the file surfaces as SQLITE_IOERR_SHMSIZE ("disk I/O error"), not SQLITE_FULL."""
    return str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_IOERR")


def _no_space_left(path: str) -> bool:
    try:
        return fs.free_bytes(os.path.dirname(path) or ".") == 0
    except OSError:
        return False


def remove_with_sidecars(path: str) -> None:
    """Delete a database file and any journal, WAL or index SQLite left beside it."""
    for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
