"""Bring a whole all-in-one cluster up or down: the library behind ``swiftlite-aio``.

Tests start clusters through these same functions, so a newcomer's cluster and the test
suite's are started the same way. Each node's servers and daemons are started by the code of
``swiftlite-init start`` (``init/manager.py``'s ``Node``, with that node's config directory
and a ``node<N>-`` name prefix for pidfiles and output), as on a real node; rsync and memcached
are started here.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from swiftlite.aio import procs, render
from swiftlite.aio.plan import KINDS, ClusterPlan, load_plan, port_free, save_plan
from swiftlite.aio.procs import ProcSpec
from swiftlite.init.manager import Node, command_path
from swiftlite.init.names import Target

START_TIMEOUT = 60.0

# Background daemons per storage node, as (server kind, daemon): the console script is
# swiftlite-<kind>-<daemon>, reading its section of that node's <kind>-server.conf, where
# render.py writes intervals suited to a laptop (LAPTOP_INTERVALS).
DAEMONS = (
    ("object", "replicator"),
    ("object", "auditor"),
    ("object", "updater"),
    ("object", "expirer"),
    ("container", "replicator"),
    ("container", "auditor"),
    ("container", "updater"),
    ("account", "replicator"),
    ("account", "auditor"),
    ("account", "reaper"),
)


class ClusterError(Exception):
    """A cluster could not be started; the message names the processes and their logs."""


@dataclass(frozen=True)
class Tools:
    memcached: str | None
    rsync: str | None

    @classmethod
    def find(cls) -> Tools:
        return cls(shutil.which("memcached"), shutil.which("rsync"))


def _script(name: str) -> str:
    """A console script of ours, from the same environment as the running interpreter."""
    return command_path(name)


def process_specs(plan: ClusterPlan, tools: Tools) -> list[ProcSpec]:
    """Every process of the cluster, storage first and the proxy last."""
    specs: list[ProcSpec] = []
    if tools.memcached:
        argv = [tools.memcached, "-l", "127.0.0.1", "-p", str(plan.memcached_port), "-U", "0"]
        argv += ["-m", "64"] + (["-u", "root"] if os.geteuid() == 0 else [])
        specs.append(
            ProcSpec("memcached", tuple(argv), None, tcp=("127.0.0.1", plan.memcached_port))
        )
    for node in plan.nodes:
        if tools.rsync:
            specs.append(
                ProcSpec(
                    f"node{node.index}-rsyncd",
                    (
                        tools.rsync,
                        "--daemon",
                        "--no-detach",
                        f"--config={render.rsyncd_conf(plan, node)}",
                    ),
                    None,
                    tcp=(node.ip, node.rsync_port),
                )
            )
        for kind in KINDS:
            specs.append(
                ProcSpec(
                    f"node{node.index}-{kind}-server",
                    (_script(f"swiftlite-{kind}-server"), plan.server_conf(node, kind)),
                    (node.ip, node.port_of(kind)),
                )
            )
    if plan.daemons:
        for node in plan.nodes:
            for kind, daemon in DAEMONS:
                specs.append(
                    ProcSpec(
                        f"node{node.index}-{kind}-{daemon}",
                        (_script(f"swiftlite-{kind}-{daemon}"), plan.server_conf(node, kind)),
                        None,
                    )
                )
    specs.append(
        ProcSpec(
            "proxy-server",
            (_script("swiftlite-proxy-server"), plan.proxy_conf),
            (plan.proxy_ip, plan.proxy_port),
        )
    )
    return specs


def process_env(plan: ClusterPlan) -> dict[str, str]:
    return {**os.environ, "SWIFTLITE_CONF": plan.swiftlite_conf}


def start(
    plan: ClusterPlan, tools: Tools | None = None, timeout: float = START_TIMEOUT
) -> list[ProcSpec]:
    """Prepare files and start every process that is not already running; wait for health."""
    tools = tools or Tools.find()
    existing = load_plan(plan.root)
    if existing is not None and existing != plan:
        plan = existing  # the cluster's shape is fixed by its first start
    save_plan(plan)
    render.write_cluster_conf(plan)
    os.environ.setdefault("SWIFTLITE_CONF", plan.swiftlite_conf)
    env = process_env(plan)
    _with_conf(plan, render.build_rings)
    render.write_configs(plan, memcached=tools.memcached is not None)
    specs = process_specs(plan, tools)
    started: list[str] = []
    try:
        _start_all(plan, specs, env, started, timeout)
    except ClusterError:
        for name in reversed(started):
            procs.stop(name, plan.run_dir, grace=5)
        raise
    return specs


def _start_all(
    plan: ClusterPlan,
    specs: list[ProcSpec],
    env: dict[str, str],
    started: list[str],
    timeout: float,
) -> None:
    """Start what is not running (storage first, then the proxy); ``started`` lists them.

    Raises ClusterError naming each process that failed and why: a port another process holds
    (checked before anything starts), a missing binary, or the end of its log.
    """
    pending = [s for s in specs if not procs.pid_alive(procs.read_pid(plan.run_dir, s.name))]
    busy = [
        f"{spec.name}: {ip}:{port} is already in use by another process"
        for spec in pending
        for ip, port in [spec.health or spec.tcp or ("", 0)]
        if port and not port_free(port, ip)
    ]
    if busy:
        raise ClusterError("cannot start; " + "; ".join(busy))
    for group in ([s for s in specs[:-1]], specs[-1:]):
        by_node: dict[tuple[str, str], list[Target]] = {}
        for spec in group:
            if spec not in pending:
                continue
            started.append(spec.name)
            target = _init_target(spec)
            if target is not None:  # our servers and daemons: as swiftlite-init starts them
                prefix = spec.name[: -len(target.name)]
                by_node.setdefault((os.path.dirname(target.conf), prefix), []).append(target)
                continue
            try:
                procs.start(spec, plan.run_dir, plan.log_dir, env)
            except OSError as exc:
                why = f"{spec.argv[0]}: {exc.strerror}"
                raise ClusterError(f"cannot start {spec.name}: {why}") from None
        for (conf_dir, prefix), targets in by_node.items():
            node = Node(
                conf_dir,
                plan.run_dir,
                plan.log_dir,
                start_wait=timeout,
                say=lambda _line: None,
                prefix=prefix,
                base_env=env,
            )
            failures = node.start(targets)
            if failures:
                raise ClusterError("cannot start: " + "; ".join(failures))
        failed = procs.wait_healthy(group, plan.run_dir, timeout)
        if failed:
            reasons = [f"{name}: {_why(plan, name)}" for name in failed]
            raise ClusterError("not answering: " + "; ".join(reasons))


def _init_target(spec: ProcSpec) -> Target | None:
    """The swiftlite-init target behind one of our server or daemon specs, else None."""
    command = os.path.basename(spec.argv[0])
    if not command.startswith("swiftlite-") or len(spec.argv) != 2:
        return None
    return Target(command[len("swiftlite-") :], spec.argv[1])


def _why(plan: ClusterPlan, name: str) -> str:
    """The last lines a failed process wrote, and where its whole log is."""
    path = os.path.join(plan.log_dir, f"{name}.out")
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        lines = []
    alive = procs.pid_alive(procs.read_pid(plan.run_dir, name))
    state = "running but not answering" if alive else "exited"
    last = " | ".join(lines[-3:]) if lines else "no output"
    return f"{state}: {last} (see {path})"


def _with_conf(plan: ClusterPlan, func) -> None:  # type: ignore[no-untyped-def]
    """Run ``func(plan)`` with SWIFTLITE_CONF pointing at the plan's cluster config."""
    old = os.environ.get("SWIFTLITE_CONF")
    os.environ["SWIFTLITE_CONF"] = plan.swiftlite_conf
    try:
        func(plan)
    finally:
        if old is None:
            os.environ.pop("SWIFTLITE_CONF", None)
        else:
            os.environ["SWIFTLITE_CONF"] = old


