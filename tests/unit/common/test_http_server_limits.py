"""The lean HTTP/1.1 server: refusals, limits, failures, timeouts and load."""

from __future__ import annotations

import concurrent.futures
import socket
import struct
import time

import pytest

from tests.support import lean_http_app
from tests.support.lean_http_client import (
    DEFAULT_MAX_REQUEST_LINE,
    KEEPALIVE_TIMEOUT,
    MAX_HEADER_LINE,
    MAX_REQUEST_LINE,
    Client,
    Response,
    Server,
    build,
    chunked,
    echo,
)

# --- errors ----------------------------------------------------------------------------------


def _rejected(server: Server, raw: bytes) -> Response:
    with Client(server.port) as c:
        c.send(raw)
        resp = c.response()
        assert c.at_eof(), f"connection left open after {resp.status}"
    return resp


def _path_for_line(length: int) -> str:
    """A path that makes ``GET <path> HTTP/1.1`` exactly ``length`` bytes (CRLF not counted)."""
    return "/" + "a" * (length - len("GET / HTTP/1.1"))


@pytest.mark.parametrize("length", [MAX_REQUEST_LINE - 1, MAX_REQUEST_LINE])
def test_request_line_up_to_limit_is_served(server, length) -> None:
    path = _path_for_line(length)
    with Client(server.port) as c:
        env = echo(c, path)
    assert env["PATH_INFO"] == path


def test_request_line_at_limit_is_not_refused_when_head_arrives_in_pieces(short_server) -> None:
    # The head is not complete yet, so the server checks the line while still reading it; a
    # line at the limit must not be refused then either (the client stalls; client_timeout
    # ends it without a 414).
    path = _path_for_line(DEFAULT_MAX_REQUEST_LINE)
    with Client(short_server.port) as c:
        c.send(f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode())
        leftover = c.read_to_eof()
    assert not leftover.startswith(b"HTTP/1.1 414"), "line of max_request_line bytes refused"


@pytest.mark.parametrize("excess", [1, 100])
def test_request_line_over_limit_is_414_and_closed(server, excess) -> None:
    resp = _rejected(server, build(path=_path_for_line(MAX_REQUEST_LINE + excess)))
    assert resp.status == 414


def _big_header(length: int) -> tuple[str, str]:
    """A header whose line ``X-Big: bbb...`` is exactly ``length`` bytes (CRLF not counted)."""
    return ("X-Big", "b" * (length - len("X-Big: ")))


def test_header_line_at_limit_is_served(server) -> None:
    with Client(server.port) as c:
        env = echo(c, headers=[_big_header(MAX_HEADER_LINE)])
    assert len(env["headers"]["HTTP_X_BIG"]) == MAX_HEADER_LINE - len("X-Big: ")


@pytest.mark.parametrize("excess", [1, 100])
def test_header_line_over_limit_is_400_and_closed(server, excess) -> None:
    resp = _rejected(server, build(headers=[_big_header(MAX_HEADER_LINE + excess)]))
    assert resp.status == 400


@pytest.mark.parametrize(("count", "status"), [(99, 200), (100, 400)])
def test_more_than_100_header_lines_is_400(server, count, status) -> None:
    # build() adds Host, so count + 1 header lines are sent: 100 pass, 101 do not.
    headers = [(f"X-H-{i}", "v") for i in range(count)]
    with Client(server.port) as c:
        resp = c.request(headers=headers)
    assert resp.status == status


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"GET / FOO/1.1\r\nHost: x\r\n\r\n"])
def test_malformed_request_line_is_400(server, raw) -> None:
    assert _rejected(server, raw).status == 400


