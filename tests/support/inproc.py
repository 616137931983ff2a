"""An in-process cluster: real rings, real storage apps, a real proxy, one Python process.

``InprocCluster(root).start()`` builds account, container and object rings with
``RingBuilder`` (3 replicas by default; every server its own zone), makes the storage apps
through their ``app_factory`` and the proxy either directly (``pipeline=False``: the bare
``ProxyApp``) or through paste.deploy from a rendered ``etc/proxy-server.conf``
(``pipeline=True``: catch_errors ... tempauth ... proxy-server). Every app is served by
eventlet's WSGI server on an ephemeral 127.0.0.1 port in its own OS thread, each with its
own eventlet hub, so a storage app that blocks (the stdlib client of a container update, say)
stalls only itself. Storage apps sit behind a ``FaultInjector``.

Hooks for fault tests: ``stop(kind, i)`` closes a server's socket and every connection it
holds (clients see resets and refusals); ``restart(kind, i)`` serves it again on the same
port. ``request(...)`` talks HTTP to the proxy from the test's thread.
"""

from __future__ import annotations

import configparser
import http.client
import pathlib
import shutil
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftlite.account import server as account_server
from swiftlite.common import green, policies
from swiftlite.container import server as container_server
from swiftlite.obj import server as object_server
from swiftlite.proxy.server import ProxyApp, ProxyOptions
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder
from swiftlite.ring.node import Node
from tests.support.faults import FaultInjector

REPO = pathlib.Path(__file__).resolve().parents[2]
KINDS = ("account", "container", "object")


