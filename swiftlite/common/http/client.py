"""Backend HTTP: the one client every process uses to talk to a storage server.

Servers (the proxy, the object server's container updates) use a ``BackendPool`` with
keep-alive connections; daemons, CLIs and tests call ``direct_request``, one request on its own
connection with the body read into ``Response.body``. Both give the same ``Response``.

This module owns the wire protocol towards the storage servers. ``BackendPool`` keeps
idle HTTP/1.1 connections per ``(ip, port)`` and hands them out again, which saves a TCP
handshake and a server-side greenthread spawn per backend request (Swift opens a new connection
every time). A pooled connection that the server has closed meanwhile is noticed before reuse;
a request that still fails on a reused connection before any response byte arrived is retried
once on a fresh one, when its body can be replayed.

Paths are real ``str`` names and are quoted here; header values are WSGI strings (latin-1 code
points standing for wire bytes) and go out unchanged. Sockets come from ``common.green``, so
they cooperate with the eventlet hub whether or not the process is monkey-patched.

Errors: a connect or read slower than its timeout raises ``errors.Timeout``; a refused, reset
or garbled connection raises ``OSError`` (``ProtocolError`` for a garbled one). Callers treat
both as "node unavailable". This module must not know about rings, quorum or retries across
nodes: that is the proxy's job.
"""

from __future__ import annotations

import errno
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol, TypeVar

from swiftlite.common import green, intparse
from swiftlite.common.errors import Timeout
from swiftlite.common.http import chunked
from swiftlite.common.http.connection import Connection, ProtocolError

_MAX_HEADERS = 256
_OWS = " \t\r\n"
_NO_BODY_STATUSES = frozenset({204, 304})
_RETRYABLE_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.EBADF})
_R = TypeVar("_R")


def quote_path(path: str) -> str:
    """Quote a real-str path for the request line (UTF-8, ``/`` kept)."""
    return urllib.parse.quote(path, safe="/")


