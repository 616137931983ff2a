"""The connection side of the HTTP server: request heads and bodies read off a client socket.

``Connection`` holds a client socket and its read buffer and reads request heads (with the
head deadline and the per-IP idle cap of ``IdleConnections``); ``Input`` is ``wsgi.input``, a
body framed by Content-Length or chunked encoding, with ``100 Continue`` sent on first read.
``server`` builds requests and responses on top of them.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import socket
import time
from typing import Any

from swiftlite.common.http import chunked, head
from swiftlite.common.http.drain import Drain
from swiftlite.common.http.head import BadRequest

DRAIN_LIMIT = 1 << 20  # unread request body we read and discard to keep a connection
RECV_SIZE = 65536


class ChunkError(ValueError):
    """The client's chunked framing is broken (the app sees a ValueError, as with eventlet)."""


class Limits:
    __slots__ = (
        "client_timeout",
        "drain",
        "idle",
        "keepalive_timeout",
        "logger",
        "max_header_line",
        "max_request_line",
    )

    def __init__(
        self,
        client_timeout,
        keepalive_timeout,
        max_header_line,
        max_request_line,
        idle: IdleConnections | None = None,
        logger: logging.Logger | None = None,
        drain: Drain | None = None,
    ):
        self.logger = logger or logging.getLogger("swiftlite.http")
        self.drain = drain
        self.client_timeout = client_timeout
        self.keepalive_timeout = keepalive_timeout
        self.max_header_line = max_header_line
        self.max_request_line = max_request_line
        self.idle = idle


class IdleConnections:
    """Connections waiting for a request head, per client IP, oldest first.

    When one IP holds more than ``cap`` of them, its oldest is shut down: a client that opens
    connections and trickles (or never sends) request heads holds at most ``cap`` server
    connections, and clients from other addresses are unaffected.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.by_ip: dict[str, collections.OrderedDict[Connection, None]] = {}

    def waiting(self, conn: Connection) -> None:
        group = self.by_ip.setdefault(conn.ip, collections.OrderedDict())
        group[conn] = None
        while len(group) > self.cap:
            victim, _ = group.popitem(last=False)
            victim.evict()

    def busy(self, conn: Connection) -> None:
        group = self.by_ip.get(conn.ip)
        if group is not None:
            group.pop(conn, None)
            if not group:
                del self.by_ip[conn.ip]


class Connection:
    """A client connection's socket and read buffer."""

    __slots__ = ("buf", "evicted", "ip", "limits", "sock")

    def __init__(self, sock: Any, limits: Limits, ip: str = "") -> None:
        self.sock = sock
        self.buf = bytearray()
        self.limits = limits
        self.ip = ip
        self.evicted = False

    def evict(self) -> None:
        """Close this idle connection from another green thread (its read sees EOF)."""
        self.evicted = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def fill(self) -> bool:
        """Read once more into the buffer; False at EOF."""
        data = self.sock.recv(RECV_SIZE)
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self) -> list[bytes] | None:
        """The request line and header lines, or None when the client closed between requests.

        Lines end in CRLF; a bare CR or LF or a NUL anywhere in the head is refused (400), as
        RFC 9112 allows, so no header value can carry a line break into the app. The whole head
        must arrive within ``client_timeout`` of its first byte (408 otherwise), however slowly
        it trickles in.
        """
        drain = self.limits.drain
        if drain is None:
            return self._read_head_idle()
        drain.waiting.add(self)
        try:
            return self._read_head_idle()
        finally:
            drain.waiting.discard(self)

    def _read_head_idle(self) -> list[bytes] | None:
        idle = self.limits.idle
        if idle is None:
            return self._read_head()
        idle.waiting(self)
        try:
            return self._read_head()
        finally:
            idle.busy(self)

    def _read_head(self) -> list[bytes] | None:
        buf = self.buf
        limits = self.limits
        self.sock.settimeout(limits.keepalive_timeout)
        deadline = 0.0
        while True:
            while buf[:2] == b"\r\n":  # stray CRLF after a previous body
                del buf[:2]
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                return head.split_head(buf, end)
            head.check_partial_head(buf, limits.max_request_line, limits.max_header_line)
            if buf:
                now = time.monotonic()
                deadline = deadline or now + limits.client_timeout
                if now >= deadline:
                    raise BadRequest(408, "Request Timeout")
                self.sock.settimeout(deadline - now)
            try:
                more = self.fill()
            except TimeoutError:
                if buf and not self.evicted:
                    raise BadRequest(408, "Request Timeout") from None
                raise
            if not more:
                if buf and not self.evicted:
                    raise BadRequest(400, "Incomplete Request")
                return None

    def read_some(self, size: int) -> bytes:
        """Up to ``size`` bytes (at least one unless EOF)."""
        buf = self.buf
        if buf:
            data = bytes(buf[:size])
            del buf[:size]
            return data
        return self.sock.recv(min(size, RECV_SIZE) if size > 0 else RECV_SIZE)

    def read_line(self, limit: int) -> bytes:
        """One CRLF-terminated line without its CRLF (chunk sizes and trailers); ChunkError
        when too long, or when it ends in a bare LF or holds a CR."""
        buf = self.buf
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                line = bytes(buf[: end + 1])
                del buf[: end + 1]
                if line[-2:] != b"\r\n" or b"\r" in line[:-2]:
                    raise ChunkError("chunk line not terminated by CRLF")
                return line[:-2]
            if len(buf) > limit:
                raise ChunkError("chunk line too long")
            if not self.fill():
                raise ChunkError("connection closed inside a chunked body")

    def read_exact(self, size: int) -> bytes:
        out = []
        while size > 0:
            data = self.read_some(size)
            if not data:
                raise ChunkError("connection closed inside a chunked body")
            out.append(data)
            size -= len(data)
        return b"".join(out)


