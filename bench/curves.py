"""``python -m bench.curves``: how cost grows with the work, swiftlite against OpenStack Swift.

Two curves per system (issue 22), each on the bench's one-node, four-device, 3-replica aio:

* **container rows**: one container grown to each size in ``--sizes`` (rows merged straight
  into every replica of its database through the system's own container broker), then at each
  size: the object PUT rate into that container (a short timed run through the proxy) and the
  time of one 10,000-row JSON listing page at the start, middle (marker) and end.
* **replicator and auditor passes**: objects written straight to disk with the system's own
  diskfile writer (on the first primary; the other primaries get hard links, so nothing needs
  repair), grown to each size in ``--objects``, then one ``object-replicator ... once`` and
  one ``object-auditor ... once`` pass, timed (the auditor's rate limits lifted for both).

Output: a table on stdout, ``--out`` (JSON, default ``bench/results/curves.json``) and one PNG
per curve beside it (``curves-rows.png``, ``curves-passes.png``) when matplotlib is installed.

    python -m bench.curves [--quick] [--only swiftlite|swift] [--sizes 1000,10000,...]
                           [--objects 10000,100000] [--out PATH] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse
from typing import Any

from bench import fill, loadgen, runs, swift_ref
from bench.__main__ import KEY, USER, Client, log, settle_disk
from bench.systems import SwiftliteSystem, SwiftSystem, System
from swiftlite.aio.plan import free_proxy_port

DEFAULT_OUT = os.path.join("bench", "results", "curves.json")
FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
FULL_OBJECTS = (10_000, 100_000)
QUICK_OBJECTS = (1_000,)
PAGE = 10_000
LIST_REPEATS = 3
#: the auditor's limits in both systems' once-pass configs: high enough never to sleep
AUDITOR_LIMITS = {"files_per_second": "100000000", "bytes_per_second": "100000000000"}
FILL_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fill.py")


# -- what differs between the systems ---------------------------------------------------------


class Side:
    """The direct-to-disk steps of one system: fill rows, fill objects, run a daemon once."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.devices = os.path.join(system.root, "srv", "node1")

    def container_dbs(self) -> list[str]:
        """The container's database replicas (the account holds that one container)."""
        return sorted(glob.glob(os.path.join(self.devices, "*", "containers", "*/*/*/*.db")))

    def fill_rows(self, dbs: list[str], start: int, count: int) -> float:
        raise NotImplementedError

    def fill_objects(self, start: int, count: int) -> float:
        raise NotImplementedError

    def daemon_once(self, daemon: str) -> tuple[list[str], dict[str, str]]:
        """(argv, env) of one pass of ``object-<daemon>``."""
        raise NotImplementedError

    def recon(self, daemon: str) -> dict[str, Any]:
        """What the daemon's last pass wrote to the node's recon cache."""
        raise NotImplementedError

    def rsyncs(self, stats: dict[str, Any]) -> int | None:
        """rsync runs of a replicator pass, from its recon stats (None if not recorded)."""
        raise NotImplementedError


