"""getter and putter against scripted backends: failover, 404 walks, handoffs, early answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from swiftlite.common import green
from swiftlite.proxy.getter import fetch, good_db_status
from swiftlite.proxy.putter import ObjectPut, UploadError, fan_out, put_whole
from swiftlite.proxy.quorum import best_status
from swiftlite.proxy.server import ProxyApp, ProxyOptions
from swiftlite.ring.node import Node
from tests.support.inproc import ServedApp, bound_socket


@dataclass
class Scripted:
    """A backend answering a fixed status (and headers); counts the requests it saw."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b"ok"
    hits: int = 0
    expect: str | None = None
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, environ, start_response):
        self.hits += 1
        self.expect = environ.get("HTTP_EXPECT")
        if environ["REQUEST_METHOD"] == "PUT" and "HTTP_EXPECT" not in environ:
            self.bodies.append(environ["wsgi.input"].read())
        if environ["REQUEST_METHOD"] == "PUT" and self.status < 300:
            environ["wsgi.input"].read()  # asks the client for its body (100 Continue)
        start_response(f"{self.status} X", [("Content-Length", str(len(self.body))), *self.headers])
        return [self.body]


class Ring:
    def __init__(self, ports: list[int], replicas: int = 3) -> None:
        self.replica_count = replicas
        self.nodes = [
            Node.from_dev({"id": i, "ip": "127.0.0.1", "port": p, "device": f"d{i}"}, index=i)
            for i, p in enumerate(ports)
        ]

    def get_part(self, *names):
        return 0

    def get_nodes(self, *names):
        return 0, self.get_part_nodes(0)

    def get_part_nodes(self, part):
        return self.nodes[: self.replica_count]

    def get_more_nodes(self, part):
        for node in self.nodes[self.replica_count :]:
            yield node.as_handoff(node.id)


@pytest.fixture
def backends() -> Iterator[list[Scripted]]:
    scripts = [Scripted() for _ in range(5)]
    served = [ServedApp(f"b{i}", s, bound_socket()).start() for i, s in enumerate(scripts)]
    for script, app in zip(scripts, served, strict=True):
        script.port = app.port  # type: ignore[attr-defined]
    try:
        yield scripts
    finally:
        for app in served:
            app.stop()


def _app(backends: list[Scripted]) -> tuple[ProxyApp, Ring]:
    ring = Ring([b.port for b in backends])  # type: ignore[attr-defined]
    options = ProxyOptions(sorting_method="none", post_quorum_timeout=0.2, node_timeout=2)
    return ProxyApp(options, rings={"account": ring, "container": ring, "object": ring}), ring


def test_fetch_skips_a_failing_primary_and_returns_the_next(backends):
    backends[0].status = 503
    app, ring = _app(backends)
    fetched = fetch(app.backend, ring, 0, "GET", "/a/c/o", {})
    assert fetched.source is not None
    assert fetched.node.id == 1
    assert [r.status for r in fetched.replies] == [503]
    assert fetched.source.read_all() == b"ok"
    assert app.limiter.errors(ring.nodes[0]) == 1


def test_fetch_stops_after_clean_404s_from_every_primary(backends):
    for b in backends[:3]:
        b.status = 404
    app, ring = _app(backends)
    fetched = fetch(app.backend, ring, 0, "GET", "/a/c/o", {})
    assert fetched.source is None
    assert best_status([r.status for r in fetched.replies]) == 404
    assert backends[3].hits == 0


def test_fetch_asks_handoffs_when_a_primary_failed(backends):
    backends[0].status = 404
    backends[1].status = 500
    backends[2].status = 404
    app, ring = _app(backends)
    fetched = fetch(app.backend, ring, 0, "GET", "/a/c/o", {})
    assert fetched.source is not None
    assert fetched.node.id == 3


def test_fetch_db_treats_204_as_good(backends):
    backends[0].status = 204
    backends[0].body = b""
    app, ring = _app(backends)
    fetched = fetch(app.backend, ring, 0, "HEAD", "/a", {}, good=good_db_status)
    assert fetched.source is not None
    assert fetched.source.status == 204


def test_fetch_with_x_newest_returns_the_newest_replica(backends):
    for i, b in enumerate(backends[:3]):
        b.headers = [("X-Backend-Timestamp", f"170000000{[1, 3, 2][i]}.00000")]
        b.body = f"v{i}".encode()
    app, ring = _app(backends)
    fetched = fetch(app.backend, ring, 0, "GET", "/a/c/o", {"X-Newest": "true"})
    assert fetched.source is not None
    assert fetched.source.read_all() == b"v1"


