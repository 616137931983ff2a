"""The lean HTTP/1.1 WSGI server, driven over raw sockets.

The server runs in its own monkey-patched process (tests/support/lean_http_app.py), started the
way a server starts; these tests write exact request bytes and parse the exact response bytes,
so framing mistakes (a stray body byte, a missing last chunk) show up as a broken next response.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import email.utils
import hashlib
import http.client
import json
import pathlib
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.support import lean_http_app
from tests.support.wait import wait_until

REPO = pathlib.Path(__file__).resolve().parents[3]
MAX_REQUEST_LINE = 4096
MAX_HEADER_LINE = 2048
DEFAULT_MAX_REQUEST_LINE = 8192  # short_server: the helper's default, as serve()'s
CLIENT_TIMEOUT = 0.3
KEEPALIVE_TIMEOUT = 1.5
SOCKET_TIMEOUT = 5.0


@dataclasses.dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: pathlib.Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _start_server(log: pathlib.Path, *options: str) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.lean_http_app", *options],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def port() -> int | None:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}:\n{log.read_text()}")
        first, newline, _ = log.read_text().partition("\n")
        return int(first) if newline else None

    try:
        return Server(wait_until(port, timeout=20, what="server port"), proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def _stop_server(server: Server) -> None:
    server.proc.kill()
    server.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = _start_server(
        tmp_path_factory.mktemp("lean-http") / "server.log",
        "--client-timeout=10",
        "--keepalive-timeout=10",
        f"--max-request-line={MAX_REQUEST_LINE}",
        f"--max-header-line={MAX_HEADER_LINE}",
    )
    yield srv
    _stop_server(srv)


@pytest.fixture(scope="module")
def short_server(tmp_path_factory) -> Iterator[Server]:
    srv = _start_server(
        tmp_path_factory.mktemp("lean-http-short") / "server.log",
        f"--client-timeout={CLIENT_TIMEOUT}",
        f"--keepalive-timeout={KEEPALIVE_TIMEOUT}",
    )
    yield srv
    _stop_server(srv)


@dataclasses.dataclass
class Response:
    version: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool = False
    terminated: bool = True  # for a chunked body: did the last-chunk arrive?

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def json(self) -> dict:
        return json.loads(self.body)


class Client:
    """One raw connection: exact bytes out, exactly parsed responses in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str = "GET", path: str = "/", **kwargs) -> Response:
        self.send(build(method, path, **kwargs))
        return self.response(method)

    def response(self, method: str = "GET") -> Response:
        status_line = self.reader.readline()
        if not status_line:
            raise EOFError("connection closed before a response")
        version, status, _reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        headers = self._header_block()
        resp = Response(version, int(status), headers, b"")
        no_body = method == "HEAD" or resp.status in (204, 304) or resp.status < 200
        if no_body:
            return resp
        if (resp.header("transfer-encoding") or "").lower() == "chunked":
            self._read_chunked(resp)
        elif resp.header("content-length") is not None:
            length = int(resp.header("content-length"))
            resp.body = self.reader.read(length)
            assert len(resp.body) == length, "connection closed inside a Content-Length body"
        else:
            resp.body = self.reader.read()
        return resp

    def _header_block(self) -> list[tuple[str, str]]:
        headers = []
        while True:
            line = self.reader.readline()
            assert line.endswith(b"\r\n"), f"header line not CRLF-terminated: {line!r}"
            if line == b"\r\n":
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            assert colon, f"malformed header line {line!r}"
            headers.append((name, value.strip()))

    def _read_chunked(self, resp: Response) -> None:
        resp.chunked = True
        parts = []
        while True:
            size_line = self.reader.readline()
            if not size_line:
                resp.terminated = False
                break
            assert size_line.endswith(b"\r\n"), f"bad chunk-size line {size_line!r}"
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self._header_block()  # trailers, then the blank line
                break
            data = self.reader.read(size)
            crlf = self.reader.read(2)
            parts.append(data)
            if len(data) < size or not crlf:
                resp.terminated = False
                break
            assert crlf == b"\r\n", f"chunk of {size} not followed by CRLF: {crlf!r}"
        resp.body = b"".join(parts)

    def at_eof(self) -> bool:
        """True when the server closed the connection (waits up to SOCKET_TIMEOUT)."""
        try:
            return self.reader.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def read_to_eof(self) -> bytes:
        try:
            return self.reader.read()
        except ConnectionResetError:
            return b""