class SwiftliteSide(Side):
    system: SwiftliteSystem

    def fill_rows(self, dbs: list[str], start: int, count: int) -> float:
        from swiftlite.container.broker import ContainerBroker

        ts = f"{fill.ROW_TIMESTAMP:016.5f}"
        t0 = time.perf_counter()
        for db in dbs:
            broker = ContainerBroker(db)
            for first in range(start, start + count, fill.BATCH):
                last = min(first + fill.BATCH, start + count)
                broker.merge_items(
                    [
                        (
                            fill.row_name(n),
                            ts,
                            n % 100_000,
                            "application/octet-stream",
                            fill.ETAG,
                            0,
                            0,
                        )
                        for n in range(first, last)
                    ]
                )
            broker.close()
        return time.perf_counter() - t0

    def fill_objects(self, start: int, count: int) -> float:
        import hashlib

        from swiftlite.common import fs
        from swiftlite.common.timestamp import Timestamp
        from swiftlite.obj import diskfile
        from swiftlite.ring import Ring

        saved_conf = os.environ.get("SWIFTLITE_CONF")
        os.environ["SWIFTLITE_CONF"] = self.system.plan.swiftlite_conf  # names hash as its own
        ring = Ring(os.path.join(self.system.plan.etc_dir, "object.ring.gz"))
        mgr = diskfile.DiskFileManager(diskfile.DiskConfig())
        etag = hashlib.md5(fill.BODY).hexdigest()
        saved = fs.fsync, fs.fsync_dir
        fs.fsync = fs.fsync_dir = lambda *_a: None  # type: ignore[assignment]  # one sync below
        t0 = time.perf_counter()
        try:
            for n in range(start, start + count):
                obj = fill.object_name(n)
                part, nodes = ring.get_nodes(fill.ACCOUNT, fill.OBJECT_CONTAINER, obj)
                first = nodes[0].device
                df = mgr.get(
                    os.path.join(self.devices, first),
                    part,
                    fill.ACCOUNT,
                    fill.OBJECT_CONTAINER,
                    obj,
                )
                with df.writer(len(fill.BODY)) as writer:
                    writer.write(fill.BODY)
                    writer.commit(
                        {
                            "name": df.name,
                            "X-Timestamp": Timestamp(fill.ROW_TIMESTAMP + n / 1e5).internal,
                            "Content-Type": "application/octet-stream",
                            "Content-Length": str(len(fill.BODY)),
                            "ETag": etag,
                        }
                    )
                others = [node.device for node in nodes[1:]]
                fill.link_replicas(self.devices, first, others, df.hash_dir, _invalidate)
        finally:
            fs.fsync, fs.fsync_dir = saved  # type: ignore[assignment]
            if saved_conf is None:
                os.environ.pop("SWIFTLITE_CONF", None)
            else:
                os.environ["SWIFTLITE_CONF"] = saved_conf
        os.sync()
        return time.perf_counter() - t0

    def daemon_once(self, daemon: str) -> tuple[list[str], dict[str, str]]:
        from swiftlite.aio import cluster, render
        from swiftlite.init.manager import command_path

        plan = self.system.plan
        conf = plan.server_conf(plan.nodes[0], "object")
        once = conf + ".curves"
        text = render.render_config(conf, {"object-auditor": AUDITOR_LIMITS})
        with open(once, "w", encoding="utf-8") as fh:
            fh.write(text)
        argv = [command_path(f"swiftlite-object-{daemon}"), once, "once"]
        return argv, cluster.process_env(plan)

    def recon(self, daemon: str) -> dict[str, Any]:
        from swiftlite.common import recon_cache

        plan = self.system.plan
        path = recon_cache.cache_path(plan.node_recon_cache(plan.nodes[0]), "object")
        return dict(_read_json(path).get(f"object-{daemon}") or {})

    def rsyncs(self, stats: dict[str, Any]) -> int | None:
        return stats.get("rsyncs")


