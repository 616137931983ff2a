"""``Node``: one device as the ring hands it out, the value every backend request starts from.

The ring builds each ``Node`` once per load (one per device and replica index) and shares it;
it is frozen, so sharing is safe. A primary carries its replica ``index``; a handoff carries
``handoff_index`` and ``index`` None. A node without a replication address of its own uses
its main one, so ``replication_ip`` and ``replication_port`` are always set. ``host`` and
``replication_host`` are ``ip:port`` with IPv6 addresses in brackets, for URLs, headers and
log lines.

Code reads a node by attribute (``node.ip``, ``node.host``); ``as_dict()`` gives its fields by
name, for what formats an operator's template with them (rsync module names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from swiftlite.common.addr import bracket, host_port


@dataclass(frozen=True, slots=True)
class Node:
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

    def __post_init__(self) -> None:
        # frozen: the one place a field is filled in after construction
        if not self.replication_ip:
            object.__setattr__(self, "replication_ip", self.ip)
        if not self.replication_port:
            object.__setattr__(self, "replication_port", self.port)

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
            replication_ip=str(dev.get("replication_ip") or ""),
            replication_port=int(dev.get("replication_port") or 0),
            weight=float(dev.get("weight", 0.0)),
            meta=str(dev.get("meta") or ""),
            index=index,
        )

    def as_handoff(self, handoff_index: int) -> Node:
        return replace(self, index=None, handoff_index=handoff_index)

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (a new dict each call)."""
        return asdict(self)

    def rsync_module(self, template: str, rsync_port: int) -> str:
        """The rsync destination module for this node: ``template`` formatted with its fields
        (``ip``, ``port``, ``replication_ip``, ``device``...) and ``rsync_port``, IPv6
        addresses bracketed, no trailing slash. Objects and databases share this rule."""
        fields = self.as_dict()
        fields["ip"] = bracket(self.ip)
        fields["replication_ip"] = bracket(self.replication_ip)
        fields["rsync_port"] = rsync_port
        return template.format(**fields).rstrip("/")

    @property
    def host(self) -> str:
        return host_port(self.ip, self.port)

    @property
    def replication_host(self) -> str:
        return host_port(self.replication_ip, self.replication_port)
