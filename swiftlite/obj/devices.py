"""Which ring devices an object daemon works on (the daemons that act on whatever is on disk,
auditor, updater and expirer, walk ``common.fs.local_devices`` instead).

- ``ring_devices(ring, bind_ip, bind_port)``: the ring's devices served by this node, found as
  Swift does by matching the ring's ``ip:port`` or ``replication_ip:replication_port`` against
  the server's bind address (any address when ``bind_ip`` is a wildcard). The replicator needs
  the ring's view because it replicates by partition placement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WILDCARDS = frozenset({"", "0.0.0.0", "::", "*"})  # noqa: S104 - compared, never bound


def _normal_ip(ip: str) -> str:
    return ip.strip().strip("[]").lower()


def is_local(dev: dict[str, Any], bind_ip: str, bind_port: int) -> bool:
    """True when ring device ``dev`` is served at this node's bind address."""
    ip = _normal_ip(bind_ip)
    for key_ip, key_port in (("ip", "port"), ("replication_ip", "replication_port")):
        if dev.get(key_port) != bind_port:
            continue
        if ip in WILDCARDS or _normal_ip(str(dev.get(key_ip) or "")) == ip:
            return True
    return False


def ring_devices(ring_devs: Iterable[dict[str, Any] | None], bind_ip: str, bind_port: int) -> list:
    """The ring devices (dicts) this node serves, by device id order."""
    return [d for d in ring_devs if d is not None and is_local(d, bind_ip, bind_port)]
