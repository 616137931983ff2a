"""``python -m bench``: measure swiftlite and OpenStack Swift on the same machine, same work.

Owns the run: the machine's ceilings first, then each system in turn (start its all-in-one
cluster, authenticate with tempauth v1.0, warm up, run the workloads with the load generator
while ``procstats`` samples the cluster's processes, stop it fully), then the report (table on
stdout, JSON to ``--out``). The workloads, their sizes and their order live here, with the plain
``Client`` for the few-request ones (auth, listings, one large object); how the many small
requests are sent lives in ``loadgen``, how Swift is installed and run in ``swift_ref``.

    python -m bench [--quick] [--only swiftlite|swift] [--workloads put,get,...]
                    [--out bench/results/compare.json] [--loadgen auto|wrk|python] [--repeat N]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from bench import ceilings, loadgen, mw_bench, plans, procstats, repeats, report, s3sign, swift_ref
from bench.systems import SwiftliteSystem, SwiftSystem, System
from swiftlite.aio.plan import free_proxy_port

DEFAULT_OUT = os.path.join("bench", "results", "compare.json")
USER, KEY = "test:tester", "testing"
SEED = 20240607


@dataclass(frozen=True)
class Sizes:
    small: int  # 4 KiB objects for put/get/head/delete (must not be a multiple of 7919)
    mixed: int  # requests of the 90% GET / 10% PUT run
    warmup: int
    listing: int  # objects in the listed container
    list_full: int  # full-page listing requests
    list_walks: int  # complete walks by pages of 100
    large_mib: int
    slo_mib: int  # the SLO of slo_get (and the DLO of dlo_get), in 10 segments
    bulk: int  # objects of one bulk delete
    connections: int = 32
    list_concurrency: int = 4


QUICK = Sizes(
    small=300,
    mixed=600,
    warmup=64,
    listing=1000,
    list_full=12,
    list_walks=4,
    large_mib=64,
    slo_mib=20,
    bulk=1000,
)
FULL = Sizes(
    small=4000,
    mixed=8000,
    warmup=500,
    listing=10000,
    list_full=40,
    list_walks=4,
    large_mib=1024,
    slo_mib=100,
    bulk=10000,
)


# -- workloads -----------------------------------------------------------------------------------


# -- the plain client for few-request work (its own cost does not matter) ------------------------


class Client:
    """A plain keep-alive HTTP client for auth, listings and large objects (few requests)."""

    def __init__(self, host: str, port: int, timeout: float = 300.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            self.conn.request(method, path, body=body or None, headers=headers or {})
            resp = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # one retry on a fresh connection (an idle keep-alive may expire)
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=body or None, headers=headers or {})
            resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def auth(self, user: str, key: str) -> tuple[str, str]:
        """(storage path such as ``/v1/AUTH_test``, token) from auth v1.0."""
        status, headers, _ = self.request(
            "GET", "/auth/v1.0", {"X-Auth-User": user, "X-Auth-Key": key}
        )
        if status // 100 != 2:
            raise RuntimeError(f"auth as {user} gave {status}")
        url = headers.get("x-storage-url", "")
        return "/" + url.split("/", 3)[3], headers["x-auth-token"]

    def stream_put(
        self, path: str, headers: dict[str, str], block: bytes, blocks: int
    ) -> tuple[int, float]:
        """PUT ``blocks`` copies of ``block`` from a generator; (status, seconds)."""
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.putrequest("PUT", path, skip_accept_encoding=True)
            for name, value in {**headers, "Content-Length": str(len(block) * blocks)}.items():
                conn.putheader(name, value)
            conn.endheaders()
            view = memoryview(block)
            for _ in range(blocks):
                conn.send(view)
            resp = conn.getresponse()
            resp.read()
            return resp.status, time.perf_counter() - started
        finally:
            conn.close()

    def stream_get(self, path: str, headers: dict[str, str]) -> tuple[int, int, str, float]:
        """GET into a reused buffer, hashing as it arrives; (status, bytes, md5 hex, seconds)."""
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        digest = hashlib.md5()
        size = 0
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            while True:
                n = resp.readinto(buf)
                if not n:
                    break
                digest.update(view[:n])
                size += n
            return resp.status, size, digest.hexdigest(), time.perf_counter() - started
        finally:
            conn.close()


class Runner:
    """Runs the workloads against one started system and keeps what they measured."""

    def __init__(self, system: System, sizes: Sizes, engine: str) -> None:
        self.system, self.sizes, self.engine = system, sizes, engine
        self.host, self.port = "127.0.0.1", system.port
        self.client = Client(self.host, self.port)
        self.account, self.token = self.client.auth(USER, KEY)
        self.meter = procstats.ClusterMeter(system.pgids())
        self.body = random.Random(SEED).randbytes(4096)
        self.results: dict[str, dict[str, Any]] = {}
        self.process_peaks_kb: dict[str, int] = {}  # "comm[pid]" -> largest peak of any workload

    @property
    def auth(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}

    def container(self, name: str) -> str:
        path = f"{self.account}/{name}"
        status, _, _ = self.client.request("PUT", path, self.auth)
        if status not in (201, 202):
            raise RuntimeError(f"PUT {path} gave {status}")
        return path

    def job(self, name: str, ops: tuple[loadgen.Op, ...], count: int, **kw: Any) -> loadgen.Job:
        """A job with the token (unless ``headers`` says otherwise) at 32 connections (or
        ``connections``); ``headers=()`` still sends the Content-Type."""
        auth = (("X-Auth-Token", self.token),) if kw.pop("headers", None) is None else ()
        headers = (*auth, ("Content-Type", "application/octet-stream"))
        conns = kw.pop("connections", self.sizes.connections)
        kw.setdefault("max_seconds", 60 + count / 10)  # a stuck run ends; >= 10 ops/s expected
        return loadgen.Job(name, self.host, self.port, ops, count, conns, headers=headers, **kw)

    def measure(self, name: str, func: Callable[[], loadgen.RunResult], record: bool) -> None:
        log(f"  {self.system.name}: {name}")
        self.meter.start()
        res = func()
        usage = self.meter.stop()
        if not record:
            return
        for proc, kb in usage.by_process.items():
            self.process_peaks_kb[proc] = max(kb, self.process_peaks_kb.get(proc, 0))
        out = res.to_dict()
        ops = max(res.requests, 1)
        out.update(
            cpu_s=round(usage.cpu_s, 3),
            cpu_ms_per_op=round(usage.cpu_s * 1000 / ops, 4),
            client_cpu_ms_per_op=round(res.client_cpu_s * 1000 / ops, 4),
            peak_rss_mb=round(usage.peak_rss_kb / 1024, 1),
            rss_mb=round(usage.rss_kb / 1024, 1),
            processes=usage.processes,
            machine_busy=round(usage.machine_busy, 3),
        )
        if res.bytes:
            out["mb_per_s"] = round(res.bytes / res.duration_s / 1e6, 1) if res.duration_s else 0
        self.results[name] = out

    # -- small objects --
    def small(self, selected: set[str]) -> None:
        n = self.sizes.small
        base = self.container("bench") + "/o"
        warm = self.container("bench") + "/w"
        w = self.sizes.warmup
        put = (loadgen.Op("PUT", base, self.body),)
        self.measure(
            "warmup",
            lambda: self.run(self.job("warmup", (loadgen.Op("PUT", warm, self.body),), w)),
            False,
        )
        self.measure(
            "warmup",
            lambda: self.run(self.job("warmup", (loadgen.Op("GET", warm, spread=w),), w)),
            False,
        )
        self.measure("put", lambda: self.run(self.job("put", put, n)), "put" in selected)
        for verb in ("get", "head"):
            if verb in selected:
                job = self.job(verb, (loadgen.Op(verb.upper(), base, spread=n),), n)
                self.measure(verb, functools.partial(self.run, job), True)
        for name, conns in (
            ("mixed", self.sizes.connections),
            ("mixed128", plans.MIXED128_CONNECTIONS),
        ):
            if name in selected:
                ops = plans.mixed_ops(base, self.body, n, suffix=f"-{name}-")
                job = self.job(
                    name, ops, self.sizes.mixed, pattern=plans.MIXED_PATTERN, connections=conns
                )
                self.measure(name, functools.partial(self.run, job), True)
        if "tempurl_get" in selected:
            mw_bench.tempurl_get(self, base, n)
        if "delete" in selected:
            op = loadgen.Op("DELETE", base, spread=n)
            self.measure("delete", lambda: self.run(self.job("delete", (op,), n)), True)

    # -- small objects through the S3 API --
    def s3(self, selected: set[str]) -> None:
        """PUT then GET of 4 KiB objects with presigned V4 URLs (the Python engine: each
        request has its own URL), through each system's s3api and tempauth."""
        n = self.sizes.small
        self.container("bench-s3")  # the bucket, made through the Swift API
        signer = s3sign.Presigner(f"{self.host}:{self.port}")
        base = "/bench-s3/o"
        headers = (("Content-Type", "application/octet-stream"),)

        def job(name: str, op: loadgen.Op) -> loadgen.Job:
            return loadgen.Job(
                name,
                self.host,
                self.port,
                (op,),
                n,
                self.sizes.connections,
                headers=headers,
                max_seconds=60 + n / 10,
            )

        put = job("s3_put", loadgen.Op("PUT", base, self.body, sign=signer.presign))
        self.measure("s3_put", lambda: loadgen.run(put, "python"), "s3_put" in selected)
        if "s3_get" in selected:
            get = job("s3_get", loadgen.Op("GET", base, spread=n, sign=signer.presign))
            self.measure("s3_get", lambda: loadgen.run(get, "python"), True)

    def run(self, job: loadgen.Job) -> loadgen.RunResult:
        return loadgen.run(job, self.engine)

    # -- listings --
    def listings(self, selected: set[str]) -> None:
        n = self.sizes.listing
        path = self.container("bench-list")
        populate = self.job("list_populate", (loadgen.Op("PUT", path + "/item-"),), n)
        self.measure("list_populate", lambda: self.run(populate), "list_populate" in selected)
        expect = min(n, 10000)
        if "list_full" in selected:
            self.measure("list_full", lambda: self._full_listings(path, expect), True)
        if "list_paged" in selected:
            self.measure("list_paged", lambda: self._paged_listings(path, n), True)

    def _full_listings(self, path: str, expect: int) -> loadgen.RunResult:
        def one(_task: int) -> tuple[list[int], dict[str, int]]:
            client = Client(self.host, self.port)
            try:
                started = time.perf_counter_ns()
                status, _, body = client.request("GET", path + "?format=json", self.auth)
                took = (time.perf_counter_ns() - started) // 1000
                ok = status == 200 and len(json.loads(body)) == expect
                return [took], {str(status) if ok else f"short-{status}": 1}
            finally:
                client.close()

        return self._threaded("list_full", one, self.sizes.list_full)

    def _paged_listings(self, path: str, expect: int) -> loadgen.RunResult:
        def walk(_task: int) -> tuple[list[int], dict[str, int]]:
            client = Client(self.host, self.port)
            lat: list[int] = []
            statuses: dict[str, int] = {}
            marker, seen = "", 0
            try:
                while True:
                    query = urllib.parse.urlencode(
                        {"format": "json", "limit": 100, "marker": marker}
                    )
                    started = time.perf_counter_ns()
                    status, _, body = client.request("GET", f"{path}?{query}", self.auth)
                    lat.append((time.perf_counter_ns() - started) // 1000)
                    page = json.loads(body) if status == 200 else []
                    code = str(status)
                    if not page and seen != expect:
                        code = f"short-{status}"
                    statuses[code] = statuses.get(code, 0) + 1
                    if not page:
                        return lat, statuses
                    seen += len(page)
                    marker = page[-1]["name"]
            finally:
                client.close()

        return self._threaded("list_paged", walk, self.sizes.list_walks)

    def _threaded(
        self, name: str, func: Callable[[int], tuple[list[int], dict[str, int]]], tasks: int
    ) -> loadgen.RunResult:
        cpu0, started = time.process_time(), time.monotonic()
        with ThreadPoolExecutor(self.sizes.list_concurrency) as pool:
            parts = list(pool.map(func, range(tasks)))
        duration, cpu = time.monotonic() - started, time.process_time() - cpu0
        lat = [x for p in parts for x in p[0]]
        statuses: dict[str, int] = {}
        for _, st in parts:
            for code, k in st.items():
                statuses[code] = statuses.get(code, 0) + k
        return loadgen.result_from_latencies(name, lat, statuses, 0, duration, cpu, "python")

    # -- one large object --
    def large(self, selected: set[str]) -> None:
        blocks = self.sizes.large_mib
        block = random.Random(SEED + 1).randbytes(1 << 20)
        digest = hashlib.md5()
        for _ in range(blocks):
            digest.update(block)
        etag = digest.hexdigest()
        path = self.container("bench-large") + "/large"
        headers = {**self.auth, "ETag": etag, "Content-Type": "application/octet-stream"}

        def put() -> loadgen.RunResult:
            cpu0 = time.process_time()
            status, took = self.client.stream_put(path, headers, block, blocks)
            return self.single("large_put", status, 201, took, cpu0, blocks << 20)

        def get() -> loadgen.RunResult:
            cpu0 = time.process_time()
            status, size, md5, took = self.client.stream_get(path, self.auth)
            ok = status == 200 and size == blocks << 20 and md5 == etag
            return self.single("large_get", status if ok else -1, status, took, cpu0, size)

        self.measure("large_put", put, "large_put" in selected)
        if "large_get" in selected:
            self.measure("large_get", get, True)
        self.client.request("DELETE", path, self.auth)

    @staticmethod
    def single(
        name: str, status: int, good: int, took: float, cpu0: float, size: int
    ) -> loadgen.RunResult:
        code = str(status) if status == good else f"bad-{status}"
        res = loadgen.result_from_latencies(
            name, [int(took * 1e6)], {code: 1}, 0, took, time.process_time() - cpu0, "python"
        )
        res.bytes = size
        return res


def run_system(system: System, sizes: Sizes, selected: set[str], engine: str) -> dict[str, Any]:
    """Start ``system``, run the selected workloads, stop it; its section of the report."""
    log(f"{system.name}: starting in {system.root} on port {system.port}")
    started = time.monotonic()
    try:
        system.start()
        startup = time.monotonic() - started
        pipeline = system.pipeline()
        runner = Runner(system, sizes, engine)
        idle = runner.meter.snapshot()
        if selected & {"put", "get", "head", "mixed", "mixed128", "tempurl_get", "delete"}:
            runner.small(selected)
        if selected & {"s3_put", "s3_get"}:
            runner.s3(selected)
        if selected & {"list_populate", "list_full", "list_paged"}:
            runner.listings(selected)
        if selected & {"large_put", "large_get"}:
            runner.large(selected)
        if selected & {"slo_get", "dlo_get"}:
            mw_bench.segmented(runner, selected)
        if "versioned_put" in selected:
            mw_bench.versioned_put(runner)
        if "bulk_delete" in selected:
            mw_bench.bulk_delete(runner)
        final = runner.meter.snapshot()
    finally:
        system.stop()
    peaks = [r["peak_rss_mb"] for r in runner.results.values()]
    return {
        "version": system.version,
        "pipeline": pipeline,
        "startup_s": round(startup, 2),
        "processes": len(final.procs),
        "idle_rss_mb": round(idle.rss_kb / 1024, 1),
        "peak_rss_mb": max(peaks, default=round(final.hwm_kb / 1024, 1)),
        "peaks_reset_per_workload": runner.meter.peaks_reset,
        "process_peak_rss_mb": {
            name: round(kb / 1024, 1) for name, kb in sorted(runner.process_peaks_kb.items())
        },
        "workloads": runner.results,
    }


# -- the command ---------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: about a minute each")
    parser.add_argument("--only", choices=("swiftlite", "swift"), help="measure one system")
    parser.add_argument(
        "--workloads",
        help=f"comma-separated subset of: {','.join(report.WORKLOADS)} (default: all; with "
        "--pipeline short, all but the ones needing a filter it lacks)",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help="JSON report path (%(default)s)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-ceilings", action="store_true", help="skip the machine ceilings")
    parser.add_argument("--keep", action="store_true", help="keep the cluster directories")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each system this many times, in the order A B B A ..., and report each "
        "figure's median (default %(default)s)",
    )
    parser.add_argument(
        "--pipeline",
        choices=tuple(swift_ref.PIPELINES),
        default="full",
        help="proxy pipelines: each system's full default one, or the first bench's short one",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    explicit = args.workloads is not None
    names = args.workloads.split(",") if explicit else report.WORKLOADS
    args.selected = {w.strip() for w in names if w.strip()}
    unknown = args.selected - set(report.WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    if args.pipeline == "short":
        needs = args.selected & mw_bench.NEEDS_FULL_PIPELINE
        if needs and explicit:
            parser.error(f"--pipeline short has no filter for: {', '.join(sorted(needs))}")
        args.selected -= needs
    return args


def choose_engine(requested: str, measured: dict[str, Any]) -> str:
    """The engine asked for, or (auto) the one with the least CPU per request, wrk if unmeasured."""
    if requested != "auto":
        return requested
    if measured:
        return min(measured, key=lambda e: measured[e]["client_cpu_us_per_req"])
    return "wrk" if loadgen.find_wrk() else "python"


def settle_disk(log: Any) -> None:
    """Write back and commit what the previous step left (the ceilings' files, the other
    system's deleted cluster), so a system does not start with that I/O (on a file system
    mounted with ``discard``, freeing gigabytes keeps later journal commits busy)."""
    started = time.perf_counter()
    os.sync()
    log(f"bench: disk settled in {time.perf_counter() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    have_wrk = loadgen.find_wrk(install=args.loadgen != "python") is not None
    if args.loadgen == "wrk" and not have_wrk:
        log("bench: wrk is not installed and could not be installed")
        return 2
    engines = ["wrk", "python"] if have_wrk else ["python"]
    if args.loadgen != "auto":
        engines = [args.loadgen]
    work = tempfile.mkdtemp(prefix="swiftlite-bench-")
    ceil: dict[str, Any] = {}
    if not args.no_ceilings:
        ceil = ceilings.measure(os.path.join(work, "ceilings"), engines, args.quick, log=log)
    engine = choose_engine(args.loadgen, ceil.get("loopback_http", {}))
    log(f"bench: load generator {engine}")
    names = [args.only] if args.only else ["swift", "swiftlite"]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    run_order = repeats.order(names, args.repeat)
    try:
        for number, name in enumerate(run_order):
            root = os.path.join(work, f"{name}-{number}" if args.repeat > 1 else name)
            settle_disk(log)
            try:
                port = free_proxy_port()
                system: System = (
                    SwiftSystem(root, port, log, args.pipeline)
                    if name == "swift"
                    else SwiftliteSystem(root, port, args.pipeline)
                )
                runs[name].append(run_system(system, sizes, args.selected, engine))
            except Exception as exc:  # noqa: BLE001 - one system failing must not lose the other
                log(f"bench: {name} failed: {exc!r}")
                runs[name].append({"error": repr(exc), "workloads": {}})
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    systems = {name: repeats.merge(sections) for name, sections in runs.items()}
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "sizes": asdict(sizes),
        "loadgen": engine,
        "pipeline": args.pipeline,
        "repeat": args.repeat,
        "run_order": run_order,
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "swift_requirement": swift_ref.REQUIREMENT,
        "swift_venv_freeze": swift_ref.frozen_requirements() if "swift" in systems else [],
        "note": "figures are noisy when other work shares the machine",
    }
    rep = report.build(meta, ceil, systems)
    report.write_json(rep, args.out)
    print(report.table(rep))
    print(f"\nJSON: {args.out}")
    return 0 if all("error" not in s for s in systems.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
