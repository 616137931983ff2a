"""A real all-in-one cluster for functional and probe tests, started the way users start it.

``Cluster.start(tmp_dir, nodes=1)`` goes through ``swiftlite.aio.cluster`` (the library behind
``swiftlite-aio``) on free ports, and ``stop()`` kills exactly the processes it recorded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from swiftlite.aio import cluster as aio_cluster
from swiftlite.aio import procs
from swiftlite.aio.plan import ClusterPlan, free_proxy_port, make_plan


@dataclass
class Auth:
    storage_url: str
    token: str

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.storage_url).path


class Cluster:
    def __init__(self, plan: ClusterPlan) -> None:
        self.plan = plan

    @classmethod
    def start(cls, root: str, nodes: int = 1, **kwargs: int | bool) -> Cluster:
        plan = make_plan(root, port=free_proxy_port(), nodes=nodes, **kwargs)  # type: ignore[arg-type]
        self = cls(plan)
        try:
            aio_cluster.start(plan)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        aio_cluster.stop(self.plan)

    # -- addresses ---------------------------------------------------------------------------
    @property
    def auth_url(self) -> str:
        return self.plan.auth_url

    @property
    def proxy(self) -> tuple[str, int]:
        return self.plan.proxy_ip, self.plan.proxy_port

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(*self.proxy, timeout=30)

    def auth(self, user: str = "test:tester", key: str = "testing") -> Auth:
        conn = self.conn()
        conn.request("GET", "/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, f"auth as {user} gave {resp.status}"
        return Auth(resp.getheader("X-Storage-Url") or "", resp.getheader("X-Auth-Token") or "")

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.conn()
        try:
            conn.request(
                method, urllib.parse.quote(path, safe="/?=&%"), body=body, headers=headers or {}
            )
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def json(self, path: str, token: str) -> object:
        status, _, body = self.request("GET", path + "?format=json", {"X-Auth-Token": token})
        assert status in (200, 204), status
        return json.loads(body or b"[]")

    # -- faults ------------------------------------------------------------------------------
    def server_name(self, node: int, kind: str) -> str:
        return f"node{node}-{kind}-server"

    def kill(self, node: int, kind: str) -> None:
        """Stop one storage server (by its recorded pid)."""
        assert procs.stop(self.server_name(node, kind), self.plan.run_dir, grace=5)

    def revive(self, node: int, kind: str) -> None:
        aio_cluster.start(self.plan)

    def stop_node(self, node: int) -> None:
        """Stop every storage server of one node (its rsync daemon keeps running)."""
        for kind in ("object", "container", "account"):
            self.kill(node, kind)

    def start_missing(self) -> None:
        """Start whatever is not running (a stopped node, a killed server)."""
        aio_cluster.start(self.plan)

    # -- daemons -----------------------------------------------------------------------------
    def run_once(self, kind: str, daemon: str, nodes: list[int] | None = None) -> list[str]:
        """Run ``swiftlite-<kind>-<daemon> CONF once`` on each node; returns their outputs."""
        outputs = []
        for index in nodes or [n.index for n in self.plan.nodes]:
            argv = aio_cluster.daemon_argv(self.plan, index, kind, daemon)
            done = subprocess.run(
                argv,
                env=aio_cluster.process_env(self.plan),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout + done.stderr)
        return outputs

    # -- rings and files ---------------------------------------------------------------------
    @contextlib.contextmanager
    def own_conf(self) -> Iterator[None]:
        """Hash names with this cluster's secrets while in the block."""
        old = os.environ.get("SWIFTLITE_CONF")
        os.environ["SWIFTLITE_CONF"] = self.plan.swiftlite_conf
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("SWIFTLITE_CONF", None)
            else:
                os.environ["SWIFTLITE_CONF"] = old

    def ring(self, kind: str):  # type: ignore[no-untyped-def]
        from swiftlite.ring import Ring

        with self.own_conf():
            return Ring(os.path.join(self.plan.etc_dir, f"{kind}.ring.gz"))

    def device_path(self, node_ip: str, device: str) -> str:
        node = next(n for n in self.plan.nodes if n.ip == node_ip)
        return os.path.join(self.plan.node_devices(node), device)

    def all_devices(self) -> list[tuple[str, str]]:
        """(node ip, device) for every device of every node."""
        return [(n.ip, d) for n in self.plan.nodes for d in n.devices]

    def object_dirs(
        self, account: str, container: str, obj: str, policy: int = 0
    ) -> dict[tuple[str, str], list[str]]:
        """Every device's files for one object of one storage policy (``objects-N/``, placed
        by ``object-N.ring.gz``): {(ip, device): sorted file names} (present only)."""
        from swiftlite.common.hashing import hash_path, suffix_of
        from swiftlite.common.policies import dir_name, ring_name

        with self.own_conf():
            name_hash = hash_path(account, container, obj)
            part = self.ring(ring_name(policy)).get_part(account, container, obj)
        found = {}
        for ip, device in self.all_devices():
            path = os.path.join(
                self.device_path(ip, device),
                dir_name("objects", policy),
                str(part),
                suffix_of(name_hash),
                name_hash,
            )
            with contextlib.suppress(FileNotFoundError):
                files = sorted(os.listdir(path))
                if files:
                    found[(ip, device)] = files
        return found

    def primaries(self, kind: str, *names: str) -> list[tuple[str, str]]:
        with self.own_conf():
            _, nodes = self.ring(kind).get_nodes(*names)
        return [(n.ip, n.device) for n in nodes]
