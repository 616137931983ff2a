"""A small database cluster for replicator tests: N real account or container servers, a ring,
and one real rsync daemon, all on 127.0.0.1.

Each server is the real app (``AccountServer``/``ContainerServer``) served by eventlet's WSGI
server in its own thread (``tests.support.inproc.ServedApp``), with one device ``d<i>`` under
``<root>/node<i>``. The ring puts every server in its own zone. One ``rsync --daemon`` serves
each node's devices as module ``db<port>``, so the replicators' ``rsync_module`` is
``rsync://{replication_ip}:{rsync_port}/db{replication_port}``.
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest

from swiftlite.account.broker import AccountBroker
from swiftlite.account.replicator import AccountReplicator, AccountReplicatorOptions
from swiftlite.account.server import AccountServer, AccountServerOptions
from swiftlite.container.broker import ContainerBroker
from swiftlite.container.replicator import ContainerReplicator, ContainerReplicatorOptions
from swiftlite.container.server import ContainerServer, ContainerServerOptions
from swiftlite.db import layout
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder
from tests.support.inproc import ServedApp, bound_socket
from tests.support.wait import wait_until

RSYNC = shutil.which("rsync")
needs_rsync = pytest.mark.skipif(RSYNC is None, reason="rsync is not installed")
LOG = logging.getLogger("test.replication")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    index: int
    root: pathlib.Path
    device: str
    sock: socket.socket
    served: ServedApp | None = None

    def __post_init__(self) -> None:
        self.port: int = self.sock.getsockname()[1]

    @property
    def device_path(self) -> str:
        return str(self.root / self.device)


@dataclass
class DbCluster:
    root: pathlib.Path
    kind: str  # layout.ACCOUNT or layout.CONTAINER
    servers: int = 4
    replicas: int = 3
    part_power: int = 2
    nodes: list[Node] = field(default_factory=list)
    rsyncd: subprocess.Popen[bytes] | None = None
    rsync_port: int = 0

    def start(self) -> DbCluster:
        self.swift_dir = self.root / "etc"
        self.swift_dir.mkdir(parents=True)
        for i in range(self.servers):
            node = Node(i, self.root / f"node{i}", f"d{i}", bound_socket())
            (node.root / node.device).mkdir(parents=True)
            self.nodes.append(node)
        builder = RingBuilder(self.part_power, self.replicas, 0)
        for node in self.nodes:
            builder.add_dev(
                {
                    "region": 1,
                    "zone": node.index + 1,
                    "ip": "127.0.0.1",
                    "port": node.port,
                    "device": node.device,
                    "weight": 100,
                }
            )
        builder.rebalance(seed=1)
        builder.write_ring(str(self.swift_dir / f"{self.kind}.ring.gz"))
        self.ring = Ring(str(self.swift_dir / f"{self.kind}.ring.gz"))
        for node in self.nodes:
            self.serve(node)
        self._start_rsyncd()
        return self

    def _app(self, node: Node) -> Any:
        if self.kind == layout.CONTAINER:
            return ContainerServer(
                ContainerServerOptions(
                    devices=str(node.root),
                    mount_check=False,
                    swift_dir=str(self.swift_dir),
                    account_update_interval=0,
                    log_requests=False,
                ),
                logger=LOG,
            )
        return AccountServer(
            AccountServerOptions(devices=str(node.root), mount_check=False, log_requests=False),
            logger=LOG,
        )

    def serve(self, node: Node) -> None:
        if node.sock.fileno() == -1:  # closed by a stop: listen on the same port again
            node.sock = bound_socket(node.port)
        node.served = ServedApp(f"{self.kind}{node.index}", self._app(node), node.sock).start()

    def stop_server(self, node: Node) -> None:
        """Stop serving: connections are refused until ``serve(node)``."""
        if node.served is not None:
            node.served.stop()
            node.served = None

    def _start_rsyncd(self) -> None:
        self.rsync_port = free_port()
        lines = [
            f"uid = {os.getuid()}",
            f"gid = {os.getgid()}",
            "use chroot = no",
            "address = 127.0.0.1",
            f"port = {self.rsync_port}",
            f"log file = {self.root / 'rsyncd.log'}",
            "",
        ]
        for node in self.nodes:
            lines += [
                f"[db{node.port}]",
                f"path = {node.root}",
                "read only = false",
                f"lock file = {self.root / 'rsyncd.lock'}",
                "",
            ]
        conf = self.root / "rsyncd.conf"
        conf.write_text("\n".join(lines))
        self.rsyncd = subprocess.Popen(
            [str(RSYNC), "--daemon", "--no-detach", f"--config={conf}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.rsync_port), timeout=0.2).close()
            except OSError:
                assert self.rsyncd is not None
                assert self.rsyncd.poll() is None, "rsyncd died"
                return False
            return True

        wait_until(accepting, timeout=10, what="rsync daemon")

    def stop(self) -> None:
        for node in self.nodes:
            if node.served is not None:
                node.served.stop()
                node.served = None
        if self.rsyncd is not None:
            self.rsyncd.kill()  # our own child, by its pid
            self.rsyncd.wait(10)
            self.rsyncd = None

    # -- helpers for tests -----------------------------------------------------------------

    def replicator(self, node: Node, **overrides: Any) -> Any:
        settings: dict[str, Any] = {
            "devices": str(node.root),
            "mount_check": False,
            "swift_dir": str(self.swift_dir),
            "bind_ip": "127.0.0.1",
            "bind_port": node.port,
            "rsync_module": "rsync://{replication_ip}:{rsync_port}/db{replication_port}",
            "rsync_port": self.rsync_port,
            "databases_per_second": 0,
            "concurrency": 2,
            "node_timeout": 5,
            **overrides,
        }
        if self.kind == layout.CONTAINER:
            return ContainerReplicator(ContainerReplicatorOptions(**settings), logger=LOG)
        return AccountReplicator(AccountReplicatorOptions(**settings), logger=LOG)

    def placement(self, account: str, container: str | None = None) -> tuple[int, list, list]:
        """(partition, primary Nodes, other Nodes) for a database name."""
        part, devs = self.ring.get_nodes(account, container)
        ports = [d.port for d in devs]
        primaries = [next(n for n in self.nodes if n.port == p) for p in ports]
        others = [n for n in self.nodes if n.port not in ports]
        return part, primaries, others

    def broker(self, node: Node, part: int, account: str, container: str | None = None) -> Any:
        if self.kind == layout.CONTAINER:
            return ContainerBroker.at(node.device_path, part, account, container or "")
        return AccountBroker.at(node.device_path, part, account)
