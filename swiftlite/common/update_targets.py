"""``X-<Kind>-Host``, ``-Device`` and ``-Partition``: the replicas a backend request asks its
server to update (Swift's contract). An object write names the container replicas whose listing
it changes (``Kind`` = ``Container``); a container write names the account replicas
(``Account``).

Writers build them here: ``spread`` gives request *i* of *n* replica *i* (wrapping when there
are fewer replicas) and appends replicas beyond *n*, comma-separated, so every replica is named
at least once, as Swift's proxy does; ``for_request`` is request *i*'s share when each names one
(the daemons). Servers read them back with ``named``. A host is ``ip:port``, IPv6 bracketed
(``Node.host``); a bracketed or bare IPv6 host is read either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from swiftlite.common import intparse
from swiftlite.common.errors import BadInput


class Replica(Protocol):
    """A ring node as these headers need it."""

    @property
    def host(self) -> str: ...

    @property
    def device(self) -> str: ...


def spread(
    request_count: int, replicas: Sequence[Replica], partition: int, kind: str
) -> list[dict[str, str]]:
    """Per-request headers naming ``replicas`` of ``partition`` (see the module doc)."""
    out: list[dict[str, str]] = [{} for _ in range(request_count)]
    if not replicas or not request_count:
        return out
    for i in range(max(request_count, len(replicas))):
        replica = replicas[i % len(replicas)]
        headers = out[i % request_count]
        if f"X-{kind}-Host" in headers:
            headers[f"X-{kind}-Host"] += f",{replica.host}"
            headers[f"X-{kind}-Device"] += f",{replica.device}"
        else:
            headers[f"X-{kind}-Host"] = replica.host
            headers[f"X-{kind}-Device"] = replica.device
            headers[f"X-{kind}-Partition"] = str(partition)
    return out


def for_request(
    index: int, replicas: Sequence[Replica], partition: int | None, kind: str
) -> dict[str, str]:
    """Request ``index``'s headers when each request names one replica (none without any)."""
    if partition is None or not replicas:
        return {}
    replica = replicas[index % len(replicas)]
    return {
        f"X-{kind}-Host": replica.host,
        f"X-{kind}-Device": replica.device,
        f"X-{kind}-Partition": str(partition),
    }


@dataclass(frozen=True)
class Named:
    """One replica a request named: ``host`` as sent, and its parts."""

    host: str
    ip: str
    port: int
    device: str


def named(headers: Mapping[str, str], kind: str) -> tuple[int, list[Named]] | None:
    """The partition and replicas ``headers`` name, or None when they name none.

    BadInput when hosts and devices do not pair up, the partition is not a number, or a host
    is not ``ip:port``.
    """

    def listed(name: str) -> list[str]:
        return [v.strip() for v in (headers.get(f"X-{kind}-{name}") or "").split(",") if v.strip()]

    hosts, devices = listed("Host"), listed("Device")
    partition = (headers.get(f"X-{kind}-Partition") or "").strip()
    if not hosts and not devices:
        return None
    if len(hosts) != len(devices) or not intparse.is_digits(partition):
        raise BadInput(f"X-{kind}-Host, -Device and -Partition do not match")
    replicas = []
    for host, device in zip(hosts, devices, strict=True):
        ip, _, port = host.rpartition(":")
        ip = ip.strip("[]")
        if not ip or not intparse.is_digits(port, 5):
            raise BadInput(f"Bad X-{kind}-Host {host!r}")
        replicas.append(Named(host, ip, int(port), device))
    return int(partition), replicas
