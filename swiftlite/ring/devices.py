"""Device records and the operator's device strings.

Owns the ``Device`` value (one disk in a ring), its dict form (the shape ring files, builder
files and ``Ring.get_nodes`` use), the ``r1z1-127.0.0.1:6200R127.0.0.1:6300/d1_"meta"`` syntax of
``swiftlite-ring-builder add``, and the search values (``d3``, ``r1z2-127.0.0.1:6200/sdb``,
``127.0.0.1``) that ``remove`` and ``set_weight`` accept. It knows nothing about placement.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from swiftlite.common.addr import bracket
from swiftlite.ring.errors import RingBuilderError

NO_DEV = 0xFFFF  # "no device" in the packed replica tables
MAX_DEV_ID = NO_DEV - 1

_IP = r"\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_DEV_STRING = re.compile(
    rf"^(?:r(?P<region>\d+))?z(?P<zone>\d+)-(?P<ip>{_IP}):(?P<port>\d+)"
    rf"(?:R(?P<rip>{_IP}):(?P<rport>\d+))?/(?P<device>[^/_\s]+)(?:_(?P<meta>.*))?$"
)


@dataclasses.dataclass(slots=True)
class Device:
    """One device (disk) of a ring. ``server`` (ip:port) is the failure domain below the zone."""

    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    weight: float
    meta: str = ""
    replication_ip: str = ""
    replication_port: int = 0

    def __post_init__(self) -> None:
        if not self.replication_ip:
            self.replication_ip = self.ip
        if not self.replication_port:
            self.replication_port = self.port

    @property
    def server(self) -> str:
        return f"{self.ip}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], dev_id: int | None = None) -> Device:
        """Validate and build a device from a mapping; ``dev_id`` overrides ``data['id']``."""
        missing = [k for k in ("zone", "ip", "port", "device", "weight") if k not in data]
        if missing:
            raise RingBuilderError(f"device is missing {', '.join(missing)}")
        try:
            ident = dev_id if dev_id is not None else int(data["id"])
            dev = cls(
                id=ident,
                region=int(data.get("region", 1)),
                zone=int(data["zone"]),
                ip=normalize_ip(str(data["ip"])),
                port=int(data["port"]),
                device=str(data["device"]),
                weight=float(data["weight"]),
                meta=str(data.get("meta", "") or ""),
                replication_ip=normalize_ip(str(data.get("replication_ip") or data["ip"])),
                replication_port=int(data.get("replication_port") or data["port"]),
            )
        except (TypeError, ValueError) as exc:
            raise RingBuilderError(f"bad device {dict(data)!r}: {exc}") from None
        dev.validate()
        return dev

    def validate(self) -> None:
        if not 0 <= self.id <= MAX_DEV_ID:
            raise RingBuilderError(f"device id {self.id} out of range 0..{MAX_DEV_ID}")
        if self.region < 0 or self.zone < 0:
            raise RingBuilderError(f"region and zone must be >= 0 (d{self.id})")
        for port in (self.port, self.replication_port):
            if not 0 < port < 65536:
                raise RingBuilderError(f"port {port} out of range (d{self.id})")
        if not self.ip:
            raise RingBuilderError(f"device d{self.id} has no ip")
        if not self.device or "/" in self.device or any(c.isspace() for c in self.device):
            raise RingBuilderError(f"bad device name {self.device!r} (d{self.id})")
        if not self.weight >= 0.0 or self.weight == float("inf"):
            raise RingBuilderError(f"weight must be a finite number >= 0 (d{self.id})")


def normalize_ip(ip: str) -> str:
    """Strip the brackets of an IPv6 literal; other addresses are kept as written."""
    ip = ip.strip()
    if ip.startswith("[") and ip.endswith("]"):
        return ip[1:-1]
    return ip


_show_ip = bracket


def format_device(dev: Device) -> str:
    """``d0r1z1-127.0.0.1:6200R127.0.0.1:6200/d1_"meta"``: the id-bearing form the CLI prints."""
    return (
        f"d{dev.id}r{dev.region}z{dev.zone}-{_show_ip(dev.ip)}:{dev.port}"
        f'R{_show_ip(dev.replication_ip)}:{dev.replication_port}/{dev.device}_"{dev.meta}"'
    )


def parse_device_string(text: str) -> dict[str, Any]:
    """Parse ``[r<R>]z<Z>-<ip>:<port>[R<rip>:<rport>]/<device>[_<meta>]`` into add_dev's dict.

    The weight is not part of the string; the caller adds it.
    """
    match = _DEV_STRING.match(text.strip())
    if not match:
        raise RingBuilderError(
            f"invalid device string {text!r}: expected [r<region>]z<zone>-<ip>:<port>"
            "[R<ip>:<port>]/<device>[_<meta>], e.g. r1z1-127.0.0.1:6200/d1"
        )
    meta = match["meta"] or ""
    if len(meta) >= 2 and meta[0] == meta[-1] == '"':
        meta = meta[1:-1]
    out: dict[str, Any] = {
        "region": int(match["region"] or 1),
        "zone": int(match["zone"]),
        "ip": normalize_ip(match["ip"]),
        "port": int(match["port"]),
        "device": match["device"],
        "meta": meta,
    }
    if match["rip"]:
        out["replication_ip"] = normalize_ip(match["rip"])
        out["replication_port"] = int(match["rport"])
    return out


_SEARCH_STEPS = (
    ("id", re.compile(r"d(\d+)"), int),
    ("region", re.compile(r"r(\d+)"), int),
    ("zone", re.compile(r"z(\d+)"), int),
)
_SEARCH_IP = re.compile(rf"-?({_IP})")
_SEARCH_BARE_IP = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3})")


def parse_search_value(text: str) -> dict[str, Any]:
    """Parse a search value into a filter dict for ``match_devices``.

    Any of ``d<id> r<region> z<zone> -<ip> :<port> R<rip> :<rport> /<device> _<meta>`` in that
    order; a value may also start with a bare IP (``127.0.0.1`` or ``[::1]:6200/sdb``).
    """
    rest = text.strip()
    found: dict[str, Any] = {}
    for key, pattern, conv in _SEARCH_STEPS:
        m = pattern.match(rest)
        if m:
            found[key] = conv(m.group(1))
            rest = rest[m.end() :]
    m = (_SEARCH_IP if rest.startswith("-") else _SEARCH_BARE_IP).match(rest)
    if m:
        found["ip"] = normalize_ip(m.group(1))
        rest = rest[m.end() :]
    m = re.match(r":(\d+)", rest)
    if m:
        found["port"] = int(m.group(1))
        rest = rest[m.end() :]
    m = re.match(rf"R({_IP})(?::(\d+))?", rest)
    if m:
        found["replication_ip"] = normalize_ip(m.group(1))
        if m.group(2):
            found["replication_port"] = int(m.group(2))
        rest = rest[m.end() :]
    m = re.match(r"/([^_]+)", rest)
    if m:
        found["device"] = m.group(1)
        rest = rest[m.end() :]
    if rest.startswith("_"):
        meta = rest[1:]
        if len(meta) >= 2 and meta[0] == meta[-1] == '"':
            meta = meta[1:-1]
        found["meta"] = meta
        rest = ""
    if rest or not found:
        raise RingBuilderError(
            f"invalid search value {text!r}: use d<id>, r<region>z<zone>-<ip>:<port>/<device>, "
            "or an IP such as 127.0.0.1"
        )
    return found


def match_devices(devs: Iterable[Device | None], criteria: Mapping[str, Any]) -> list[Device]:
    """The devices whose every field named in ``criteria`` equals the given value."""
    return [
        dev
        for dev in devs
        if dev is not None and all(getattr(dev, key) == value for key, value in criteria.items())
    ]
