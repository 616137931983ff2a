"""AccountBroker: the SQLite database of one account (its container rows and totals).

One row per container name in ``container``, replaced (DELETE + INSERT) when it changes. A
record carries the container's put and delete timestamps and its totals with the time they
were taken (``stats_timestamp``). Merging keeps the newest put and the newest delete
timestamps and the totals with the newest stats timestamp, so the same records applied in any
order, or twice, give the same row. A row is ``deleted`` when its delete timestamp is newer than
its put timestamp and it holds no objects. Triggers keep ``container_count``,
``object_count``, ``bytes_used`` and the rolling ``hash`` in ``account_info``. An account DELETE
sets ``status = 'DELETED'`` and keeps every row for the reaper. Format: ``docs/formats/db.md``.
"""

# ruff: noqa: S608  (SQL is built from class constants; every value is a bound parameter)

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout
from swiftlite.db.broker import EMPTY_HASH, ZERO_TIMESTAMP, DatabaseBroker
from swiftlite.db.listing import ListingParams, RangeQuery, Subdir, list_rows, page_sql

DELETED_STATUS = "DELETED"

# Record: name, put_timestamp, delete_timestamp, object_count, bytes_used, stats_timestamp,
# storage_policy_index.
ContainerRecord = tuple[str, str, str, int, int, str, int]

_SCHEMA = f"""
CREATE TABLE container (
    ROWID INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    put_timestamp TEXT NOT NULL,
    delete_timestamp TEXT NOT NULL,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    stats_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    deleted INTEGER NOT NULL DEFAULT 0,
    storage_policy_index INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_container_deleted_name ON container (deleted, name);
CREATE TABLE account_info (
    account TEXT NOT NULL,
    created_at TEXT NOT NULL,
    put_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    delete_timestamp TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    status_changed_at TEXT NOT NULL DEFAULT '{ZERO_TIMESTAMP}',
    status TEXT NOT NULL DEFAULT '',
    container_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    hash TEXT NOT NULL DEFAULT '{EMPTY_HASH}',
    id TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TRIGGER container_insert AFTER INSERT ON container BEGIN
    UPDATE account_info SET
        container_count = container_count + (1 - new.deleted),
        object_count = object_count + (1 - new.deleted) * new.object_count,
        bytes_used = bytes_used + (1 - new.deleted) * new.bytes_used,
        hash = chexor(hash, new.name, new.put_timestamp || '-' || new.delete_timestamp
                      || '-' || new.stats_timestamp);
END;
CREATE TRIGGER container_delete AFTER DELETE ON container BEGIN
    UPDATE account_info SET
        container_count = container_count - (1 - old.deleted),
        object_count = object_count - (1 - old.deleted) * old.object_count,
        bytes_used = bytes_used - (1 - old.deleted) * old.bytes_used,
        hash = chexor(hash, old.name, old.put_timestamp || '-' || old.delete_timestamp
                      || '-' || old.stats_timestamp);
END;
CREATE TRIGGER container_no_update BEFORE UPDATE ON container BEGIN
    SELECT RAISE(FAIL, 'container rows are replaced, never updated');
END;
"""

_COLUMNS = (
    "name, put_timestamp, delete_timestamp, object_count, bytes_used, stats_timestamp, "
    "storage_policy_index"
)
_IN_CHUNK = 500


def normalize(rec: Sequence[Any]) -> ContainerRecord:
    name, put_ts, delete_ts, count, used, stats_ts, policy = rec
    return (
        str(name),
        Timestamp(put_ts).internal,
        Timestamp(delete_ts).internal,
        int(count),
        int(used),
        Timestamp(stats_ts).internal,
        int(policy),
    )


def combine(a: ContainerRecord, b: ContainerRecord) -> ContainerRecord:
    """The merge of two records for one name: commutative, associative and idempotent."""
    stats = max((a[5], a[3], a[4], a[6]), (b[5], b[3], b[4], b[6]))
    return (a[0], max(a[1], b[1]), max(a[2], b[2]), stats[1], stats[2], stats[0], stats[3])


def is_deleted_record(rec: ContainerRecord) -> int:
    return 1 if rec[2] > rec[1] and rec[3] == 0 else 0


