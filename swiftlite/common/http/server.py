"""A lean HTTP/1.1 server for WSGI apps, on green sockets.

Every swiftlite server runs its app through ``serve``. It keeps eventlet.wsgi's observable
behaviour (environ keys, keep-alive rules, ``100 Continue`` on first read, chunked bodies both
ways, ``Date``, the same 400/414/505 refusals) with much less work per request: the head is
split by hand instead of through ``email.parser``, the environ is built in one pass, and the
status line, headers and a small body leave in one ``send``. Profiles of the object server put
eventlet.wsgi at about 40% of a HEAD's CPU; see bench/README.md for the figures.

One green thread serves one connection; ``max_clients`` bounds them. ``environ`` carries the
connection socket as ``swiftlite.socket`` so the object server can ``sendfile`` to it.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

from swiftlite.common import green, intparse, logs
from swiftlite.common.http import chunked, head
from swiftlite.common.http.drain import Drain
from swiftlite.common.http.head import MAX_HEADERS, BadRequest

__all__ = ["MAX_HEADERS", "BadRequest", "ChunkError", "serve"]
DRAIN_LIMIT = 1 << 20  # unread request body we read and discard to keep a connection
RECV_SIZE = 65536
_BODYLESS_STATUS = frozenset((204, 304))
_GONE = frozenset((errno.EPIPE, errno.ECONNRESET, errno.ESHUTDOWN, errno.EBADF, errno.ENOTCONN))


class ChunkError(ValueError):
    """The client's chunked framing is broken (the app sees a ValueError, as with eventlet)."""


class _Dates:
    """The ``Date`` header value, formatted once per second."""

    second = -1
    value = ""

    @classmethod
    def now(cls) -> str:
        sec = int(time.time())
        if sec != cls.second:
            cls.value = formatdate(sec, usegmt=True)
            cls.second = sec
        return cls.value


class _Limits:
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
        idle: _IdleConnections | None = None,
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


class _IdleConnections:
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

    def __init__(self, sock: Any, limits: _Limits, ip: str = "") -> None:
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


def _error_response(status: int, reason: str, body: bytes | None = None) -> bytes:
    """A whole short response that closes the connection (the body defaults to the reason)."""
    if body is None:
        body = reason.encode("latin-1") + b"\n"
    return (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nDate: {_Dates.now()}\r\n\r\n"
    ).encode("latin-1") + body


