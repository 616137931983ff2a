"""Four "machines" on loopback, each set up and started as an operator sets up a real host.

Three storage machines on 127.0.0.2, .3 and .4 and a proxy machine on 127.0.0.1. Each has its
own directory with ``etc/`` (its configs, rendered from the sample files in ``etc/``), ``run/``,
``log/`` and ``srv/``; nothing is shared: the ring files and ``swiftlite.conf`` are built once
and copied into every ``etc/``, as an operator copies them. Every machine is started with
``swiftlite-init start all --conf-dir <etc> --run-dir <run> --log-dir <log>``. The services an
operator runs beside swiftlite (rsync on storage machines, memcached on the proxy) are started
by pid here, as their own init scripts would.

``MultiHost.cluster()`` gives a ``tests.support.cluster.Cluster`` for client tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass

from swiftlite.aio import procs, render
from swiftlite.aio.plan import KINDS, ClusterPlan, NodePlan, free_proxy_port
from swiftlite.aio.procs import ProcSpec
from swiftlite.ring.builder import RingBuilder
from tests.support.cluster import Cluster

INIT = os.path.join(os.path.dirname(sys.executable), "swiftlite-init")
STORAGE_IPS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
DEVICES = ("d1", "d2")


@dataclass(frozen=True)
class Machine:
    name: str
    ip: str
    root: str

    @property
    def etc(self) -> str:
        return os.path.join(self.root, "etc")

    @property
    def run(self) -> str:
        return os.path.join(self.root, "run")

    @property
    def log(self) -> str:
        return os.path.join(self.root, "log")

    @property
    def srv(self) -> str:
        return os.path.join(self.root, "srv")

    def init_argv(self, *words: str) -> list[str]:
        dirs = ["--conf-dir", self.etc, "--run-dir", self.run, "--log-dir", self.log]
        return [INIT, *words, *dirs]

    def init(self, *words: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``swiftlite-init <words>`` for this machine; AssertionError when it fails."""
        done = subprocess.run(
            self.init_argv(*words), capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"{self.name}: {words}: {done.stdout}\n{done.stderr}"
        return done


class MultiHost:
    def __init__(self, base: str) -> None:
        self.base = base
        self.port = free_proxy_port()  # proxy P; storage servers P+10..P+12, rsync P+13
        self.memcached_port = self.port + 14
        self.proxy = Machine("proxy", "127.0.0.1", os.path.join(base, "proxy"))
        self.storage = [
            Machine(f"storage{i}", ip, os.path.join(base, f"storage{i}"))
            for i, ip in enumerate(STORAGE_IPS, 1)
        ]

    @property
    def machines(self) -> list[Machine]:
        return [*self.storage, self.proxy]

    def port_of(self, kind: str) -> int:
        return self.port + 10 + KINDS.index(kind)

    # -- set-up ------------------------------------------------------------------------------
    def build(self) -> None:
        staging = os.path.join(self.base, "operator")
        os.makedirs(staging, exist_ok=True)
        cluster_conf = os.path.join(staging, "swiftlite.conf")
        with open(cluster_conf, "w", encoding="ascii") as fh:
            fh.write(
                "[swift-hash]\n"
                f"swift_hash_path_prefix = {secrets.token_hex(16)}\n"
                f"swift_hash_path_suffix = {secrets.token_hex(16)}\n\n[swift-constraints]\n"
            )
        for kind in KINDS:
            builder = RingBuilder(part_power=8, replicas=3, min_part_hours=1)
            for zone, machine in enumerate(self.storage, 1):
                for device in DEVICES:
                    builder.add_dev(
                        {
                            "region": 1,
                            "zone": zone,
                            "ip": machine.ip,
                            "port": self.port_of(kind),
                            "device": device,
                            "weight": 100.0,
                            "meta": "",
                        }
                    )
            builder.rebalance(seed=1)
            builder.save(os.path.join(staging, f"{kind}.builder"))
            builder.write_ring(os.path.join(staging, f"{kind}.ring.gz"))
        for machine in self.machines:
            for directory in (machine.etc, machine.run, machine.log):
                os.makedirs(directory, exist_ok=True)
            for name in ["swiftlite.conf", *(f"{kind}.ring.gz" for kind in KINDS)]:
                shutil.copy(os.path.join(staging, name), machine.etc)  # what scp would do
        for machine in self.storage:
            self._storage_configs(machine)
        self._proxy_config()

    def _storage_configs(self, machine: Machine) -> None:
        for device in DEVICES:
            os.makedirs(os.path.join(machine.srv, device), exist_ok=True)
        recon = os.path.join(machine.root, "cache")
        os.makedirs(recon, exist_ok=True)
        for kind in KINDS:
            overrides = {
                **render.LAPTOP_INTERVALS[kind],
                "DEFAULT": {
                    "bind_ip": machine.ip,
                    "bind_port": str(self.port_of(kind)),
                    "devices": machine.srv,
                    "mount_check": "false",
                    "swift_dir": machine.etc,
                    "workers": "2",
                    "log_file": os.path.join(machine.log, f"{kind}-server.log"),
                    "log_name": f"{kind}-server",
                    "recon_cache_path": recon,
                    "rsync_port": str(self.port + 13),
                },
            }
            text = render.render_config(
                os.path.join(render.templates_dir(), f"{kind}-server.conf"), overrides
            )
            with open(os.path.join(machine.etc, f"{kind}-server.conf"), "w") as fh:
                fh.write(text)
        with open(os.path.join(render.templates_dir(), "rsyncd.conf"), encoding="utf-8") as fh:
            template = fh.read()
        with open(os.path.join(machine.etc, "rsyncd.conf"), "w", encoding="utf-8") as fh:
            fh.write(
                template.format(
                    uid=os.getuid(),
                    gid=os.getgid(),
                    ip=machine.ip,
                    port=self.port + 13,
                    log_file=os.path.join(machine.log, "rsyncd.log"),
                    pid_file=os.path.join(machine.run, "rsyncd.daemon-pid"),
                    devices=machine.srv,
                    lock_dir=machine.run,
                )
            )

    def _proxy_config(self) -> None:
        overrides = {
            "DEFAULT": {
                "bind_ip": self.proxy.ip,
                "bind_port": str(self.port),
                "swift_dir": self.proxy.etc,
                "workers": "2",
                "log_file": os.path.join(self.proxy.log, "proxy-server.log"),
                "log_name": "proxy-server",
            },
            "filter:cache": {"memcache_servers": f"127.0.0.1:{self.memcached_port}"},
            "app:proxy-server": {"allow_account_management": "true"},
        }
        text = render.render_config(
            os.path.join(render.templates_dir(), "proxy-server.conf"), overrides
        )
        with open(os.path.join(self.proxy.etc, "proxy-server.conf"), "w") as fh:
            fh.write(text)

    # -- the services beside swiftlite (by pid) ----------------------------------------------
    def side_services(self) -> list[tuple[ProcSpec, str]]:
        """(spec, run dir) for memcached on the proxy and rsync on each storage machine."""
        services: list[tuple[ProcSpec, str]] = []
        memcached = shutil.which("memcached")
        if memcached:
            argv = [memcached, "-l", "127.0.0.1", "-p", str(self.memcached_port), "-U", "0"]
            argv += ["-m", "32"] + (["-u", "root"] if os.geteuid() == 0 else [])
            tcp = ("127.0.0.1", self.memcached_port)
            services.append((ProcSpec("memcached", tuple(argv), None, tcp=tcp), self.proxy.run))
        if shutil.which("rsync"):
            services += [(self._rsyncd(machine), machine.run) for machine in self.storage]
        return services

    def _rsyncd(self, machine: Machine) -> ProcSpec:
        conf = os.path.join(machine.etc, "rsyncd.conf")
        argv = [shutil.which("rsync") or "rsync", "--daemon", "--no-detach", f"--config={conf}"]
        return ProcSpec("rsyncd", tuple(argv), None, tcp=(machine.ip, self.port + 13))

    # -- start and stop ----------------------------------------------------------------------
    def start(self) -> None:
        services = self.side_services()
        for spec, run in services:
            procs.start(spec, run, os.path.join(os.path.dirname(run), "log"), dict(os.environ))
        for spec, run in services:
            assert procs.wait_healthy([spec], run, 30) == [], spec.name
        for machine in self.machines:  # storage first, the proxy last
            machine.init("start", "all")

    def add_storage(self, ip: str) -> Machine:
        """Set up one more storage machine as the first ones were, and start it.

        It gets the rings as they are now (it is in none of them yet) and its own configs and
        rsync; the operator then adds its devices to the builders and pushes the new rings.
        """
        name = f"storage{len(self.storage) + 1}"
        machine = Machine(name, ip, os.path.join(self.base, name))
        for directory in (machine.etc, machine.run, machine.log):
            os.makedirs(directory, exist_ok=True)
        staging = os.path.join(self.base, "operator")
        for file in ["swiftlite.conf", *(f"{kind}.ring.gz" for kind in KINDS)]:
            shutil.copy(os.path.join(staging, file), machine.etc)
        self._storage_configs(machine)
        self.storage.append(machine)  # from now on stop() stops it too
        spec = self._rsyncd(machine)
        procs.start(spec, machine.run, machine.log, dict(os.environ))
        assert procs.wait_healthy([spec], machine.run, 30) == [], f"{name} rsyncd"
        machine.init("start", "all")
        return machine

    def stop(self) -> None:
        for machine in reversed(self.machines):
            subprocess.run(
                machine.init_argv("stop", "all", "--kill-after-timeout"),
                capture_output=True,
                timeout=120,
                check=False,
            )
        for spec, run in self.side_services():
            procs.stop(spec.name, run, grace=5)

    def cluster(self) -> Cluster:
        """A Cluster (the client tests' helper) aimed at the proxy machine."""
        nodes = tuple(
            NodePlan(
                index=i,
                ip=m.ip,
                object_port=self.port_of("object"),
                container_port=self.port_of("container"),
                account_port=self.port_of("account"),
                rsync_port=self.port + 13,
                devices=DEVICES,
            )
            for i, m in enumerate(self.storage, 1)
        )
        plan = ClusterPlan(
            root=self.proxy.root,  # etc_dir and swiftlite_conf are the proxy machine's
            proxy_ip=self.proxy.ip,
            proxy_port=self.port,
            replicas=3,
            part_power=8,
            proxy_workers=2,
            memcached_port=self.memcached_port,
            nodes=nodes,
        )
        return MultiHostCluster(plan, self)


class MultiHostCluster(Cluster):
    """Client-side helpers of ``Cluster``; start and stop go through each machine's init."""

    def __init__(self, plan: ClusterPlan, hosts: MultiHost) -> None:
        super().__init__(plan)
        self.hosts = hosts

    def stop(self) -> None:
        self.hosts.stop()

    def device_path(self, node_ip: str, device: str) -> str:
        machine = next(m for m in self.hosts.storage if m.ip == node_ip)
        return os.path.join(machine.srv, device)
