"""Zero-copy GET bodies: sendfile to a real (non-blocking, small-buffer) socket."""

from __future__ import annotations

import io
import os
import socket
import threading

import pytest
from objtest_helpers import make_server, path, put
from webob import Request

from swiftlite.obj import sendfile

BODY = os.urandom(3 << 20)


class FakeInput(io.BytesIO):
    """Stands in for eventlet.wsgi.Input: exposes the client socket."""

    def __init__(self, sock):
        super().__init__(b"")
        self.sock = sock

    def get_socket(self):
        return self.sock


@pytest.fixture
def sockets():
    server_side, client_side = socket.socketpair()
    server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    server_side.setblocking(False)  # as under eventlet: sendfile meets EAGAIN
    yield server_side, client_side
    server_side.close()
    client_side.close()


def drain(sock, into: bytearray, until: int) -> threading.Thread:
    def run():
        while len(into) < until:
            chunk = sock.recv(65536)
            if not chunk:
                break
            into.extend(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_send_span_copies_exact_bytes_through_eagain(tmp_path, sockets) -> None:
    server_side, client_side = sockets
    f = tmp_path / "blob"
    f.write_bytes(BODY)
    got = bytearray()
    reader = drain(client_side, got, 2_000_000)
    fd = os.open(f, os.O_RDONLY)
    try:
        sent = sendfile.send_span(server_side.fileno(), fd, 1000, 2_000_000, timeout=10)
    finally:
        os.close(fd)
    reader.join(10)
    assert sent == 2_000_000
    assert bytes(got) == BODY[1000:2_001_000]


def test_send_span_times_out_when_client_stops_reading(tmp_path, sockets) -> None:
    server_side, _client_side = sockets
    f = tmp_path / "blob"
    f.write_bytes(BODY)
    fd = os.open(f, os.O_RDONLY)
    try:
        with pytest.raises(TimeoutError):
            sendfile.send_span(server_side.fileno(), fd, 0, len(BODY), timeout=0.05)
    finally:
        os.close(fd)


def test_server_get_uses_sendfile_when_socket_available(devices, sockets) -> None:
    server_side, client_side = sockets
    app = make_server(devices)
    put(app, body=BODY)
    env = Request.blank(path(), headers={"Range": "bytes=5-"}).environ
    env["eventlet.input"] = FakeInput(server_side)
    flushed = []

    def start_response(status, headers, exc_info=None):
        flushed.append(status)
        return lambda data: flushed.append(data)

    got = bytearray()
    reader = drain(client_side, got, len(BODY) - 5)
    result = app(env, start_response)
    assert isinstance(result, sendfile.SendfileBody)
    assert list(result) == []
    result.close()
    reader.join(10)
    assert flushed == ["206 Partial Content", b""]
    assert bytes(got) == BODY[5:]


def test_server_get_without_socket_iterates(devices) -> None:
    app = make_server(devices, use_sendfile=True)
    put(app, body=BODY)
    resp = Request.blank(path()).get_response(app)
    assert resp.body == BODY


def test_client_socket_fd_refuses_https_and_missing_socket(sockets) -> None:
    server_side, _ = sockets
    assert sendfile.client_socket_fd({}) is None
    env = {"eventlet.input": FakeInput(server_side), "wsgi.url_scheme": "https"}
    assert sendfile.client_socket_fd(env) is None
    env["wsgi.url_scheme"] = "http"
    assert sendfile.client_socket_fd(env) == server_side.fileno()


def test_large_span_is_sent_whole_while_pages_behind_it_are_freed(
    tmp_path, sockets, monkeypatch
) -> None:
    server_side, client_side = sockets
    body = os.urandom(40 << 20)
    f = tmp_path / "big"
    f.write_bytes(body)
    dropped = []
    real = sendfile.fs.drop_cache
    monkeypatch.setattr(
        sendfile.fs, "drop_cache", lambda fd, off, n: (dropped.append((off, n)), real(fd, off, n))
    )
    got = bytearray()
    reader = drain(client_side, got, len(body) - 5)
    fd = os.open(f, os.O_RDONLY)
    try:
        sent = sendfile.send_span(server_side.fileno(), fd, 5, len(body) - 5, 10, True)
    finally:
        os.close(fd)
    reader.join(10)
    assert sent == len(body) - 5
    assert bytes(got) == body[5:]
    assert len(dropped) >= 2
    assert all(off == 5 and n > 0 for off, n in dropped)
    assert dropped[-1] == (5, len(body) - 5)
