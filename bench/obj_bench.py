"""Object server benchmark: the disk floor, PUT/GET of 4 KiB objects, and a large stream.

Run ``.venv/bin/python -m bench.obj_bench [--quick] [--dir DIR]``; results go to
``bench/results/obj.json`` and a summary to stdout. Sections:

- ``raw_floor_4k``: 32 threads each doing write(4 KiB) + setxattr + fsync + rename + fsync(dir)
  of new files: what the disk allows before any server code runs (the floor to compare with).
- ``overflow_prototype``: one writer storing 4 KiB objects with metadata at the API limits
  (~9 KB of JSON) as a trailer after the content (one file, one rename) vs a sidecar file
  (two files, two renames), with small inline metadata as a reference.
- ``server_put_4k`` / ``server_get_4k``: 32 keep-alive HTTP clients against one object server
  process (eventlet, one worker), with ``fsync_in_threads`` on (default) and off.
- ``stream``: one object of 1 GiB (``--quick``: 128 MiB) PUT, then GET with and without
  sendfile.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "unit", "obj"))

import objserver_proc  # noqa: E402

from swiftlite.obj import metadata  # noqa: E402

KIB4 = os.urandom(4096)
THREADS = 32


def fs_type(path: str) -> str:
    out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


# -- raw floor -----------------------------------------------------------------------------


def _raw_worker(root: str, worker: int, count: int) -> None:
    tmp = os.path.join(root, "tmp")
    for i in range(count):
        final_dir = os.path.join(root, "objs", f"{worker:02d}", f"{i:05d}")
        os.makedirs(final_dir)
        path = os.path.join(tmp, f"{worker}-{i}.tmp")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, KIB4)
        os.setxattr(fd, "user.bench", b'{"ETag":"0123456789abcdef0123456789abcdef"}')
        os.fsync(fd)
        os.close(fd)
        os.rename(path, os.path.join(final_dir, "1.data"))
        dfd = os.open(final_dir, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)


def raw_floor(base: str, per_thread: int) -> dict:
    root = tempfile.mkdtemp(prefix="raw-", dir=base)
    os.makedirs(os.path.join(root, "tmp"))
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda w: _raw_worker(root, w, per_thread), range(THREADS)))
    elapsed = time.perf_counter() - started
    shutil.rmtree(root)
    total = THREADS * per_thread
    return {"ops": total, "seconds": round(elapsed, 3), "ops_per_s": round(total / elapsed, 1)}


# -- ext4 overflow prototype ---------------------------------------------------------------


def _limit_meta() -> dict[str, str]:
    meta = {"name": "/a/c/" + "\u00e9" * 512, "X-Timestamp": "1700000000.00000"}
    meta.update({f"X-Object-Meta-K{i:03d}": "\u00e9" * 41 for i in range(90)})
    return meta


def _publish(tmp: str, final: str, write) -> None:
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    write(fd)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, final)


def overflow_prototype(base: str, count: int) -> dict:
    root = tempfile.mkdtemp(prefix="ovf-", dir=base)
    big = _limit_meta()
    record = metadata.encode(big)
    small = {"name": "/a/c/o", "X-Timestamp": "1700000000.00000"}
    results = {"record_bytes": len(record)}

    def run(kind: str) -> float:
        started = time.perf_counter()
        for i in range(count):
            d = os.path.join(root, kind, str(i))
            os.makedirs(d)
            tmp = os.path.join(root, f"{kind}-{i}.tmp")
            if kind == "sidecar":
                # content and metadata in two files: two fsyncs, two renames
                _publish(tmp, os.path.join(d, "1.data"), lambda fd: os.write(fd, KIB4))
                _publish(tmp + "m", os.path.join(d, "1.json"), lambda fd: os.write(fd, record))
            else:
                meta = big if kind == "trailer" else small

                def write(fd, meta=meta):
                    os.write(fd, KIB4)
                    metadata.write(fd, meta, len(KIB4))

                _publish(tmp, os.path.join(d, "1.data"), write)
            dfd = os.open(d, os.O_RDONLY)
            os.fsync(dfd)
            os.close(dfd)
        return count / (time.perf_counter() - started)

    for kind in ("inline_small", "trailer", "sidecar"):
        results[f"{kind}_ops_per_s"] = round(run(kind), 1)
    shutil.rmtree(root)
    return results


# -- server over HTTP ----------------------------------------------------------------------


def _client_loop(port: int, method: str, names: list[str], body: bytes | None, lat: list) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    done = 0
    for name in names:
        headers = {}
        if method == "PUT":
            headers = {
                "X-Timestamp": f"{time.time():.5f}",
                "Content-Type": "application/octet-stream",
                "Content-Length": str(len(body or b"")),
            }
        t0 = time.perf_counter()
        conn.request(method, f"/sda/1/AUTH_bench/c/{name}", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        lat.append(time.perf_counter() - t0)
        if resp.status not in (200, 201):
            raise RuntimeError(f"{method} {name}: {resp.status}")
        done += 1
    conn.close()
    return done


def _drive(port: int, method: str, per_client: int, prefix: str) -> dict:
    per_thread_lat: list[list[float]] = [[] for _ in range(THREADS)]
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(
                _client_loop,
                port,
                method,
                [f"{prefix}-{c}-{i}" for i in range(per_client)],
                KIB4 if method == "PUT" else None,
                per_thread_lat[c],
            )
            for c in range(THREADS)
        ]
        total = sum(f.result() for f in futures)
    elapsed = time.perf_counter() - started
    lat = sorted(x for part in per_thread_lat for x in part)
    return {
        "requests": total,
        "seconds": round(elapsed, 3),
        "req_per_s": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2),
    }


def server_4k(base: str, per_client: int, fsync_in_threads: bool) -> dict:
    devices = tempfile.mkdtemp(prefix="srv-", dir=base)
    os.makedirs(os.path.join(devices, "sda"))
    proc = objserver_proc.start(devices, fsync_in_threads=str(fsync_in_threads).lower())
    try:
        put = _drive(proc.port, "PUT", per_client, "o")
        get = _drive(proc.port, "GET", per_client, "o")
    finally:
        proc.kill()
        shutil.rmtree(devices)
    return {"put": put, "get": get}


# -- large stream --------------------------------------------------------------------------


def _stream_put(port: int, size: int) -> tuple[float, str]:
    chunk = os.urandom(1 << 20)
    md5 = hashlib.md5()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("PUT", "/sda/1/AUTH_bench/c/big")
    for k, v in (
        ("Content-Length", str(size)),
        ("X-Timestamp", f"{time.time():.5f}"),
        ("Content-Type", "application/octet-stream"),
    ):
        conn.putheader(k, v)
    conn.endheaders()
    started = time.perf_counter()
    sent = 0
    while sent < size:
        piece = chunk[: min(len(chunk), size - sent)]
        conn.send(piece)
        md5.update(piece)
        sent += len(piece)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if resp.status != 201 or resp.getheader("etag") != md5.hexdigest():
        raise RuntimeError(f"big PUT failed: {resp.status}")
    return elapsed, md5.hexdigest()


def _stream_get(port: int, size: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", "/sda/1/AUTH_bench/c/big")
    resp = conn.getresponse()
    got = 0
    buf = bytearray(1 << 20)
    while True:
        n = resp.readinto(buf)
        if not n:
            break
        got += n
    elapsed = time.perf_counter() - started
    conn.close()
    if got != size:
        raise RuntimeError(f"big GET returned {got} of {size} bytes")
    return elapsed


def stream(base: str, size: int) -> dict:
    devices = tempfile.mkdtemp(prefix="big-", dir=base)
    os.makedirs(os.path.join(devices, "sda"))
    mib = size / (1 << 20)
    out: dict = {"bytes": size}
    proc = objserver_proc.start(devices)
    try:
        put_s, _ = _stream_put(proc.port, size)
        out["put_mib_per_s"] = round(mib / put_s, 1)
        out["get_sendfile_mib_per_s"] = round(mib / _stream_get(proc.port, size), 1)
    finally:
        proc.kill()
    proc = objserver_proc.start(devices, use_sendfile="false")
    try:
        out["get_iterated_mib_per_s"] = round(mib / _stream_get(proc.port, size), 1)
    finally:
        proc.kill()
        shutil.rmtree(devices)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about a minute)")
    parser.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args(argv)
    base = tempfile.mkdtemp(prefix="swiftlite-objbench-", dir=args.dir)
    conf = os.path.join(base, "swiftlite.conf")
    with open(conf, "w") as fh:
        fh.write("[swift-hash]\nswift_hash_path_prefix = bench\nswift_hash_path_suffix = bench\n")
    os.environ["SWIFTLITE_CONF"] = conf
    raw_per_thread = 30 if args.quick else 100
    per_client = 30 if args.quick else 100
    size = (128 if args.quick else 1024) << 20
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "fs": fs_type(base),
            "note": "2 cores shared with other work; figures are indicative",
        },
    }
    try:
        results["raw_floor_4k"] = raw_floor(base, raw_per_thread)
        print("raw floor 4k:", results["raw_floor_4k"], flush=True)
        results["overflow_prototype"] = overflow_prototype(base, 100 if args.quick else 300)
        print("overflow prototype:", results["overflow_prototype"], flush=True)
        results["server_4k"] = server_4k(base, per_client, fsync_in_threads=True)
        print("server 4k (fsync in threads):", results["server_4k"], flush=True)
        results["server_4k_fsync_inline"] = server_4k(base, per_client, fsync_in_threads=False)
        print("server 4k (fsync inline):", results["server_4k_fsync_inline"], flush=True)
        results["stream"] = stream(base, size)
        print("stream:", results["stream"], flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out_dir = os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "obj.json"), "w") as fh:
        json.dump(results, fh, indent=2, sort_keys=True)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
