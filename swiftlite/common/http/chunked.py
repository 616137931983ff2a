"""HTTP/1.1 chunked framing, written and read the same way by our server and our client.

``frame(data)`` is one chunk on the wire, ``LAST_CHUNK`` ends a body (no trailers), and
``chunk_size(line)`` reads a chunk-size line: hex digits only (no sign, ``0x``, ``_`` or
space, RFC 9112 7.1), chunk extensions ignored, ``ValueError`` otherwise.
"""

from __future__ import annotations

from swiftlite.common import intparse

LAST_CHUNK = b"0\r\n\r\n"


def frame(data: bytes) -> bytes:
    """``data`` as one chunk; empty data would end the body, so callers skip it."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunk_size(line: bytes) -> int:
    """The size a chunk-size line announces (CRLF or LF at its end allowed)."""
    return intparse.parse_hex(line.split(b";", 1)[0].rstrip(b"\r\n"))