def build(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[str, str]] | tuple = (),
    body: bytes = b"",
    version: str = "HTTP/1.1",
    length: bool = True,
) -> bytes:
    lines = [f"{method} {path} {version}", "Host: test"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body and length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*parts: bytes, ext: str = "", trailers: str = "") -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext.encode(), p) for p in parts)
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


def echo(client: Client, path: str = "/echo", **kwargs) -> dict:
    resp = client.request(kwargs.pop("method", "GET"), path, **kwargs)
    assert resp.status == 200, resp
    return resp.json()


# --- environ ---------------------------------------------------------------------------------


def test_percent_encoded_path_is_decoded_as_latin1(server) -> None:
    with Client(server.port) as c:
        env = echo(c, "/a%20b/%E2%82%AC?x=%20y&z")
    assert env["PATH_INFO"] == "/a b/\xe2\x82\xac"
    assert env["RAW_PATH_INFO"] == "/a%20b/%E2%82%AC"
    assert env["QUERY_STRING"] == "x=%20y&z"
    assert env["SCRIPT_NAME"] == ""


def test_path_without_query_has_empty_query_string(server) -> None:
    with Client(server.port) as c:
        env = echo(c, "/plain")
    assert env["PATH_INFO"] == "/plain"
    assert env.get("QUERY_STRING", "") == ""


def test_content_type_and_length_appear_only_when_sent(server) -> None:
    with Client(server.port) as c:
        bare = echo(c, "/bare")
        sent = echo(
            c, "/sent", method="PUT", headers=[("Content-Type", "image/png")], body=b"12345"
        )
    assert "CONTENT_TYPE" not in bare  # not defaulted to text/plain
    assert "CONTENT_LENGTH" not in bare
    assert sent["CONTENT_TYPE"] == "image/png"
    assert sent["CONTENT_LENGTH"] == "5"
    assert sent["REQUEST_METHOD"] == "PUT"


def test_headers_become_http_keys_and_repeats_join_with_comma(server) -> None:
    headers = [("X-Repeat", "a"), ("X-Custom-Thing", "v v"), ("x-repeat", "b")]
    with Client(server.port) as c:
        env = echo(c, headers=headers)
    assert env["headers"]["HTTP_X_REPEAT"] == "a,b"
    assert env["headers"]["HTTP_X_CUSTOM_THING"] == "v v"
    assert env["headers"]["HTTP_HOST"] == "test"


def test_header_name_with_underscore_cannot_forge_a_dashed_header(server) -> None:
    headers = [("X-Auth-User", "real"), ("X_Auth_User", "forged"), ("X_Only", "1")]
    with Client(server.port) as c:
        env = echo(c, headers=headers)
    assert env["headers"]["HTTP_X_AUTH_USER"] == "real"
    assert "HTTP_X_ONLY" not in env["headers"]


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_server_protocol_is_the_clients_version(server, version) -> None:
    with Client(server.port) as c:
        env = echo(c, version=version)
    assert env["SERVER_PROTOCOL"] == version


def test_remote_addr_scheme_and_input_terminated(server) -> None:
    with Client(server.port) as c:
        env = echo(c)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.input_terminated"] is True


def test_environ_socket_is_the_connection_socket(server) -> None:
    with Client(server.port) as c:
        env = echo(c)
        assert env["socket_peer"] == list(c.sock.getsockname())
    assert isinstance(env["socket_fileno"], int)
    assert env["socket_fileno"] >= 0


# --- keep-alive ------------------------------------------------------------------------------


def test_http11_connection_serves_several_requests(server) -> None:
    with Client(server.port) as c:
        first = echo(c, "/one")
        second = echo(c, "/two")
        assert first["socket_peer"] == second["socket_peer"]
    assert (first["PATH_INFO"], second["PATH_INFO"]) == ("/one", "/two")


def test_client_connection_close_closes_after_response(server) -> None:
    with Client(server.port) as c:
        resp = c.request(headers=[("Connection", "close")])
        assert resp.status == 200
        assert (resp.header("connection") or "").lower() == "close"
        assert c.at_eof(), "server kept the connection open after Connection: close"


def test_http10_without_keepalive_is_closed_after_response(server) -> None:
    with Client(server.port) as c:
        resp = c.request(version="HTTP/1.0")
        assert resp.status == 200
        assert c.at_eof(), "server kept an HTTP/1.0 connection open"


