"""A small in-process object (and container) cluster for the object daemon tests.

Every storage node is a real app (``ObjectServer`` / ``ContainerServer``) on its own devices
dir under ``tmp_path``; the rings are real ring files built with ``RingBuilder``. Instead of
sockets, ``Net.request`` has ``direct_request``'s signature and hands the request to the app
of the node's port with ``webob.Request.blank``, so daemons run unmodified and synchronously.
A port in ``Net.down`` refuses connections, as a stopped server would.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from webob import Request

from swiftlite.common.hashing import hash_path
from swiftlite.common.http.client import Response
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj.server import ObjectServer, ObjectServerOptions
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder

OBJECT_BASE_PORT = 6010
CONTAINER_BASE_PORT = 6110


@dataclass
class Net:
    root: pathlib.Path
    nodes: int = 4
    replicas: int = 3
    part_power: int = 3
    containers: bool = False
    object_options: dict[str, Any] = field(default_factory=dict)
    apps: dict[int, Any] = field(default_factory=dict)
    down: set[int] = field(default_factory=set)
    calls: list[tuple[int, str, str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.swift_dir = self.root / "etc"
        self.swift_dir.mkdir(parents=True, exist_ok=True)
        self.object_ports = [OBJECT_BASE_PORT + i for i in range(self.nodes)]
        for port in self.object_ports:
            (self.devices(port) / self.device(port)).mkdir(parents=True)
            options = ObjectServerOptions(
                devices=str(self.devices(port)),
                mount_check=False,
                log_requests=False,
                fsync_in_threads=False,
                **self.object_options,
            )
            # container updates from the object servers travel through this net too
            self.apps[port] = ObjectServer(options, quiet_logger("obj"), self.request)
        self._write_ring("object", self.object_ports)
        self.container_ports: list[int] = []
        if self.containers:
            from swiftlite.container.server import app_factory

            self.container_ports = [CONTAINER_BASE_PORT + i for i in range(self.replicas)]
            for port in self.container_ports:
                (self.devices(port) / self.device(port)).mkdir(parents=True)
                self.apps[port] = app_factory(
                    {},
                    devices=str(self.devices(port)),
                    mount_check="false",
                    swift_dir=str(self.swift_dir),
                    log_requests="false",
                    account_update_interval="3600",
                )
            self._write_ring("container", self.container_ports)

    # -- layout --------------------------------------------------------------------------------
    def devices(self, port: int) -> pathlib.Path:
        return self.root / f"node{port}"

    @staticmethod
    def device(port: int) -> str:
        return f"d{port}"

    def dev_path(self, port: int) -> str:
        return str(self.devices(port) / self.device(port))

    def _write_ring(self, kind: str, ports: list[int]) -> None:
        builder = RingBuilder(self.part_power, self.replicas, 0)
        for zone, port in enumerate(ports, start=1):
            builder.add_dev(
                {
                    "region": 1,
                    "zone": zone,
                    "ip": "127.0.0.1",
                    "port": port,
                    "device": self.device(port),
                    "weight": 100,
                }
            )
        builder.rebalance(seed=1)
        builder.write_ring(str(self.swift_dir / f"{kind}.ring.gz"))

    def ring(self, kind: str = "object") -> Ring:
        return Ring(str(self.swift_dir / f"{kind}.ring.gz"))

    def placement(self, obj: str, container: str = "c", account: str = "a") -> tuple[int, list]:
        """(partition, primary ports) of an object."""
        part, nodes = self.ring().get_nodes(account, container, obj)
        return part, [n.port for n in nodes]

    def handoff_port(self, obj: str, container: str = "c", account: str = "a") -> int:
        part, _ = self.placement(obj, container, account)
        return next(iter(self.ring().get_more_nodes(part))).port

    def files(self, port: int, obj: str, container: str = "c", account: str = "a") -> list[str]:
        """Sorted file names of an object's hash dir on a node (empty when absent)."""
        part, _ = self.placement(obj, container, account)
        name_hash = hash_path(account, container, obj)
        path = os.path.join(self.dev_path(port), "objects", str(part), name_hash[-3:], name_hash)
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    # -- requests ------------------------------------------------------------------------------
    def request(
        self,
        ip: str,
        port: int,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        conn_timeout: float = 0.5,
        node_timeout: float = 10.0,
        query: str = "",
    ) -> Response:
        """``direct_request`` for this in-process cluster."""
        self.calls.append((port, method, path, dict(headers or {})))
        if port in self.down or port not in self.apps:
            raise ConnectionRefusedError(f"{ip}:{port} is down")
        target = urllib.parse.quote(path, safe="/") + (f"?{query}" if query else "")
        req = Request.blank(target, method=method, headers=headers or {}, body=body or b"")
        resp = req.get_response(self.apps[port])
        return Response.complete(
            resp.status_int, {k.lower(): v for k, v in resp.headerlist}, resp.body
        )

    def object_request(
        self,
        port: int,
        method: str,
        obj: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        container: str = "c",
        account: str = "a",
    ) -> Response:
        part, _ = self.placement(obj, container, account)
        path = f"/{self.device(port)}/{part}/{account}/{container}/{obj}"
        return self.request("127.0.0.1", port, method, path, headers, body)

    def put(
        self,
        ports: list[int],
        obj: str,
        body: bytes = b"payload",
        timestamp: Timestamp | None = None,
        headers: dict[str, str] | None = None,
        container: str = "c",
        account: str = "a",
    ) -> Timestamp:
        """PUT an object on the given nodes only (as if the others were down); its timestamp."""
        stamp = timestamp or Timestamp.now()
        hdrs = {
            "X-Timestamp": stamp.internal,
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(body)),
            **(headers or {}),
        }
        for port in ports:
            resp = self.object_request(port, "PUT", obj, hdrs, body, container, account)
            assert resp.status == 201, (port, resp.status, resp.body)
        return stamp

    def delete(
        self, ports: list[int], obj: str, timestamp: Timestamp | None = None, **names: str
    ) -> Timestamp:
        stamp = timestamp or Timestamp.now()
        for port in ports:
            resp = self.object_request(
                port, "DELETE", obj, {"X-Timestamp": stamp.internal}, **names
            )
            assert resp.status in (204, 404), (port, resp.status)
        return stamp

    def get(self, port: int, obj: str, **names: str) -> Response:
        return self.object_request(port, "GET", obj, **names)

    # -- containers ----------------------------------------------------------------------------
    def container_placement(self, container: str = "c", account: str = "a") -> tuple[int, list]:
        part, nodes = self.ring("container").get_nodes(account, container)
        return part, [n.port for n in nodes]

    def make_container(self, container: str = "c", account: str = "a") -> None:
        part, ports = self.container_placement(container, account)
        for port in ports:
            path = f"/{self.device(port)}/{part}/{account}/{container}"
            resp = self.request("127.0.0.1", port, "PUT", path, {"X-Timestamp": "1.00000"})
            assert resp.status in (201, 202), resp.status

    def listing(self, port: int, container: str = "c", account: str = "a") -> list[dict]:
        """One container replica's JSON listing."""
        part, _ = self.container_placement(container, account)
        path = f"/{self.device(port)}/{part}/{account}/{container}"
        resp = self.request("127.0.0.1", port, "GET", path, query="format=json")
        assert resp.status == 200, resp.status
        return json.loads(resp.body)


def quiet_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(f"test.{name}")
    logger.setLevel(logging.CRITICAL)
    return logger
