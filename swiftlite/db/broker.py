"""DatabaseBroker: the SQLite file behind one account or container, and what every kind shares.

It owns the connection and its pragmas (a rollback journal, ``db/sqlite_conn.py``; BINARY
name order), the schema version and application id, atomic creation (build in
``<device>/tmp``, then hard-link into place so two creators never overwrite each other), the
pending journal hand-off (``put_records`` appends, ``merge_pending`` folds the journal into the
database before any read), metadata as JSON with a timestamp per key (rules in
``db/metadata.py``), the rolling ``hash`` of the rows, what replication needs (sync points,
batches of rows since a point, peer state merges, consistent snapshots, removal), reclaim of
old deleted rows and quarantine. Subclasses (``ContainerBroker``, ``AccountBroker``) own their
tables, their record format and how records merge.

Busy handling: connections are opened with SQLite's own busy timeout at zero, and every
statement runs in ``_retry``, which sleeps green between attempts. A busy database therefore
never blocks the whole eventlet hub and never reaches a client as "database is locked"; after
``timeout`` seconds it raises ``errors.Timeout``.
"""

# ruff: noqa: S608  (SQL is built from class constants; every value is a bound parameter)

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from swiftlite.common import errors, fs, green
from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout, pending
from swiftlite.db.conn_pool import ConnPool, Ident, ident_of
from swiftlite.db.metadata import (  # noqa: F401  (re-exported: callers import them from here)
    live_after,
    load_metadata,
    merge_metadata,
    metadata_updates,
)
from swiftlite.db.sqlite_conn import domain_error, is_busy, leave_wal, remove_with_sidecars

APPLICATION_ID = 0x53574C54  # "SWLT" in the SQLite header: this is a swiftlite database
ZERO_TIMESTAMP = Timestamp(0).internal
EMPTY_HASH = "0" * 32
# Info-row timestamps that replication peers exchange and merge (newest wins).
_PEER_STATE_KEYS = ("created_at", "put_timestamp", "delete_timestamp", "status_changed_at")
DEFAULT_TIMEOUT = 25.0

T = TypeVar("T")

log = logging.getLogger("swiftlite.db.broker")

_SYNC_SCHEMA = """
CREATE TABLE incoming_sync (
    remote_id TEXT PRIMARY KEY,
    sync_point INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE outgoing_sync (
    remote_id TEXT PRIMARY KEY,
    sync_point INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"""


def chexor(old_hex: str, name: str, timestamp: str) -> str:
    """XOR ``md5(name-timestamp)`` into a 32-hex rolling hash (adding and removing are the same)."""
    digest = hashlib.md5(f"{name}-{timestamp}".encode()).digest()
    return f"{int(old_hex or EMPTY_HASH, 16) ^ int.from_bytes(digest, 'big'):032x}"