def test_http10_keepalive_request_keeps_connection_open(server) -> None:
    with Client(server.port) as c:
        first = c.request(path="/first", version="HTTP/1.0", headers=[("Connection", "keep-alive")])
        assert first.status == 200
        assert (first.header("connection") or "").lower() == "keep-alive"
        second = c.request(path="/second", version="HTTP/1.0")
    assert second.json()["PATH_INFO"] == "/second"


# --- request bodies --------------------------------------------------------------------------

READERS = ["/echo", "/echo-all", "/echo-lines", "/echo-mixed-lines"]
LINES_BODY = b"line one\nline two\n\nlast line without newline"


@pytest.mark.parametrize("reader", READERS)
def test_content_length_body_is_read_exactly(server, reader) -> None:
    with Client(server.port) as c:
        env = echo(c, reader, method="POST", body=LINES_BODY)
        after = echo(c, "/after")  # nothing of the body left over for the next request
    assert env["body"] == LINES_BODY.decode()
    assert env["CONTENT_LENGTH"] == str(len(LINES_BODY))
    assert after["PATH_INFO"] == "/after"


@pytest.mark.parametrize("reader", READERS)
def test_chunked_body_is_decoded_with_extensions_and_trailers(server, reader) -> None:
    parts = (b"line o", b"ne\nline two\n\n", b"l", b"ast line without newline")
    body = chunked(*parts, ext=";x=y", trailers="X-Trailer: t\r\nX-Other: u\r\n")
    headers = [("Transfer-Encoding", "chunked")]
    with Client(server.port) as c:
        env = echo(c, reader, method="POST", headers=headers, body=body, length=False)
        after = echo(c, "/after")
    assert env["body"] == LINES_BODY.decode()
    assert "CONTENT_LENGTH" not in env
    assert after["PATH_INFO"] == "/after"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_megabyte_body_arrives_intact(server, framing) -> None:
    payload = bytes(range(256)) * 4096
    if framing == "chunked":
        pieces = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
        kwargs = {
            "headers": [("Transfer-Encoding", "chunked")],
            "body": chunked(*pieces),
            "length": False,
        }
    else:
        kwargs = {"body": payload}
    with Client(server.port) as c:
        env = echo(c, "/echo-all", method="PUT", **kwargs)
    assert env["body_len"] == len(payload)
    assert env["body_md5"] == hashlib.md5(payload).hexdigest()


def test_get_without_body_reads_empty_input_without_waiting(server) -> None:
    with Client(server.port) as c:
        env = echo(c, "/echo-all")  # read() with no length must not wait for more bytes
    assert env["body_len"] == 0


def test_pipelined_request_after_body_is_answered(server) -> None:
    with Client(server.port) as c:
        c.send(build("POST", "/first", body=b"payload") + build("GET", "/second"))
        first = c.response().json()
        second = c.response().json()
    assert (first["PATH_INFO"], first["body"]) == ("/first", "payload")
    assert (second["PATH_INFO"], second["body"]) == ("/second", "")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_unread_small_body_is_discarded_before_next_request(server, framing) -> None:
    payload = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 64
    if framing == "chunked":
        request = build(
            "POST",
            "/ignore-body",
            headers=[("Transfer-Encoding", "chunked")],
            body=chunked(payload[:40], payload[40:]),
            length=False,
        )
    else:
        request = build("POST", "/ignore-body", body=payload)
    with Client(server.port) as c:
        c.send(request)
        ignored = c.response()
        after = echo(c, "/after")
    assert (ignored.status, ignored.body) == (201, b"created")
    assert after["PATH_INFO"] == "/after"


# --- Expect: 100-continue --------------------------------------------------------------------

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_continue_is_sent_when_app_reads_body(server) -> None:
    head = build("PUT", "/echo", headers=[("Expect", "100-continue"), ("Content-Length", "11")])
    with Client(server.port) as c:
        c.send(head)
        assert c.reader.read(len(CONTINUE)) == CONTINUE
        c.send(b"hello world")
        resp = c.response()
        after = echo(c, "/after")
    assert resp.status == 200
    assert resp.json()["body"] == "hello world"
    assert after["PATH_INFO"] == "/after"


