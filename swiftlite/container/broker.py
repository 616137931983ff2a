"""ContainerBroker: the SQLite database of one container (its object rows and totals).

One row per object name in ``object``; an update replaces the row (DELETE + INSERT, so the new
row gets a new ROWID that replication can ship), a delete is a row with ``deleted = 1``.
Triggers keep ``object_count``, ``bytes_used`` and the rolling ``hash`` in ``container_info``.
A record wins over another for the same name when its key ``(created_at, deleted, size,
content_type, etag, storage_policy_index)`` is greater, so applying the same records in any
order, or twice, leaves the same rows. Schema and record format: ``docs/formats/db.md``.
"""

# ruff: noqa: S608  (SQL is built from class constants; every value is a bound parameter)

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.db import layout
from swiftlite.db.broker import EMPTY_HASH, ZERO_TIMESTAMP, DatabaseBroker
from swiftlite.db.listing import ListingParams, RangeQuery, Subdir, list_rows, page_sql

# Record (pending line and merge_items): name, created_at, size, content_type, etag, deleted,
# storage_policy_index.
ObjectRecord = tuple[str, str, int, str, str, int, int]

_SCHEMA = f"""
CREATE TABLE object (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    etag TEXT NOT NULL DEFAULT '',
    deleted INTEGER NOT NULL DEFAULT 0,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
-- Covering: a listing page is one index range scan with no table lookups (4x faster on a
-- 1M-row container than (deleted, name) alone), for about 8% more CPU per merged row. The
-- policy column is last: listings keep only the container's policy's rows (misplaced ones
-- wait for the reconciler), read from the index too.
CREATE INDEX ix_object_deleted_name
    ON object (deleted, name, created_at, size, content_type, etag, storage_policy_index);
CREATE TABLE container_info (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    delete_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    status_changed_at TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    reported_put_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    reported_delete_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    reported_object_count INTEGER NOT NULL DEFAULT 0,
    reported_bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '{EMPTY_HASH}',
    id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{{}}',
    storage_policy_index INTEGER NOT NULL DEFAULT 0,
    account_hint TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER object_insert AFTER INSERT ON object BEGIN
    UPDATE container_info SET
        object_count = object_count + (1 - new.deleted),
        bytes_used = bytes_used + (1 - new.deleted) * new.size,
        hash = chexor(hash, new.name, new.created_at);
END;
CREATE TRIGGER object_delete AFTER DELETE ON object BEGIN
    UPDATE container_info SET
        object_count = object_count - (1 - old.deleted),
        bytes_used = bytes_used - (1 - old.deleted) * old.size,
        hash = chexor(hash, old.name, old.created_at);
END;
CREATE TRIGGER object_no_update BEFORE UPDATE ON object BEGIN
    SELECT RAISE(FAIL, 'object rows are replaced, never updated');
END;
"""

_COLUMNS = "name, created_at, size, content_type, etag, deleted, storage_policy_index"
_POLICY = "SELECT storage_policy_index FROM container_info"
# Live rows of another policy than the container's (misplaced: waiting for the reconciler),
# counted per policy so the container's own totals leave them out, as Swift's policy_stat
# does. The triggers only run their bodies for such rows; a policy change recounts.
_MISPLACED_SCHEMA = (
    """CREATE TABLE misplaced_stat (
    storage_policy_index INTEGER PRIMARY KEY,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0)""",
    f"""CREATE TRIGGER misplaced_insert AFTER INSERT ON object
WHEN new.deleted = 0 AND new.storage_policy_index != ({_POLICY}) BEGIN
    INSERT OR IGNORE INTO misplaced_stat (storage_policy_index)
        VALUES (new.storage_policy_index);
    UPDATE misplaced_stat SET object_count = object_count + 1, bytes_used = bytes_used + new.size
        WHERE storage_policy_index = new.storage_policy_index;
END""",
    f"""CREATE TRIGGER misplaced_delete AFTER DELETE ON object
WHEN old.deleted = 0 AND old.storage_policy_index != ({_POLICY}) BEGIN
    UPDATE misplaced_stat SET object_count = object_count - 1, bytes_used = bytes_used - old.size
        WHERE storage_policy_index = old.storage_policy_index;
END""",
)
_RECOUNT = (
    "DELETE FROM misplaced_stat",
    "INSERT INTO misplaced_stat SELECT storage_policy_index, COUNT(*), SUM(size) FROM object "
    f"WHERE deleted = 0 AND storage_policy_index != ({_POLICY}) GROUP BY storage_policy_index",
)
_IN_CHUNK = 500


