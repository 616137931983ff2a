"""The object server's StatsD metrics, with Swift's names, on a real UDP listener."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from objtest_helpers import make_server, put
from webob import Request

from swiftlite.common import statsd


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    yield sock
    sock.close()
    statsd.configure_process({})


def test_object_server_sends_swifts_timing_and_async_pending_names(
    listener: socket.socket, devices: str
) -> None:
    statsd.configure_process(
        {"log_statsd_host": "127.0.0.1", "log_statsd_port": str(listener.getsockname()[1])}
    )
    app = make_server(devices)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{closed.getsockname()[1]}"
    headers = {
        "X-Container-Host": dead,
        "X-Container-Device": "cd0",
        "X-Container-Partition": "1",
    }
    assert put(app, body=b"abc", headers=headers).status_int == 201
    assert Request.blank("/sda/7/a/c/missing").get_response(app).status_int == 404
    assert Request.blank("/sda/7/a/c/o", method="PUT").get_response(app).status_int == 400
    names = [listener.recv(2048).decode().split(":", 1)[0] for _ in range(4)]
    assert names == [
        "object-server.async_pendings",
        "object-server.PUT.timing",
        "object-server.GET.timing",  # a 404 is an answer, not an error
        "object-server.PUT.errors.timing",
    ]