def test_no_continue_is_owed_for_an_empty_body_and_connection_kept(server) -> None:
    # RFC 9110 10.1.1: a server may skip the 100 and answer; with no body to wait for, the
    # connection stays usable.
    head = build("PUT", "/echo", headers=[("Expect", "100-continue"), ("Content-Length", "0")])
    with Client(server.port) as c:
        c.send(head)
        resp = c.response()
        after = echo(c, "/after")
    assert resp.status == 200
    assert (resp.header("connection") or "").lower() != "close"
    assert after["PATH_INFO"] == "/after"


def test_continue_is_not_sent_when_app_ignores_body_and_connection_closes(server) -> None:
    head = build(
        "PUT", "/ignore-body", headers=[("Expect", "100-continue"), ("Content-Length", "11")]
    )
    with Client(server.port) as c:
        c.send(head)
        resp = c.response()  # a 100 here would show as status 100
        assert resp.status == 201
        assert (resp.header("connection") or "").lower() == "close"
        assert c.at_eof(), "server waits for a body it never asked for"


# --- responses -------------------------------------------------------------------------------


def test_date_header_added_when_app_sends_none(server) -> None:
    with Client(server.port) as c:
        resp = c.request()
    date = resp.header("date")
    assert date is not None
    assert date.endswith(" GMT")
    sent = email.utils.parsedate_to_datetime(date).timestamp()
    assert abs(sent - time.time()) < 3600


def test_app_date_header_is_kept_and_not_doubled(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/date")
    assert resp.all("date") == [lean_http_app.FIXED_DATE]
    assert resp.body == b"ok"


def test_body_with_content_length_is_sent_as_is(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/echo")
    assert resp.header("transfer-encoding") is None
    assert int(resp.header("content-length")) == len(resp.body)
    assert resp.json()["PATH_INFO"] == "/echo"


def test_unknown_length_to_http11_is_chunked_and_terminated(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/nolength")
        after = echo(c, "/after")  # the last-chunk was followed by nothing stray
    assert resp.chunked
    assert resp.terminated
    assert resp.header("content-length") is None
    assert resp.body == b"".join(lean_http_app.NOLENGTH_CHUNKS)
    assert after["PATH_INFO"] == "/after"


def test_unknown_length_to_http10_ends_with_close(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/nolength", version="HTTP/1.0")
        assert c.at_eof()
    assert resp.header("transfer-encoding") is None
    assert resp.header("content-length") is None
    assert resp.body == b"".join(lean_http_app.NOLENGTH_CHUNKS)


def test_list_result_gets_computed_content_length(server) -> None:
    expected = b"".join(lean_http_app.LIST_PARTS)
    with Client(server.port) as c:
        resp = c.request(path="/list")
    assert resp.header("transfer-encoding") is None
    assert resp.header("content-length") == str(len(expected))
    assert resp.body == expected


@pytest.mark.parametrize("path", ["/echo", "/nolength", "/list"])
def test_head_sends_headers_only_and_connection_stays_usable(server, path) -> None:
    with Client(server.port) as c:
        head = c.request("HEAD", path)
        after = echo(c, "/after")  # any body byte after HEAD would break this response
    assert head.status == 200
    assert after["PATH_INFO"] == "/after"
    if path == "/echo":
        assert int(head.header("content-length")) > 0  # as the app set it


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_status_sends_no_body(server, status) -> None:
    with Client(server.port) as c:
        resp = c.request(path=f"/status/{status}")
        after = echo(c, "/after")  # the app's body, if sent, would break this response
    assert resp.status == status
    assert resp.header("transfer-encoding") is None
    assert after["PATH_INFO"] == "/after"


def test_write_callable_sends_body(server) -> None:
    with Client(server.port) as c:
        resp = c.request(path="/write")
        after = echo(c, "/after")
    assert resp.body == b"".join(lean_http_app.WRITE_PARTS)
    assert after["PATH_INFO"] == "/after"


def test_http_client_reads_every_response_kind(server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
    try:
        bodies = {}
        for path in ("/nolength", "/list", "/write", "/echo"):
            conn.request("GET", path)
            bodies[path] = conn.getresponse().read()
    finally:
        conn.close()
    assert bodies["/nolength"] == b"".join(lean_http_app.NOLENGTH_CHUNKS)
    assert bodies["/list"] == b"".join(lean_http_app.LIST_PARTS)
    assert bodies["/write"] == b"".join(lean_http_app.WRITE_PARTS)
    assert json.loads(bodies["/echo"])["PATH_INFO"] == "/echo"


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