class Input:
    """``wsgi.input``: the request body, framed by Content-Length or chunked encoding."""

    def __init__(self, conn: Connection, length: int | None, chunked: bool, hundred: bool) -> None:
        self.conn = conn
        self.remaining = length if length is not None else 0
        self.chunked = chunked
        self.chunk_left = 0
        self.done = not chunked and self.remaining == 0
        self.hundred = hundred and not self.done  # a 100 Continue is owed on first read
        self.headers_sent = False
        self.pending = b""

    def _start(self) -> None:
        if self.hundred:
            self.hundred = False
            if not self.headers_sent:
                self.conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.conn.sock.settimeout(self.conn.limits.client_timeout)

    def read(self, size: int | None = -1) -> bytes:
        pending = self.pending
        if pending:  # left over by readline
            if size is None or size < 0:
                self.pending = b""
                return pending + self.read()
            self.pending = pending[size:]
            return pending[:size]
        if self.done:
            return b""
        self._start()
        if size is None or size < 0:
            parts = []
            while not self.done:
                parts.append(self._read(RECV_SIZE))
            return b"".join(parts)
        if size == 0:
            return b""
        # File semantics, as eventlet.wsgi and webob expect: ``size`` bytes unless the body
        # ends first (webob takes a short read for a client that went away).
        data = self._read(size)
        if len(data) < size and not self.done:
            parts = [data]
            got = len(data)
            while got < size and not self.done:
                more = self._read(size - got)
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        return data

    def _read(self, size: int) -> bytes:
        if self.chunked:
            return self._read_chunked(size)
        data = self.conn.read_some(min(size, self.remaining))
        if not data:
            raise ConnectionResetError(errno.ECONNRESET, "client closed before the body ended")
        self.remaining -= len(data)
        if not self.remaining:
            self.done = True
        return data

    def _read_chunked(self, size: int) -> bytes:
        conn = self.conn
        if not self.chunk_left:
            line = conn.read_line(1024)
            try:
                self.chunk_left = chunked.chunk_size(line)
            except ValueError:
                raise ChunkError(f"bad chunk size {line.split(b';', 1)[0][:20]!r}") from None
            if not self.chunk_left:
                while conn.read_line(8192):  # trailers, up to the blank line
                    pass
                self.done = True
                return b""
        data = conn.read_some(min(size, self.chunk_left))
        if not data:
            raise ChunkError("connection closed inside a chunked body")
        self.chunk_left -= len(data)
        if not self.chunk_left and conn.read_exact(2) != b"\r\n":
            raise ChunkError("chunk not followed by CRLF")
        return data

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else 1 << 62
        line = bytearray()
        while len(line) < limit:
            data = self.read(min(8192, limit - len(line)))
            if not data:
                break
            end = data.find(b"\n")
            if end >= 0:
                line += data[: end + 1]
                self.pending = data[end + 1 :] + self.pending
                break
            line += data
        return bytes(line)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(self)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def unread_small(self) -> bool:
        """Drain what is left of the body if it is small; False when it is not (close)."""
        self.pending = b""
        if self.done:
            return True
        if not self.chunked and self.remaining > DRAIN_LIMIT:
            return False
        self.hundred = False  # no 100 Continue now: the response is already out
        budget = DRAIN_LIMIT
        while not self.done and budget > 0:
            budget -= len(self._read(RECV_SIZE))
        return self.done
