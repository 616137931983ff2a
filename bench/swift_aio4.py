"""A multi-node reference Swift all-in-one with rsyncd and the background daemons, for
``bench.idle``.

Owns: per-node configs (``etc/node<N>/<kind>-server.conf``, each with its daemons' sections
left empty so Swift's defaults apply, apart from the rsync module address), one rsyncd per
node (swiftlite's own ``etc/rsyncd.conf`` template, as ``swiftlite-aio`` writes it), rings with
one zone per node, and the processes: memcached, per node rsyncd, the three servers and ten
daemons (the set ``swiftlite-aio`` runs), then the proxy. Swift's daemons read
``/etc/swift/swift.conf`` at start-up, so each is run through ``bench/fill.py daemon``, which
points Swift at this cluster's ``swift_dir`` first. Installing Swift and the proxy config are
``swift_ref``'s.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from bench import swift_ref
from swiftlite.aio import cluster, render
from swiftlite.aio.plan import KINDS, NodePlan, make_plan
from swiftlite.aio.procs import ProcSpec

FILL_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fill.py")

#: (server kind, Swift module of the daemon), as swiftlite.aio.cluster.DAEMONS
DAEMONS = (
    ("object", "obj.replicator"),
    ("object", "obj.auditor"),
    ("object", "obj.updater"),
    ("object", "obj.expirer"),
    ("container", "container.replicator"),
    ("container", "container.auditor"),
    ("container", "container.updater"),
    ("account", "account.replicator"),
    ("account", "account.auditor"),
    ("account", "account.reaper"),
)


def section_of(module: str) -> str:
    """``obj.replicator`` -> ``object-replicator`` (the daemon's config section)."""
    kind, daemon = module.split(".")
    return f"{'object' if kind == 'obj' else kind}-{daemon}"


@dataclass(frozen=True)
class SwiftAio(swift_ref.SwiftCluster):
    @classmethod
    def create_nodes(cls, root: str, port: int, nodes: int, replicas: int = 3) -> SwiftAio:
        plan = make_plan(root, port=port, replicas=replicas, nodes=nodes)
        return cls(plan)

    def node_conf(self, node: NodePlan, kind: str) -> str:
        return os.path.join(self.swift_dir, f"node{node.index}", f"{kind}-server.conf")

    @property
    def internal_client_conf(self) -> str:
        return os.path.join(self.swift_dir, "internal-client.conf")

    def _write_internal_client_conf(self) -> None:
        """The expirer's in-process proxy (Swift looks in /etc/swift unless told)."""
        text = (
            f"[DEFAULT]\nswift_dir = {self.swift_dir}\n\n"
            "[pipeline:main]\npipeline = catch_errors proxy-logging cache proxy-server\n\n"
            "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
            "[filter:cache]\nuse = egg:swift#memcache\n"
            f"memcache_servers = 127.0.0.1:{self.plan.memcached_port}\n\n"
            "[filter:proxy-logging]\nuse = egg:swift#proxy_logging\n\n"
            "[filter:catch_errors]\nuse = egg:swift#catch_errors\n"
        )
        with open(self.internal_client_conf, "w", encoding="utf-8") as fh:
            fh.write(text)

    def _write_storage_confs(self) -> None:
        plan = self.plan
        self._write_internal_client_conf()
        for node in plan.nodes:
            os.makedirs(os.path.join(self.swift_dir, f"node{node.index}"), exist_ok=True)
            render.write_rsyncd_conf(plan, node)
            for kind in KINDS:
                with open(self.node_conf(node, kind), "w", encoding="utf-8") as fh:
                    fh.write(self._node_conf(node, kind))

    def _node_conf(self, node: NodePlan, kind: str) -> str:
        plan = self.plan
        cache = os.path.join(plan.root, "cache", f"node{node.index}")
        os.makedirs(cache, exist_ok=True)
        text = self._defaults(node.ip, node.port_of(kind), 1, f"{kind}-server-{node.index}")
        text = text.replace(f"recon_cache_path = {self._cache_dir}", f"recon_cache_path = {cache}")
        text += f"devices = {plan.node_devices(node)}\nmount_check = false\n\n"
        text += f"[pipeline:main]\npipeline = healthcheck recon {kind}-server\n\n"
        text += f"[app:{kind}-server]\nuse = egg:swift#{kind}\n\n"
        text += "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n"
        text += f"[filter:recon]\nuse = egg:swift#recon\nrecon_cache_path = {cache}\n\n"
        for daemon_kind, module in DAEMONS:
            if daemon_kind == kind:
                text += f"[{section_of(module)}]\n"
                if module == "obj.expirer":
                    text += f"internal_client_conf_path = {self.internal_client_conf}\n"
                if module.endswith("replicator"):
                    module_url = f"rsync://{{replication_ip}}:{node.rsync_port}/{kind}"
                    text += f"rsync_module = {module_url}\n"
                text += "\n"
        return text

    def process_specs(self) -> list[ProcSpec]:
        plan = self.plan
        python = swift_ref.venv_bin("python", self.venv)
        specs = super().process_specs()
        memcached, proxy = specs[0], specs[-1]
        out = [memcached]
        # the rsyncd of each node exactly as swiftlite-aio starts it (same template and spec)
        tools = cluster.Tools(memcached=None, rsync=shutil.which("rsync") or "/usr/bin/rsync")
        rsyncds = {
            s.name: s for s in cluster.process_specs(plan, tools) if s.name.endswith("-rsyncd")
        }
        for node in plan.nodes:
            out.append(rsyncds[f"node{node.index}-rsyncd"])
            for kind in KINDS:
                out.append(
                    ProcSpec(
                        f"node{node.index}-{kind}-server",
                        (
                            swift_ref.venv_bin(f"swift-{kind}-server", self.venv),
                            self.node_conf(node, kind),
                        ),
                        (node.ip, node.port_of(kind)),
                    )
                )
            for kind, module in DAEMONS:
                out.append(
                    ProcSpec(
                        f"node{node.index}-{section_of(module)}",
                        (
                            python,
                            FILL_SCRIPT,
                            "daemon",
                            self.swift_dir,
                            module,
                            self.node_conf(node, kind),
                        ),
                        None,
                    )
                )
        out.append(proxy)
        return out
