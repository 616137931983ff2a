"""The object server as a real process: kill -9 mid-PUT, stalled and vanishing clients,
100-continue refusals and zero-copy GETs over real sockets."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import textwrap

import objserver_proc
import pytest
from objtest_helpers import DEVICE, ts

from swiftlite.obj import metadata
from tests.support.wait import wait_until

OBJ_PATH = f"/{DEVICE}/3/a/c/o"


@pytest.fixture
def server(devices):
    proc = objserver_proc.start(devices)
    yield proc
    proc.kill()


def visible_files(devices):
    root = os.path.join(devices, DEVICE, "objects")
    return [
        os.path.join(d, f)
        for d, _, files in os.walk(root)
        for f in files
        if f.endswith((".data", ".meta", ".ts"))
    ]


def tmp_bytes(devices) -> int:
    tmp = os.path.join(devices, DEVICE, "tmp")
    if not os.path.isdir(tmp):
        return 0
    return sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))


def raw_put(port: int, length: int, extra: str = "", timestamp=None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"PUT {OBJ_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
        f"X-Timestamp: {(timestamp or ts()).internal}\r\nContent-Type: a/b\r\n{extra}\r\n"
    )
    sock.sendall(head.encode())
    return sock


def read_status(sock: socket.socket) -> str:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def call(port, method, path=OBJ_PATH, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def test_put_killed_mid_body_leaves_nothing_visible(devices) -> None:
    proc = objserver_proc.start(devices)
    try:
        sock = raw_put(proc.port, 8 << 20)
        sock.sendall(b"x" * (3 << 20))
        wait_until(lambda: tmp_bytes(devices) >= (1 << 20), timeout=20, what="server writing")
        proc.kill()
        sock.close()
    finally:
        proc.kill()
    assert visible_files(devices) == []
    again = objserver_proc.start(devices)
    try:
        assert call(again.port, "GET")[0] == 404
        assert call(again.port, "REPLICATE", f"/{DEVICE}/3")[2] == b"{}"
    finally:
        again.kill()


WRITER_LOOP = textwrap.dedent(
    """
    import os, random, sys
    from swiftlite.common.timestamp import Timestamp
    from swiftlite.obj.diskfile import DiskConfig, DiskFileManager
    mgr = DiskFileManager(DiskConfig(mb_per_sync=0))
    rng = random.Random(int(sys.argv[2]))
    i = 0
    while True:
        df = mgr.get(sys.argv[1], i % 8, "a", "c", f"o{i}")
        body = os.urandom(rng.randrange(0, 300_000))
        with df.writer(len(body)) as w:
            for j in range(0, len(body), 65536):
                w.write(body[j:j + 65536])
            meta = {"name": df.name, "X-Timestamp": Timestamp.now().internal,
                    "Content-Length": str(len(body)), "ETag": w.etag}
            meta.update({f"X-Object-Meta-K{k}": "v" * 200 for k in range(rng.randrange(0, 30))})
            w.commit(meta)
        i += 1
    """
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_writer_killed_at_random_moment_leaves_only_whole_objects(dev_path, seed) -> None:
    child = subprocess.Popen([sys.executable, "-c", WRITER_LOOP, dev_path, str(seed)])
    try:
        wait_until(lambda: len(visible_files(os.path.dirname(dev_path))) >= 5 * seed, timeout=30)
    finally:
        child.kill()
        child.wait()
    files = visible_files(os.path.dirname(dev_path))
    assert files
    for path in files:
        meta, where = metadata.read_path(path)
        length = int(meta["Content-Length"])
        with open(path, "rb") as fh:
            content = fh.read(length)
        assert len(content) == length, path
        assert hashlib.md5(content).hexdigest() == meta["ETag"], path
        assert os.path.getsize(path) == length + (where.length if where.kind == "trailer" else 0)


def test_stalled_client_gets_408_and_nothing_stored(devices) -> None:
    proc = objserver_proc.start(devices, client_timeout=0.3)
    try:
        sock = raw_put(proc.port, 1000)
        sock.sendall(b"x" * 10)
        assert " 408 " in read_status(sock) + " "
        sock.close()
        assert visible_files(devices) == []
    finally:
        proc.kill()


def test_client_gone_mid_body_gets_499_and_nothing_stored(server, devices) -> None:
    sock = raw_put(server.port, 1000)
    sock.sendall(b"x" * 10)
    sock.shutdown(socket.SHUT_WR)
    assert read_status(sock).startswith("HTTP/1.1 499")
    sock.close()
    assert visible_files(devices) == []


def test_expect_100_continue_refused_before_body(server) -> None:
    newer = ts()
    assert (
        call(
            server.port,
            "PUT",
            body=b"new",
            headers={"X-Timestamp": newer.internal, "Content-Type": "a/b"},
        )[0]
        == 201
    )
    sock = raw_put(server.port, 3, "Expect: 100-continue\r\n", timestamp=ts(-5))
    assert read_status(sock).startswith("HTTP/1.1 409")
    sock.close()
    sock = raw_put(server.port, 3, "Expect: 100-continue\r\n", timestamp=ts(5))
    assert read_status(sock).startswith("HTTP/1.1 100")
    sock.sendall(b"abc")
    sock.close()


def test_large_get_streams_exact_bytes(server) -> None:
    body = os.urandom(6 << 20)
    status, headers, _ = call(
        server.port, "PUT", body=body, headers={"X-Timestamp": ts().internal, "Content-Type": "a/b"}
    )
    assert status == 201
    status, headers, got = call(server.port, "GET")
    assert status == 200
    assert got == body
    assert headers["ETag"] == hashlib.md5(body).hexdigest()
    status, headers, got = call(server.port, "GET", headers={"Range": "bytes=1000-2999999"})
    assert status == 206
    assert got == body[1000:3000000]
    status, headers, got = call(server.port, "GET", headers={"Range": "bytes=0-9,-10"})
    assert status == 206
    assert body[:10] in got
    assert body[-10:] in got
