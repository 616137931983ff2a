"""The HTTP server's request parser, checked against h11 as a reference.

For every generated request both parsers must accept it or both refuse it, and when both accept
they must see the same method, target, headers and body. The request goes through the real
server code (``Connection`` and ``_handle`` over a socketpair, in this process) and through
``h11.Connection(h11.SERVER)``.

Where RFC 9112 lets a server choose and we chose differently from h11, the verdict is ours by
rule, listed in ``DEVIATIONS``: we refuse a bare LF line ending (h11 accepts it; a bare LF
inside a header value is how header injection starts), obs-fold, HTTP/0.x and HTTP/2+ request
lines, Content-Length together with Transfer-Encoding, a Content-Length list (``1, 1``) and
two different Content-Types;
we accept a missing Host (as Swift and eventlet do), so every generated request has one.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from dataclasses import dataclass, field

import h11
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftlite.common.http import reader, server
from tests.support import fuzz_http

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VISIBLE = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass
class Seen:
    """What a parser made of a request: None fields when it refused it."""

    accepted: bool
    method: str = ""
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def env_key(name: str) -> str | None:
    """The CGI key the server uses for a header name; None for names it drops."""
    if "_" in name:
        return None
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_LENGTH", "CONTENT_TYPE") else "HTTP_" + key


def parse_ours(raw: bytes) -> Seen:
    seen: dict[str, Seen] = {}

    def app(environ, start_response):
        try:
            body = environ["wsgi.input"].read()
        except (ValueError, OSError):
            seen["result"] = Seen(False)
        else:
            target = environ.get("RAW_PATH_INFO", "")
            if environ.get("QUERY_STRING"):
                target += "?" + environ["QUERY_STRING"]
            headers = {
                k: v
                for k, v in environ.items()
                if k.startswith("HTTP_") or k in ("CONTENT_LENGTH", "CONTENT_TYPE")
            }
            seen["result"] = Seen(True, environ["REQUEST_METHOD"], target, headers, body)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(raw)
        theirs.shutdown(socket.SHUT_WR)
        limits = reader.Limits(5.0, 5.0, 8192, 8192, logger=logging.getLogger("test.h11"))
        conn = reader.Connection(ours, limits, "127.0.0.1")
        with contextlib.suppress(OSError, ValueError):  # as _serve_connection: close
            server._handle(conn, {}, app, limits.logger)
    finally:
        ours.close()
        theirs.close()
    return seen.get("result", Seen(False))


def parse_h11(raw: bytes) -> Seen:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw)
    conn.receive_data(b"")
    request = None
    body = []
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif event in (h11.NEED_DATA, h11.PAUSED) or isinstance(event, h11.ConnectionClosed):
                return Seen(False)
    except h11.RemoteProtocolError:
        return Seen(False)
    assert request is not None
    headers: dict[str, str] = {}
    for name, value in request.headers.raw_items():
        key = env_key(name.decode("latin-1"))
        if key is None:
            continue
        text = value.decode("latin-1")
        if key in headers and key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key] += "," + text
        else:
            headers[key] = text
    target = request.target.decode("latin-1")
    if target.endswith("?") and target.count("?") == 1:
        target = target[:-1]  # an empty query: the environ has no QUERY_STRING to show it
    return Seen(True, request.method.decode(), target, headers, b"".join(body))


def deviation(raw: bytes) -> bool | None:
    """Our verdict where we chose differently from h11 on purpose (see the module doc)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    if re.search(rb"(?<!\r)\n", head):
        return False  # a bare LF line ending
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) == 3 and re.fullmatch(rb"HTTP/[02-9]\.[0-9]", parts[2]):
        return False  # HTTP/0.x (400) and HTTP/2+ (505)
    if any(line[:1] in (b" ", b"\t") for line in lines[1:]):
        return False  # obs-fold
    fields = [line.split(b":", 1) for line in lines[1:]]
    names = {f[0].lower() for f in fields}
    if b"content-length" in names and b"transfer-encoding" in names:
        return False
    if any(f[0].lower() == b"content-length" and b"," in f[-1] for f in fields):
        return False  # "1, 1": h11 takes the list of equal values, we take one number only
    types = {f[-1].strip(b" \t") for f in fields if f[0].lower() == b"content-type"}
    if len(types) > 1:
        return False  # two different Content-Types: CGI has room for one
    return None


