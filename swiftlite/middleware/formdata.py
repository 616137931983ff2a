"""formdata: a streaming ``multipart/form-data`` reader (RFC 7578), for formpost.

``iter_parts(stream, boundary)`` yields one ``Part`` per form field, in order: its headers
(lower-cased names; values are WSGI strings, the raw bytes as latin-1, so a value that is not
UTF-8 can go on in a request header as it came) and a ``read(n)`` over its body that stops at
the next boundary. The ``Content-Disposition`` parameters (``name``, ``filename``) are real
text, decoded as UTF-8 (what browsers send), undecodable bytes replaced. A part
the caller does not read to the end is skipped when the next one is asked for, so a file of
any size passes through in bounded memory. Malformed input raises ``FormDataError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_HEADER_BYTES = 8192
READ_SIZE = 65536

# ASCII whitespace only: values are latin-1 code points standing for UTF-8 bytes, and
# Unicode's \s (or str.strip()) would eat the 0x85 and 0xA0 bytes inside them.
_PARAM = re.compile(r';[ \t]*([^ \t=;]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')
_OWS = " \t"


class FormDataError(ValueError):
    """The body is not the multipart document its boundary says it is."""


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="a"; filename="b"`` -> ``("form-data", {"name": "a", ...})``."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        quoted, plain = match.group(2), match.group(3)
        text = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain.strip(_OWS)
        params[match.group(1).lower()] = text
    return main.strip(_OWS).lower(), params


class _Buffer:
    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.data = b""
        self.eof = False

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(READ_SIZE)
        if not chunk:
            self.eof = True
            return False
        self.data += chunk
        return True


class Part:
    """One field of the form: ``headers`` and a bounded ``read``."""

    def __init__(self, buf: _Buffer, marker: bytes, headers: dict[str, str]) -> None:
        self._buf = buf
        self._marker = marker  # b"\r\n--boundary"
        self.headers = headers
        self.done = False
        raw = headers.get("content-disposition", "").encode("latin-1")
        self.disposition, self.params = parse_header_params(raw.decode("utf-8", "replace"))

    @property
    def name(self) -> str | None:
        return self.params.get("name")

    @property
    def filename(self) -> str | None:
        return self.params.get("filename")

    def read(self, size: int = -1) -> bytes:
        if self.done:
            return b""
        want = READ_SIZE if size is None or size < 0 else size
        buf, marker = self._buf, self._marker
        while True:
            at = buf.data.find(marker)
            if at == 0:
                buf.data = buf.data[len(marker) :]
                self.done = True
                return b""
            if at > 0:
                out, buf.data = buf.data[: min(at, want)], buf.data[min(at, want) :]
                return out
            # no marker yet: bytes before the last len(marker)-1 cannot start one
            safe = len(buf.data) - len(marker) + 1
            if safe >= want:
                out, buf.data = buf.data[:want], buf.data[want:]
                return out
            if not buf.fill():
                raise FormDataError("unexpected end of the form body")

    def drain(self) -> None:
        while self.read(READ_SIZE):
            pass


def _read_headers(buf: _Buffer) -> dict[str, str]:
    while b"\r\n\r\n" not in buf.data:
        if len(buf.data) > MAX_HEADER_BYTES:
            raise FormDataError("part headers too long")
        if not buf.fill():
            raise FormDataError("unexpected end of the form body")
    head, _, buf.data = buf.data.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip(_OWS).lower()] = value.strip(_OWS)
    return headers


def _after_boundary(buf: _Buffer) -> bool:
    """After a boundary: True when another part follows, False at the closing ``--``."""
    while len(buf.data) < 2:
        if not buf.fill():
            return False
    if buf.data.startswith(b"--"):
        return False
    if buf.data.startswith(b"\r\n"):
        buf.data = buf.data[2:]
        return True
    raise FormDataError("bad boundary line")


def iter_parts(stream: Any, boundary: str) -> Iterator[Part]:
    """Every part of the document read from ``stream`` (see the module doc)."""
    if not boundary or len(boundary) > 200:
        raise FormDataError("invalid boundary")
    delim = b"--" + boundary.encode("latin-1")
    buf = _Buffer(stream)
    while len(buf.data) < len(delim) + 2 and buf.fill():
        pass
    if buf.data.startswith(b"\r\n"):
        buf.data = buf.data[2:]
    if not buf.data.startswith(delim):
        raise FormDataError("invalid starting boundary")
    buf.data = buf.data[len(delim) :]
    marker = b"\r\n" + delim
    while _after_boundary(buf):
        part = Part(buf, marker, _read_headers(buf))
        yield part
        part.drain()
