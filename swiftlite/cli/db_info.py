"""``swiftlite-container-info`` and ``swiftlite-account-info``: print what one database holds.

Read-only: the pending journal is reported (its size) but not merged. With ``--swift-dir``
holding ``container.ring.gz`` / ``account.ring.gz`` the partition and the nodes the ring picks
are printed too; without a ring that part is skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from swiftlite.account.broker import AccountBroker
from swiftlite.common import errors
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import pending
from swiftlite.db.broker import DatabaseBroker
from swiftlite.ring import Ring, RingError

_TIMESTAMPS = (
    "created_at",
    "put_timestamp",
    "delete_timestamp",
    "status_changed_at",
    "reported_put_timestamp",
    "reported_delete_timestamp",
)


def _when(value: str) -> str:
    ts = Timestamp(value)
    return f"{ts.internal} ({ts.isoformat})" if ts.ticks else ts.internal


def _print_info(kind: str, broker: DatabaseBroker, info: dict[str, Any]) -> None:
    print(f"Path: {broker.db_file}")
    print(f"  Account: {info['account']}")
    if kind == "container":
        print(f"  Container: {info['container']}")
        deleted = ContainerBroker.info_is_deleted(info)
    else:
        deleted = AccountBroker.info_is_deleted(info)
        print(f"  Status: {info['status'] or 'ACTIVE'}")
    print(f"  Deleted: {'yes' if deleted else 'no'}")
    for key, value in info.items():
        if key in ("account", "container", "metadata", "status"):
            continue
        label = key.replace("_", " ").capitalize()
        print(f"  {label}: {_when(value) if key in _TIMESTAMPS else value}")
    print(f"  Pending journal: {pending.size_of(broker.pending_file)} bytes (not merged)")
    print(f"  Max row: {broker.get_max_row()}")
    meta = broker.metadata
    print("Metadata:" if meta else "Metadata: none")
    for key in sorted(meta):
        value, ts = meta[key]
        print(f"  {key}: {value!r} @ {ts}{'  (deleted)' if value == '' else ''}")


def _print_ring(kind: str, swift_dir: str | None, account: str, container: str | None) -> None:
    if not swift_dir:
        return
    path = os.path.join(swift_dir, f"{kind}.ring.gz")
    if not os.path.exists(path):
        print(f"Ring: no ring at {path}")
        return
    try:
        part, nodes = Ring(path).get_nodes(account, container)
    except (RingError, OSError, ValueError) as exc:  # keep the database's info readable
        print(f"Ring: cannot use {path}: {exc}")
        return
    print(f"Ring: partition {part}")
    for node in nodes:
        print(f"  {node.ip}:{node.port}/{node.device} (id {node.id})")


def _main(kind: str, argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"swiftlite-{kind}-info", description=f"Print what a {kind} database holds."
    )
    parser.add_argument("db_file", help=f"path to a {kind} <hash>.db file")
    parser.add_argument("--swift-dir", default=None, help="directory holding the ring files")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.db_file):
        print(f"{args.db_file}: no such database", file=sys.stderr)
        return 1
    broker: DatabaseBroker = (
        ContainerBroker(args.db_file) if kind == "container" else AccountBroker(args.db_file)
    )
    try:
        info = broker.get_info(merge=False)
        _print_info(kind, broker, info)
    except (errors.SwiftliteError, KeyError) as exc:
        print(f"{args.db_file}: not a readable {kind} database: {exc}", file=sys.stderr)
        return 1
    finally:
        broker.close()
    _print_ring(kind, args.swift_dir, info["account"], info.get("container"))
    return 0


def container_main(argv: list[str] | None = None) -> int:
    return _main("container", argv)


def account_main(argv: list[str] | None = None) -> int:
    return _main("account", argv)


if __name__ == "__main__":
    sys.exit(container_main())
