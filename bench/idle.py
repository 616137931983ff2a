"""``python -m bench.idle``: what an idle cluster costs, swiftlite against OpenStack Swift.

A 4-node all-in-one (one storage node per address 127.0.0.1..4, two devices each, 3 replicas)
with every process of the system running: proxy, memcached, rsyncd per node, the three servers
and every background daemon per node, each at the interval its sample config gives (swiftlite:
what ``swiftlite-aio`` writes; Swift: its defaults). ``--objects`` 4 KiB objects are PUT
through the proxy, then nothing is sent for ``--seconds`` while ``procstats`` reads the CPU
time and RSS of every process in the process groups the bench started (from their pidfiles),
every ``--interval`` seconds.

Figures: CPU seconds per minute summed over those processes (and as a share of one core), the
RSS sum at the end and its largest sample, the CPU per role (``object-replicator``: all
nodes' together), and the samples. Output:
a table on stdout and ``--out`` (JSON, default ``bench/results/idle.json``).

    python -m bench.idle [--quick] [--only swiftlite|swift] [--seconds 300] [--objects 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from bench import loadgen, procstats, runs, swift_ref
from bench.__main__ import KEY, USER, Client, log, settle_disk
from swiftlite.aio import procs
from swiftlite.aio.plan import free_proxy_port, make_plan

DEFAULT_OUT = os.path.join("bench", "results", "idle.json")
NODES = 4
QUICK = {"seconds": 20.0, "objects": 200, "interval": 5.0}
FULL = {"seconds": 300.0, "objects": 10_000, "interval": 15.0}


class IdleCluster:
    """A 4-node cluster with its daemons: start, stop, its process groups."""

    name = ""
    version = ""
    port = 0

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def groups(self) -> dict[str, int]:
        """Process group id of each process the bench started, by its name."""
        raise NotImplementedError


class SwiftliteIdle(IdleCluster):
    name = "swiftlite"

    def __init__(self, root: str, port: int) -> None:
        from bench.systems import _swiftlite_version

        self.plan = make_plan(root, port=port, replicas=3, nodes=NODES, daemons=True)
        self.port = port
        self.version = _swiftlite_version()

    def start(self) -> None:
        from swiftlite.aio import cluster

        cluster.start(self.plan, cluster.Tools.find())

    def stop(self) -> None:
        from swiftlite.aio import cluster

        cluster.stop(self.plan, cluster.Tools.find())

    def groups(self) -> dict[str, int]:
        from swiftlite.aio import cluster, procs

        specs = cluster.process_specs(self.plan, cluster.Tools.find())
        pids = {s.name: procs.read_pid(self.plan.run_dir, s.name) for s in specs}
        return {name: pid for name, pid in pids.items() if pid}


class SwiftIdle(IdleCluster):
    name = "swift"

    def __init__(self, root: str, port: int) -> None:
        from bench.swift_aio4 import SwiftAio

        self.version = swift_ref.ensure_installed(log=log)
        self.cluster = SwiftAio.create_nodes(root, port, NODES)
        self.port = port

    def start(self) -> None:
        self.cluster.start()

    def stop(self) -> None:
        self.cluster.stop()

    def groups(self) -> dict[str, int]:
        return self.cluster.pids()


def populate(port: int, objects: int) -> dict[str, Any]:
    """PUT ``objects`` 4 KiB objects into one container; the run's figures."""
    client = Client("127.0.0.1", port)
    account, token = client.auth(USER, KEY)
    status, _, _ = client.request("PUT", f"{account}/idle", {"X-Auth-Token": token})
    if status not in (201, 202):
        raise RuntimeError(f"PUT {account}/idle gave {status}")
    client.close()
    headers = (("X-Auth-Token", token), ("Content-Type", "application/octet-stream"))
    op = loadgen.Op("PUT", f"{account}/idle/o", b"i" * 4096)
    job = loadgen.Job(
        "idle_populate",
        "127.0.0.1",
        port,
        (op,),
        objects,
        16,
        headers=headers,
        max_seconds=120 + objects / 5,
    )
    res = loadgen.run(job, "python")
    if res.errors:
        raise RuntimeError(f"populate: {res.errors} of {objects} PUTs failed: {res.statuses}")
    return {"objects": objects, "put_ops_per_s": round(res.ops_per_s, 1)}


def role(name: str) -> str:
    """``node3-object-replicator`` -> ``object-replicator`` (one figure per kind of process)."""
    head, _, rest = name.partition("-")
    return rest if head.startswith("node") and head[4:].isdigit() and rest else name


