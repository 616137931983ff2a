"""BackendPool against tiny WSGI apps served in-process: keep-alive, 100-continue, framing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from swiftlite.common import errors, green
from swiftlite.common.http.client import BackendPool, ProtocolError
from tests.support.inproc import ServedApp, bound_socket


def echo_app(environ, start_response):
    """PUT: md5 of the body (409 at once when asked to refuse); GET: a body of ?n bytes."""
    method = environ["REQUEST_METHOD"]
    if method == "PUT":
        if environ.get("HTTP_X_REFUSE"):
            start_response("409 Conflict", [("Content-Length", "0")])
            return [b""]
        digest = hashlib.md5(environ["wsgi.input"].read()).hexdigest().encode()
        start_response("201 Created", [("Content-Length", str(len(digest)))])
        return [digest]
    query = environ.get("QUERY_STRING", "")
    if query.startswith("sleep="):
        green.sleep(float(query[6:]))
    if query == "chunked":
        start_response("200 OK", [])
        return iter([b"ab", b"cde", b"f"])
    if query == "short":
        start_response("200 OK", [("Content-Length", "200000")])
        return _short()
    size = int(query[2:]) if query.startswith("n=") else 5
    start_response("200 OK", [("Content-Length", str(size))])
    return [b"x" * size]


def _short() -> Iterator[bytes]:
    yield b"y" * 65536
    raise RuntimeError("server dies mid-body")


@pytest.fixture
def served() -> Iterator[ServedApp]:
    app = ServedApp("echo", echo_app, bound_socket()).start()
    try:
        yield app
    finally:
        app.stop()


def _pool(**kwargs) -> BackendPool:
    return BackendPool(conn_timeout=1.0, node_timeout=2.0, **kwargs)


def test_sequential_requests_reuse_one_connection(served):
    pool = _pool()
    for _ in range(5):
        resp = pool.request("127.0.0.1", served.port, "GET", "/a/b")
        assert resp.read_all() == b"xxxxx"
    assert pool.connects == 1
    assert pool.idle_count("127.0.0.1", served.port) == 1


def test_without_keepalive_every_request_connects(served):
    pool = _pool(keepalive=False)
    for _ in range(3):
        assert pool.request("127.0.0.1", served.port, "GET", "/a").read_all() == b"xxxxx"
    assert pool.connects == 3
    assert pool.idle_count("127.0.0.1", served.port) == 0


def test_abandoned_body_drops_the_connection(served):
    pool = _pool()
    resp = pool.request("127.0.0.1", served.port, "GET", "/a", query="n=100000")
    assert len(resp.read(10)) == 10
    resp.close()
    assert pool.idle_count("127.0.0.1", served.port) == 0
    assert pool.request("127.0.0.1", served.port, "GET", "/a").read_all() == b"xxxxx"
    assert pool.connects == 2


def test_pooled_connection_to_a_restarted_server_is_replaced(served):
    pool = _pool()
    assert pool.request("127.0.0.1", served.port, "GET", "/a").read_all() == b"xxxxx"
    port = served.port
    served.stop()
    again = ServedApp("echo2", echo_app, bound_socket(port)).start()
    try:
        assert pool.request("127.0.0.1", port, "GET", "/a").read_all() == b"xxxxx"
        assert pool.connects == 2
    finally:
        again.stop()


def test_idle_connection_closed_by_its_server_is_not_handed_out(served):
    pool = _pool()
    assert pool.request("127.0.0.1", served.port, "GET", "/a").read_all() == b"xxxxx"
    assert pool.checkout_idle("127.0.0.1", served.port) is not None
    assert pool.request("127.0.0.1", served.port, "GET", "/a").read_all() == b"xxxxx"
    served.stop()
    assert pool.checkout_idle("127.0.0.1", served.port) is None
    assert pool.idle_count("127.0.0.1", served.port) == 0


def test_path_with_unicode_and_spaces_is_quoted(served):
    resp = _pool().request("127.0.0.1", served.port, "GET", "/d/1/a/c/caf\u00e9 o")
    assert resp.status == 200
    resp.close()


def test_chunked_response_is_decoded(served):
    resp = _pool().request("127.0.0.1", served.port, "GET", "/a", query="chunked")
    assert resp.read_all() == b"abcdef"
    assert resp.done


def test_body_cut_short_raises_protocol_error(served):
    resp = _pool().request("127.0.0.1", served.port, "GET", "/a", query="short")
    assert len(resp.read(65536)) == 65536
    with pytest.raises(ProtocolError, match="bytes unsent"):
        resp.read(65536)


def test_slow_backend_raises_timeout(served):
    pool = BackendPool(conn_timeout=1.0, node_timeout=0.2)
    with pytest.raises(errors.Timeout):
        pool.request("127.0.0.1", served.port, "GET", "/a", query="sleep=1")


def test_refused_connection_raises_oserror():
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        _pool().request("127.0.0.1", port, "GET", "/a")


def test_put_with_100_continue_streams_body_and_reads_answer(served):
    pool = _pool()
    stream = pool.open_put("127.0.0.1", served.port, "/a", {"Content-Length": "6"}, chunked=False)
    assert stream.final is None
    stream.send(b"abc")
    stream.send(b"def")
    resp = stream.finish()
    assert resp.status == 201
    assert resp.read_all() == hashlib.md5(b"abcdef").hexdigest().encode()


def test_chunked_put_is_decoded_by_the_server(served):
    stream = _pool().open_put("127.0.0.1", served.port, "/a", {}, chunked=True)
    for part in (b"abc", b"", b"def"):
        stream.send(part)
    resp = stream.finish()
    assert resp.read_all() == hashlib.md5(b"abcdef").hexdigest().encode()


def test_put_refused_before_the_body_sets_final_and_is_not_reused(served):
    pool = _pool()
    headers = {"Content-Length": "6", "X-Refuse": "yes"}
    stream = pool.open_put("127.0.0.1", served.port, "/a", headers, chunked=False)
    assert stream.final is not None
    assert stream.final.status == 409
    stream.abort()
    assert pool.idle_count("127.0.0.1", served.port) == 0