class DatabaseBroker:
    """One database file. Not thread-safe: make one per request or per daemon pass."""

    db_type: ClassVar[str] = ""
    info_table: ClassVar[str] = ""
    item_table: ClassVar[str] = ""
    reclaim_column: ClassVar[str] = ""  # a deleted item's time, which reclaim compares
    schema_version: ClassVar[int] = 1
    count_column: ClassVar[str] = ""  # the live-item total in the info row
    record_columns: ClassVar[str] = ""  # item columns in record order (merge_items)
    peer_info_keys: ClassVar[tuple[str, ...]] = ()  # kind-specific info sent to peers

    def __init__(
        self,
        db_file: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        pending_cap: int = pending.PENDING_CAP,
        logger: logging.Logger | None = None,
        pool: ConnPool | None = None,
    ) -> None:
        self.db_file = db_file
        self.db_dir = os.path.dirname(db_file)
        self.pending_file = layout.pending_file(db_file)
        self.timeout = timeout
        self.pending_cap = pending_cap
        self.logger = logger or log
        self.pool = pool  # a server's kept connections (db/conn_pool.py); None: open and close
        self._conn: sqlite3.Connection | None = None
        self._ident: Ident | None = None  # the file ``_conn`` holds, when it may be kept

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.db_file!r})"

    # -- connection -------------------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self.db_file)

    def __enter__(self) -> DatabaseBroker:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        """Close (a connection is kept only when nothing was raised: a traceback may hold a
        cursor); a database found corrupt on the way is moved to quarantine first."""
        if exc is None:
            self.close()
        else:
            self.discard()
        if isinstance(exc, errors.Corrupt) and self.exists():
            try:
                self.quarantine(str(exc))
            except (OSError, ValueError):
                self.logger.exception("cannot quarantine %s", self.db_file)

    def close(self) -> None:
        """Done with the connection: given to the pool when there is one, else closed."""
        conn, ident, self._conn, self._ident = self._conn, self._ident, None, None
        if conn is None:
            return
        if self.pool is not None and ident is not None:
            self.pool.give(self.db_file, ident, conn)
        else:
            conn.close()

    def discard(self) -> None:
        """Close the connection for good (the file is about to move, or something failed)."""
        self._ident = None
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                before = ident_of(self.db_file)
            except OSError:
                raise errors.NotFound(f"no database at {self.db_file}") from None
            if self.pool is not None:
                self._conn = self.pool.take(self.db_file, before)
                if self._conn is not None:
                    self._ident = before
                    return self._conn
            self._conn = self._retry(lambda: self._open(self.db_file, check=True))
            try:
                self._upgrade()
            except BaseException:
                self.discard()  # the next use tries again rather than reading an old layout
                raise
            if self.pool is not None:
                with contextlib.suppress(OSError):  # kept only if no rename came in between
                    self._ident = before if ident_of(self.db_file) == before else None
        return self._conn

    def _open(self, path: str, check: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            conn.create_function("chexor", 3, chexor, deterministic=True)
            if check:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                kind_table = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    [self.info_table],
                ).fetchone()
                if (
                    app_id != APPLICATION_ID
                    or not 1 <= version <= self.schema_version
                    or kind_table is None
                ):
                    raise errors.Corrupt(
                        f"{path}: not a swiftlite {self.db_type} database "
                        f"(application_id {app_id:#x}, schema version {version})"
                    )
                if os.path.exists(path + "-wal"):  # only a WAL database has one once read
                    leave_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -16384")
        except BaseException:
            conn.close()
            raise
        return conn

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` until SQLite stops answering busy, sleeping green; Timeout at the limit."""
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    self._raise_domain_error(exc)
                    raise
                if time.monotonic() >= deadline:
                    raise errors.Timeout(f"{self.db_file}: locked for {self.timeout}s") from None
            except sqlite3.DatabaseError as exc:
                self._raise_domain_error(exc)
                raise
            green.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _raise_domain_error(self, exc: sqlite3.DatabaseError) -> None:
        """Raise DiskFull or Corrupt for SQLite errors that mean those; else return."""
        domain = domain_error(exc, self.db_file)
        if domain is not None:
            raise domain from exc

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` inside one IMMEDIATE transaction (retried whole when busy)."""

        def attempt() -> T:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        return self._retry(attempt)

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self._retry(lambda: fn(self.conn))

    # -- creation ---------------------------------------------------------------------------

    def _create_tables(self, conn: sqlite3.Connection) -> None:
        raise NotImplementedError

    def _upgrade(self) -> None:
        """Bring a database made by an older release up to date (on its first open here)."""

    def _initial_info(self, put_timestamp: Timestamp, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    def initialize(self, put_timestamp: Timestamp, **kwargs: Any) -> bool:
        """Create the database; False (and nothing changed) when it already exists.

        The file is built under ``<device>/tmp`` and hard-linked into place, so a racing
        creator finds the winner's file instead of replacing it.
        """
        if self.exists():
            return False
        try:
            device_path = layout.parse_db_path(self.db_file).device_path
            tmp_root = layout.tmp_dir(device_path)
        except ValueError:
            tmp_root = self.db_dir  # a database outside the device tree (tests, tools)
        fs.makedirs(tmp_root)
        tmp = os.path.join(tmp_root, f"{uuid.uuid4().hex}{layout.DB_EXT}")
        try:
            conn = self._open(tmp, check=False)
            try:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {self.schema_version}")
                conn.executescript(_SYNC_SCHEMA)
                self._create_tables(conn)
                info = self._initial_info(put_timestamp, **kwargs)
                info.setdefault("id", str(uuid.uuid4()))
                cols = ", ".join(info)
                marks = ", ".join("?" for _ in info)
                conn.execute(
                    f"INSERT INTO {self.info_table} ({cols}) VALUES ({marks})", list(info.values())
                )
                conn.execute("PRAGMA journal_mode = DELETE")
            finally:
                conn.close()
            with open(tmp, "rb") as fh:
                fs.fsync(fh.fileno())
            fs.makedirs(self.db_dir)
            try:
                os.link(tmp, self.db_file)
            except FileExistsError:
                return False
            fs.fsync_dir(self.db_dir)
            return True
        except sqlite3.DatabaseError as exc:
            self._raise_domain_error(exc)
            raise
        finally:
            remove_with_sidecars(tmp)

    # -- pending journal --------------------------------------------------------------------

    def put_records(self, records: Sequence[Sequence[Any]]) -> None:
        """Queue records in the journal; merge it inline once it passes ``pending_cap``."""
        size = pending.append_many(self.pending_file, records, self.timeout)
        if size > self.pending_cap:
            self.merge_pending()

    def merge_pending(self) -> int:
        """Fold every queued record into the database; returns how many were merged."""
        return pending.drain(self.pending_file, self.merge_items, self.timeout)

    def merge_items(self, records: Sequence[Sequence[Any]]) -> None:
        """Apply records in one transaction. Idempotent and order-free (see subclasses)."""
        if records:
            self._write(lambda conn: self._merge(conn, records))

    def _merge(self, conn: sqlite3.Connection, records: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    # -- info -------------------------------------------------------------------------------

    def get_info(self, merge: bool = True) -> dict[str, Any]:
        """The info row as a dict (after merging the journal unless ``merge`` is False)."""
        if merge:
            self.merge_pending()

        def read(conn: sqlite3.Connection) -> dict[str, Any]:
            cur = conn.execute(f"SELECT * FROM {self.info_table}")
            row = cur.fetchone()
            if row is None:
                raise errors.Corrupt(f"{self.db_file}: no {self.info_table} row")
            return dict(zip([d[0] for d in cur.description], row, strict=True))

        return self._read(read)

    def _update_info(self, sql: str, args: Sequence[Any] = ()) -> None:
        self._write(lambda conn: conn.execute(f"UPDATE {self.info_table} SET {sql}", args))

    def update_put_timestamp(self, timestamp: Timestamp) -> None:
        """put_timestamp becomes the newer of the stored one and ``timestamp``."""
        self._update_info("put_timestamp = MAX(put_timestamp, ?)", [Timestamp(timestamp).internal])

    def update_status_changed_at(self, timestamp: Timestamp) -> None:
        self._update_info(
            "status_changed_at = MAX(status_changed_at, ?)", [Timestamp(timestamp).internal]
        )

    # -- metadata ---------------------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, tuple[str, str]]:
        """``{Title-Case-Key: (value, internal timestamp)}``; an empty value is a deletion."""
        raw = self._read(
            lambda conn: conn.execute(f"SELECT metadata FROM {self.info_table}").fetchone()[0]
        )
        return load_metadata(raw)

    def user_metadata(self) -> dict[str, str]:
        """The live metadata: keys whose newest value is not empty."""
        return {k: v for k, (v, _ts) in self.metadata.items() if v != ""}

    def update_metadata(self, updates: Mapping[str, tuple[str, Timestamp | str]]) -> None:
        """Merge ``{key: (value, timestamp)}``: per key, the newer timestamp wins."""
        if not updates:
            return

        def apply(conn: sqlite3.Connection) -> None:
            raw = conn.execute(f"SELECT metadata FROM {self.info_table}").fetchone()[0]
            merged = merge_metadata(load_metadata(raw), updates)
            conn.execute(
                f"UPDATE {self.info_table} SET metadata = ?",
                [json.dumps(merged, ensure_ascii=False, sort_keys=True)],
            )

        self._write(apply)

    # -- replication support ----------------------------------------------------------------

    def get_max_row(self) -> int:
        return self._read(
            lambda conn: conn.execute(
                f"SELECT IFNULL(MAX(ROWID), -1) FROM {self.item_table}"
            ).fetchone()[0]
        )

    def get_items_since(self, start: int, count: int) -> list[dict[str, Any]]:
        """Rows (deleted ones too) with ROWID above ``start``, oldest first, as dicts."""

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cur = conn.execute(
                f"SELECT ROWID, * FROM {self.item_table} WHERE ROWID > ? ORDER BY ROWID LIMIT ?",
                [start, count],
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

        return self._read(read)

    def get_sync(self, remote_id: str, incoming: bool = True) -> int:
        table = "incoming_sync" if incoming else "outgoing_sync"
        row = self._read(
            lambda conn: conn.execute(
                f"SELECT sync_point FROM {table} WHERE remote_id = ?", [remote_id]
            ).fetchone()
        )
        return -1 if row is None else int(row[0])

    def get_syncs(self, incoming: bool = True) -> list[dict[str, Any]]:
        table = "incoming_sync" if incoming else "outgoing_sync"
        rows = self._read(
            lambda conn: conn.execute(f"SELECT remote_id, sync_point FROM {table}").fetchall()
        )
        return [{"remote_id": r, "sync_point": p} for r, p in rows]

    def merge_syncs(self, points: Iterable[Mapping[str, Any]], incoming: bool = True) -> None:
        """Record sync points; a point only moves forward."""
        rows = [(p["remote_id"], int(p["sync_point"])) for p in points]
        self._write(lambda conn: _upsert_syncs(conn, incoming, rows))

    def get_records_since(self, start: int, count: int) -> list[list[Any]]:
        """``[rowid, *record]`` for rows above ``start``, oldest first: one replication batch."""
        sql = (
            f"SELECT ROWID, {self.record_columns} FROM {self.item_table} "
            "WHERE ROWID > ? ORDER BY ROWID LIMIT ?"
        )
        rows = self._read(lambda conn: conn.execute(sql, [start, count]).fetchall())
        return [list(r) for r in rows]

    def merge_peer_items(self, records: Sequence[Sequence[Any]], source: str, point: int) -> None:
        """Merge a peer's rows and move its incoming sync point to ``point``, atomically."""

        def apply(conn: sqlite3.Connection) -> None:
            if records:
                self._merge(conn, records)
            _upsert_syncs(conn, True, [(source, int(point))])

        self._write(apply)

    def replication_info(self) -> dict[str, Any]:
        """What a replication peer is told about this database (``docs/formats/db.md`` §5)."""
        info = self.get_info()
        state = {key: info[key] for key in (*_PEER_STATE_KEYS, *self.peer_info_keys)}
        state.update(
            id=info["id"],
            hash=info["hash"],
            max_row=self.get_max_row(),
            count=info[self.count_column],
            metadata=load_metadata(info["metadata"]),
        )
        return state

    def merge_peer_state(self, peer: Mapping[str, Any]) -> None:
        """Fold a peer's timestamps and metadata into ours; per field the newest wins.

        ``created_at`` is when the current life of the database began: the earliest creation
        newer than the newest delete (or the earliest of all when neither is).
        """
        theirs = {key: Timestamp(peer[key]).internal for key in _PEER_STATE_KEYS}
        meta = {str(k): (str(v[0]), str(v[1])) for k, v in (peer.get("metadata") or {}).items()}

        def apply(conn: sqlite3.Connection) -> None:
            cols = ", ".join((*_PEER_STATE_KEYS, "metadata"))
            row = conn.execute(f"SELECT {cols} FROM {self.info_table}").fetchone()
            ours = dict(zip(_PEER_STATE_KEYS, row[:-1], strict=True))
            merged = {key: max(ours[key], theirs[key]) for key in _PEER_STATE_KEYS}
            lives = [
                c
                for c in (ours["created_at"], theirs["created_at"])
                if c > merged["delete_timestamp"]
            ]
            merged["created_at"] = min(lives or (ours["created_at"], theirs["created_at"]))
            stored = load_metadata(row[-1])
            new_meta = merge_metadata(stored, meta) if meta else stored
            if merged != ours or new_meta != stored:
                sets = ", ".join(f"{key} = ?" for key in merged)
                conn.execute(
                    f"UPDATE {self.info_table} SET {sets}, metadata = ?",
                    [*merged.values(), json.dumps(new_meta, ensure_ascii=False, sort_keys=True)],
                )
            self._merge_peer_extra(conn, peer)

        self._write(apply)

    def _merge_peer_extra(self, conn: sqlite3.Connection, peer: Mapping[str, Any]) -> None:
        """Kind-specific state from a peer's replication info (the account's status)."""

    def _after_copy(self, conn: sqlite3.Connection) -> None:
        """Kind-specific reset when this file became a replica by a whole-file copy."""

    def snapshot(self, dest: str) -> int:
        """Write a consistent copy of this database (journal merged first) to ``dest``.

        The copy is made with SQLite's backup API, so rows still in the write-ahead log are
        included and the copy is one self-contained file. Returns the copy's max row.
        """
        self.merge_pending()
        dst = sqlite3.connect(dest, isolation_level=None)
        try:
            self._retry(lambda: self.conn.backup(dst))
            max_row = dst.execute(
                f"SELECT IFNULL(MAX(ROWID), -1) FROM {self.item_table}"
            ).fetchone()[0]
        finally:
            dst.close()
        with open(dest, "rb") as fh:
            fs.fsync(fh.fileno())
        return int(max_row)

    def become_copy_of(self, source_id: str, source_point: int) -> None:
        """After a whole-file copy: a fresh id, the source recorded as synced to its last row,
        and no outgoing sync points (they described the source's peers, not ours)."""

        def apply(conn: sqlite3.Connection) -> None:
            conn.execute(f"UPDATE {self.info_table} SET id = ?", [str(uuid.uuid4())])
            conn.execute("DELETE FROM outgoing_sync")
            _upsert_syncs(conn, True, [(source_id, int(source_point))])
            self._after_copy(conn)

        self._write(apply)

    def remove(self, unchanged_since: int | None = None) -> bool:
        """Delete this database's directory (and empty suffix and partition directories).

        With ``unchanged_since`` (a max row) nothing is removed, and False returned, when rows
        or journal lines arrived after it: a handoff keeps what its primaries have not seen.
        The journal lock is held meanwhile, so no update is appended while the check runs.
        """
        self.merge_pending()
        with fs.flock(self.pending_file, self.timeout):
            if unchanged_since is not None and (
                pending.size_of(self.pending_file) or self.get_max_row() != unchanged_since
            ):
                return False
            self.discard()
            shutil.rmtree(self.db_dir, ignore_errors=True)
        for parent in (os.path.dirname(self.db_dir), os.path.dirname(os.path.dirname(self.db_dir))):
            with contextlib.suppress(OSError):
                os.rmdir(parent)
        return True

    # -- reclaim and quarantine -------------------------------------------------------------

    def _reclaim_items(self, conn: sqlite3.Connection, age: str) -> int:
        sql = f"DELETE FROM {self.item_table} WHERE deleted = 1 AND {self.reclaim_column} < ?"
        return conn.execute(sql, [age]).rowcount

    def reclaim(self, age_timestamp: Timestamp) -> int:
        """Drop deleted rows and deleted metadata keys older than ``age_timestamp``."""
        self.merge_pending()
        age = Timestamp(age_timestamp).internal

        def apply(conn: sqlite3.Connection) -> int:
            removed = self._reclaim_items(conn, age)
            raw = conn.execute(f"SELECT metadata FROM {self.info_table}").fetchone()[0]
            meta = load_metadata(raw)
            kept = {k: v for k, v in meta.items() if v[0] != "" or v[1] >= age}
            if kept != meta:
                conn.execute(
                    f"UPDATE {self.info_table} SET metadata = ?",
                    [json.dumps(kept, ensure_ascii=False, sort_keys=True)],
                )
            return removed

        return self._write(apply)

    def quarantine(self, reason: str) -> str:
        """Move this database's directory under ``<device>/quarantined``; returns where to."""
        self.discard()
        loc = layout.parse_db_path(self.db_file)
        target = layout.quarantine_dir(loc.device_path, loc.kind, loc.name_hash)
        if os.path.exists(target):
            target = f"{target}-{uuid.uuid4().hex}"
        fs.makedirs(os.path.dirname(target))
        os.rename(self.db_dir, target)
        self.logger.error("quarantined %s to %s: %s", self.db_file, target, reason)
        return target

    def integrity_check(self, full: bool = False) -> None:
        """Corrupt unless SQLite's quick_check (``integrity_check`` when ``full``) passes."""
        pragma = "integrity_check" if full else "quick_check"
        result = self._read(lambda conn: conn.execute(f"PRAGMA {pragma}").fetchall())
        if result != [("ok",)]:
            raise errors.Corrupt(f"{self.db_file}: {result[:3]}")


def _upsert_syncs(
    conn: sqlite3.Connection, incoming: bool, rows: Sequence[tuple[str, int]]
) -> None:
    table = "incoming_sync" if incoming else "outgoing_sync"
    now = Timestamp.now().internal
    conn.executemany(
        f"INSERT INTO {table} (remote_id, sync_point, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(remote_id) DO UPDATE SET "
        "sync_point = MAX(sync_point, excluded.sync_point), updated_at = excluded.updated_at",
        [(remote_id, point, now) for remote_id, point in rows],
    )
