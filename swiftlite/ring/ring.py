"""Ring: the read-only view of a ring file that servers and tools query.

Owns partition lookup (``get_part``), primary nodes (``get_nodes``, ``get_part_nodes``), the
handoff order (``get_more_nodes``) and reloading: every ``reload_time`` seconds a call stats the
file and reloads it when its mtime, size or inode changed. A reload that fails (a bad file pushed
by mistake) keeps the previous ring and logs a warning; only the first load raises.

Nodes (``ring/node.py``, frozen) are built once per load and shared: every caller of
``get_nodes`` gets the same ``Node`` for a given (device, replica index). Handoff nodes are
copies carrying ``handoff_index`` (and ``index`` None).
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import time
from array import array
from collections.abc import Iterator
from dataclasses import replace

from swiftlite.common import hashing
from swiftlite.ring import ringfile
from swiftlite.ring.errors import RingError
from swiftlite.ring.node import Node

DEFAULT_RELOAD_TIME = 15.0
_U32 = struct.Struct(">I")
_md5 = hashlib.md5
_monotonic = time.monotonic

log = logging.getLogger("swiftlite.ring")


class _Loaded:
    """Everything derived from one ring file, swapped in as a unit on reload."""

    __slots__ = (
        "by_replica",
        "devs",
        "handoff_tiers",
        "pairs",
        "part_count",
        "part_power",
        "part_shift",
        "replica_count",
        "rows",
        "servers",
        "version",
        "zones",
    )

    def __init__(self, data: ringfile.RingData) -> None:
        self.part_power = data.part_power
        self.part_shift = 32 - data.part_power
        self.part_count = 1 << data.part_power
        self.replica_count = data.replica_count
        self.version = data.build_version
        self.rows: list[array] = data.rows
        self.devs: list[Node | None] = [None if d is None else Node.from_dev(d) for d in data.devs]
        self.by_replica = [
            [None if d is None else replace(d, index=r) for d in self.devs]
            for r in range(self.replica_count)
        ]
        self.pairs = list(zip(self.by_replica, self.rows, strict=True))
        self.zones = [None if d is None else (d.region, d.zone) for d in self.devs]
        self.servers = [None if d is None else (d.region, d.zone, d.ip, d.port) for d in self.devs]
        self.handoff_tiers: tuple[int, int, int, int] | None = None  # computed on first use

    def tier_totals(self) -> tuple[int, int, int, int]:
        """Distinct regions, zones, servers and devices among devices holding partitions."""
        if self.handoff_tiers is None:
            held: set[int] = set()
            for row in self.rows:
                held.update(row)
            self.handoff_tiers = (
                len({self.zones[d][0] for d in held}),  # type: ignore[index]
                len({self.zones[d] for d in held}),
                len({self.servers[d] for d in held}),
                len(held),
            )
        return self.handoff_tiers


class Ring:
    """A ring file, loaded, answering where names live; see the module docstring."""

    def __init__(self, path: str, reload_time: float = DEFAULT_RELOAD_TIME) -> None:
        self.path = path
        self.reload_time = float(reload_time)
        self._key = self._stat()
        self._ring = _Loaded(ringfile.read_ring(path))
        self._next_check = _monotonic() + self.reload_time

    # -- loading ------------------------------------------------------------------------------
    def _stat(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise RingError(f"{self.path}: cannot read ring file: {exc.strerror}") from None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def has_changed(self) -> bool:
        """True when the file on disk is not the one loaded."""
        try:
            return self._stat() != self._key
        except RingError:
            return True

    def _reload(self) -> None:
        self._next_check = _monotonic() + self.reload_time
        try:
            key = self._stat()
            if key == self._key:
                return
            loaded = _Loaded(ringfile.read_ring(self.path))
        except RingError as exc:
            log.warning("keeping the loaded ring: %s", exc)
            return
        self._ring, self._key = loaded, key

    # -- geometry -----------------------------------------------------------------------------
    @property
    def part_power(self) -> int:
        return self._ring.part_power

    @property
    def replica_count(self) -> int:
        return self._ring.replica_count

    @property
    def partition_count(self) -> int:
        return self._ring.part_count

    @property
    def version(self) -> int:
        """The builder's build version when this ring was written."""
        return self._ring.version

    @property
    def devs(self) -> list[Node | None]:
        """Devices indexed by id, None for gaps (shared, frozen)."""
        if _monotonic() >= self._next_check:
            self._reload()
        return self._ring.devs

    # -- lookups ------------------------------------------------------------------------------
    def get_part(self, account: str, container: str | None = None, obj: str | None = None) -> int:
        """The partition of ``/account[/container[/object]]``."""
        if _monotonic() >= self._next_check:
            self._reload()
        digest = hashing.hash_path_digest(account, container, obj)
        return _U32.unpack_from(digest)[0] >> self._ring.part_shift

    def get_nodes(
        self, account: str, container: str | None = None, obj: str | None = None
    ) -> tuple[int, list[Node]]:
        """(partition, primary nodes) for a name."""
        part = self.get_part(account, container, obj)
        return part, [nodes[row[part]] for nodes, row in self._ring.pairs]  # type: ignore[misc]

    def get_part_nodes(self, part: int) -> list[Node]:
        """Primary nodes of a partition, in replica order (``index`` 0, 1, ...)."""
        if _monotonic() >= self._next_check:
            self._reload()
        return [nodes[row[part]] for nodes, row in self._ring.pairs]  # type: ignore[misc]

    def get_more_nodes(self, part: int) -> Iterator[Node]:
        """Handoff nodes for a partition, best first, each device once, primaries excluded.

        Deterministic per partition. Walks the partitions from a start derived from the
        partition number, collecting devices in regions no primary uses, then zones, then
        servers, then any device; finally any device not yet seen (so every device comes).
        """
        if _monotonic() >= self._next_check:
            self._reload()
        ring = self._ring
        for count, d in enumerate(_handoff_ids(ring, part)):
            yield ring.devs[d].as_handoff(count)  # type: ignore[union-attr]


def _walk(ring: _Loaded, part: int) -> Iterator[int]:
    """The partitions a handoff search visits, in order; the same for the same partition."""
    parts = ring.part_count
    start = _U32.unpack_from(_md5(str(part).encode("ascii")).digest())[0] >> ring.part_shift
    inc = max(1, parts // 65536)
    for step in range(parts // inc):
        yield (start + step * inc) % parts


def _handoff_ids(ring: _Loaded, part: int) -> Iterator[int]:
    rows, zones, servers = ring.rows, ring.zones, ring.servers
    used_dev = {row[part] for row in rows}
    used = (
        {zones[d][0] for d in used_dev},  # type: ignore[index]
        {zones[d] for d in used_dev},
        {servers[d] for d in used_dev},
    )
    tier_of = (lambda d: zones[d][0], zones.__getitem__, servers.__getitem__)  # type: ignore[index]
    totals = ring.tier_totals()

    def done(level: int) -> bool:
        return len(used_dev if level == 3 else used[level]) >= totals[level]

    for level in range(4):
        if done(level):
            continue
        for q in _walk(ring, part):
            for row in rows:
                d = row[q]
                if d in used_dev or (level < 3 and tier_of[level](d) in used[level]):
                    continue
                used_dev.add(d)
                used[0].add(zones[d][0])  # type: ignore[index]
                used[1].add(zones[d])
                used[2].add(servers[d])
                yield d
            if done(level):
                break
    rest = [d for d, dev in enumerate(ring.devs) if dev is not None and d not in used_dev]
    rest.sort(key=lambda d: _md5(f"{part}/{d}".encode("ascii")).digest())
    yield from rest
