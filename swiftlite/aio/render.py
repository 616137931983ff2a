"""Write an all-in-one cluster's files: cluster secrets, rings, and per-server configs.

Configs are the sample files in ``etc/`` with the plan's values (addresses, ports, devices,
paths) written over them, so what the all-in-one runs is what an operator would copy to a real
node. Rings are built through the ring library, not by shelling out to the CLI. Existing
secrets and rings are kept across restarts: regenerating them would move every object.
"""

from __future__ import annotations

import configparser
import io
import os
import secrets
from collections.abc import Mapping

from swiftlite.aio.plan import KINDS, ClusterPlan, NodePlan
from swiftlite.common import fs, policies
from swiftlite.ring.builder import RingBuilder

ETC_ENV = "SWIFTLITE_ETC"


def templates_dir() -> str:
    """The sample configs: ``$SWIFTLITE_ETC`` or the ``etc/`` beside the package."""
    env = os.environ.get(ETC_ENV)
    if env:
        return env
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(os.path.dirname(here), "etc")


def render_config(template_path: str, overrides: Mapping[str, Mapping[str, str]]) -> str:
    """The template with ``overrides`` ({section: {key: value}}) applied.

    A ``DEFAULT`` override is also written into any other section that sets the same key,
    because paste lets a section's own value beat ``[DEFAULT]``.
    """
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    with open(template_path, encoding="utf-8") as fh:
        parser.read_file(fh)
    for section, values in overrides.items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, value)
            if section != "DEFAULT":
                continue
            for other in parser.sections():
                if other != "DEFAULT" and parser.has_option(other, key):
                    parser.set(other, key, value)
    out = io.StringIO()
    out.write(f"# Written by swiftlite-aio from {os.path.basename(template_path)}.\n")
    parser.write(out)
    return out.getvalue()


def write_cluster_conf(plan: ClusterPlan) -> None:
    """swiftlite.conf with a random hash prefix and suffix, kept if it already exists."""
    if os.path.exists(plan.swiftlite_conf):
        return
    os.makedirs(plan.etc_dir, exist_ok=True)
    text = (
        "[swift-hash]\n"
        f"swift_hash_path_prefix = {secrets.token_hex(16)}\n"
        f"swift_hash_path_suffix = {secrets.token_hex(16)}\n"
        "\n[swift-constraints]\n"
    )
    if plan.policies > 1:
        text += (
            "\n[storage-policy:0]\nname = gold\naliases = Policy-0\ndefault = yes\n"
            "\n[storage-policy:1]\nname = silver\npolicy_type = replication\n"
        )
    fs.write_file_durable(plan.swiftlite_conf, text.encode())


def build_rings(plan: ClusterPlan) -> None:
    """account/container rings and the object ring of every policy swiftlite.conf defines
    (``object.ring.gz``, ``object-N.ring.gz``): one zone per node; every device, or the
    policy's devices (``ClusterPlan.policy_devices``). Call it with the cluster's conf."""
    rings = [(kind, kind, plan.replicas, plan.policy_devices(0)) for kind in KINDS[:2]]
    for policy in policies.load():
        idx = policy.idx
        ring = (policy.ring_name, "object", plan.policy_replicas(idx), plan.policy_devices(idx))
        rings.append(ring)
    for name, kind, replicas, devices in rings:
        ring_path = os.path.join(plan.etc_dir, f"{name}.ring.gz")
        builder_path = os.path.join(plan.etc_dir, f"{name}.builder")
        if os.path.exists(ring_path) and os.path.exists(builder_path):
            continue
        builder = RingBuilder(part_power=plan.part_power, replicas=replicas, min_part_hours=1)
        for node, device in devices:
            builder.add_dev(
                {
                    "region": 1,
                    "zone": node.index,
                    "ip": node.ip,
                    "port": node.port_of(kind),
                    "device": device,
                    "weight": 100.0,
                    "meta": "",
                }
            )
        builder.rebalance(seed=1)
        builder.save(builder_path)
        builder.write_ring(ring_path)


#: Daemon settings for a laptop: repairs, async updates and expiry within a minute, audits
#: slow enough not to compete with the servers. {section: {key: value}}, per server kind.
LAPTOP_INTERVALS: dict[str, dict[str, dict[str, str]]] = {
    "object": {
        "object-replicator": {"interval": "60"},
        "object-auditor": {"interval": "300", "files_per_second": "10"},
        "object-updater": {"interval": "30"},
        "object-expirer": {"interval": "30"},
    },
    "container": {
        "container-replicator": {"interval": "60"},
        "container-auditor": {"interval": "600"},
        "container-updater": {"interval": "30"},
    },
    "account": {
        "account-replicator": {"interval": "60"},
        "account-auditor": {"interval": "600"},
        "account-reaper": {"interval": "60"},
    },
}