def test_fan_out_replaces_a_507_primary_with_a_handoff(backends):
    backends[1].status = 507
    for b in backends[:1] + backends[2:]:
        b.status = 201
    app, ring = _app(backends)
    replies = fan_out(app.backend, ring, 0, "PUT", "/a/c", [{}] * 3)
    assert sorted(r.status for r in replies) == [201, 201, 201]
    assert backends[3].hits == 1
    assert app.limiter.is_limited(ring.nodes[1])


def test_fan_out_without_quorum_pads_with_503(backends):
    for b in backends:
        b.status = 500
    app, ring = _app(backends)
    replies = fan_out(app.backend, ring, 0, "POST", "/a/c", [{}] * 3)
    assert [r.status for r in replies] == [503, 503, 503]


def test_object_put_collects_early_answers_instead_of_100(backends):
    backends[0].status = 409
    app, ring = _app(backends)
    put = ObjectPut(app.backend, ring, 0, "/a/c/o", [{"Content-Length": "1"}] * 3, chunked=False)
    put.connect()
    assert put.early_statuses() == [409]
    assert len(put.ready) == 2
    put.send(b"x")
    assert sorted(r.status for r in put.finish()) == [200, 200, 503]


class _BodyBackend:
    client_chunk_size = 4
    client_timeout = 0.05


def _body_put() -> ObjectPut:
    return ObjectPut(_BodyBackend(), None, 0, "/a/c/o", [], chunked=False)  # type: ignore[arg-type]


def _reader(chunks: list[bytes]):
    def read(size: int) -> bytes:
        return chunks.pop(0) if chunks else b""

    return read


def test_copy_body_client_gone_is_499():
    def read(size: int) -> bytes:
        raise ValueError("invalid chunk")

    with pytest.raises(UploadError) as caught:
        _body_put().copy_body(read, None, 100)
    assert caught.value.status == 499


def test_copy_body_short_body_is_499():
    with pytest.raises(UploadError) as caught:
        _body_put().copy_body(_reader([b"abcd", b"ef"]), 10, 100)
    assert caught.value.status == 499


def test_copy_body_chunked_over_max_size_is_413():
    with pytest.raises(UploadError) as caught:
        _body_put().copy_body(_reader([b"abcd", b"efgh", b"ijkl"]), None, 10)
    assert caught.value.status == 413


def test_copy_body_slow_client_is_408():
    def read(size: int) -> bytes:
        green.sleep(1)
        return b"late"

    with pytest.raises(UploadError) as caught:
        _body_put().copy_body(read, 4, 100)
    assert caught.value.status == 408


def test_copy_body_counts_what_it_sends():
    put = _body_put()
    put.copy_body(_reader([b"abcd", b"ef"]), 6, 100)
    assert put.bytes_sent == 6


def test_put_whole_sends_head_and_body_without_100_continue(backends):
    app, ring = _app(backends)
    backends[0].status = 201
    replies = put_whole(app.backend, ring, 0, "/a/c/o", [{"X-Timestamp": "1"}] * 3, b"small")
    assert sorted(r.status for r in replies) == [200, 200, 201]  # in order of arrival
    assert [b.expect for b in backends[:3]] == [None, None, None]
    assert [b.bodies for b in backends[:3]] == [[b"small"]] * 3
    assert backends[3].hits == 0


def test_put_whole_with_too_few_reachable_nodes_sends_nothing(backends):
    app, ring = _app(backends[:3])
    closed = _closed_port()
    ring.nodes[1:3] = [replace(n, port=closed) for n in ring.nodes[1:3]]
    assert put_whole(app.backend, ring, 0, "/a/c/o", [{"X-Timestamp": "1"}] * 3, b"small") is None
    assert backends[0].hits == 0


def test_put_whole_replaces_a_507_primary_with_a_handoff(backends):
    backends[1].status = 507
    app, ring = _app(backends)
    replies = put_whole(app.backend, ring, 0, "/a/c/o", [{"X-Timestamp": "1"}] * 3, b"small")
    assert sorted(r.status for r in replies) == [200, 200, 200]
    assert backends[3].bodies == [b"small"]


def _closed_port() -> int:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    return port