# -- requests -----------------------------------------------------------------------------------

good_names = st.one_of(
    st.sampled_from(["X-Object-Meta-A", "Content-Type", "Accept", "X_Under", "Expect"]),
    st.text(alphabet=TCHARS, min_size=1, max_size=10),
)
bad_names = st.sampled_from(["Bad Name", "X(y)", "", " X-Lead", "X-Trail "])
good_values = st.one_of(
    st.text(alphabet=VISIBLE + " \t", max_size=16),
    st.sampled_from(["", "  padded\t", "a\x01b", "\x7f", "v\x80\xff", "100-continue"]),
)
bad_values = st.sampled_from(["x\ry", "x\ny", "a\x00", "x\r\n"])


@st.composite
def header_field(draw) -> tuple[str, str]:
    """Mostly valid fields; one in ten has a bad name or value."""
    name = draw(bad_names if draw(st.integers(0, 19)) == 0 else good_names)
    value = draw(bad_values if draw(st.integers(0, 19)) == 0 else good_values)
    return name, value


@st.composite
def requests(draw) -> bytes:
    method = draw(
        st.one_of(
            st.sampled_from(["GET", "PUT", "POST", "DELETE", "LICK", "GETorHEAD_base"]),
            st.text(alphabet=TCHARS, min_size=1, max_size=8),
            st.sampled_from(["G@T", "", "GE(T"]),
        )
    )
    target = draw(
        st.one_of(
            st.text(alphabet=VISIBLE, min_size=1, max_size=20).map(lambda t: "/" + t),
            st.sampled_from(["/a?b=c", "*", "/a\x01b", "/a\tb", "/"]),
        )
    )
    version = draw(
        st.sampled_from(["HTTP/1.1"] * 6 + ["HTTP/1.0", "HTTP/2.0", "HTTP/1", "http/1.1"])
    )
    space = draw(st.sampled_from([" "] * 20 + ["  ", "\t"]))
    headers = draw(st.lists(header_field(), max_size=5))
    headers.insert(0, ("Host", "example"))  # h11 refuses HTTP/1.1 without Host; we accept
    framing, body = draw(fuzz_http.body_and_framing())
    if draw(st.integers(0, 5)) == 0 and framing and framing[0][0] == b"Content-Length":
        framing = [(b"Content-Length", draw(st.sampled_from([b"0", b"999", b"+1", b"1, 1"])))]
    eol = "\n" if draw(st.integers(0, 29)) == 0 else "\r\n"
    lines = [f"{method}{space}{target}{space}{version}"]
    lines += [f"{name}: {value}" for name, value in headers]
    head = eol.join(lines).encode("latin-1") + b"\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in framing)
    if draw(st.integers(0, 29)) == 0:
        head += b" folded continuation\r\n"
    return head + b"\r\n" + body


@settings(
    max_examples=fuzz_http.examples(400),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(requests())
def test_parser_agrees_with_h11(raw) -> None:
    ours = parse_ours(raw)
    expected = deviation(raw)
    if expected is not None:
        assert ours.accepted is expected, raw
        return
    reference = parse_h11(raw)
    assert ours.accepted == reference.accepted, (raw, ours, reference)
    if ours.accepted:
        assert (ours.method, ours.target, ours.body) == (
            reference.method,
            reference.target,
            reference.body,
        ), raw
        assert ours.headers == reference.headers, raw


def test_known_smuggling_forms_are_refused_by_both() -> None:
    for raw in (
        b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
    ):
        assert not parse_ours(raw).accepted, raw
        assert not parse_h11(raw).accepted, raw