class AccountBroker(DatabaseBroker):
    db_type = "account"
    info_table = "account_info"
    item_table = "container"
    reclaim_column = "delete_timestamp"
    schema_version = 1
    count_column = "container_count"
    record_columns = _COLUMNS
    peer_info_keys = ("status",)

    def __init__(self, db_file: str, account: str | None = None, **kw: Any) -> None:
        super().__init__(db_file, **kw)
        self.account = account

    @classmethod
    def at(cls, device_path: str, partition: int, account: str, **kw: Any) -> AccountBroker:
        name_hash = layout.db_hash(account)
        path = layout.db_file(device_path, layout.ACCOUNT, partition, name_hash)
        return cls(path, account, **kw)

    def _create_tables(self, conn: sqlite3.Connection) -> None:
        conn.executescript(_SCHEMA)

    def _initial_info(self, put_timestamp: Timestamp, **kw: Any) -> dict[str, Any]:
        if self.account is None:
            raise ValueError("the account name is needed to create an account")
        ts = Timestamp(put_timestamp).internal
        return {
            "account": self.account,
            "created_at": ts,
            "put_timestamp": ts,
            "status_changed_at": ts,
        }

    def _merge_peer_extra(self, conn: sqlite3.Connection, peer: Mapping[str, Any]) -> None:
        # A DELETE missed by this replica arrives with replication: DELETED is sticky (a PUT
        # onto a deleted account is refused), so the peer's status simply spreads.
        if peer.get("status") == DELETED_STATUS:
            conn.execute(
                "UPDATE account_info SET status = ? WHERE status != ?",
                [DELETED_STATUS, DELETED_STATUS],
            )

    # -- container rows ---------------------------------------------------------------------

    def put_container(
        self,
        name: str,
        put_timestamp: Timestamp | str,
        delete_timestamp: Timestamp | str,
        object_count: int,
        bytes_used: int,
        stats_timestamp: Timestamp | str,
        storage_policy_index: int = 0,
    ) -> None:
        """Queue a container row (journaled; merged in a batch later)."""
        self.put_records(
            [
                normalize(
                    (
                        name,
                        put_timestamp,
                        delete_timestamp,
                        object_count,
                        bytes_used,
                        stats_timestamp,
                        storage_policy_index,
                    )
                )
            ]
        )

    def _merge(self, conn: sqlite3.Connection, records: Sequence[Sequence[Any]]) -> None:
        best: dict[str, ContainerRecord] = {}
        for raw in records:
            rec = normalize(raw)
            held = best.get(rec[0])
            best[rec[0]] = rec if held is None else combine(held, rec)
        names = list(best)
        stale: list[int] = []
        for i in range(0, len(names), _IN_CHUNK):
            chunk = names[i : i + _IN_CHUNK]
            rows = conn.execute(
                f"SELECT ROWID, {_COLUMNS} FROM container "
                f"WHERE deleted IN (0, 1) AND name IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for rowid, *stored in rows:
                old: ContainerRecord = tuple(stored)  # type: ignore[assignment]
                merged = combine(old, best[old[0]])
                if merged == old:
                    best.pop(old[0], None)
                else:
                    best[old[0]] = merged
                    stale.append(rowid)
        for i in range(0, len(stale), _IN_CHUNK):
            ids = stale[i : i + _IN_CHUNK]
            conn.execute(f"DELETE FROM container WHERE ROWID IN ({','.join('?' * len(ids))})", ids)
        conn.executemany(
            f"INSERT INTO container ({_COLUMNS}, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*rec, is_deleted_record(rec)) for rec in best.values()],
        )

    # -- listing ----------------------------------------------------------------------------

    def _fetch(self, query: RangeQuery) -> sqlite3.Cursor:
        columns = "name, object_count, bytes_used, put_timestamp, storage_policy_index"
        sql, args = page_sql("container", columns, query)
        return self._read(lambda conn: conn.execute(sql, args))

    def list_containers(
        self, params: ListingParams, merge: bool = True
    ) -> list[Sequence[Any] | Subdir]:
        """One page: ``(name, object_count, bytes_used, put_timestamp, policy)`` and Subdirs."""
        if merge:
            self.merge_pending()
        return list_rows(params, self._fetch)

    def get_container_rows(self, include_deleted: bool = True) -> list[tuple[Any, ...]]:
        where = "" if include_deleted else "WHERE deleted = 0"
        return self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS}, deleted FROM container {where} ORDER BY name"
            ).fetchall()
        )

    def container_names_for_reaper(self, marker: str, limit: int, since: str) -> list[str]:
        """Names after ``marker`` that are live, or were deleted at or after ``since`` (the
        account's DELETE): a container the reaper deleted on some replicas only shows up here
        until it is gone from all of them."""
        self.merge_pending()
        return [
            row[0]
            for row in self._read(
                lambda conn: conn.execute(
                    "SELECT name FROM container WHERE name > ? "
                    "AND (deleted = 0 OR delete_timestamp >= ?) ORDER BY name LIMIT ?",
                    [marker, since, limit],
                ).fetchall()
            )
        ]

    def policy_stats(self) -> dict[int, tuple[int, int, int]]:
        """Per storage policy index: (live containers, objects, bytes) of the account."""
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT storage_policy_index, COUNT(*), SUM(object_count), SUM(bytes_used) "
                "FROM container WHERE deleted = 0 GROUP BY storage_policy_index"
            ).fetchall()
        )
        return {int(idx): (int(c), int(o or 0), int(b or 0)) for idx, c, o, b in rows}

    # -- account state ----------------------------------------------------------------------

    @staticmethod
    def info_is_deleted(info: dict[str, Any]) -> bool:
        """Marked DELETED, or no containers and a delete newer than the last put."""
        return info["status"] == DELETED_STATUS or (
            info["container_count"] == 0
            and Timestamp(info["delete_timestamp"]) > Timestamp(info["put_timestamp"])
        )

    def is_deleted(self) -> bool:
        return self.info_is_deleted(self.get_info())

    def is_status_deleted(self) -> bool:
        """The account was DELETEd and waits for the reaper."""
        return self.get_info(merge=False)["status"] == DELETED_STATUS

    def delete_db(self, timestamp: Timestamp | str) -> None:
        """Mark the account DELETED; rows stay so the reaper can walk them."""
        ts = Timestamp(timestamp).internal
        self._update_info(
            "status = ?, delete_timestamp = MAX(delete_timestamp, ?), "
            "status_changed_at = MAX(status_changed_at, ?)",
            [DELETED_STATUS, ts, ts],
        )