def watch(groups: dict[str, int], seconds: float, interval: float) -> dict[str, Any]:
    """Sample the groups for ``seconds``; CPU per minute, RSS, CPU per role, samples."""
    pgids = list(groups.values())
    role_of = {pgid: role(name) for name, pgid in groups.items()}
    first = procstats.sample(pgids)
    busy0 = procstats.machine_busy()
    samples = []
    previous = first
    deadline = first.taken_at + seconds
    peak_rss_kb = first.rss_kb
    while True:
        wait = min(interval, deadline - time.monotonic())
        if wait > 0:
            _pause(wait)
        now = procstats.sample(pgids)
        span = now.taken_at - previous.taken_at
        samples.append(
            {
                "t_s": round(now.taken_at - first.taken_at, 1),
                "cpu_s_per_min": round(procstats.cpu_delta(previous, now) * 60 / span, 3),
                "rss_mb": round(now.rss_kb / 1024, 1),
                "processes": len(now.procs),
            }
        )
        peak_rss_kb = max(peak_rss_kb, now.rss_kb)
        previous = now
        if now.taken_at >= deadline:
            break
    busy1 = procstats.machine_busy()
    elapsed = previous.taken_at - first.taken_at
    cpu = procstats.cpu_delta(first, previous)
    by_role: dict[str, float] = {}
    start = {p.pid: p.cpu_s for p in first.procs}
    for p in previous.procs:
        key = role_of.get(p.pgid, p.comm)
        by_role[key] = by_role.get(key, 0.0) + max(0.0, p.cpu_s - start.get(p.pid, 0.0))
    return {
        "seconds": round(elapsed, 1),
        "cpu_s": round(cpu, 3),
        "cpu_s_per_min": round(cpu * 60 / elapsed, 3),
        "share_of_one_core": round(cpu / elapsed, 4),
        "rss_mb": round(previous.rss_kb / 1024, 1),
        "peak_rss_mb": round(peak_rss_kb / 1024, 1),
        "processes": len(previous.procs),
        "cpu_s_by_role": {k: round(v, 3) for k, v in sorted(by_role.items())},
        "machine_busy": round((busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9), 3),
        "samples": samples,
    }


def _pause(seconds: float) -> None:
    """Wait without time.sleep (banned by the project's lint rule)."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.select(seconds)


def run_system(name: str, root: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_proxy_port()
    cluster: IdleCluster = SwiftIdle(root, port) if name == "swift" else SwiftliteIdle(root, port)
    settle_disk(log)
    cluster.start()
    try:
        log(f"  {name}: PUT {args.objects} objects")
        filled = populate(cluster.port, args.objects)
        log(f"  {name}: idle for {args.seconds:.0f} s")
        groups = cluster.groups()
        idle = watch(groups, args.seconds, args.interval)
        # a daemon that died at start-up costs nothing: name it rather than hide it
        idle["exited"] = sorted(n for n, pid in groups.items() if not procs.pid_alive(pid))
    finally:
        cluster.stop()
    return {"version": cluster.version, "nodes": NODES, **filled, **idle}


def table(report: dict[str, Any]) -> str:
    head = f"{'system':10} {'CPU s/min':>10} {'% of a core':>12} {'RSS MB':>8} {'peak RSS':>9}"
    lines = [f"idle cluster ({NODES} nodes, every daemon)", head]
    for name, rep in report["systems"].items():
        if "error" in rep:
            lines.append(f"{name:10} error: {rep['error']}")
            continue
        if rep.get("exited"):
            lines.append(f"{name:10} exited during the run: {', '.join(rep['exited'])}")
        lines.append(
            f"{name:10} {rep['cpu_s_per_min']:>10.2f} {rep['share_of_one_core'] * 100:>11.2f}% "
            f"{rep['rss_mb']:>8.1f} {rep['peak_rss_mb']:>9.1f}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.idle", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="20 s idle, 200 objects")
    parser.add_argument("--only", choices=["swiftlite", "swift"])
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--objects", type=int)
    parser.add_argument("--interval", type=float, help="seconds between samples")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the cluster directories")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.seconds <= 0 or args.interval <= 0 or args.objects < 1:
        parser.error("--seconds, --interval and --objects must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [args.only] if args.only else ["swift", "swiftlite"]
    systems = runs.each_system(
        "idle", names, args.keep, lambda name, root: run_system(name, root, args)
    )
    report = {
        "meta": runs.meta(
            quick=args.quick, seconds=args.seconds, objects=args.objects, interval=args.interval
        ),
        "systems": systems,
    }
    runs.write_json(report, args.out)
    print(table(report))
    print(f"\nJSON: {args.out}")
    return runs.exit_status(systems)


if __name__ == "__main__":
    sys.exit(main())