def record_key(rec: Sequence[Any]) -> tuple[Any, ...]:
    """Total order of records for one name: the greatest wins."""
    return (rec[1], rec[5], rec[2], rec[3], rec[4], rec[6])


def normalize(rec: Sequence[Any]) -> ObjectRecord:
    """A record with types and the timestamp form fixed (journal lines are untyped JSON)."""
    name, created_at, size, content_type, etag, deleted, policy = rec
    return (
        str(name),
        Timestamp(created_at).internal,
        int(size),
        str(content_type),
        str(etag),
        1 if deleted else 0,
        int(policy),
    )


def newest_per_name(records: Sequence[Sequence[Any]]) -> dict[str, ObjectRecord]:
    best: dict[str, ObjectRecord] = {}
    for raw in records:
        rec = normalize(raw)
        held = best.get(rec[0])
        if held is None or record_key(rec) > record_key(held):
            best[rec[0]] = rec
    return best


class ContainerBroker(DatabaseBroker):
    db_type = "container"
    info_table = "container_info"
    item_table = "object"
    reclaim_column = "created_at"
    schema_version = 1
    count_column = "object_count"
    record_columns = _COLUMNS
    peer_info_keys = ("storage_policy_index",)

    def __init__(
        self, db_file: str, account: str | None = None, container: str | None = None, **kw: Any
    ) -> None:
        super().__init__(db_file, **kw)
        self.account = account
        self.container = container

    @classmethod
    def at(
        cls, device_path: str, partition: int, account: str, container: str, **kw: Any
    ) -> ContainerBroker:
        """The broker for ``account/container`` on a device (the file may not exist yet)."""
        name_hash = layout.db_hash(account, container)
        path = layout.db_file(device_path, layout.CONTAINER, partition, name_hash)
        return cls(path, account, container, **kw)

    # -- creation ---------------------------------------------------------------------------

    def _create_tables(self, conn: sqlite3.Connection) -> None:
        conn.executescript(_SCHEMA)
        for sql in _MISPLACED_SCHEMA:
            conn.execute(sql)

    def _upgrade(self) -> None:
        """A database made before ``misplaced_stat`` gets it, counted, on its first open."""

        def has(conn: sqlite3.Connection) -> bool:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'misplaced_stat'"
            ).fetchone()
            return found is not None

        def add(conn: sqlite3.Connection) -> None:
            if not has(conn):  # another process may have added it meanwhile
                for sql in (*_MISPLACED_SCHEMA, *_RECOUNT):
                    conn.execute(sql)

        if not self._read(has):
            self._write(add)

    def _initial_info(
        self, put_timestamp: Timestamp, storage_policy_index: int = 0, **kw: Any
    ) -> dict[str, Any]:
        if self.account is None or self.container is None:
            raise ValueError("account and container names are needed to create a container")
        ts = Timestamp(put_timestamp).internal
        return {
            "account": self.account,
            "container": self.container,
            "created_at": ts,
            "put_timestamp": ts,
            "status_changed_at": ts,
            "storage_policy_index": int(storage_policy_index),
        }

    def _after_copy(self, conn: sqlite3.Connection) -> None:
        # The copy's account reports were the source's: report this replica's totals afresh.
        conn.execute(
            "UPDATE container_info SET reported_put_timestamp = ?, reported_delete_timestamp = ?, "
            "reported_object_count = 0, reported_bytes_used = 0",
            [ZERO_TIMESTAMP, ZERO_TIMESTAMP],
        )

    # -- object rows ------------------------------------------------------------------------

    def put_object(
        self,
        name: str,
        timestamp: Timestamp | str,
        size: int,
        content_type: str,
        etag: str,
        deleted: int = 0,
        storage_policy_index: int = 0,
    ) -> None:
        """Queue an object row (journaled; merged in a batch later)."""
        self.put_records(
            [
                (
                    name,
                    Timestamp(timestamp).internal,
                    int(size),
                    content_type,
                    etag,
                    1 if deleted else 0,
                    storage_policy_index,
                )
            ]
        )

    def delete_object(
        self, name: str, timestamp: Timestamp | str, storage_policy_index: int = 0
    ) -> None:
        self.put_object(name, timestamp, 0, "", "", 1, storage_policy_index)

    def _merge(self, conn: sqlite3.Connection, records: Sequence[Sequence[Any]]) -> None:
        best = newest_per_name(records)
        names = list(best)
        stale_rowids: list[int] = []
        for i in range(0, len(names), _IN_CHUNK):
            chunk = names[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT ROWID, {_COLUMNS} FROM object "
                f"WHERE deleted IN (0, 1) AND name IN ({marks})",
                chunk,
            ).fetchall()
            for _rowid, *stored in rows:
                incoming = best.get(stored[0])
                if incoming is not None and record_key(stored) >= record_key(incoming):
                    del best[stored[0]]  # what is stored already wins
            for rowid, *stored in rows:
                if stored[0] in best:
                    stale_rowids.append(rowid)
        for i in range(0, len(stale_rowids), _IN_CHUNK):
            chunk_ids = stale_rowids[i : i + _IN_CHUNK]
            conn.execute(
                f"DELETE FROM object WHERE ROWID IN ({','.join('?' * len(chunk_ids))})", chunk_ids
            )
        conn.executemany(
            f"INSERT INTO object ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", best.values()
        )

    # -- listing ----------------------------------------------------------------------------

    def _fetch(self, query: RangeQuery) -> sqlite3.Cursor:
        columns = "name, created_at, size, content_type, etag"
        scope = f" AND storage_policy_index = ({_POLICY})"
        sql, args = page_sql("object", columns, query, scope)
        return self._read(lambda conn: conn.execute(sql, args))

    def list_objects(
        self, params: ListingParams, merge: bool = True
    ) -> list[Sequence[Any] | Subdir]:
        """One listing page: ``(name, created_at, size, content_type, etag)`` rows and Subdirs.

        Only rows of the container's policy are listed, as Swift lists them: a misplaced row
        (an object written under another policy during a split) shows once the reconciler has
        moved it. Rows are one per name, so a misplaced row hides an older row of the same
        name (Swift keeps both and lists the older) until then."""
        if merge:
            self.merge_pending()
        return list_rows(params, self._fetch)

    def get_object_rows(self, include_deleted: bool = True) -> list[ObjectRecord]:
        """Every row as a record, by name (tests and tools; not for big containers)."""
        where = "" if include_deleted else "WHERE deleted = 0"
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM object {where} ORDER BY name"
            ).fetchall()
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def misplaced_rows(self, limit: int = 1000) -> list[ObjectRecord]:
        """Rows (live or deleted) whose policy is not the container's, by name: objects to
        move, or deletes to repeat, in the container's policy."""
        self.merge_pending()
        rows = self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM object WHERE storage_policy_index != ({_POLICY}) "
                "ORDER BY name LIMIT ?",
                [limit],
            ).fetchall()
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    # -- container state --------------------------------------------------------------------

    def merge_peer_state(self, peer: Mapping[str, Any]) -> None:
        """Fold a peer's state into ours; when the policies differ, the replica that
        ``misplaced.prefers`` decides the policy, and its ``status_changed_at`` goes with it
        (not the newest), so every replica compares alike on the next exchange."""
        ours = self.get_info(merge=False)
        super().merge_peer_state(peer)
        if "storage_policy_index" not in peer:
            return
        theirs_policy = int(peer["storage_policy_index"])
        if theirs_policy == int(ours["storage_policy_index"]):
            return
        winner = peer if misplaced.prefers(ours, peer) else ours
        policy = int(winner["storage_policy_index"])
        sets = "storage_policy_index = ?, status_changed_at = ?"
        args = [policy, Timestamp(winner["status_changed_at"]).internal]
        if policy == int(ours["storage_policy_index"]):
            self._update_info(sets, args)
            return
        sets += f", reported_put_timestamp = '{ZERO_TIMESTAMP}'"  # the account learns it
        self._set_policy(sets, args)

    def _set_policy(self, sets: str, args: Sequence[Any]) -> None:
        """Update the info row (its policy among ``sets``) and recount the misplaced rows."""

        def apply(conn: sqlite3.Connection) -> None:
            conn.execute(f"UPDATE container_info SET {sets}", args)
            for sql in _RECOUNT:
                conn.execute(sql)

        self._write(apply)

    def get_info(self, merge: bool = True) -> dict[str, Any]:
        """The info row, its ``object_count`` and ``bytes_used`` those of the container's
        policy (Swift's), plus ``misplaced_object_count``/``misplaced_bytes_used``: the live
        rows of other policies, which the reconciler has yet to move."""
        info = super().get_info(merge)
        count, size = self._read(
            lambda conn: conn.execute(
                "SELECT COALESCE(SUM(object_count), 0), COALESCE(SUM(bytes_used), 0) "
                "FROM misplaced_stat"
            ).fetchone()
        )
        info["object_count"] -= count
        info["bytes_used"] -= size
        info["misplaced_object_count"] = count
        info["misplaced_bytes_used"] = size
        return info

    @staticmethod
    def info_is_deleted(info: dict[str, Any]) -> bool:
        """Swift's rule: no objects and a delete newer than the last put."""
        return info["object_count"] == 0 and Timestamp(info["delete_timestamp"]) > Timestamp(
            info["put_timestamp"]
        )

    def is_deleted(self) -> bool:
        return self.info_is_deleted(self.get_info())

    def empty(self) -> bool:
        """No live object in any policy (a container with misplaced rows is not empty)."""
        info = self.get_info()
        return info["object_count"] + info["misplaced_object_count"] == 0

    def delete_db(self, timestamp: Timestamp | str) -> None:
        """Mark the container deleted as of ``timestamp`` (rows stay for replication)."""
        ts = Timestamp(timestamp).internal
        self._update_info(
            "delete_timestamp = MAX(delete_timestamp, ?), "
            "status_changed_at = MAX(status_changed_at, ?)",
            [ts, ts],
        )

    def recreate(self, timestamp: Timestamp | str, storage_policy_index: int) -> None:
        """A PUT onto a deleted container: a new life with its own created_at and policy."""
        ts = Timestamp(timestamp).internal
        self._set_policy(
            "storage_policy_index = ?, created_at = ?, "
            "status_changed_at = MAX(status_changed_at, ?)",
            [int(storage_policy_index), ts, ts],
        )

    def set_account_hint(self, hint: str) -> None:
        """Remember where the account server was last said to be (``ip:port/device/part,...``)."""
        self._update_info("account_hint = ?", [hint])

    def reported(
        self, put_timestamp: str, delete_timestamp: str, object_count: int, bytes_used: int
    ) -> None:
        """Record totals the account server has accepted."""
        self._update_info(
            "reported_put_timestamp = ?, reported_delete_timestamp = ?, "
            "reported_object_count = ?, reported_bytes_used = ?",
            [put_timestamp, delete_timestamp, object_count, bytes_used],
        )


def needs_report(info: dict[str, Any]) -> bool:
    """True when the totals or timestamps differ from what the account last accepted."""
    return (
        info["put_timestamp"] != info["reported_put_timestamp"]
        or info["delete_timestamp"] != info["reported_delete_timestamp"]
        or info["object_count"] != info["reported_object_count"]
        or info["bytes_used"] != info["reported_bytes_used"]
    )
