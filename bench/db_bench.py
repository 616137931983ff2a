"""Container database benchmarks: update throughput over HTTP and deep listing pages.

``.venv/bin/python -m bench.db_bench [--quick]`` measures

1. object updates per second into one container through a real container-server process
   (eventlet WSGI on an ephemeral port, started here and killed by pid), driven by client
   processes holding ``--concurrency`` keep-alive connections between them;
2. the time to list the first and a middle page (10,000 rows, JSON, through the server's GET
   handler) of a container of ``--rows`` rows (1,000,000; 100,000 with ``--quick``) built by
   direct batched merges.

Results are printed and written to ``bench/results/db.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "db.json"
ETAG = "d41d8cd98f00b204e9800998ecf8427e"


def _ensure_conf(tmp: str) -> None:
    if not os.environ.get("SWIFTLITE_CONF"):
        conf = os.path.join(tmp, "swiftlite.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write("[swift-hash]\nswift_hash_path_prefix = bench\nswift_hash_path_suffix = db\n")
        os.environ["SWIFTLITE_CONF"] = conf


# -- server and client processes ------------------------------------------------------------


def serve(devices: str) -> None:
    """Child process: run a container server on an ephemeral port and print the port."""
    import logging

    from swiftlite.common import green
    from swiftlite.container.server import ContainerServer, ContainerServerOptions

    green.monkey_patch()
    options = ContainerServerOptions(
        devices=devices, mount_check=False, log_requests=False, account_update_interval=2.0
    )
    app = ContainerServer(options, logger=logging.getLogger("bench.container"))
    sock = green.listen(("127.0.0.1", 0), backlog=1024)
    print(sock.getsockname()[1], flush=True)
    green.wsgi.server(sock, app, log_output=False, max_size=4096, keepalive=True)


def client(port: int, first: int, count: int, connections: int) -> None:
    """Child process: send ``count`` object PUT updates over ``connections`` green connections."""
    from swiftlite.common import green

    green.monkey_patch()
    import http.client

    statuses: dict[int, int] = {}
    queue = list(range(first, first + count))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while queue:
            i = queue.pop()
            path = urllib.parse.quote(f"/sda/0/bench/hot/dir{i % 97:02d}/object-{i:09d}")
            conn.request(
                "PUT",
                path,
                headers={
                    "X-Timestamp": f"{1700000000 + i / 1000:.5f}",
                    "X-Size": str(i % 4096),
                    "X-Content-Type": "application/octet-stream",
                    "X-Etag": ETAG,
                    "Content-Length": "0",
                },
            )
            resp = conn.getresponse()
            resp.read()
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
        conn.close()

    start = time.time()
    pool = green.GreenPool(connections)
    for _ in range(connections):
        pool.spawn_n(worker)
    pool.waitall()
    print(json.dumps({"start": start, "end": time.time(), "statuses": statuses}), flush=True)


def bench_updates(tmp: str, updates: int, concurrency: int, procs: int) -> dict[str, object]:
    import http.client

    devices = os.path.join(tmp, "updates")
    os.makedirs(os.path.join(devices, "sda"))
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.db_bench", "--serve", devices],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("PUT", "/sda/0/bench/hot", headers={"X-Timestamp": "1699999999.00000"})
        assert conn.getresponse().status == 201
        per = updates // procs
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.db_bench",
                    "--client",
                    str(port),
                    str(k * per),
                    str(per),
                    str(max(1, concurrency // procs)),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(procs)
        ]
        reports = [json.loads(c.communicate()[0]) for c in clients]
        elapsed = max(r["end"] for r in reports) - min(r["start"] for r in reports)
        statuses: dict[str, int] = {}
        for r in reports:
            for code, n in r["statuses"].items():
                statuses[code] = statuses.get(code, 0) + n
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.perf_counter()
        conn.request("HEAD", "/sda/0/bench/hot")
        head = conn.getresponse()
        head.read()
        merge_on_read = time.perf_counter() - t0
        listed = int(head.getheader("X-Container-Object-Count") or -1)
    finally:
        server.kill()
        server.wait()
    total = per * procs
    return {
        "updates": total,
        "concurrency": max(1, concurrency // procs) * procs,
        "client_processes": procs,
        "seconds": round(elapsed, 3),
        "updates_per_second": round(total / elapsed),
        "statuses": statuses,
        "object_count_after": listed,
        "rows_lost": total - listed,
        "first_head_after_burst_ms": round(merge_on_read * 1000, 1),
    }


# -- listing pages --------------------------------------------------------------------------


def build_container(tmp: str, rows: int) -> tuple[str, str]:
    from swiftlite.common.timestamp import Timestamp
    from swiftlite.container.broker import ContainerBroker

    devices = os.path.join(tmp, "listing")
    os.makedirs(os.path.join(devices, "sda"))
    broker = ContainerBroker.at(os.path.join(devices, "sda"), 0, "bench", "big")
    broker.initialize(Timestamp(1700000000))
    order = list(range(rows))
    random.Random(7).shuffle(order)
    ts = Timestamp(1700000001).internal
    batch = 10_000
    for i in range(0, rows, batch):
        broker.merge_items(
            [
                (
                    f"photos/{n % 1000:03d}/img-{n:09d}.jpg",
                    ts,
                    n % 100_000,
                    "image/jpeg",
                    ETAG,
                    0,
                    0,
                )
                for n in order[i : i + batch]
            ]
        )
    broker.close()
    return devices, broker.db_file


def bench_listing(tmp: str, rows: int, repeats: int) -> dict[str, object]:
    import logging

    from webob import Request

    from swiftlite.container.broker import ContainerBroker
    from swiftlite.container.server import ContainerServer, ContainerServerOptions
    from swiftlite.db.listing import ListingParams

    t0 = time.perf_counter()
    devices, db_file = build_container(tmp, rows)
    build = time.perf_counter() - t0
    app = ContainerServer(
        ContainerServerOptions(devices=devices, mount_check=False, log_requests=False),
        logger=logging.getLogger("bench.container"),
    )
    broker = ContainerBroker(db_file)
    first_in_middle = broker.list_objects(ListingParams(limit=1, marker="photos/500/"))[0]
    middle = str(first_in_middle[0])  # type: ignore[index]
    broker.close()

    def page(query: str) -> tuple[float, int]:
        times = []
        count = 0
        for _ in range(repeats):
            req = Request.blank(f"/sda/0/bench/big?{query}")
            t = time.perf_counter()
            resp = req.get_response(app)
            times.append(time.perf_counter() - t)
            assert resp.status_int == 200, resp.status
            count = len(json.loads(resp.body))
        return statistics.median(times), count

    def broker_page(marker: str) -> float:
        times = []
        for _ in range(repeats):
            b = ContainerBroker(db_file)
            t = time.perf_counter()
            b.list_objects(ListingParams(limit=10_000, marker=marker))
            times.append(time.perf_counter() - t)
            b.close()
        return statistics.median(times)

    first, n_first = page("format=json&limit=10000")
    mid, n_mid = page("format=json&limit=10000&marker=" + urllib.parse.quote(middle))
    delim, _ = page("format=json&delimiter=/&prefix=photos/")
    return {
        "rows": rows,
        "build_seconds": round(build, 1),
        "db_bytes": os.path.getsize(db_file),
        "first_page_ms": round(first * 1000, 1),
        "middle_page_ms": round(mid * 1000, 1),
        "page_rows": [n_first, n_mid],
        "broker_first_page_ms": round(broker_page("") * 1000, 1),
        "broker_middle_page_ms": round(broker_page(middle) * 1000, 1),
        "delimiter_page_ms": round(delim * 1000, 1),
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows and fewer updates")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--updates", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--serve", metavar="DEVICES", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.client:
        client(*args.client)
        return 0
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    updates = args.updates or (10_000 if args.quick else 40_000)
    tmp = tempfile.mkdtemp(prefix="swiftlite-db-bench-")
    try:
        _ensure_conf(tmp)
        result = {
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "updates": bench_updates(tmp, updates, args.concurrency, args.client_procs),
            "listing": bench_listing(tmp, rows, repeats=5),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
