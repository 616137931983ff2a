"""A lean HTTP/1.1 server for WSGI apps, on green sockets.

Every swiftlite server runs its app through ``serve`` (``reader`` reads the heads and bodies
off the socket). It keeps eventlet.wsgi's observable behaviour (environ keys, keep-alive rules,
``100 Continue`` on first read, chunked bodies both ways, ``Date``, the same 400/414/505
refusals) with much less work per request: the head is
split by hand instead of through ``email.parser``, the environ is built in one pass, and the
status line, headers and a small body leave in one ``send``. Profiles of the object server put
eventlet.wsgi at about 40% of a HEAD's CPU; see bench/README.md for the figures.

One green thread serves one connection; ``max_clients`` bounds them. ``environ`` carries the
connection socket as ``swiftlite.socket`` so the object server can ``sendfile`` to it.
"""

from __future__ import annotations

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
from swiftlite.common.http.reader import (
    DRAIN_LIMIT,
    ChunkError,
    Connection,
    IdleConnections,
    Input,
    Limits,
)

__all__ = ["MAX_HEADERS", "BadRequest", "ChunkError", "serve"]
_BODYLESS_STATUS = frozenset((204, 304))
_GONE = frozenset((errno.EPIPE, errno.ECONNRESET, errno.ESHUTDOWN, errno.EBADF, errno.ENOTCONN))


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


class BodyCut(Exception):
    """A response body that ended early and has already logged why (``catch_errors``): the
    server drops the connection, so the client sees the cut, and logs no traceback."""


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
        if not isinstance(exc, (socket.timeout, TimeoutError, green.Timeout, BodyCut)):
            logger.exception("request %s failed", logs.escape(req.environ.get("PATH_INFO")))
        if not req.headers_sent:
            failed = _error_response(500, "Internal Server Error", b"An error occurred\n")
            conn.sock.sendall(failed)
        return False
    if not req.keep:
        return False
    return req.input.unread_small()


def _serve_connection(
    sock: Any, addr: Any, app: Any, base: dict[str, Any], limits: Limits, logger: logging.Logger
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
    idle = IdleConnections(max_idle_per_ip) if max_idle_per_ip > 0 else None
    limits = Limits(
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