def bound_socket(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (port 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


class ServedApp:
    """One WSGI app served in its own thread until ``stop()``."""

    def __init__(self, name: str, app: Callable[..., Any], sock: socket.socket) -> None:
        self.name = name
        self.app = app
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"inproc-{name}", daemon=True)
        self._started = threading.Event()

    def start(self) -> ServedApp:
        self._thread.start()
        self._started.wait(10)
        return self

    def _run(self) -> None:
        listener = green.green_socket.socket(self.sock)
        wake = green.green_socket.socket(self._wake_r)
        pool = green.GreenPool(1000)
        server = green.spawn(
            green.wsgi.server,
            listener,
            self.app,
            custom_pool=pool,
            log_output=False,
            socket_timeout=30,
        )
        self._started.set()
        wake.recv(1)
        for gt in list(pool.coroutines_running):
            gt.kill()
        server.kill()
        listener.close()
        wake.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._wake_w.send(b"x")
            self._thread.join(10)
        self._wake_w.close()
        self.sock.close()


@dataclass
class Backend:
    kind: str
    index: int
    root: pathlib.Path
    devices: list[str]
    port: int
    make_app: Callable[[], Any]
    faults: FaultInjector | None = None
    served: ServedApp | None = None

    @property
    def running(self) -> bool:
        return self.served is not None

    def start(self, sock: socket.socket | None = None) -> None:
        self.faults = FaultInjector(self.make_app())
        self.served = ServedApp(
            f"{self.kind}{self.index}", self.faults, sock or bound_socket(self.port)
        ).start()

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()
            self.served = None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class InprocCluster:
    root: pathlib.Path
    object_servers: int = 3
    devices_per_server: int = 1
    db_servers: int = 3
    replicas: int = 3
    part_power: int = 6
    pipeline: bool = False
    # filter factories (``filter_factory({})`` results) wrapped around the bare proxy, outermost
    # first, for tests of one filter over real servers without the whole pipeline
    filters: tuple[Callable[[Any], Any], ...] = ()
    proxy_options: dict[str, str] = field(default_factory=dict)
    object_options: dict[str, str] = field(default_factory=dict)
    backends: dict[str, list[Backend]] = field(default_factory=dict)
    proxy: ServedApp | None = None
    proxy_app: Any = None

    # -- set-up --------------------------------------------------------------------------------
    def start(self) -> InprocCluster:
        self.swift_dir = self.root / "etc"
        self.swift_dir.mkdir(parents=True, exist_ok=True)
        sockets: dict[tuple[str, int], socket.socket] = {}
        for kind in KINDS:
            count = self.object_servers if kind == "object" else self.db_servers
            per = self.devices_per_server if kind == "object" else 1
            self.backends[kind] = []
            for i in range(count):
                sock = bound_socket()
                sockets[(kind, i)] = sock
                node_root = self.root / f"{kind}{i}"
                devices = [f"d{i}{j}" for j in range(per)]
                for dev in devices:
                    (node_root / dev).mkdir(parents=True, exist_ok=True)
                backend = Backend(kind, i, node_root, devices, sock.getsockname()[1], lambda: None)
                backend.make_app = self._factory(kind, backend)
                self.backends[kind].append(backend)
        for kind in KINDS:
            self._write_ring(kind)
        for (kind, i), sock in sockets.items():
            self.backends[kind][i].start(sock)
        self.proxy_app = self._make_proxy()
        self.proxy = ServedApp("proxy", self.proxy_app, bound_socket()).start()
        return self

    def _factory(self, kind: str, backend: Backend) -> Callable[[], Any]:
        common = {
            "devices": str(backend.root),
            "mount_check": "false",
            "swift_dir": str(self.swift_dir),
            "log_requests": "false",
        }
        if kind == "object":
            options = {
                **common,
                "fsync_in_threads": "false",
                "node_timeout": "2",
                **self.object_options,
            }
            return lambda: object_server.app_factory({}, **options)
        if kind == "container":
            options = {**common, "account_update_interval": "0.5"}
            return lambda: container_server.app_factory({}, **options)
        account_options = {k: v for k, v in common.items() if k != "swift_dir"}
        return lambda: account_server.app_factory({}, **account_options)

    def _write_ring(self, kind: str) -> None:
        builder = RingBuilder(self.part_power, self.replicas, 0)
        for backend in self.backends[kind]:
            for dev in backend.devices:
                builder.add_dev(
                    {
                        "region": 1,
                        "zone": backend.index + 1,
                        "ip": "127.0.0.1",
                        "port": backend.port,
                        "device": dev,
                        "weight": 100,
                    }
                )
        builder.rebalance(seed=1)
        builder.write_ring(str(self.swift_dir / f"{kind}.ring.gz"))
        if kind == "object":  # every other configured policy places objects alike
            for policy in policies.load():
                if policy.idx:
                    shutil.copy(
                        self.swift_dir / "object.ring.gz", policy.ring_path(str(self.swift_dir))
                    )

    def _make_proxy(self) -> Any:
        options = {
            "swift_dir": str(self.swift_dir),
            "account_autocreate": "true",
            "conn_timeout": "0.5",
            "node_timeout": "3",
            "recoverable_node_timeout": "1",
            "post_quorum_timeout": "0.2",
            "log_level": "WARNING",
            **self.proxy_options,
        }
        if not self.pipeline:
            from swiftlite.common import config

            parsed = config.parse_options(ProxyOptions, options, where="inproc proxy")
            app: Any = ProxyApp(parsed)
            for make in reversed(self.filters):
                app = make(app)
            return app
        return self._load_pipeline(options)

    def _load_pipeline(self, options: Mapping[str, str]) -> Any:
        from paste.deploy import loadapp

        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(REPO / "etc" / "proxy-server.conf")
        for key, value in options.items():
            parser.set("app:proxy-server", key, value)
        parser.set("DEFAULT", "swift_dir", str(self.swift_dir))
        path = self.root / "proxy-server.conf"
        with path.open("w") as fh:
            parser.write(fh)
        return loadapp(f"config:{path}")

    def stop_all(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        for backends in self.backends.values():
            for backend in backends:
                backend.stop()

    # -- fault hooks ---------------------------------------------------------------------------
    def stop(self, kind: str, index: int) -> None:
        self.backends[kind][index].stop()

    def restart(self, kind: str, index: int) -> None:
        self.backends[kind][index].start()

    def faults(self, kind: str, index: int) -> FaultInjector:
        injector = self.backends[kind][index].faults
        if injector is None:
            raise RuntimeError(f"{kind}{index} is stopped")
        return injector

    def backend_of(self, node: Node) -> Backend:
        """The backend serving a ring node (by port)."""
        for backends in self.backends.values():
            for backend in backends:
                if backend.port == node.port:
                    return backend
        raise KeyError(node.port)

    def ring(self, kind: str) -> Ring:
        return Ring(str(self.swift_dir / f"{kind}.ring.gz"))

    # -- HTTP to the proxy ---------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self.proxy is None:
            raise RuntimeError("the proxy is not running")
        return self.proxy.port

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | Any = b"",
        timeout: float = 30.0,
    ) -> Reply:
        """One request to the proxy; ``path`` is a real str and is quoted here."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            target = urllib.parse.quote(path, safe="/?=&")
            send = dict(headers or {})
            if isinstance(body, bytes) and method in ("PUT", "POST"):
                send.setdefault("Content-Length", str(len(body)))
            conn.request(method, target, body=body or None, headers=send)
            resp = conn.getresponse()
            data = resp.read()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()
