"""The lean HTTP/1.1 server: environ, keep-alive, request bodies, 100 Continue, responses."""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import select
import time

import pytest

from tests.support import lean_http_app
from tests.support.lean_http_client import (
    SOCKET_TIMEOUT,
    Client,
    build,
    chunked,
    echo,
)

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


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_read_of_a_size_waits_for_that_many_bytes_when_the_body_arrives_slowly(
    server, framing
) -> None:
    """webob reads a body with read(n) and takes a short read for a client that went away
    (a 500 for a replication batch of 129 KiB)."""
    body = bytes(range(256)) * 400  # 102400 bytes
    if framing == "chunked":
        head = build("PUT", "/read-sizes", headers=[("Transfer-Encoding", "chunked")])
        wire = chunked(body[:1000], body[1000:])
    else:
        head = build("PUT", "/read-sizes", headers=[("Content-Length", str(len(body)))])
        wire = body
    with Client(server.port) as c:
        c.send(head + wire[:1000])
        select.select([c.sock], [], [], 0.3)  # let the server's first read see only these
        c.send(wire[1000:])
        resp = c.response("PUT")
    assert resp.status == 200
    assert resp.json() == [65536, len(body) - 65536]


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