def test_unsupported_http_version_is_505(server) -> None:
    assert _rejected(server, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n").status == 505


@pytest.mark.parametrize("value", ["abc", "-1", "+1", "", "1 1", "\xb2"])
def test_bad_content_length_is_400_and_closed(server, value) -> None:
    raw = build("PUT", headers=[("Content-Length", value)]) + b"x"
    assert _rejected(server, raw).status == 400


def test_conflicting_content_lengths_are_400(server) -> None:
    headers = [("Content-Length", "1"), ("Content-Length", "5")]
    raw = build("PUT", "/echo", headers=headers, body=b"hello", length=False)
    assert _rejected(server, raw).status == 400


@pytest.mark.parametrize("coding", ["gzip", "gzip, chunked"])
def test_unknown_transfer_coding_closes_instead_of_running_a_smuggled_request(server, coding):
    # RFC 9112 6.1: without chunked as the final coding the body length is unknown; a server
    # that guessed "no body" and kept the connection would run the body as a second request.
    # The app still answers (the proxy's 501, as Swift), then the connection closes.
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = build(
        "POST", "/echo", headers=[("Transfer-Encoding", coding)], body=smuggled, length=False
    )
    resp = _rejected(server, raw)
    assert b"/smuggled" not in resp.body
    assert (resp.header("connection") or "").lower() == "close"


def test_content_length_with_transfer_encoding_is_400(server) -> None:
    headers = [("Content-Length", "5"), ("Transfer-Encoding", "chunked")]
    raw = build("PUT", "/echo", headers=headers, body=chunked(b"hello"), length=False)
    assert _rejected(server, raw).status == 400


def test_app_exception_before_start_response_is_short_500_and_closed(server) -> None:
    resp = _rejected(server, build(path="/raise"))
    assert resp.status == 500
    assert b"Traceback" not in resp.body
    assert b"boom" not in resp.body
    assert len(resp.body) < 200


def test_app_exception_after_first_chunk_truncates_and_closes(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/raise-late")
        assert c.at_eof()
    assert resp.status == 200
    assert resp.chunked
    assert not resp.terminated, "a failed body must not look complete"
    assert resp.body == lean_http_app.LATE_CHUNK
    with Client(server.port) as c:
        assert echo(c, "/still-serving")["PATH_INFO"] == "/still-serving"


def test_a_body_cut_that_was_logged_closes_without_a_traceback_in_the_log(server) -> None:
    """catch_errors logs a short body in one line and raises BodyCut; the server must drop
    the connection (the client sees the cut) without logging a traceback on top."""
    with Client(server.port) as c:
        resp = c.request(path="/cut-late")
        assert c.at_eof()
    assert not resp.terminated, "a cut body must not look complete"
    assert resp.body == lean_http_app.LATE_CHUNK
    with Client(server.port) as c:
        assert echo(c, "/after-the-cut")["PATH_INFO"] == "/after-the-cut"
    log = server.log_text()
    assert "request /cut-late failed" not in log
    assert "cut after the first chunk" not in log


def test_idle_keepalive_connection_closed_after_keepalive_timeout(short_server) -> None:
    with Client(short_server.port) as c:
        assert echo(c)["PATH_INFO"] == "/echo"
        idle_since = time.monotonic()
        assert c.at_eof(), "idle connection outlived keepalive_timeout"
        idle = time.monotonic() - idle_since
    # Closed by keepalive_timeout, not by the much shorter client_timeout.
    assert idle > KEEPALIVE_TIMEOUT * 0.8


def test_stalled_half_request_is_dropped_after_client_timeout(short_server) -> None:
    with Client(short_server.port) as c:
        c.send(b"GET /stalled HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        leftover = c.read_to_eof()
        stalled = time.monotonic() - started
    assert b"200" not in leftover.split(b"\r\n", 1)[0]
    assert stalled < KEEPALIVE_TIMEOUT * 0.8  # client_timeout, not keepalive_timeout


def test_stalled_body_is_dropped_after_client_timeout(short_server) -> None:
    with Client(short_server.port) as c:
        c.send(build("PUT", "/echo", headers=[("Content-Length", "100")]) + b"0123456789")
        started = time.monotonic()
        leftover = c.read_to_eof()
        stalled = time.monotonic() - started
    assert not leftover.startswith(b"HTTP/1.1 200"), leftover
    assert stalled < KEEPALIVE_TIMEOUT * 0.8
    with Client(short_server.port) as c:
        assert echo(c, "/after")["PATH_INFO"] == "/after"


@pytest.mark.parametrize("how", ["half-close", "reset"])
def test_client_vanishing_mid_body_leaves_server_serving(server, how) -> None:
    with Client(server.port) as c:
        c.send(build("PUT", "/echo", headers=[("Content-Length", "1000")]) + b"0123456789")
        if how == "half-close":
            c.sock.shutdown(socket.SHUT_WR)
            leftover = c.read_to_eof()  # the server saw the end and finished with us
            assert not leftover.startswith(b"HTTP/1.1 200"), leftover
        else:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with Client(server.port) as c:
        assert echo(c, "/after")["PATH_INFO"] == "/after"
    assert server.proc.poll() is None, server.log_text()


# --- load ------------------------------------------------------------------------------------


def _keepalive_session(port: int, worker: int, requests: int) -> int:
    answered = 0
    with Client(port) as c:
        for i in range(requests):
            body = f"{worker}:{i}".encode() if i % 2 else b""
            method = "POST" if body else "GET"
            env = echo(c, f"/w{worker}/r{i}", method=method, body=body)
            assert env["PATH_INFO"] == f"/w{worker}/r{i}"
            assert env["body"] == body.decode()
            answered += 1
    return answered


def test_many_concurrent_keepalive_connections_all_answered(server) -> None:
    workers, requests = 50, 20
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_keepalive_session, server.port, w, requests) for w in range(workers)
        ]
        answered = [f.result() for f in futures]
    assert answered == [requests] * workers
