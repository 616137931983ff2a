"""Which ring devices this node serves: the one rule every daemon uses.

A device is local when its replication address (``replication_ip:replication_port``, which the
ring fills from ``ip:port`` when a device has none) is the daemon's bind address, as Swift's
replicators decide. A wildcard bind address (``0.0.0.0``, ``::``, ``*`` or empty) matches any
IP on the port. IPs compare without IPv6 brackets and case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable

from swiftlite.ring.node import Node

WILDCARDS = frozenset({"", "0.0.0.0", "::", "*"})  # noqa: S104 - compared, never bound


def _normal_ip(ip: str) -> str:
    return ip.strip().strip("[]").lower()


def is_local(dev: Node, bind_ip: str, bind_port: int) -> bool:
    """True when ring device ``dev`` is served at the bind address ``bind_ip:bind_port``."""
    if dev.replication_port != int(bind_port):
        return False
    ip = _normal_ip(bind_ip)
    return ip in WILDCARDS or _normal_ip(dev.replication_ip) == ip


def local_devices(devs: Iterable[Node | None], bind_ip: str, bind_port: int) -> list[Node]:
    """The ring's devices (in device id order) that this node serves."""
    return [d for d in devs if d is not None and is_local(d, bind_ip, bind_port)]
