"""The request head, parsed from bytes (pure): request line, header lines, framing codings.

RFC 9112 as the HTTP server applies it. Lines end in CRLF; a bare CR or LF or a NUL anywhere in
the head is refused, so no header value can carry a line break into an app. The request line is
split on the space byte only, and any method token passes. Header names are tokens, or UTF-8
(obs-text) as Swift's clients send metadata names; obs-fold is refused. Everything refused is a
``BadRequest`` with the status to answer before closing.
"""

from __future__ import annotations

import re
from typing import Any

MAX_HEADERS = 100

# RFC 9110 tokens. Header names may also hold obs-text (bytes 0x80-0xFF): Swift clients send
# UTF-8 metadata names raw, and eventlet.wsgi accepts them.
_METHOD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z\x80-\xff]+")
_CODING = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
# A target is visible bytes; raw bytes >= 0x80 pass (UTF-8 names sent unencoded, as Swift's
# clients do); any other control byte, SP or DEL does not. A raw NUL passes to the app, which
# judges the name (the proxy's 412 "contains NULL", the same as for an encoded %00).
_BAD_TARGET = re.compile(rb"[\x01-\x20\x7f]")


class BadRequest(Exception):
    """A request the server refuses before the app sees it: status, reason, then close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _nul_in_fields(head: bytes | bytearray) -> bool:
    """True when a NUL sits past the request line (in a header line)."""
    first = head.find(b"\n")
    return first >= 0 and head.find(b"\x00", first) >= 0


def split_head(buf: bytearray, end: int) -> list[bytes]:
    """Take the head ending at ``end`` off ``buf`` as lines; 400 for a bare CR or LF, or a NUL
    in a header line (the request target's NUL is the app's to judge)."""
    head = bytes(buf[:end])
    del buf[: end + 4]
    crlf = head.count(b"\r\n")
    if head.count(b"\n") != crlf or head.count(b"\r") != crlf or _nul_in_fields(head):
        raise BadRequest(400, "Bad Request")
    return head.split(b"\r\n")


def check_partial_head(buf: bytearray, max_request_line: int, max_header_line: int) -> None:
    """Refuse an unfinished head early: a bare-LF end or a field's NUL (400), or one past the
    limits."""
    if b"\n\n" in buf or _nul_in_fields(buf):
        raise BadRequest(400, "Bad Request")
    first = buf.find(b"\n")
    if first > 0 and buf[first - 1] == 13:  # CR: not part of the line's length
        first -= 1
    longest = max_request_line
    if first > longest or (first < 0 and len(buf) > longest + 1):  # + 1: a CR
        raise BadRequest(414, "Request-URI Too Long")
    most = max_request_line + MAX_HEADERS * (max_header_line + 2) + 4
    if len(buf) > most:
        raise BadRequest(400, "Headers Too Large")


def request_line(line: bytes, max_request_line: int) -> tuple[str, str, bool]:
    """(method, target, is HTTP/1.1) from the request line.

    Split on the space byte only: bytes such as 0x85, 0xA0 or 0x1C-0x1F, which
    ``str.split()`` treats as whitespace, occur inside UTF-8 names. Any method token is
    passed on (the app answers 405 for one it does not implement).
    """
    if len(line) > max_request_line:
        raise BadRequest(414, "Request-URI Too Long")
    parts = line.split(b" ")
    if len(parts) != 3:
        raise BadRequest(400, "Bad Request")
    method, target, version = parts
    matched = _VERSION.fullmatch(version)
    if (
        matched is None
        or _METHOD.fullmatch(method) is None
        or not target
        or _BAD_TARGET.search(target) is not None
    ):
        raise BadRequest(400, "Bad Request")
    major, minor = int(matched[1]), int(matched[2])
    if major >= 2:
        raise BadRequest(505, "HTTP Version Not Supported")
    if major < 1:
        raise BadRequest(400, "Bad Request")
    return method.decode("ascii"), target.decode("latin-1"), minor >= 1


def headers_into(env: dict[str, Any], lines: list[bytes], max_line: int) -> None:
    """Header lines into ``env`` as CGI keys; names with ``_`` are dropped (spoofing)."""
    for line in lines[1:]:
        if len(line) > max_line:
            raise BadRequest(400, "Header Line Too Long")
        name, sep, value = line.partition(b":")
        if not sep or _FIELD_NAME.fullmatch(name) is None:  # also refuses obs-fold
            raise BadRequest(400, "Bad Request")
        if b"_" in name:
            continue
        # bytes.upper() changes ASCII letters only: UTF-8 in a name stays as it came
        key = name.upper().replace(b"-", b"_").decode("latin-1")
        text = value.strip(b" \t").decode("latin-1")
        if key == "CONTENT_LENGTH" or key == "CONTENT_TYPE":
            if key in env and env[key] != text:
                raise BadRequest(400, "Bad Request")
            env[key] = text
            continue
        key = "HTTP_" + key
        if key in env:
            env[key] += "," + text
        else:
            env[key] = text


def check_codings(coding: str) -> None:
    """Refuse any Transfer-Encoding but a lone ``chunked``: 400 when the list is malformed,
    names chunked twice or not last (RFC 9112 6.3); 501 for a coding we do not implement (as
    Swift answers ``gzip``)."""
    codings = [c.strip(" \t").lower() for c in coding.split(",")]
    if codings == ["chunked"]:
        return
    if (
        any(_CODING.fullmatch(c) is None for c in codings)
        or codings.count("chunked") > 1
        or ("chunked" in codings and codings[-1] != "chunked")
    ):
        raise BadRequest(400, "Bad Request")
    raise BadRequest(501, "Not Implemented")
