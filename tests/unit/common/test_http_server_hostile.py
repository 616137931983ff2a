"""The lean HTTP/1.1 server under hostile input: line breaks in heads, framing, names, deadlines.

Each test sends exact bytes over a raw socket (``tests/support/lean_http_client.py``) and names
the failure it proves absent; each failed on the server before issue 13's fixes.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.lean_http_client import (
    SOCKET_TIMEOUT,
    Client,
    Response,
    Server,
    build,
    chunked,
    echo,
    start_server,
    stop_server,
)

TRICKLE_CLIENT_TIMEOUT = 0.5


def _refused(server: Server, raw: bytes) -> Response:
    with Client(server.port) as c:
        c.send(raw)
        resp = c.response()
        assert c.at_eof(), f"connection left open after {resp.status}"
    return resp


def _head(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n"


# --- line breaks and NUL inside a head -------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"Content-Type: text/plain\nSet-Cookie: x=1",  # bare LF: a second header smuggled in
        b"Content-Type: text/plain\rSet-Cookie: x=1",  # bare CR
        b"X-Object-Meta-A: a\x00b",  # NUL
        b"X-Object-Meta-A: \n",
    ],
)
def test_header_line_with_bare_cr_lf_or_nul_is_400(server, line) -> None:
    raw = _head(b"PUT /echo HTTP/1.1", b"Host: x", line, b"Content-Length: 0")
    resp = _refused(server, raw)
    assert resp.status == 400
    assert not resp.all("Set-Cookie")


def test_bare_lf_head_is_400_at_once_not_left_to_time_out(server) -> None:
    started = time.monotonic()
    resp = _refused(server, b"GET /echo HTTP/1.1\nHost: x\n\n")
    assert resp.status == 400
    assert time.monotonic() - started < SOCKET_TIMEOUT / 2


def test_nul_in_request_target_reaches_the_app_which_judges_the_name(server) -> None:
    # Swift's 412 for a raw NUL in a name comes from the proxy, so the server must not answer
    # 400 first; a NUL in a header line is still refused (above).
    with Client(server.port) as c:
        c.send(_head(b"GET /echo\x00b HTTP/1.1", b"Host: x"))
        resp = c.response()
    assert resp.status != 400


def test_buggy_app_header_with_crlf_is_dropped_not_sent(server) -> None:
    with Client(server.port) as c:
        resp = c.request("GET", "/split-header")
    assert resp.status == 200
    assert not resp.all("Set-Cookie")  # the forged header never reaches the wire
    assert resp.header("X-Echo") is None
    assert resp.header("X-Fine") == "yes"
    assert "dropped response header X-Echo" in server.log_text()


# --- the request line: split on SP only, any method token --------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "\u1801",  # E1 A0 81: 0xA0 is whitespace to str.split()
        "\u0105",  # C4 85: 0x85 (NEL) likewise
        "\u071c\u07df",  # DC 9C DF 9F
        "x\x1cy\x1dz\x1ew\x1f",  # ASCII separators: refused as control bytes
    ],
)
def test_raw_utf8_target_is_split_on_space_only(server, name) -> None:
    raw_name = name.encode("utf-8")
    raw = _head(b"GET /c/" + raw_name + b" HTTP/1.1", b"Host: x")
    with Client(server.port) as c:
        c.send(raw)
        resp = c.response()
    if any(ch < " " for ch in name):
        assert resp.status == 400
        return
    assert resp.status == 200, resp
    assert resp.json()["PATH_INFO"] == "/c/" + raw_name.decode("latin-1")


@pytest.mark.parametrize("name", ["\u1801\u5605", "\u00a0\u0085"])
def test_percent_encoded_utf8_target_round_trips(server, name) -> None:
    quoted = "".join(f"%{b:02X}" for b in name.encode("utf-8"))
    with Client(server.port) as c:
        env = echo(c, "/c/" + quoted)
    assert env["PATH_INFO"].encode("latin-1").decode("utf-8") == "/c/" + name


@pytest.mark.parametrize("method", ["GETorHEAD_base", "LICK", "M-SEARCH", "x"])
def test_unknown_method_token_reaches_the_app(server, method) -> None:
    with Client(server.port) as c:
        env = echo(c, method=method)
    assert env["REQUEST_METHOD"] == method


@pytest.mark.parametrize("line", [b"G@T / HTTP/1.1", b"GET  / HTTP/1.1", b"GET / HTTP/1.1 "])
def test_malformed_request_line_is_still_400(server, line) -> None:
    assert _refused(server, _head(line, b"Host: x")).status == 400


# --- header bytes are kept exactly --------------------------------------------------------------


@pytest.mark.parametrize("value", ["\u5605", "x\u00a0", "\u0105"])
def test_header_value_ending_in_0x85_or_0xa0_is_byte_exact(server, value) -> None:
    raw_value = value.encode("utf-8")
    raw = _head(b"GET /echo HTTP/1.1", b"Host: x", b"X-Object-Meta-V: " + raw_value + b" \t")
    with Client(server.port) as c:
        c.send(raw)
        env = c.response().json()
    assert env["headers"]["HTTP_X_OBJECT_META_V"] == raw_value.decode("latin-1")


def test_utf8_header_name_keeps_its_bytes(server) -> None:
    name = "X-Object-Meta-\u5605\u00e9".encode()
    raw = _head(b"GET /echo HTTP/1.1", b"Host: x", name + b": v")
    with Client(server.port) as c:
        c.send(raw)
        env = c.response().json()
    key = "HTTP_X_OBJECT_META_" + "\u5605\u00e9".encode().decode("latin-1")
    assert env["headers"].get(key) == "v", env["headers"]


# --- keep-alive ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_keep_alive_request_gets_keep_alive_response(server, version) -> None:
    with Client(server.port) as c:
        resp = c.request("GET", "/echo", headers=[("Connection", "keep-alive")], version=version)
        assert resp.header("Connection") == "keep-alive"
        again = c.request("GET", "/echo", headers=[("Connection", "keep-alive")], version=version)
        assert again.status == 200


def test_close_request_gets_close_response(server) -> None:
    with Client(server.port) as c:
        resp = c.request("GET", "/echo", headers=[("Connection", "close")])
        assert resp.header("Connection") == "close"
        assert c.at_eof()


# --- framing: one rule, in the server ----------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "status"),
    [
        ("gzip, chunked", 501),
        ("gzip", 501),
        ("chunked, chunked", 400),
        ("chunked, gzip", 400),
        ("chunked,", 400),
        ("", 400),
    ],
)
def test_transfer_coding_other_than_lone_chunked_is_refused(server, coding, status) -> None:
    raw = build(
        "PUT",
        "/echo",
        headers=[("Transfer-Encoding", coding)],
        body=chunked(b"hello"),
        length=False,
    )
    assert _refused(server, raw).status == status


def test_two_chunked_headers_are_400_not_an_empty_body(server) -> None:
    headers = [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]
    raw = build("PUT", "/echo", headers=headers, body=chunked(b"hello"), length=False)
    assert _refused(server, raw).status == 400


def test_chunked_in_capitals_is_still_chunked(server) -> None:
    raw = build(
        "PUT",
        "/echo",
        headers=[("Transfer-Encoding", "Chunked")],
        body=chunked(b"hi"),
        length=False,
    )
    with Client(server.port) as c:
        c.send(raw)
        assert c.response().json()["body"] == "hi"


@pytest.mark.parametrize("size", [b"0x5", b"0_5", b"+5", b" 5", b"5 ", b"-5", b"\xd9\xa5"])
def test_lenient_chunk_size_is_refused(server, size) -> None:
    body = size + b"\r\nhello\r\n0\r\n\r\n"
    raw = build("PUT", "/echo-all", headers=[("Transfer-Encoding", "chunked")], length=False)
    with Client(server.port) as c:
        c.send(raw + body)
        resp = c.response()
    assert resp.status != 200, resp.body


def test_chunk_data_followed_by_two_spaces_not_crlf_is_refused(server) -> None:
    body = b"5\r\nhello  0\r\n\r\n"
    raw = build("PUT", "/echo-all", headers=[("Transfer-Encoding", "chunked")], length=False)
    with Client(server.port) as c:
        c.send(raw + body)
        assert c.response().status != 200


@pytest.mark.parametrize("value", ["\u0665", "5" * 21, "0x5"])
def test_non_ascii_or_overlong_content_length_is_400(server, value) -> None:
    raw = _head(b"PUT /echo HTTP/1.1", b"Host: x", b"Content-Length: " + value.encode())
    assert _refused(server, raw).status == 400


# --- the head deadline and the idle cap ---------------------------------------------------------


@pytest.fixture(scope="module")
def trickle_server(tmp_path_factory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("lean-http-trickle") / "server.log",
        f"--client-timeout={TRICKLE_CLIENT_TIMEOUT}",
        "--keepalive-timeout=5",
        "--max-idle-per-ip=3",
    )
    yield srv
    stop_server(srv)


def test_head_trickled_a_byte_at_a_time_gets_408_at_the_deadline(trickle_server) -> None:
    # One byte every tenth of a second never hits a per-read timeout of half a second; only
    # a deadline for the whole head stops it.
    head = build("GET", "/trickled", headers=[("X-Pad", "p" * 200)])
    with Client(trickle_server.port) as c:
        started = time.monotonic()
        answer = b""
        for byte in head[:-1]:
            try:
                c.send(bytes([byte]))
            except OSError:
                break
            c.sock.settimeout(0.1)
            try:
                answer = c.sock.recv(1024)
            except TimeoutError:
                continue
            finally:
                c.sock.settimeout(SOCKET_TIMEOUT)
            break
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert took < TRICKLE_CLIENT_TIMEOUT + 2


def test_idle_connections_past_the_per_ip_cap_close_oldest_first(trickle_server) -> None:
    conns: list[Client] = []
    try:
        # open one connection, prove it is served, leave it idle, then open the next
        for _ in range(5):
            conns.append(Client(trickle_server.port))
            assert echo(conns[-1])["PATH_INFO"] == "/echo"
        assert conns[0].at_eof()  # the two oldest were shut
        assert conns[1].at_eof()
        for c in conns[2:]:
            assert echo(c, "/still")["PATH_INFO"] == "/still"
    finally:
        for c in conns:
            c.close()


def test_idle_cap_counts_per_address(trickle_server) -> None:
    # 127.0.0.2 is another client address on loopback: its connections do not evict ours
    ours: list[Client] = []
    try:
        for _ in range(3):
            ours.append(Client(trickle_server.port))
            assert echo(ours[-1])["PATH_INFO"] == "/echo"
        others = []
        for _ in range(3):
            sock = socket.create_connection(
                ("127.0.0.1", trickle_server.port),
                timeout=SOCKET_TIMEOUT,
                source_address=("127.0.0.2", 0),
            )
            others.append(sock)
            sock.sendall(build("GET", "/other"))
            assert sock.recv(12).startswith(b"HTTP/1.1 200")
        for c in ours:
            assert echo(c, "/mine")["PATH_INFO"] == "/mine"
        for sock in others:
            sock.close()
    finally:
        for c in ours:
            c.close()