class SwiftSide(Side):
    system: SwiftSystem

    def _python(self, *args: str) -> float:
        proc = subprocess.run(
            [swift_ref.venv_bin("python"), FILL_SCRIPT, *args],
            capture_output=True,
            text=True,
            check=False,
            env=self._env(),
        )
        if proc.returncode != 0:
            raise RuntimeError(f"fill.py {args[0]} failed: {proc.stderr[-2000:]}")
        return float(json.loads(proc.stdout.splitlines()[-1])["seconds"])

    @staticmethod
    def _env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SWIFTLITE_CONF", "PYTHONPATH")}
        env["VIRTUAL_ENV"] = swift_ref.VENV_DIR
        env["PATH"] = os.path.join(swift_ref.VENV_DIR, "bin") + os.pathsep + env.get("PATH", "")
        return env

    def fill_rows(self, dbs: list[str], start: int, count: int) -> float:
        return self._python("rows", str(start), str(count), *dbs)

    def fill_objects(self, start: int, count: int) -> float:
        swift_dir = self.system.cluster.swift_dir
        return self._python("objects", swift_dir, self.devices, str(start), str(count))

    def daemon_once(self, daemon: str) -> tuple[list[str], dict[str, str]]:
        conf = self.system.cluster.conf_path("object")
        once = conf + ".curves"
        # zero_byte_files_per_second = 0: no second, zero-byte-only sweep forked beside the
        # full one (at its default 50 files/s it would time that limit)
        limits = "".join(f"{k} = {v}\n" for k, v in AUDITOR_LIMITS.items())
        limits += "zero_byte_files_per_second = 0\n"
        with open(conf, encoding="utf-8") as fh:
            text = fh.read()
        text += f"\n[object-replicator]\n\n[object-auditor]\n{limits}"
        with open(once, "w", encoding="utf-8") as fh:
            fh.write(text)
        python, swift_dir = swift_ref.venv_bin("python"), self.system.cluster.swift_dir
        return [
            python,
            FILL_SCRIPT,
            "daemon",
            swift_dir,
            f"obj.{daemon}",
            once,
            "once",
        ], self._env()

    def recon(self, daemon: str) -> dict[str, Any]:
        section = "replication_stats" if daemon == "replicator" else "object_auditor_stats_ALL"
        data = _read_json(os.path.join(self.system.root, "cache", "object.recon"))
        return dict(data.get(section) or {})

    def rsyncs(self, stats: dict[str, Any]) -> int | None:
        return stats.get("rsync")


# -- the measurements --------------------------------------------------------------------------


