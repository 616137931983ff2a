"""Container updates from the object server, and async_pending records when they fail."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import urllib.parse

import pytest
from objtest_helpers import put, request, ts

from swiftlite.common import errors, hashing
from swiftlite.obj import layout, updates


class ContainerStub:
    """A real HTTP server recording container updates and answering ``status``."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stub.seen.append(
                    (self.command, urllib.parse.unquote(self.path), dict(self.headers))
                )
                self.send_response(stub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    s = ContainerStub()
    yield s
    s.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cont_headers(*hosts: str, devices=None) -> dict[str, str]:
    return {
        "X-Container-Host": ",".join(hosts),
        "X-Container-Device": ",".join(devices or [f"cd{i}" for i in range(len(hosts))]),
        "X-Container-Partition": "42",
        "X-Trans-Id": "tx123",
    }


def pending_files(dev_path):
    root = os.path.join(dev_path, layout.ASYNC_PENDING)
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_put_sends_container_put_with_object_facts(app, stub, dev_path) -> None:
    t = ts()
    resp = put(
        app,
        body=b"abc",
        timestamp=t,
        headers={"Content-Type": "text/x", **cont_headers(f"127.0.0.1:{stub.port}")},
    )
    assert resp.status_int == 201
    [(method, path, headers)] = stub.seen
    assert (method, path) == ("PUT", "/cd0/42/a/c/o")
    assert headers["X-Timestamp"] == t.internal
    assert headers["X-Size"] == "3"
    assert headers["X-Content-Type"] == "text/x"
    assert headers["X-Etag"] == "900150983cd24fb0d6963f7d28e17f72"
    assert headers["X-Trans-Id"] == "tx123"
    assert pending_files(dev_path) == []


def test_delete_sends_container_delete(app, stub) -> None:
    put(app, timestamp=ts(-1))
    t = ts()
    request(
        app, "DELETE", headers={"X-Timestamp": t.internal, **cont_headers(f"127.0.0.1:{stub.port}")}
    )
    [(method, path, headers)] = stub.seen
    assert (method, path) == ("DELETE", "/cd0/42/a/c/o")
    assert headers["X-Timestamp"] == t.internal


def test_post_changing_content_type_sends_container_put_at_post_time(app, stub) -> None:
    put(app, body=b"abc", timestamp=ts(-2), headers={"Content-Type": "text/x"})
    t = ts()
    headers = {
        "X-Timestamp": t.internal,
        "Content-Type": "image/png",
        **cont_headers(f"127.0.0.1:{stub.port}"),
    }
    assert request(app, "POST", headers=headers).status_int == 202
    [(method, path, sent)] = stub.seen
    assert (method, path) == ("PUT", "/cd0/42/a/c/o")
    assert sent["X-Timestamp"] == t.internal
    assert sent["X-Content-Type"] == "image/png"
    assert sent["X-Size"] == "3"
    assert sent["X-Etag"] == "900150983cd24fb0d6963f7d28e17f72"


def test_post_keeping_content_type_sends_no_container_update(app, stub) -> None:
    put(app, body=b"abc", timestamp=ts(-2), headers={"Content-Type": "text/x"})
    headers = {"X-Timestamp": ts().internal, "X-Object-Meta-A": "1"}
    headers.update(cont_headers(f"127.0.0.1:{stub.port}"))
    assert request(app, "POST", headers=headers).status_int == 202
    assert stub.seen == []


def test_post_without_content_type_keeps_an_earlier_posts_type(app, stub) -> None:
    put(app, body=b"abc", timestamp=ts(-3), headers={"Content-Type": "text/x"})
    first = {"X-Timestamp": ts(-2).internal, "Content-Type": "image/png"}
    assert request(app, "POST", headers=first).status_int == 202
    second = {"X-Timestamp": ts().internal, "X-Object-Meta-A": "1"}
    assert request(app, "POST", headers=second).status_int == 202
    assert request(app, "HEAD").headers["Content-Type"] == "image/png"


def test_update_goes_to_every_named_replica(app, stub) -> None:
    other = ContainerStub()
    try:
        hosts = (f"127.0.0.1:{stub.port}", f"127.0.0.1:{other.port}")
        put(app, headers=cont_headers(*hosts, devices=["d1", "d2"]))
        assert [p for _, p, _ in stub.seen] == ["/d1/42/a/c/o"]
        assert [p for _, p, _ in other.seen] == ["/d2/42/a/c/o"]
    finally:
        other.close()


def test_unreachable_container_writes_async_pending(app, dev_path) -> None:
    t = ts()
    host = f"127.0.0.1:{closed_port()}"
    resp = put(app, body=b"abc", timestamp=t, headers=cont_headers(host))
    assert resp.status_int == 201
    [path] = pending_files(dev_path)
    name_hash = hashing.hash_path("a", "c", "o")
    assert path == layout.async_pending_path(dev_path, name_hash, t)
    record = updates.read_async_pending(path)
    assert (record.op, record.account, record.container, record.obj) == ("PUT", "a", "c", "o")
    assert record.headers["X-Size"] == "3"
    assert record.headers["X-Timestamp"] == t.internal
    assert record.partition == "42"
    assert record.targets == (updates.Target(host, "cd0"),)


def test_container_error_status_writes_async_pending(app, dev_path) -> None:
    stub = ContainerStub(status=503)
    try:
        t = ts()
        request(
            app,
            "DELETE",
            headers={"X-Timestamp": t.internal, **cont_headers(f"127.0.0.1:{stub.port}")},
        )
        [path] = pending_files(dev_path)
        assert updates.read_async_pending(path).op == "DELETE"
    finally:
        stub.close()


def test_only_failed_replicas_are_recorded(app, stub, dev_path) -> None:
    dead = f"127.0.0.1:{closed_port()}"
    put(app, headers=cont_headers(f"127.0.0.1:{stub.port}", dead, devices=["ok", "bad"]))
    [path] = pending_files(dev_path)
    assert updates.read_async_pending(path).targets == (updates.Target(dead, "bad"),)


def test_no_container_headers_means_no_update(app, dev_path) -> None:
    assert put(app).status_int == 201
    assert pending_files(dev_path) == []


def test_mismatched_hosts_and_devices_is_400_before_storing(app, dev_path) -> None:
    headers = cont_headers("127.0.0.1:1", devices=["a", "b"])
    with pytest.raises(errors.BadInput):
        updates.plan_from_headers(headers)
    assert put(app, headers=headers).status_int == 400
    assert request(app, "HEAD").status_int == 404


def test_override_headers_change_the_update(app, stub) -> None:
    put(
        app,
        headers={
            **cont_headers(f"127.0.0.1:{stub.port}"),
            "X-Backend-Container-Update-Override-Etag": "slo-etag",
            "X-Backend-Container-Update-Override-Size": "999",
        },
    )
    [(_, _, headers)] = stub.seen
    assert headers["X-Etag"] == "slo-etag"
    assert headers["X-Size"] == "999"


def test_async_pending_rejects_foreign_files(tmp_path) -> None:
    bad = tmp_path / "x"
    bad.write_bytes(b"\x80\x02pickle")
    with pytest.raises(errors.Corrupt):
        updates.read_async_pending(str(bad))
    bad.write_text('{"version": 2}')
    with pytest.raises(errors.Corrupt):
        updates.read_async_pending(str(bad))


def test_ipv6_host_is_split_from_port() -> None:
    assert updates.Target("[::1]:6201", "d").ip_port == ("::1", 6201)


def test_async_pending_on_a_vanished_device_is_unavailable_and_recreates_nothing(
    tmp_path,
) -> None:
    dev_path = str(tmp_path / "sda")  # unmounted: its directory is gone
    record = updates.AsyncPending("PUT", "a", "c", "o", {}, "1", ())
    with pytest.raises(errors.DeviceUnavailable):
        updates.write_async_pending(dev_path, "0" * 32, ts(), record)
    assert not os.path.exists(dev_path)
