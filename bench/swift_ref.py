"""The reference OpenStack Swift all-in-one cluster the benchmark compares swiftlite against.

Owns: installing the pinned ``swift`` release from PyPI into its own virtual environment
(``bench/.swift-venv``, idempotent), writing a complete Swift configuration under a temporary
root (swift.conf, rings built with that venv's ``swift-ring-builder``, one config per server),
and starting and stopping its processes (memcached and the four servers) by recorded pid.

The geometry is taken from swiftlite's own ``make_plan``, so both clusters have the same nodes,
devices, replicas, partition power and worker counts. Every path Swift would otherwise put in
``/etc/swift``, ``/var/run/swift`` or ``/var/cache/swift`` lives under the cluster root. It does
not touch swiftlite's cluster and never looks processes up by name.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass

from swiftlite.aio import procs
from swiftlite.aio.plan import KINDS, ClusterPlan, make_plan
from swiftlite.aio.procs import ProcSpec

SWIFT_VERSION = "2.38.3"
REQUIREMENT = f"swift=={SWIFT_VERSION}"
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
VENV_DIR = os.path.join(BENCH_DIR, ".swift-venv")
STAMP = ".bench-installed"
START_TIMEOUT = 60.0

# Same users (and keys) as swiftlite-aio's tempauth.
TEMPAUTH_USERS = {
    "user_test_tester": "testing .admin",
    "user_test2_tester2": "testing2 .admin",
    "user_test_tester3": "testing3",
    "user_test5_tester5": "testing5 service",
    "user_admin_admin": "admin .admin .reseller_admin",
}

#: The proxy pipelines by name: ``full`` is Swift's sample order (``proxy-server.conf-sample``)
#: with s3api before tempauth; ``short`` is the first bench's comparison.
PIPELINES = {
    "full": (
        "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl "
        "ratelimit formpost s3api tempauth staticweb copy container-quotas account-quotas slo "
        "dlo versioned_writes symlink proxy-logging proxy-server"
    ),
    "short": (
        "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth "
        "copy slo dlo proxy-logging proxy-server"
    ),
}
PROXY_PIPELINE = PIPELINES["full"]

#: [filter:<name>] section -> egg entry point, for every filter either pipeline names (cache
#: and tempauth have sections of their own). Legacy versioning is switched on, as swiftlite's
#: sample config does, so both systems can serve ``X-History-Location``.
FILTER_EGGS = {
    "catch_errors": "catch_errors",
    "gatekeeper": "gatekeeper",
    "healthcheck": "healthcheck",
    "proxy-logging": "proxy_logging",
    "listing_formats": "listing_formats",
    "bulk": "bulk",
    "tempurl": "tempurl",
    "ratelimit": "ratelimit",
    "formpost": "formpost",
    "s3api": "s3api",
    "staticweb": "staticweb",
    "copy": "copy",
    "container-quotas": "container_quotas",
    "account-quotas": "account_quotas",
    "slo": "slo",
    "dlo": "dlo",
    "versioned_writes": "versioned_writes",
    "symlink": "symlink",
}
FILTER_OPTIONS = {"versioned_writes": "allow_versioned_writes = true\n"}


class SwiftRefError(Exception):
    """The reference Swift could not be installed, configured or started."""


# -- installation ----------------------------------------------------------------------------
def venv_bin(name: str, venv: str = VENV_DIR) -> str:
    return os.path.join(venv, "bin", name)


def ensure_installed(venv: str = VENV_DIR, log=print) -> str:  # type: ignore[no-untyped-def]
    """Create ``venv`` and pip-install the pinned Swift into it unless already done.

    Returns the version string that is installed. The stamp file records the requirement that
    was installed, so changing ``SWIFT_VERSION`` reinstalls.
    """
    stamp = os.path.join(venv, STAMP)
    python = venv_bin("python", venv)
    if _read(stamp) == REQUIREMENT and os.path.exists(venv_bin("swift-proxy-server", venv)):
        return SWIFT_VERSION
    log(f"swift_ref: installing {REQUIREMENT} into {venv}")
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3") or "python3"
    if not os.path.exists(python):
        _run([base_python, "-m", "venv", venv])
    _run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    _run([python, "-m", "pip", "install", "-q", REQUIREMENT])
    with open(stamp, "w", encoding="utf-8") as fh:
        fh.write(REQUIREMENT)
    return SWIFT_VERSION


def frozen_requirements(venv: str = VENV_DIR) -> list[str]:
    """``pip freeze`` of the Swift venv, recorded in the report for reproducibility."""
    out = subprocess.run(
        [venv_bin("python", venv), "-m", "pip", "freeze"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.split()


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SwiftRefError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        return None


# -- configuration ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SwiftCluster:
    """A Swift all-in-one laid out exactly like swiftlite's plan for the same arguments."""

    plan: ClusterPlan
    venv: str = VENV_DIR
    pipeline: str = PROXY_PIPELINE

    @classmethod
    def create(
        cls,
        root: str,
        port: int,
        devices: int = 4,
        replicas: int = 3,
        pipeline: str = PROXY_PIPELINE,
    ) -> SwiftCluster:
        plan = make_plan(root, port=port, replicas=replicas, devices=devices)
        return cls(plan, pipeline=pipeline)

    @property
    def swift_dir(self) -> str:
        return self.plan.etc_dir

    @property
    def auth_url(self) -> str:
        return self.plan.auth_url

    def conf_path(self, kind: str) -> str:
        return os.path.join(self.swift_dir, f"{kind}-server.conf")

    def write_config(self) -> None:
        """swift.conf, rings and the four server configs; devices as plain directories."""
        plan = self.plan
        for directory in (plan.etc_dir, plan.run_dir, plan.log_dir, self._cache_dir):
            os.makedirs(directory, exist_ok=True)
        for node in plan.nodes:
            for device in node.devices:
                os.makedirs(os.path.join(plan.node_devices(node), device), exist_ok=True)
        self._write_swift_conf()
        self._build_rings()
        self._write_storage_confs()
        _write(self.conf_path("proxy"), self._proxy_conf())

    def _write_swift_conf(self) -> None:
        swift_conf = os.path.join(self.swift_dir, "swift.conf")
        if not os.path.exists(swift_conf):
            _write(
                swift_conf,
                "[swift-hash]\n"
                f"swift_hash_path_prefix = {secrets.token_hex(16)}\n"
                f"swift_hash_path_suffix = {secrets.token_hex(16)}\n\n"
                "[storage-policy:0]\nname = Policy-0\ndefault = yes\n",
            )

    def _write_storage_confs(self) -> None:
        """One config per storage server (the multi-node cluster of ``swift_aio4`` writes
        one set per node)."""
        node = self.plan.nodes[0]
        if len(self.plan.nodes) != 1:
            raise SwiftRefError("the reference cluster supports the one-node geometry only")
        for kind in KINDS:
            _write(self.conf_path(kind), self._storage_conf(kind, node.ip, node.port_of(kind)))

    @property
    def _cache_dir(self) -> str:
        return os.path.join(self.plan.root, "cache")

    def _defaults(self, ip: str, port: int, workers: int, name: str) -> str:
        return (
            "[DEFAULT]\n"
            f"bind_ip = {ip}\nbind_port = {port}\nworkers = {workers}\n"
            f"user = {pwd.getpwuid(os.getuid()).pw_name}\n"
            f"swift_dir = {self.swift_dir}\n"
            f"recon_cache_path = {self._cache_dir}\n"
            f"log_name = {name}\n"
        )

    def _storage_conf(self, kind: str, ip: str, port: int) -> str:
        plan = self.plan
        return (
            self._defaults(ip, port, 1, f"{kind}-server")
            + f"devices = {plan.node_devices(plan.nodes[0])}\nmount_check = false\n\n"
            f"[pipeline:main]\npipeline = healthcheck recon {kind}-server\n\n"
            f"[app:{kind}-server]\nuse = egg:swift#{kind}\n\n"
            "[filter:healthcheck]\nuse = egg:swift#healthcheck\n\n"
            f"[filter:recon]\nuse = egg:swift#recon\nrecon_cache_path = {self._cache_dir}\n"
        )

    def _proxy_conf(self) -> str:
        plan = self.plan
        users = "".join(f"{k} = {v}\n" for k, v in TEMPAUTH_USERS.items())
        text = self._defaults(plan.proxy_ip, plan.proxy_port, plan.proxy_workers, "proxy-server")
        text += f"\n[pipeline:main]\npipeline = {self.pipeline}\n\n"
        text += (
            "[app:proxy-server]\nuse = egg:swift#proxy\n"
            "account_autocreate = true\nallow_account_management = true\n\n"
        )
        text += f"[filter:tempauth]\nuse = egg:swift#tempauth\n{users}\n"
        text += (
            "[filter:cache]\nuse = egg:swift#memcache\n"
            f"memcache_servers = 127.0.0.1:{plan.memcached_port}\n\n"
        )
        for section, egg in FILTER_EGGS.items():
            if section in self.pipeline.split():
                extra = FILTER_OPTIONS.get(section, "")
                text += f"[filter:{section}]\nuse = egg:swift#{egg}\n{extra}\n"
        return text

    def _build_rings(self) -> None:
        builder_cli = venv_bin("swift-ring-builder", self.venv)
        plan = self.plan
        for kind in KINDS:
            builder = os.path.join(self.swift_dir, f"{kind}.builder")
            if os.path.exists(os.path.join(self.swift_dir, f"{kind}.ring.gz")):
                continue
            _run([builder_cli, builder, "create", str(plan.part_power), str(plan.replicas), "1"])
            for node in plan.nodes:
                for device in node.devices:
                    dev = f"r1z{node.index}-{node.ip}:{node.port_of(kind)}/{device}"
                    _run([builder_cli, builder, "add", dev, "100"])
            # exit status 1 is a warning (e.g. balance not perfect), 2 an error
            proc = subprocess.run(
                [builder_cli, builder, "rebalance", "--seed", "1"],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode not in (0, 1):
                raise SwiftRefError(f"rebalance of {builder} failed: {proc.stdout}{proc.stderr}")

    # -- processes -------------------------------------------------------------------------
    def process_specs(self) -> list[ProcSpec]:
        """memcached, the three storage servers, then the proxy (the order they start in)."""
        plan = self.plan
        memcached = shutil.which("memcached") or "/usr/bin/memcached"
        argv = [memcached, "-l", "127.0.0.1", "-p", str(plan.memcached_port), "-U", "0"]
        argv += ["-m", "64"] + (["-u", "root"] if os.geteuid() == 0 else [])
        specs = [ProcSpec("memcached", tuple(argv), None, tcp=("127.0.0.1", plan.memcached_port))]
        node = plan.nodes[0]
        for kind in KINDS:
            specs.append(
                ProcSpec(
                    f"node{node.index}-{kind}-server",
                    (venv_bin(f"swift-{kind}-server", self.venv), self.conf_path(kind)),
                    (node.ip, node.port_of(kind)),
                )
            )
        specs.append(
            ProcSpec(
                "proxy-server",
                (venv_bin("swift-proxy-server", self.venv), self.conf_path("proxy")),
                (plan.proxy_ip, plan.proxy_port),
            )
        )
        return specs

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Write the config and start every process; raises when one does not answer."""
        self.write_config()
        env = {k: v for k, v in os.environ.items() if k not in ("SWIFTLITE_CONF", "PYTHONPATH")}
        env["VIRTUAL_ENV"] = self.venv
        env["PATH"] = os.path.join(self.venv, "bin") + os.pathsep + env.get("PATH", "")
        specs = self.process_specs()
        for group in (specs[:-1], specs[-1:]):
            for spec in group:
                procs.start(spec, self.plan.run_dir, self.plan.log_dir, env)
            failed = procs.wait_healthy(group, self.plan.run_dir, timeout)
            if failed:
                self.stop()
                logs = ", ".join(os.path.join(self.plan.log_dir, f"{n}.out") for n in failed)
                raise SwiftRefError(f"Swift not answering: {', '.join(failed)} (see {logs})")

    def stop(self) -> list[str]:
        """Stop every recorded process, proxy first; returns the names that were running."""
        return [
            spec.name
            for spec in reversed(self.process_specs())
            if procs.stop(spec.name, self.plan.run_dir)
        ]

    def pids(self) -> dict[str, int]:
        """Recorded pid (= process group id) of each process that has a pidfile."""
        found = {}
        for spec in self.process_specs():
            pid = procs.read_pid(self.plan.run_dir, spec.name)
            if pid is not None:
                found[spec.name] = pid
        return found


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