class Curves:
    """Both curves against one started system."""

    def __init__(self, side: Side, quick: bool, engine: str) -> None:
        self.side, self.quick, self.engine = side, quick, engine
        self.client = Client("127.0.0.1", side.system.port)
        self.account, self.token = self.client.auth(USER, KEY)

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}

    def rows(self, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
        path = f"{self.account}/curve-rows"
        status, _, _ = self.client.request("PUT", path, self.auth)
        if status not in (201, 202):
            raise RuntimeError(f"PUT {path} gave {status}")
        dbs = self.side.container_dbs()
        if len(dbs) != 3:
            raise RuntimeError(f"expected 3 container DB replicas, found {dbs}")
        names: list[str] = []
        points = []
        puts = 100 if self.quick else 1000
        for size in sizes:
            have = len([n for n in names if not n.startswith("p")])
            if size < have:
                raise ValueError("--sizes must grow")
            log(f"  {self.side.system.name}: {size} rows")
            fill_s = self.side.fill_rows(dbs, have, size - have)
            names.extend(fill.row_name(n) for n in range(have, size))
            point: dict[str, Any] = {"rows": size, "fill_s": round(fill_s, 3)}
            point["list_ms"] = self._pages(path, sorted(names))
            put = self._put_run(path, f"/p{size:08d}-", puts)
            names.extend(f"p{size:08d}-{k}" for k in range(puts))
            point.update(put)
            status, headers, _ = self.client.request("HEAD", path, self.auth)
            point["object_count"] = int(headers.get("x-container-object-count", -1))
            points.append(point)
        return points

    def _pages(self, path: str, ordered: list[str]) -> dict[str, float]:
        """Median ms of a 10,000-row page from the start, the middle and the end."""
        total = len(ordered)
        at = {"start": 0, "middle": total // 2, "end": max(0, total - PAGE)}
        out: dict[str, float] = {}
        for where, index in at.items():
            marker = ordered[index - 1] if index else ""
            query = f"?format=json&limit={PAGE}&marker={urllib.parse.quote(marker)}"
            times = []
            for _ in range(LIST_REPEATS):
                t0 = time.perf_counter()
                status, _, body = self.client.request("GET", path + query, self.auth)
                times.append(time.perf_counter() - t0)
                got = len(json.loads(body)) if status == 200 else -1
                if got != min(PAGE, total - index):
                    raise RuntimeError(f"{where} page: {status}, {got} rows")
            out[where] = round(statistics.median(times) * 1000, 2)
        return out

    def _put_run(self, path: str, prefix: str, count: int) -> dict[str, Any]:
        headers = (("X-Auth-Token", self.token), ("Content-Type", "application/octet-stream"))
        op = loadgen.Op("PUT", path + prefix, b"x" * 4096)
        job = loadgen.Job(
            "curve_put",
            "127.0.0.1",
            self.side.system.port,
            (op,),
            count,
            16,
            headers=headers,
            max_seconds=120 + count / 5,
        )
        res = loadgen.run(job, self.engine)
        return {
            "put_ops_per_s": round(res.ops_per_s, 1),
            "put_p99_ms": round(res.p99_ms, 1),
            "put_errors": res.errors,
        }

    def passes(self, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
        points = []
        have = 0
        for size in sizes:
            log(f"  {self.side.system.name}: {size} objects")
            fill_s = self.side.fill_objects(have, size - have)
            have = size
            point: dict[str, Any] = {"objects": size, "files": 3 * size, "fill_s": round(fill_s, 3)}
            for daemon in ("replicator", "auditor"):
                point.update(self._once(daemon))
            points.append(point)
        return points

    def _once(self, daemon: str) -> dict[str, Any]:
        argv, env = self.side.daemon_once(daemon)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, check=False, timeout=3600
        )
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
        stats = self.side.recon(daemon)
        out = {
            f"{daemon}_s": round(seconds, 3),
            f"{daemon}_cpu_s": round(cpu, 3),
            f"{daemon}_recon": stats,
        }
        if daemon == "replicator":
            out["replicator_rsyncs"] = self.side.rsyncs(stats)
        return out


# -- report ------------------------------------------------------------------------------------


def _invalidate(suffix_dir: str) -> None:
    """swiftlite's invalidation of one suffix (what its object server does on a write)."""
    from swiftlite.obj import hashes

    hashes.invalidate(os.path.dirname(suffix_dir), os.path.basename(suffix_dir))


def table(report: dict[str, Any]) -> str:
    lines = ["container rows: PUT ops/s, listing page ms (start / middle / end)"]
    lines.append(f"{'system':10} {'rows':>9} {'PUT/s':>8} {'start':>8} {'middle':>8} {'end':>8}")
    for name, sys_rep in report["systems"].items():
        if "error" in sys_rep:
            lines.append(f"{name:10} error: {sys_rep['error']}")
            continue
        for p in sys_rep.get("rows", []):
            ms = p["list_ms"]
            lines.append(
                f"{name:10} {p['rows']:>9,} {p['put_ops_per_s']:>8.1f} "
                f"{ms['start']:>8.1f} {ms['middle']:>8.1f} {ms['end']:>8.1f}"
            )
    lines.append("\nobject passes with nothing to repair: seconds (CPU seconds)")
    lines.append(f"{'system':10} {'objects':>9} {'replicator':>18} {'auditor':>18}")
    for name, sys_rep in report["systems"].items():
        for p in sys_rep.get("passes", []):
            rep = f"{p['replicator_s']:.2f} ({p['replicator_cpu_s']:.2f})"
            aud = f"{p['auditor_s']:.2f} ({p['auditor_cpu_s']:.2f})"
            # a pass that found something to sync timed repairs, not the clean pass asked for
            dirty = p.get("replicator_rsyncs") or 0
            note = f"  not clean: {dirty} rsyncs" if dirty else ""
            lines.append(f"{name:10} {p['objects']:>9,} {rep:>18} {aud:>18}{note}")
    return "\n".join(lines)


def plot(report: dict[str, Any], out: str) -> list[str]:
    """One PNG per curve beside ``out``; [] when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("curves: matplotlib is not installed; no plots")
        return []
    stem = os.path.splitext(out)[0]
    systems = {n: s for n, s in report["systems"].items() if "error" not in s}
    written = []
    fig, (put_ax, list_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, rep in systems.items():
        rows = [p["rows"] for p in rep.get("rows", [])]
        put_ax.plot(rows, [p["put_ops_per_s"] for p in rep["rows"]], marker="o", label=name)
        for where, style in (("start", "-"), ("middle", "--"), ("end", ":")):
            values = [p["list_ms"][where] for p in rep["rows"]]
            list_ax.plot(rows, values, style, marker="o", label=f"{name} {where}")
    _label(put_ax, "object PUT rate", "rows in the container", "PUT/s")
    _label(list_ax, "10,000-row listing page", "rows in the container", "ms")
    written.append(_save(plt, fig, f"{stem}-rows.png"))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, rep in systems.items():
        objs = [p["objects"] for p in rep.get("passes", [])]
        for daemon, style in (("replicator", "-"), ("auditor", "--")):
            ax.plot(
                objs,
                [p[f"{daemon}_s"] for p in rep["passes"]],
                style,
                marker="o",
                label=f"{name} {daemon}",
            )
    _label(ax, "one pass, nothing to repair", "objects (3 replicas, one node)", "seconds")
    written.append(_save(plt, fig, f"{stem}-passes.png"))
    return written


def _label(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.lines:
        ax.legend()


def _save(plt: Any, fig: Any, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


# -- the run -----------------------------------------------------------------------------------


def run_system(name: str, root: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_proxy_port()
    system: System = (
        SwiftSystem(root, port, log) if name == "swift" else SwiftliteSystem(root, port)
    )
    side: Side = SwiftSide(system) if name == "swift" else SwiftliteSide(system)
    settle_disk(log)
    system.start()
    try:
        curves = Curves(side, args.quick, args.loadgen)
        rows = curves.rows(args.sizes)
        passes = curves.passes(args.objects)
    finally:
        system.stop()
    return {"version": system.version, "rows": rows, "passes": passes}


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(x) for x in text.split(",") if x.strip())
    if not sizes or any(s < 1 for s in sizes) or list(sizes) != sorted(sizes):
        raise argparse.ArgumentTypeError("sizes must be positive and growing, e.g. 1000,10000")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.curves", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--only", choices=["swiftlite", "swift"])
    parser.add_argument("--sizes", type=parse_sizes, help="rows in the container, growing")
    parser.add_argument("--objects", type=parse_sizes, help="objects for the passes, growing")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--loadgen", choices=["python", "wrk"], default="python")
    parser.add_argument("--keep", action="store_true", help="keep the cluster directories")
    args = parser.parse_args(argv)
    args.sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    args.objects = args.objects or (QUICK_OBJECTS if args.quick else FULL_OBJECTS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [args.only] if args.only else ["swift", "swiftlite"]
    busy0 = _busy()
    systems = runs.each_system(
        "curves", names, args.keep, lambda name, root: run_system(name, root, args)
    )
    busy1 = _busy()
    report: dict[str, Any] = {
        "meta": runs.meta(
            quick=args.quick,
            sizes=list(args.sizes),
            objects=list(args.objects),
            list_page=PAGE,
            loadgen=args.loadgen,
            machine_busy=round((busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1e-9), 3),
        ),
        "systems": systems,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    report["plots"] = plot(report, args.out)
    runs.write_json(report, args.out)
    print(table(report))
    print(f"\nJSON: {args.out}  plots: {', '.join(report['plots']) or 'none'}")
    return runs.exit_status(systems)


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _busy() -> tuple[float, float]:
    from bench import procstats

    return procstats.machine_busy()


if __name__ == "__main__":
    sys.exit(main())