class Request:
    """One request on a connection: builds the environ, runs the app, frames the response."""

    def __init__(self, conn: Connection, base: dict[str, Any], lines: list[bytes]) -> None:
        self.conn = conn
        self.keep = False
        self.status_code = 0
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.headers_sent = False
        self.chunked_out = False
        self.bodyless = False
        self.environ = self._environ(base, lines)

    def _environ(self, base: dict[str, Any], lines: list[bytes]) -> dict[str, Any]:
        env = dict(base)
        limits = self.conn.limits
        method, target, self.http11 = head.request_line(lines[0], limits.max_request_line)
        env["REQUEST_METHOD"] = method
        if target[:1] != "/" and "://" in target:  # absolute form: keep the path
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        env["RAW_PATH_INFO"] = path
        env["PATH_INFO"] = urllib.parse.unquote(path, encoding="latin1")
        if query:
            env["QUERY_STRING"] = query
        env["SERVER_PROTOCOL"] = "HTTP/1.1" if self.http11 else "HTTP/1.0"
        if len(lines) > MAX_HEADERS + 1:
            raise BadRequest(400, "Headers Too Large")
        head.headers_into(env, lines, limits.max_header_line)
        env["wsgi.input"] = self.input = self._input(env)
        return env

    def _input(self, env: dict[str, Any]) -> Input:
        """The body's framing, decided here once (RFC 9112 6): chunked must be the only coding,
        a Content-Length is ASCII digits, and both at once are refused. The app never derives
        framing from headers again."""
        coding = env.get("HTTP_TRANSFER_ENCODING")
        length_text = env.get("CONTENT_LENGTH")
        length = None
        if length_text is not None:
            if coding is not None:
                raise BadRequest(400, "Bad Request")
            try:
                length = intparse.parse_uint(length_text)
            except ValueError:
                raise BadRequest(400, "Bad Request") from None
        chunked = coding is not None
        if coding is not None:
            head.check_codings(coding)
            env["HTTP_TRANSFER_ENCODING"] = "chunked"
        hundred = env.get("HTTP_EXPECT", "").lower() == "100-continue"
        return Input(self.conn, length, chunked, hundred)

    # -- response --------------------------------------------------------------------------
    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.headers_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        code = int(status[:3])
        self.status_code = code
        self.status = status
        self.headers = headers
        self.bodyless = (
            code in _BODYLESS_STATUS or code < 200 or self.environ["REQUEST_METHOD"] == "HEAD"
        )
        return self.write

    def _keep_alive(self, asked: str) -> bool:
        """What the client asked for, unless the worker is draining (its last response)."""
        drain = self.conn.limits.drain
        if drain is not None and drain.draining:
            return False
        return "close" not in asked if self.http11 else "keep-alive" in asked

    def _head(self, length: int | None) -> bytes:
        """Status line and headers; ``length`` is added when the app gave none."""
        asked = self.environ.get("HTTP_CONNECTION", "").lower()
        self.keep = self._keep_alive(asked)
        out = [f"HTTP/1.1 {self.status}\r\n"]
        has_length = has_date = False
        for name, value in self.headers:
            low = name.lower()
            if low == "content-length":
                has_length = True
            elif low == "date":
                has_date = True
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                # never split a response: an app bug must not let a client write headers
                self.conn.limits.logger.error(
                    "dropped response header %s: it holds a line break", logs.escape(name)
                )
                continue
            out.append(f"{name}: {value}\r\n")
        if not has_date:
            out.append(f"Date: {_Dates.now()}\r\n")
        if not has_length and not self.bodyless:
            if length is not None:
                out.append(f"Content-Length: {length}\r\n")
            elif self.http11:
                self.chunked_out = True
                out.append("Transfer-Encoding: chunked\r\n")
            else:
                self.keep = False  # an HTTP/1.0 client reads to EOF
        body = self.input
        if body.hundred or (not body.chunked and body.remaining > DRAIN_LIMIT):
            self.keep = False  # the body will not be read: the client must not send it here
        if not self.keep:
            out.append("Connection: close\r\n")
        elif not self.http11 or "keep-alive" in asked:
            out.append("Connection: keep-alive\r\n")
        out.append("\r\n")
        return "".join(out).encode("latin-1")

    def write(self, data: bytes, length: int | None = None) -> None:
        if self.status_code == 0:
            raise AssertionError("write() before start_response()")
        if not self.headers_sent:
            head = self._head(length)
            self.headers_sent = self.input.headers_sent = True
        else:
            head = b""
        if self.bodyless:
            data = b""
        elif self.chunked_out and data:
            data = chunked.frame(data)
        if head or data:
            self.conn.sock.sendall(head + data if head else data)

    def run(self, app: Callable[..., Iterable[bytes]]) -> None:
        result = app(self.environ, self.start_response)
        try:
            if isinstance(result, (list, tuple)) and not self.headers_sent and self.status_code:
                # A whole body: one send, with a length (no chunked framing needed).
                body = b"".join(result)
                self.write(body, len(body))
            else:
                for data in result:
                    if data:
                        self.write(data)
                if not self.headers_sent:
                    self.write(b"")
            if self.chunked_out:
                self.conn.sock.sendall(chunked.LAST_CHUNK)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _handle(conn: Connection, base: dict[str, Any], app: Any, logger: logging.Logger) -> bool:
    """Serve one request; True when the connection may carry another."""
    try:
        lines = conn.read_head()
        if lines is None:
            return False
        req = Request(conn, base, lines)
    except BadRequest as exc:
        conn.sock.sendall(_error_response(exc.status, exc.reason))
        return False
    try:
        req.run(app)
    except (Exception, green.Timeout) as exc:  # green.Timeout is a BaseException
        if isinstance(exc, OSError) and exc.errno in _GONE:
            return False
        if not isinstance(exc, (socket.timeout, TimeoutError, green.Timeout)):
            logger.exception("request %s failed", logs.escape(req.environ.get("PATH_INFO")))
        if not req.headers_sent:
            failed = _error_response(500, "Internal Server Error", b"An error occurred\n")
            conn.sock.sendall(failed)
        return False
    if not req.keep:
        return False
    return req.input.unread_small()


def _serve_connection(
    sock: Any, addr: Any, app: Any, base: dict[str, Any], limits: _Limits, logger: logging.Logger
) -> None:
    conn = Connection(sock, limits, str(addr[0]) if isinstance(addr, tuple) else "")
    env = dict(base)
    env["REMOTE_ADDR"] = conn.ip
    env["REMOTE_PORT"] = str(addr[1]) if isinstance(addr, tuple) else ""
    env["swiftlite.socket"] = sock
    try:
        while _handle(conn, env, app, logger):
            pass
    except (OSError, ValueError, green.Timeout):
        pass  # the client went away, timed out, or broke its framing
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def serve(
    sock: Any,
    app: Any,
    *,
    max_clients: int = 1024,
    client_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    max_header_line: int = 8192,
    max_request_line: int = 8192,
    max_idle_per_ip: int = 0,
    logger: logging.Logger | None = None,
    drain: Drain | None = None,
) -> None:
    """Accept connections on the listening green socket ``sock`` and serve ``app``.

    ``max_idle_per_ip`` (0: no cap) bounds the connections one client address may hold while
    they wait for a request head; past it, that address's oldest waiting connection closes.
    With a ``drain`` (``common/http/drain.py``), serving ends once it has begun draining.
    """
    logger = logger or logging.getLogger("swiftlite.http")
    idle = _IdleConnections(max_idle_per_ip) if max_idle_per_ip > 0 else None
    limits = _Limits(
        client_timeout, keepalive_timeout, max_header_line, max_request_line, idle, logger, drain
    )
    host, port = sock.getsockname()[:2]
    base = {
        "SCRIPT_NAME": "",
        "SERVER_NAME": str(host),
        "SERVER_PORT": str(port),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    pool = green.GreenPool(max_clients)
    if drain is not None:
        drain.pool = pool
    while drain is None or not drain.draining:
        try:
            client, addr = sock.accept()
        except OSError as exc:
            if exc.errno == errno.EINVAL or (drain is not None and drain.draining):
                return  # the listening socket was shut down: the server is stopping
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                logger.error("accept failed: %s", exc)
                green.sleep(0.05)
                continue
            if exc.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EINTR):
                continue
            raise
        pool.spawn_n(_serve_connection, client, addr, app, base, limits, logger)
