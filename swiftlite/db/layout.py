"""Every path an account or container database owns on a device.

``devices/<device>/<kind>s/<partition>/<suffix>/<hash>/<hash>.db`` with its ``<hash>.pending``
journal beside it, ``devices/<device>/quarantined/<kind>s/<hash>/`` for bad databases, and
``devices/<device>/async_account_updates/<hash>.json`` for container totals that could not reach
an account server. Nothing else in swiftlite builds these names; this module does no I/O beyond
listing directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from swiftlite.common import fs
from swiftlite.common.hashing import hash_path, suffix_of

ACCOUNT = "account"
CONTAINER = "container"
KINDS = (ACCOUNT, CONTAINER)
DB_EXT = ".db"
PENDING_EXT = ".pending"
ASYNC_DIR = "async_account_updates"
TMP_DIR = "tmp"


def data_dir(kind: str) -> str:
    """``accounts`` or ``containers``: the top directory of one kind on a device."""
    if kind not in KINDS:
        raise ValueError(f"unknown database kind {kind!r}")
    return kind + "s"


def db_hash(account: str, container: str | None = None) -> str:
    return hash_path(account, container)


def db_dir(device_path: str, kind: str, partition: int, name_hash: str) -> str:
    return os.path.join(
        device_path, data_dir(kind), str(partition), suffix_of(name_hash), name_hash
    )


def db_file(device_path: str, kind: str, partition: int, name_hash: str) -> str:
    return os.path.join(db_dir(device_path, kind, partition, name_hash), name_hash + DB_EXT)


def pending_file(db_path: str) -> str:
    """``<hash>.pending`` beside ``<hash>.db``."""
    base = db_path[: -len(DB_EXT)] if db_path.endswith(DB_EXT) else db_path
    return base + PENDING_EXT


def tmp_dir(device_path: str) -> str:
    return os.path.join(device_path, TMP_DIR)


def quarantine_dir(device_path: str, kind: str, name_hash: str) -> str:
    return os.path.join(device_path, "quarantined", data_dir(kind), name_hash)


def async_dir(device_path: str) -> str:
    return os.path.join(device_path, ASYNC_DIR)


def async_file(device_path: str, name_hash: str) -> str:
    """One file per container: a newer failure overwrites an older one (totals, not deltas)."""
    return os.path.join(async_dir(device_path), name_hash + ".json")


@dataclass(frozen=True)
class DbLocation:
    """Where a database file sits, parsed back from its path."""

    device_path: str
    kind: str
    partition: int
    name_hash: str

    @property
    def path(self) -> str:
        return db_file(self.device_path, self.kind, self.partition, self.name_hash)

    @property
    def relative(self) -> str:
        """The path below the device root (what async records store)."""
        return os.path.relpath(self.path, self.device_path)


def parse_db_path(path: str) -> DbLocation:
    """Split ``.../<dev>/<kind>s/<part>/<sfx>/<hash>/<hash>.db``; ValueError when it is not one."""
    parts = os.path.normpath(os.path.abspath(path)).split(os.sep)
    if len(parts) < 6:
        raise ValueError(f"not a database path: {path}")
    kind_dir, part, suffix, hash_dir, filename = parts[-5:]
    kind = kind_dir[:-1] if kind_dir.endswith("s") else ""
    if (
        kind not in KINDS
        or not part.isdigit()
        or filename != hash_dir + DB_EXT
        or suffix != suffix_of(hash_dir)
    ):
        raise ValueError(f"not a database path: {path}")
    return DbLocation(os.sep.join(parts[:-5]), kind, int(part), hash_dir)


def walk_db_files(device_path: str, kind: str) -> Iterator[str]:
    """Every ``<hash>.db`` of one kind on one device, partition by partition."""
    top = os.path.join(device_path, data_dir(kind))
    for part in fs.sorted_names(top):
        if not part.isdigit():
            continue
        for suffix in fs.sorted_names(os.path.join(top, part)):
            for name_hash in fs.sorted_names(os.path.join(top, part, suffix)):
                path = os.path.join(top, part, suffix, name_hash, name_hash + DB_EXT)
                if os.path.exists(path):
                    yield path