def _server_overrides(plan: ClusterPlan, node: NodePlan, kind: str) -> dict[str, dict[str, str]]:
    return {
        **LAPTOP_INTERVALS[kind],
        "DEFAULT": {
            "bind_ip": node.ip,
            "bind_port": str(node.port_of(kind)),
            "devices": plan.node_devices(node),
            "mount_check": "false",
            "swift_dir": plan.etc_dir,
            "workers": "1",
            "log_file": os.path.join(plan.log_dir, f"node{node.index}-{kind}-server.log"),
            "log_name": f"{kind}-server-{node.index}",
            "recon_cache_path": plan.node_recon_cache(node),
            "rsync_port": str(node.rsync_port),
        },
    }


def _proxy_overrides(plan: ClusterPlan, memcached: bool) -> dict[str, dict[str, str]]:
    overrides: dict[str, dict[str, str]] = {
        "DEFAULT": {
            "bind_ip": plan.proxy_ip,
            "bind_port": str(plan.proxy_port),
            "swift_dir": plan.etc_dir,
            "workers": str(plan.proxy_workers),
            "log_file": os.path.join(plan.log_dir, "proxy-server.log"),
            "log_name": "proxy-server",
        }
    }
    if memcached:
        overrides["filter:cache"] = {"memcache_servers": f"127.0.0.1:{plan.memcached_port}"}
    # The reseller admin may delete accounts, so the account reaper has work to do.
    overrides["app:proxy-server"] = {"allow_account_management": "true"}
    # S3 CORS preflights carry no credentials: the aio's test account's buckets answer them.
    overrides["filter:s3api"] = {"cors_accounts": "AUTH_test"}
    return overrides


def aio_pipeline(template_path: str) -> str:
    """The sample's proxy pipeline with ``s3api`` before ``tempauth``: on in the aio."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    with open(template_path, encoding="utf-8") as fh:
        parser.read_file(fh)
    names = parser.get("pipeline:main", "pipeline").split()
    if "s3api" not in names and "tempauth" in names:
        names.insert(names.index("tempauth"), "s3api")
    return " ".join(names)


def rsyncd_conf(plan: ClusterPlan, node: NodePlan) -> str:
    return os.path.join(plan.node_etc(node), "rsyncd.conf")


def write_rsyncd_conf(plan: ClusterPlan, node: NodePlan) -> None:
    with open(os.path.join(templates_dir(), "rsyncd.conf"), encoding="utf-8") as fh:
        template = fh.read()
    text = template.format(
        uid=os.getuid(),
        gid=os.getgid(),
        ip=node.ip,
        port=node.rsync_port,
        log_file=os.path.join(plan.log_dir, f"node{node.index}-rsyncd.log"),
        pid_file=os.path.join(plan.run_dir, f"node{node.index}-rsyncd.daemon-pid"),
        devices=plan.node_devices(node),
        lock_dir=plan.run_dir,
    )
    fs.write_file_durable(rsyncd_conf(plan, node), text.encode())


def write_configs(plan: ClusterPlan, memcached: bool) -> None:
    """Every config file the plan's processes read, plus their device directories."""
    templates = templates_dir()
    for directory in (plan.etc_dir, plan.run_dir, plan.log_dir):
        os.makedirs(directory, exist_ok=True)
    for node in plan.nodes:
        os.makedirs(plan.node_etc(node), exist_ok=True)
        os.makedirs(plan.node_recon_cache(node), exist_ok=True)
        for device in node.devices:
            os.makedirs(os.path.join(plan.node_devices(node), device), exist_ok=True)
        for kind in KINDS:
            text = render_config(
                os.path.join(templates, f"{kind}-server.conf"),
                _server_overrides(plan, node, kind),
            )
            fs.write_file_durable(plan.server_conf(node, kind), text.encode())
        write_rsyncd_conf(plan, node)
    proxy_template = os.path.join(templates, "proxy-server.conf")
    overrides = _proxy_overrides(plan, memcached)
    overrides["pipeline:main"] = {"pipeline": aio_pipeline(proxy_template)}
    text = render_config(proxy_template, overrides)
    fs.write_file_durable(plan.proxy_conf, text.encode())