def stop(plan: ClusterPlan, tools: Tools | None = None) -> list[str]:
    """Stop every recorded process, proxy first; returns the names that were running."""
    stopped = []
    for spec in reversed(process_specs(plan, tools or Tools.find())):
        if procs.stop(spec.name, plan.run_dir):
            stopped.append(spec.name)
    # anything recorded that the current tool set would not list (e.g. memcached removed)
    if os.path.isdir(plan.run_dir):
        for entry in sorted(os.listdir(plan.run_dir)):
            if entry.endswith(".pid") and procs.stop(entry[:-4], plan.run_dir):
                stopped.append(entry[:-4])
    return stopped


def status(plan: ClusterPlan, tools: Tools | None = None) -> list[procs.ProcStatus]:
    return [procs.status(spec, plan.run_dir) for spec in process_specs(plan, tools or Tools.find())]


def reset(plan: ClusterPlan) -> None:
    """Stop everything and delete the cluster's root (data, rings, secrets, logs)."""
    stop(plan)
    shutil.rmtree(plan.root, ignore_errors=True)


def daemon_argv(plan: ClusterPlan, node_index: int, kind: str, daemon: str) -> list[str]:
    """The command that runs one pass of a daemon on one node (probe tests, operators)."""
    node = plan.nodes[node_index - 1]
    return [_script(f"swiftlite-{kind}-{daemon}"), plan.server_conf(node, kind), "once"]
