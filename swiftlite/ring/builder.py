"""RingBuilder: the operator's editable ring state, and its builder file.

Owns the geometry (part power, integer replica count, ``min_part_hours``, ``overload``), the
device list (ids are never reused before the rebalance that drops a removed device), the current
assignment table, and how many hours ago each partition last moved. ``rebalance`` hands the
placement to ``swiftlite.ring.rebalance`` and records the result; ``write_ring`` hands the table
to ``swiftlite.ring.ringfile``.

The builder file is JSON (format ``swiftlite-builder``, version 1; see ``docs/formats/ring.md``),
written atomically. Losing it means a new ring that moves nearly every partition: keep copies.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
from array import array
from collections.abc import Mapping
from typing import Any

from swiftlite.common import fs
from swiftlite.ring import metrics, ringfile
from swiftlite.ring.devices import NO_DEV, Device, format_device, match_devices
from swiftlite.ring.errors import RingBuilderError, RingError
from swiftlite.ring.metrics import Targets, Tiers, compute_targets
from swiftlite.ring.rebalance import PlaceResult, place

BUILDER_FORMAT = "swiftlite-builder"
BUILDER_VERSION = 1
MAX_HOURS = 255  # last-move ages saturate here, as one byte each


class RingBuilder:
    """Build and change a ring; see the module docstring."""

    def __init__(self, part_power: int, replicas: int | float, min_part_hours: int) -> None:
        if not isinstance(part_power, int) or not 0 <= part_power <= ringfile.MAX_PART_POWER:
            raise RingBuilderError(f"part_power must be 0..{ringfile.MAX_PART_POWER}")
        if float(replicas) != int(replicas) or int(replicas) < 1:
            raise RingBuilderError("replicas must be a whole number >= 1")
        self.part_power = part_power
        self.replicas = int(replicas)
        self.version = 0  # bumped by every change and rebalance
        self.min_part_hours = 0
        self.set_min_part_hours(min_part_hours)
        self.version = 0
        self.overload = 0.0
        self.devs: list[Device | None] = []
        self.devs_changed = False
        self.dispersion = 0.0
        self._pending_removal: set[int] = set()
        self._table: list[array] | None = None
        self._last_part_moves = bytearray(b"\xff") * self.parts
        self._last_part_moves_epoch = 0.0
        self._last_result: PlaceResult | None = None

    def __repr__(self) -> str:
        devs = ", ".join(f"{format_device(d)}:{d.weight:g}" for d in self.present_devs())
        return (
            f"RingBuilder(part_power={self.part_power}, replicas={self.replicas}, "
            f"min_part_hours={self.min_part_hours}, overload={self.overload:g}, devs=[{devs}])"
        )

    # -- geometry and devices ---------------------------------------------------------------
    @property
    def parts(self) -> int:
        return 1 << self.part_power

    @property
    def replica_count(self) -> int:
        return self.replicas

    @property
    def replica2part2dev(self) -> list[array] | None:
        """The current table (rows of device ids); do not modify it."""
        return self._table

    def _changed(self) -> None:
        self.devs_changed = True
        self.version += 1

    def _dev(self, dev_id: int) -> Device:
        if not 0 <= dev_id < len(self.devs) or self.devs[dev_id] is None:
            raise RingBuilderError(f"no device with id {dev_id}")
        return self.devs[dev_id]  # type: ignore[return-value]

    def add_dev(self, dev: Mapping[str, Any]) -> int:
        """Add a device and return its id (the lowest free id unless ``dev`` names one)."""
        if dev.get("id") is None:
            dev_id = next((i for i, d in enumerate(self.devs) if d is None), len(self.devs))
        else:
            dev_id = int(dev["id"])
            if dev_id < len(self.devs) and self.devs[dev_id] is not None:
                raise RingBuilderError(f"duplicate device id {dev_id}")
        new = Device.from_dict(dev, dev_id)
        for old in self.devs:
            if old and (old.ip, old.port, old.device) == (new.ip, new.port, new.device):
                raise RingBuilderError(
                    f"duplicate device: {new.ip}:{new.port}/{new.device} is already d{old.id}"
                )
        while len(self.devs) <= dev_id:
            self.devs.append(None)
        self.devs[dev_id] = new
        self._changed()
        return dev_id

    def remove_dev(self, dev_id: int) -> None:
        """Drop a device at the next rebalance; its partitions move then, all of them."""
        dev = self._dev(dev_id)
        dev.weight = 0.0
        self._pending_removal.add(dev_id)
        self._changed()

    def set_dev_weight(self, dev_id: int, weight: float) -> None:
        dev = self._dev(dev_id)
        if dev_id in self._pending_removal:
            raise RingBuilderError(f"device {dev_id} is being removed")
        if not float(weight) >= 0 or math.isinf(float(weight)):
            raise RingBuilderError("weight must be a finite number >= 0")
        dev.weight = float(weight)
        self._changed()

    def set_overload(self, overload: float) -> None:
        """How far (0.1 = 10%) a device may exceed its weight share to improve dispersion."""
        overload = float(overload)
        if not overload >= 0 or math.isinf(overload):
            raise RingBuilderError("overload must be a finite number >= 0")
        self.overload = overload
        self._changed()

    def set_min_part_hours(self, hours: int) -> None:
        if not isinstance(hours, int) or hours < 0:
            raise RingBuilderError("min_part_hours must be a whole number >= 0")
        self.min_part_hours = hours
        self.version += 1

    def pretend_min_part_hours_passed(self) -> None:
        """Let every partition move at the next rebalance (testing and emergencies)."""
        self._last_part_moves = bytearray(b"\xff") * self.parts
        self.version += 1

    def min_part_seconds_left(self, now: float | None = None) -> int:
        """Seconds until every partition may move again (0 when all may)."""
        if not self.min_part_hours or self._table is None:
            return 0
        now = time.time() if now is None else now
        youngest = min(self._last_part_moves)
        if youngest >= self.min_part_hours:
            return 0
        due = self._last_part_moves_epoch + (self.min_part_hours - youngest) * 3600
        return max(0, math.ceil(due - now))

    def pending_removal(self) -> set[int]:
        return set(self._pending_removal)

    def search_devs(self, criteria: Mapping[str, Any]) -> list[Device]:
        return match_devices(self.devs, criteria)

    def present_devs(self) -> list[Device]:
        return [d for d in self.devs if d is not None]

    # -- rebalance ----------------------------------------------------------------------------
    def _age_partitions(self, now: float) -> None:
        """Add the whole hours since the last aging to every partition's last-move age."""
        hours = int((now - self._last_part_moves_epoch) // 3600)
        if hours <= 0:
            return
        ramp = bytes(min(MAX_HOURS, v + hours) for v in range(256))
        self._last_part_moves = bytearray(self._last_part_moves.translate(ramp))
        self._last_part_moves_epoch += hours * 3600

    def rebalance(
        self, seed: int | None = None, now: float | None = None
    ) -> tuple[int, float, int]:
        """Reassign partitions; return (partitions changed, balance, devices removed).

        Deterministic for a given ``seed`` (and builder state); ``now`` defaults to the clock
        and only decides which partitions have passed ``min_part_hours``.
        """
        now = time.time() if now is None else now
        self._age_partitions(now)
        staying = [d for d in self.present_devs() if d.id not in self._pending_removal]
        hours = self.min_part_hours
        may_move = self._last_part_moves.translate(
            bytes(1 if v >= hours else 0 for v in range(256))
        )
        result = place(
            staying,
            self._table,
            self.part_power,
            self.replicas,
            bytearray(may_move),
            hours > 0,
            self.overload,
            seed,
        )
        lpm = self._last_part_moves
        at = -1
        changed = result.changed
        while True:
            at = changed.find(1, at + 1)
            if at < 0:
                break
            lpm[at] = 0
        if self._last_part_moves_epoch <= 0 or self._table is None:
            self._last_part_moves_epoch = now
        self._table = result.table
        removed = len(self._pending_removal)
        for dev_id in self._pending_removal:
            self.devs[dev_id] = None
        while self.devs and self.devs[-1] is None:
            self.devs.pop()
        self._pending_removal.clear()
        self.devs_changed = False
        self.version += 1
        self._last_result = result
        self.dispersion = metrics.dispersion(
            result.tiers, result.targets, result.table, self.replicas
        )
        return changed.count(1), self.get_balance(), removed

    @property
    def last_moved_replicas(self) -> int:
        """Partition-replicas the last rebalance put on a different device."""
        return self._last_result.moved_replicas if self._last_result else 0

    @property
    def last_unbalanced(self) -> int:
        """Partition-replicas the last rebalance left above some device's quota."""
        return self._last_result.unbalanced if self._last_result else 0

    def counts(self) -> dict[int, int]:
        return dict(metrics.device_counts(self._table or []))

    def get_balance(self) -> float:
        if self._table is None:
            return 0.0
        return metrics.balance(self.present_devs(), self.counts(), self.parts, self.replicas)

    def tiers_and_targets(self) -> tuple[Tiers, Targets]:
        """(Tiers, Targets) for the devices as they stand, for reports."""
        staying = [d for d in self.present_devs() if d.id not in self._pending_removal]
        tiers = Tiers(staying)
        return tiers, compute_targets(tiers, self.replicas, self.overload)

    def required_overload(self) -> float:
        try:
            return self.tiers_and_targets()[1].required_overload
        except RingBuilderError:
            return 0.0

    # -- files --------------------------------------------------------------------------------
    def ring_data(self) -> ringfile.RingData:
        if self._table is None:
            raise RingBuilderError("no partitions are assigned yet: rebalance first")
        devs = [None if d is None else d.to_dict() for d in self.devs]
        return ringfile.RingData(
            self.part_power, self.replicas, devs, [array("H", r) for r in self._table], self.version
        )

    def write_ring(self, path: str) -> None:
        """Write the ring file for the current assignment (devices pending removal included)."""
        ringfile.write_ring(path, self.ring_data())

    def to_dict(self) -> dict[str, Any]:
        def pack(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")

        def row_bytes(row: array) -> bytes:
            if sys.byteorder == "little":
                return row.tobytes()
            swapped = array("H", row)  # pragma: no cover - big-endian hosts
            swapped.byteswap()  # pragma: no cover
            return swapped.tobytes()  # pragma: no cover

        return {
            "format": BUILDER_FORMAT,
            "version": BUILDER_VERSION,
            "part_power": self.part_power,
            "replicas": self.replicas,
            "min_part_hours": self.min_part_hours,
            "overload": self.overload,
            "build_version": self.version,
            "devs_changed": self.devs_changed,
            "dispersion": self.dispersion,
            "devs": [None if d is None else d.to_dict() for d in self.devs],
            "pending_removal": sorted(self._pending_removal),
            "last_part_moves_epoch": self._last_part_moves_epoch,
            "last_part_moves": pack(bytes(self._last_part_moves)),
            "replica2part2dev": None
            if self._table is None
            else [pack(row_bytes(row)) for row in self._table],
        }

    def save(self, path: str) -> None:
        """Write the builder file atomically."""
        blob = json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8")
        try:
            fs.write_file_durable(path, blob)
        except OSError as exc:
            raise RingError(f"{path}: cannot write builder file: {exc.strerror}") from None

    @classmethod
    def from_dict(cls, data: Any, path: str = "<builder>") -> RingBuilder:
        if not isinstance(data, dict) or data.get("format") != BUILDER_FORMAT:
            raise RingError(f"{path}: not a swiftlite builder file")
        if data.get("version") != BUILDER_VERSION:
            raise RingError(f"{path}: unsupported builder file version {data.get('version')!r}")
        try:
            return cls._from_fields(data)
        except RingBuilderError as exc:
            raise RingError(f"{path}: corrupt builder file ({exc})") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RingError(f"{path}: corrupt builder file ({type(exc).__name__}: {exc})") from None

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> RingBuilder:
        b = cls(data["part_power"], data["replicas"], data["min_part_hours"])
        b.overload = float(data["overload"])
        b.devs = [None if d is None else Device.from_dict(d, i) for i, d in enumerate(data["devs"])]
        b._pending_removal = {int(i) for i in data["pending_removal"]}
        if any(i >= len(b.devs) or b.devs[i] is None for i in b._pending_removal):
            raise ValueError("pending_removal names a missing device")
        b.version = int(data["build_version"])
        b.devs_changed = bool(data["devs_changed"])
        b.dispersion = float(data.get("dispersion", 0.0))
        b._last_part_moves_epoch = float(data["last_part_moves_epoch"])
        lpm = base64.b64decode(data["last_part_moves"], validate=True)
        if len(lpm) != b.parts:
            raise ValueError("last_part_moves has the wrong length")
        b._last_part_moves = bytearray(lpm)
        rows = data["replica2part2dev"]
        if rows is not None:
            if len(rows) != b.replicas:
                raise ValueError("replica2part2dev has the wrong number of rows")
            b._table = []
            for text in rows:
                row = array("H")
                row.frombytes(base64.b64decode(text, validate=True))
                if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
                    row.byteswap()
                if len(row) != b.parts:
                    raise ValueError("a replica row has the wrong length")
                known = {d.id for d in b.devs if d is not None} | {NO_DEV}
                if not set(row) <= known:
                    raise ValueError("a replica row names an unknown device")
                b._table.append(row)
        return b

    @classmethod
    def load(cls, path: str) -> RingBuilder:
        """Read a builder file; any problem is a RingError naming ``path``."""
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError as exc:
            raise RingError(f"{path}: cannot read builder file: {exc.strerror}") from None
        try:
            data = json.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise RingError(f"{path}: not a swiftlite builder file (not JSON)") from None
        return cls.from_dict(data, path)


def default_ring_path(builder_path: str) -> str:
    """``object.builder`` -> ``object.ring.gz`` beside it."""
    base = builder_path[: -len(".builder")] if builder_path.endswith(".builder") else builder_path
    return base + ".ring.gz"
