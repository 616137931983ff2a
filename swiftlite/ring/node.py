"""``Node``: one device as the ring hands it out, the value every backend request starts from.

The ring builds each ``Node`` once per load (one per device and replica index) and shares it;
it is frozen, so sharing is safe. A primary carries its replica ``index``; a handoff carries
``handoff_index`` and ``index`` None. ``host`` and ``replication_host`` are ``ip:port`` with
IPv6 addresses in brackets, for URLs, headers and log lines.

A ``Node`` is also a read-only mapping of those same names (``node["ip"]``, ``dict(node)``),
so code and tests written against the ring's device dicts keep working; new code uses the
attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from swiftlite.common.addr import host_port


@dataclass(frozen=True, slots=True)
class Node(Mapping[str, Any]):
    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    replication_ip: str = ""
    replication_port: int = 0
    weight: float = 0.0
    meta: str = ""
    index: int | None = None
    handoff_index: int | None = None

    @classmethod
    def from_dev(cls, dev: Mapping[str, Any], index: int | None = None) -> Node:
        """A node from a ring file's device record (missing replication address: the main one)."""
        return cls(
            id=int(dev["id"]),
            region=int(dev.get("region", 1)),
            zone=int(dev.get("zone", 1)),
            ip=str(dev["ip"]),
            port=int(dev["port"]),
            device=str(dev["device"]),
            replication_ip=str(dev.get("replication_ip") or dev["ip"]),
            replication_port=int(dev.get("replication_port") or dev["port"]),
            weight=float(dev.get("weight", 0.0)),
            meta=str(dev.get("meta") or ""),
            index=index,
        )

    def as_handoff(self, handoff_index: int) -> Node:
        return replace(self, index=None, handoff_index=handoff_index)

    @property
    def host(self) -> str:
        return host_port(self.ip, self.port)

    @property
    def replication_host(self) -> str:
        return host_port(self.replication_ip, self.replication_port)

    # -- the mapping view -------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key not in _NAME_SET:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        # a primary's record has no handoff_index, as the ring's device dicts had none
        return iter(_NAMES if self.handoff_index is not None else _PRIMARY_NAMES)

    def __len__(self) -> int:
        return len(_NAMES) - (self.handoff_index is None)


_NAMES = tuple(f.name for f in fields(Node))
_NAME_SET = frozenset(_NAMES)
_PRIMARY_NAMES = tuple(n for n in _NAMES if n != "handoff_index")
