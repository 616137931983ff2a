"""The shape of an all-in-one cluster: nodes, addresses, ports, devices and ring geometry.

A plan is pure data, saved as ``<root>/aio.json`` when the cluster is first started, so that
``stop`` and ``status`` act on exactly what ``start`` made, whatever flags they are given.
Storage node N listens on 127.0.0.N; one proxy listens on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import socket
from dataclasses import dataclass, field

PLAN_FILE = "aio.json"
PLAN_VERSION = 1
KINDS = ("account", "container", "object")
SILVER_REPLICAS = 2


@dataclass(frozen=True)
class NodePlan:
    index: int  # 1-based; also the node's zone
    ip: str
    object_port: int
    container_port: int
    account_port: int
    rsync_port: int
    devices: tuple[str, ...]

    def port_of(self, kind: str) -> int:
        return {
            "object": self.object_port,
            "container": self.container_port,
            "account": self.account_port,
        }[kind]


@dataclass(frozen=True)
class ClusterPlan:
    root: str
    proxy_ip: str
    proxy_port: int
    replicas: int
    part_power: int
    proxy_workers: int
    memcached_port: int
    nodes: tuple[NodePlan, ...] = field(default_factory=tuple)
    daemons: bool = True  # start the background daemons (probe tests run them once instead)
    policies: int = (
        1  # storage policies: 0 (default), then 1 "silver" with 2 replicas (--policies 2)
    )

    # -- paths -------------------------------------------------------------------------------
    @property
    def etc_dir(self) -> str:
        return os.path.join(self.root, "etc")

    @property
    def swiftlite_conf(self) -> str:
        return os.path.join(self.etc_dir, "swiftlite.conf")

    @property
    def run_dir(self) -> str:
        return os.path.join(self.root, "run")

    @property
    def log_dir(self) -> str:
        return os.path.join(self.root, "log")

    def node_etc(self, node: NodePlan) -> str:
        return os.path.join(self.etc_dir, f"node{node.index}")

    def node_devices(self, node: NodePlan) -> str:
        return os.path.join(self.root, "srv", f"node{node.index}")

    def node_recon_cache(self, node: NodePlan) -> str:
        return os.path.join(self.root, "var", "cache", f"node{node.index}")

    def server_conf(self, node: NodePlan, kind: str) -> str:
        return os.path.join(self.node_etc(node), f"{kind}-server.conf")

    @property
    def proxy_conf(self) -> str:
        return os.path.join(self.etc_dir, "proxy-server.conf")

    @property
    def auth_url(self) -> str:
        return f"http://{self.proxy_ip}:{self.proxy_port}/auth/v1.0"

    # -- storage policies --------------------------------------------------------------------
    def policy_replicas(self, policy: int) -> int:
        return self.replicas if policy == 0 else SILVER_REPLICAS

    def policy_devices(self, policy: int) -> list[tuple[NodePlan, str]]:
        """The (node, device) pairs in a policy's ring: every device for policy 0; for silver,
        each node's devices but its last (all of a one-device node), so the two policies'
        placements differ and a test can tell them apart on disk."""
        pairs: list[tuple[NodePlan, str]] = []
        for node in self.nodes:
            devices = node.devices if policy == 0 or len(node.devices) == 1 else node.devices[:-1]
            pairs.extend((node, device) for device in devices)
        return pairs

    # -- persistence -------------------------------------------------------------------------
    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["version"] = PLAN_VERSION
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClusterPlan:
        data = json.loads(text)
        data.setdefault("daemons", True)
        data.setdefault("policies", 1)
        if data.pop("version", None) != PLAN_VERSION:
            raise ValueError("unknown aio plan version")
        nodes = tuple(NodePlan(**{**n, "devices": tuple(n["devices"])}) for n in data.pop("nodes"))
        return cls(**data, nodes=nodes)


def make_plan(
    root: str,
    port: int = 8080,
    replicas: int = 3,
    devices: int | None = None,
    nodes: int = 1,
    part_power: int = 10,
    proxy_workers: int = 2,
    daemons: bool = True,
    policies: int = 1,
) -> ClusterPlan:
    """A plan for ``nodes`` storage nodes with ``devices`` devices each.

    The proxy port picks every other port, so two clusters with different ``port`` values never
    collide: 8080 keeps Swift's well-known 6200/6201/6202; any other port P uses P+10 upward.
    """
    if not 1 <= nodes <= 254:
        raise ValueError("nodes must be between 1 and 254")
    per_node = devices if devices is not None else (4 if nodes == 1 else 2)
    if per_node < 1:
        raise ValueError("devices must be at least 1")
    if replicas < 1 or replicas > nodes * per_node:
        raise ValueError(f"replicas must be between 1 and {nodes * per_node} for this geometry")
    if not 1 <= policies <= 2:
        raise ValueError("policies must be 1 or 2")
    if policies == 2 and sum(max(per_node - 1, 1) for _ in range(nodes)) < SILVER_REPLICAS:
        raise ValueError("--policies 2 needs room for silver's 2 replicas: add devices or nodes")
    base = 6200 if port == 8080 else port + 10
    if base + 5 > 65535:
        raise ValueError("port too high to fit the storage ports above it")
    node_plans = tuple(
        NodePlan(
            index=i,
            ip=f"127.0.0.{i}",
            object_port=base,
            container_port=base + 1,
            account_port=base + 2,
            rsync_port=base + 3,
            devices=tuple(f"d{i}{j}" if nodes > 1 else f"d{j}" for j in range(1, per_node + 1)),
        )
        for i in range(1, nodes + 1)
    )
    return ClusterPlan(
        root=os.path.abspath(os.path.expanduser(root)),
        proxy_ip="127.0.0.1",
        proxy_port=port,
        replicas=replicas,
        part_power=part_power,
        proxy_workers=proxy_workers,
        memcached_port=base + 4,
        nodes=node_plans,
        daemons=daemons,
        policies=policies,
    )


def load_plan(root: str) -> ClusterPlan | None:
    path = os.path.join(os.path.abspath(os.path.expanduser(root)), PLAN_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            return ClusterPlan.from_json(fh.read())
    except FileNotFoundError:
        return None


def save_plan(plan: ClusterPlan) -> None:
    os.makedirs(plan.root, exist_ok=True)
    with open(os.path.join(plan.root, PLAN_FILE), "w", encoding="utf-8") as fh:
        fh.write(plan.to_json())


def port_free(port: int, ip: str = "127.0.0.1") -> bool:
    """Bind as the servers do (SO_REUSEADDR), so TIME_WAIT leftovers don't count as busy."""
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_proxy_port() -> int:
    """A proxy port P whose derived ports P+10..P+15 are free, all below the kernel's
    ephemeral range, so outgoing connections can never take them while the cluster starts."""
    high = _ephemeral_low() - 20
    for _ in range(500):
        port = random.randrange(10000, high)  # noqa: S311 - spreading, not secrecy
        if port_free(port) and all(port_free(p) for p in range(port + 10, port + 16)):
            return port
    raise RuntimeError("no free port range found")
