"""The machine's own ceilings, measured the same day as the clusters.

Owns three figures and the trivial server behind one of them:
- ``durable_files``: 4 KiB files written by 32 threads with write + xattr + fsync + rename, the
  floor under any durable object PUT (divided by the replica count for a replicated PUT);
- ``loopback_http``: requests/s of a trivial keep-alive HTTP server (a canned response) driven
  by each load generator engine, with the generator's own CPU per request — the load
  generator's ceiling and its cost;
- ``disk_write``: sequential write MB/s of one large file, fsynced (the large-object ceiling).
MB means 10**6 bytes throughout. Nothing here talks to a cluster.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import threading
import time
from dataclasses import dataclass

from bench import loadgen

CANNED = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


# -- trivial server ----------------------------------------------------------------------------


def _complete_requests(buf: bytearray) -> int:
    """Remove every complete request from ``buf``; return how many there were."""
    count = 0
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return count
        head = bytes(buf[:head_end]).lower()
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            length = int(head[at + 17 :].split(b"\r\n", 1)[0])
        end = head_end + 4 + length
        if len(buf) < end:
            return count
        del buf[:end]
        count += 1


def serve_canned(listener: socket.socket, stop: threading.Event | None = None) -> None:
    """Answer every request on every connection with an empty 200, until ``stop`` is set."""
    listener.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    buffers: dict[socket.socket, bytearray] = {}
    while stop is None or not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            if key.data is None:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.setblocking(True)  # replies are tiny: a blocking sendall never waits long
                sel.register(conn, selectors.EVENT_READ, "conn")
                buffers[conn] = bytearray()
                continue
            conn = key.fileobj  # type: ignore[assignment]
            try:
                data = conn.recv(262144)
            except OSError:
                data = b""
            if not data:
                sel.unregister(conn)
                conn.close()
                buffers.pop(conn, None)
                continue
            buf = buffers[conn]
            buf += data
            n = _complete_requests(buf)
            if n:
                conn.sendall(CANNED * n)
    for conn in buffers:
        conn.close()


def listen_local() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


# -- figures -----------------------------------------------------------------------------------


@dataclass
class LoopbackFigure:
    engine: str
    requests_per_s: float
    client_cpu_us_per_req: float
    server_cpu_us_per_req: float
    errors: int


def loopback_http(engine: str, count: int, connections: int = 32) -> LoopbackFigure:
    """Drive a forked trivial server with ``engine``; requests/s and CPU per request each side."""
    listener = listen_local()
    port = listener.getsockname()[1]
    pid = os.fork()
    if pid == 0:  # the server, in its own process so its CPU is its own
        code = 0
        try:
            serve_canned(listener)
        except BaseException:  # noqa: BLE001 - never return into the caller's stack
            code = 1
        os._exit(code)
    listener.close()
    try:
        job = loadgen.Job(
            "loopback",
            "127.0.0.1",
            port,
            (loadgen.Op("GET", "/x"),),
            count,
            connections,
            max_seconds=120,
        )
        result = loadgen.run(job, engine)
    finally:
        os.kill(pid, signal.SIGKILL)
        _, _, usage = os.wait4(pid, 0)
    server_cpu = usage.ru_utime + usage.ru_stime
    n = max(result.requests, 1)
    return LoopbackFigure(
        engine=result.engine,
        requests_per_s=result.ops_per_s,
        client_cpu_us_per_req=result.client_cpu_s / n * 1e6,
        server_cpu_us_per_req=server_cpu / n * 1e6,
        errors=result.errors,
    )


def durable_files(directory: str, count: int, threads: int = 32, size: int = 4096) -> float:
    """Files/s for ``threads`` writers doing open, write, setxattr, fsync, close, rename."""
    devices = [os.path.join(directory, f"d{i}") for i in range(1, 5)]
    for dev in devices:
        os.makedirs(os.path.join(dev, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(dev, "objects"), exist_ok=True)
    payload = os.urandom(size)
    meta = b'{"name": "/AUTH_test/bench/object", "Content-Type": "application/octet-stream"}' * 3
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(t, count, threads):
                dev = devices[i % len(devices)]
                tmp = os.path.join(dev, "tmp", f"{t}-{i}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, payload)
                    os.setxattr(fd, "user.bench.metadata", meta)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.rename(tmp, os.path.join(dev, "objects", f"{i}.data"))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    started = time.perf_counter()
    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return count / elapsed


def disk_write(directory: str, megabytes: int) -> float:
    """MB/s writing ``megabytes`` MiB in 1 MiB writes, fdatasync every 512 MiB and at the end."""
    block = os.urandom(1 << 20)
    path = os.path.join(directory, "seq.bin")
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(1, megabytes + 1):
            os.write(fd, block)
            if i % 512 == 0:
                os.fdatasync(fd)
        os.fsync(fd)
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - started
    os.unlink(path)
    return megabytes * (1 << 20) / elapsed / 1e6


def measure(
    directory: str,
    engines: list[str],
    quick: bool,
    replicas: int = 3,
    log=print,  # type: ignore[no-untyped-def]
) -> dict[str, object]:
    """Every ceiling, as the report's ``ceilings`` section."""
    files_n = 1500 if quick else 8000
    http_n = 20000 if quick else 100000
    disk_mb = 256 if quick else 2048
    log(f"ceilings: {files_n} durable 4 KiB files")
    files_per_s = durable_files(os.path.join(directory, "files"), files_n)
    loop = {}
    for engine in engines:
        log(f"ceilings: loopback HTTP with {engine}, {http_n} requests")
        loop[engine] = loopback_http(engine, http_n).__dict__
    log(f"ceilings: sequential write of {disk_mb} MiB")
    mb_s = disk_write(directory, disk_mb)
    return {
        "durable_4k_files_per_s": round(files_per_s, 1),
        "durable_put_floor_per_s": round(files_per_s / replicas, 1),
        "loopback_http": loop,
        "loopback_http_requests_per_s": round(
            max((v["requests_per_s"] for v in loop.values()), default=0.0), 1
        ),
        "disk_write_mb_s": round(mb_s, 1),
        "replicas": replicas,
        "disk_write_per_replica_mb_s": round(mb_s / replicas, 1),
    }