class Response:
    """A backend response: status and headers read, body streamed on demand.

    ``headers`` has lower-case names. Reading the body to its end hands the connection back to
    its pool; ``close()`` before the end drops the connection (its stream is out of step).
    """

    __slots__ = (
        "_chunk_left",
        "_chunked",
        "_conn",
        "_pool",
        "_remaining",
        "body",
        "header_items",
        "headers",
        "reason",
        "status",
        "will_close",
    )

    def __init__(
        self,
        pool: BackendPool | None,
        conn: Connection | None,
        status: int,
        reason: str,
        headers: dict[str, str],
        method: str,
        will_close: bool,
        header_items: list[tuple[str, str]] | None = None,
    ) -> None:
        self._pool = pool
        self._conn: Connection | None = conn
        self.body = b""  # what read_all() read (direct_request reads it for its caller)
        self.status = status
        self.reason = reason
        self.headers = headers
        self.header_items = header_items if header_items is not None else list(headers.items())
        self.will_close = will_close
        self._chunked = False
        self._chunk_left = 0
        self._remaining: int | None = None
        if method == "HEAD" or status in _NO_BODY_STATUSES or status < 200:
            self._remaining = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in headers:
            try:
                self._remaining = intparse.parse_uint(headers["content-length"])
            except ValueError:
                raise ProtocolError("bad Content-Length from backend") from None
        else:
            self.will_close = True  # body runs to EOF; the connection cannot be reused
        if self._remaining == 0:
            self._finish()

    @classmethod
    def complete(
        cls, status: int, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Response:
        """A response already read in full (no connection): for stand-ins and test doubles."""
        resp = cls(
            None, None, status, "", {k.lower(): v for k, v in (headers or {}).items()}, "HEAD", True
        )
        resp.body = body
        return resp

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    header = getheader

    @property
    def done(self) -> bool:
        return self._conn is None

    def set_timeout(self, seconds: float) -> None:
        """The per-read timeout for the rest of the body."""
        if self._conn is not None:
            self._conn.set_timeout(seconds)

    def read(self, amount: int = -1) -> bytes:
        """Up to ``amount`` body bytes (all when negative); b"" once the body is over.

        A body shorter than its Content-Length, or a broken chunk stream, raises ProtocolError,
        so a caller never mistakes a dead backend for the end of an object.
        """
        conn = self._conn
        if conn is None:
            return b""
        if self._chunked:
            return self._read_chunked(amount)
        if self._remaining is None:  # read to EOF
            data = conn.read(amount if amount >= 0 else -1)
            if not data or amount < 0:
                self._drop()
            return data
        want = self._remaining if amount < 0 else min(amount, self._remaining)
        data = conn.read(want)
        if len(data) < want:
            self._drop()
            raise ProtocolError(f"backend closed with {self._remaining - len(data)} bytes unsent")
        self._remaining -= len(data)
        if self._remaining == 0:
            self._finish()
        return data

    def _read_chunked(self, amount: int) -> bytes:
        conn = self._conn
        if conn is None:
            return b""
        out: list[bytes] = []
        total = 0
        while amount < 0 or total < amount:
            if self._chunk_left == 0:
                line = conn.readline()
                if not line.endswith(b"\n"):
                    self._drop()
                    raise ProtocolError("chunked body cut short")
                try:
                    size = chunked.chunk_size(line)
                except ValueError:
                    self._drop()
                    raise ProtocolError("bad chunk size line") from None
                if size == 0:
                    while conn.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers: ignored
                    self._finish()
                    break
                self._chunk_left = size
            want = self._chunk_left if amount < 0 else min(self._chunk_left, amount - total)
            data = conn.read(want)
            if len(data) < want:
                self._drop()
                raise ProtocolError("chunked body cut short")
            out.append(data)
            total += len(data)
            self._chunk_left -= len(data)
            if self._chunk_left == 0 and conn.read(2) != b"\r\n":
                self._drop()
                raise ProtocolError("chunk not followed by CRLF")
        return b"".join(out)

    def iter_body(self, chunk_size: int = 65536) -> Iterator[bytes]:
        try:
            while True:
                data = self.read(chunk_size)
                if not data:
                    return
                yield data
        finally:
            self.close()

    def read_all(self) -> bytes:
        """The rest of the body (kept in ``body`` too); the connection goes back to its pool."""
        self.body = self.read(-1)
        return self.body

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self.will_close or self._pool is None:
            conn.close()
        else:
            self._pool.checkin(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Abandon the body: a connection not read to its end is closed, never reused."""
        self._drop()


Head = tuple[int, str, dict[str, str], list[tuple[str, str]], bool]


def _read_head(conn: Connection) -> Head:
    """Status line and headers: (status, reason, headers by lower-case name, the header
    pairs as sent, http10)."""
    line = conn.readline()
    if not line:
        raise ProtocolError("connection closed before the status line")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if (
        len(parts) < 2
        or not parts[0].startswith("HTTP/1.")
        or len(parts[1]) != 3
        or not intparse.is_digits(parts[1])
    ):
        raise ProtocolError(f"bad status line {line[:80]!r}")
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers: dict[str, str] = {}
    items: list[tuple[str, str]] = []
    for _ in range(_MAX_HEADERS):
        raw = conn.readline()
        if raw in (b"\r\n", b"\n"):
            return status, reason, headers, items, parts[0] == "HTTP/1.0"
        if not raw:
            raise ProtocolError("connection closed inside the headers")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            continue
        # SP, HT, CR and LF only: str.strip() would also eat 0x85 and 0xA0, the last byte of
        # many UTF-8 characters (U+5605 is E5 98 85) in a metadata value
        name = name.strip(_OWS)
        key = name.lower()
        value = value.strip(_OWS)
        items.append((name, value))
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise ProtocolError("too many response headers")


def _encode_head(
    method: str, target: str, host: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]
) -> bytes:
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{k}: {v}" for k, v in items)
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


class PutStream:
    """An object PUT in progress on one backend: 100-continue, then body, then the answer."""

    __slots__ = ("chunked", "conn", "final", "pool")

    def __init__(self, pool: BackendPool, conn: Connection, chunked: bool) -> None:
        self.pool = pool
        self.conn = conn
        self.chunked = chunked
        self.final: Response | None = None  # set when the backend answered instead of 100

    def send(self, data: bytes) -> None:
        if self.chunked:
            self.conn.send_chunk(data)
        else:
            self.conn.send(data)

    def finish(self) -> Response:
        """End the body (for chunked) and read the backend's final answer."""
        if self.chunked:
            self.conn.end_chunks()
        return self.pool.read_response(self.conn, "PUT")

    def abort(self) -> None:
        self.conn.close()


class BackendPool:
    """Keep-alive connections per backend node, with conn/node timeouts.

    ``keepalive=False`` makes every request use a fresh connection (``Connection: close``),
    which is what Swift does; it exists for the benchmark and for debugging.
    """

    def __init__(
        self,
        conn_timeout: float = 0.5,
        node_timeout: float = 10.0,
        max_idle_per_node: int = 16,
        keepalive: bool = True,
    ) -> None:
        self.conn_timeout = conn_timeout
        self.node_timeout = node_timeout
        self.max_idle_per_node = max_idle_per_node
        self.keepalive = keepalive
        self._idle: dict[tuple[str, int], list[Connection]] = {}
        self.connects = 0  # new connections made (tests and bench read it)

    # -- connections ---------------------------------------------------------------------------
    def connect(self, ip: str, port: int, conn_timeout: float | None = None) -> Connection:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sock = green.green_socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.conn_timeout if conn_timeout is None else conn_timeout)
        try:
            sock.connect((ip, port))
        except TimeoutError:
            sock.close()
            raise Timeout(f"connect to {ip}:{port} timed out") from None
        except OSError:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1
        return Connection((ip, port), sock)

    def checkout(self, ip: str, port: int, conn_timeout: float | None = None) -> Connection:
        return self.checkout_idle(ip, port) or self.connect(ip, port, conn_timeout)

    def checkout_idle(self, ip: str, port: int) -> Connection | None:
        """A pooled connection the server still keeps open, or None (no I/O wait either way)."""
        idle = self._idle.get((ip, port))
        while idle:
            conn = idle.pop()
            if conn.looks_alive():
                conn.reused = True
                return conn
            conn.close()
        return None

    def checkin(self, conn: Connection) -> None:
        if not self.keepalive:
            conn.close()
            return
        idle = self._idle.setdefault(conn.addr, [])
        if len(idle) >= self.max_idle_per_node:
            conn.close()
        else:
            idle.append(conn)

    def close_all(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()

    def idle_count(self, ip: str, port: int) -> int:
        return len(self._idle.get((ip, port), ()))

    # -- requests ------------------------------------------------------------------------------
    def _prepare(
        self, ip: str, port: int, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> tuple[str, dict[str, str]]:
        target = quote_path(path) + (f"?{query}" if query else "")
        send_headers = dict(headers)
        if not self.keepalive:
            send_headers["Connection"] = "close"
        return target, send_headers

    def request(
        self,
        ip: str,
        port: int,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        query: str = "",
        timeout: float | None = None,
        conn: Connection | None = None,
        conn_timeout: float | None = None,
    ) -> Response:
        """Send one request with an in-memory body and return the response (body unread).

        ``conn`` is a connection to ``ip:port`` already checked out for this request.
        """
        target, send_headers = self._prepare(ip, port, method, path, query, headers or {})
        if body or method in ("PUT", "POST"):
            send_headers["Content-Length"] = str(len(body))
        wire = _encode_head(method, target, f"{ip}:{port}", send_headers) + body
        return self._exchange(
            ip, port, wire, lambda c: self.read_response(c, method), timeout, conn, conn_timeout
        )[1]

    def _exchange(
        self,
        ip: str,
        port: int,
        wire: bytes,
        read: Callable[[Connection], _R],
        timeout: float | None,
        conn: Connection | None = None,
        conn_timeout: float | None = None,
    ) -> tuple[Connection, _R]:
        """Send ``wire`` and ``read`` the answer on ``conn`` (or a checked-out connection); a
        reused connection that the backend closed while idle is tried once more on a new one."""
        for attempt in (1, 2):
            if conn is None or attempt == 2:
                conn = self.checkout(ip, port, conn_timeout)
            conn.set_timeout(self.node_timeout if timeout is None else timeout)
            try:
                conn.send(wire)
                return conn, read(conn)
            except OSError as exc:
                conn.close()
                if attempt == 1 and conn.reused and _stale(exc):
                    continue
                raise
            except Timeout:
                conn.close()
                raise
        raise ProtocolError("unreachable")  # pragma: no cover

    def direct_request(
        self,
        ip: str,
        port: int,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        conn_timeout: float | None = None,
        node_timeout: float | None = None,
        query: str = "",
    ) -> Response:
        """One request whose response body is read into ``Response.body`` (the connection is
        back in the pool, or closed, when this returns)."""
        data = body if isinstance(body, bytes) else b"".join(body or ())
        resp = self.request(
            ip, port, method, path, headers, data, query, node_timeout, conn_timeout=conn_timeout
        )
        try:
            resp.read_all()
        finally:
            resp.close()
        return resp

    def read_response(self, conn: Connection, method: str) -> Response:
        """Read a final response (skipping stray 1xx) from ``conn``; closes it on failure."""
        conn.quickack()
        try:
            while True:
                status, reason, headers, items, http10 = _read_head(conn)
                if status >= 200 or status == 101:
                    break
        except (OSError, Timeout):
            conn.close()
            raise
        will_close = (
            http10
            or "close" in headers.get("connection", "").lower()
            or not self.keepalive
            or status == 101
        )
        return Response(self, conn, status, reason, headers, method, will_close, items)

    def open_put(
        self,
        ip: str,
        port: int,
        path: str,
        headers: Mapping[str, str],
        chunked: bool,
        timeout: float | None = None,
    ) -> PutStream:
        """Send a PUT's head with ``Expect: 100-continue`` and wait for the backend's word.

        Returns a stream ready for the body, or one whose ``final`` holds the response the
        backend gave instead of 100 (409, 412, 507...); such a connection is not reused.
        """
        target, send_headers = self._prepare(ip, port, "PUT", path, "", headers)
        send_headers["Expect"] = "100-continue"
        if chunked:
            send_headers.pop("Content-Length", None)
            send_headers["Transfer-Encoding"] = "chunked"
        wire = _encode_head("PUT", target, f"{ip}:{port}", send_headers)
        conn, (status, reason, rheaders, items, _http10) = self._exchange(
            ip, port, wire, _read_head, timeout
        )
        stream = PutStream(self, conn, chunked)
        if status != 100:
            # The backend answered without wanting the body: the request stream is out of
            # step now, so this connection is never reused.
            stream.final = Response(None, conn, status, reason, rheaders, "PUT", True, items)
        return stream


def _stale(exc: OSError) -> bool:
    """A failure that a server closing an idle keep-alive connection would cause."""
    return isinstance(exc, ProtocolError) or exc.errno in _RETRYABLE_ERRNOS


# Plain requests share no connections (keepalive=False sends "Connection: close").
_PLAIN = BackendPool(keepalive=False)


def direct_request(
    ip: str,
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
    conn_timeout: float = 0.5,
    node_timeout: float = 10.0,
    query: str = "",
) -> Response:
    """One request on its own connection, body read into ``Response.body``: what daemons,
    CLIs and tests use. A slow connect or read raises ``errors.Timeout``; a refused, reset or
    garbled connection raises ``OSError``."""
    return _PLAIN.direct_request(
        ip, port, method, path, headers, body, conn_timeout, node_timeout, query
    )


# The shape of ``direct_request`` (and ``BackendPool.direct_request``): daemons take one so
# tests can hand them an in-process sender.
Requester = Callable[..., Response]


class Device(Protocol):
    """Where one device is served (a ring's ``Node`` is one): all ``to_device`` reads."""

    @property
    def ip(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def device(self) -> str: ...


class Timeouts(Protocol):
    """A daemon's options as ``device_status`` reads them."""

    @property
    def conn_timeout(self) -> float: ...

    @property
    def node_timeout(self) -> float: ...


def device_status(
    request: Requester,
    node: Device,
    method: str,
    path: str,
    headers: Mapping[str, str],
    timeouts: Timeouts,
    failed: Callable[[Exception], None],
) -> int | None:
    """``method /<device><path>`` (no body) to ring node ``node`` through ``request``: the
    status, or None after ``failed(exc)`` when the node could not be reached or timed out."""
    try:
        resp = request(
            node.ip,
            node.port,
            method,
            f"/{node.device}{path}",
            headers,
            None,
            timeouts.conn_timeout,
            timeouts.node_timeout,
        )
    except (OSError, Timeout, green.Timeout) as exc:
        failed(exc)
        return None
    return resp.status
