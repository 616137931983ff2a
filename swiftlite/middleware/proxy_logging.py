"""proxy_logging: one access-log line per request, written when the response has ended.

The line is ``common.logs.format_access_line``: client, method, path (with query), status,
bytes in, bytes out, duration, trans id and source (who made a subrequest). Bytes in are
counted by wrapping ``wsgi.input``;
bytes out by wrapping the response iterator, and the line is written when that iterator is
closed, so the duration covers the whole transfer. A body closed before it was read to the end
(the client went away) is logged as 499; an exception from below is logged as 500 and re-raised.

The values of query parameters a filter declared secret (``register_sensitive_param`` in
``common/registry.py``: tempurl's ``temp_url_sig``) are cut to their first
``reveal_sensitive_prefix`` characters (16 by default, as Swift) followed by ``...``.

The proxy pipeline holds this filter twice, as Swift's does: the outer copy logs client
requests; the inner one (just above the proxy app) logs subrequests that filters in between
make with fresh environs (tempauth's account HEAD, for one). The first copy to see a request
marks its environ with ``swiftlite.access_logged`` and later copies pass that request through,
so no request is logged twice.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, green, logs
from swiftlite.common.registry import sensitive_params

LOGGED = "swiftlite.access_logged"
TRANS_ID = "swiftlite.trans_id"
SOURCE = "swiftlite.source"
CLIENT_DISCONNECT = 499


@dataclass(frozen=True)
class ProxyLoggingOptions:
    access_log_name: str = "proxy-access"
    access_log_file: str | None = None  # default: log_file, else stderr
    access_log_level: str = "INFO"
    log_file: str | None = None
    reveal_sensitive_prefix: int = 16


def client_address(environ: dict[str, Any]) -> str | None:
    """X-Cluster-Client-Ip, else the first X-Forwarded-For hop, else REMOTE_ADDR."""
    forwarded = environ.get("HTTP_X_CLUSTER_CLIENT_IP")
    if not forwarded:
        forwarded = (environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
    return forwarded or environ.get("REMOTE_ADDR")


def obscure(value: str, reveal: int) -> str:
    """``value`` cut to its first ``reveal`` characters plus ``...`` when longer."""
    return value[:reveal] + "..." if len(value) > reveal else value


def loggable_query(query: str, reveal: int) -> str:
    """The query as text for the log, secret parameters' values obscured.

    Unquoted here because the log line quotes every field once. A name is compared decoded
    (``temp%5Furl%5Fsig`` is the same parameter to the filter that reads it).
    """
    secret = sensitive_params()
    pieces = []
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and urllib.parse.unquote_plus(name, errors="replace") in secret:
            shown = obscure(urllib.parse.unquote(value, errors="replace"), reveal)
            pieces.append(urllib.parse.unquote(name, errors="replace") + "=" + shown)
        else:
            pieces.append(urllib.parse.unquote(piece, errors="replace"))
    return "&".join(pieces)


def request_path(environ: dict[str, Any], reveal: int = 16) -> str:
    """The path and query as the client sent them, as real text for quoting."""
    raw = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    text = raw.encode("latin-1", "replace").decode("utf-8", "replace")
    query = environ.get("QUERY_STRING")
    if query:
        text += "?" + loggable_query(str(query), reveal)
    return text


class _CountingInput:
    """``wsgi.input`` with a count of bytes read; other attributes pass through."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped
        self.bytes_read = 0

    def read(self, *args: Any) -> bytes:
        data = self._wrapped.read(*args)
        self.bytes_read += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self._wrapped.readline(*args)
        self.bytes_read += len(data)
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self._wrapped.readlines(*args)
        self.bytes_read += sum(len(line) for line in lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self._wrapped:
            self.bytes_read += len(line)
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class ProxyLoggingMiddleware:
    def __init__(
        self, app: Callable[..., Any], options: ProxyLoggingOptions, logger: logging.Logger
    ) -> None:
        self.app = app
        self.options = options
        self.logger = logger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get(LOGGED):
            return self.app(environ, start_response)
        environ[LOGGED] = True
        reveal = self.options.reveal_sensitive_prefix
        record = _Record(self.logger, environ, time.monotonic(), reveal)
        environ["wsgi.input"] = record.input = _CountingInput(environ.get("wsgi.input"))

        def counted(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            record.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, counted)
        except (Exception, green.Timeout):
            record.status = 500
            record.finish()
            raise
        return _LoggedBody(body, record)


class _Record:
    """What one log line needs, gathered while the request runs."""

    def __init__(
        self, logger: logging.Logger, environ: dict[str, Any], start: float, reveal: int
    ) -> None:
        self.logger = logger
        self.reveal = reveal
        self.environ = environ
        self.start = start
        self.input: _CountingInput | None = None
        self.status = 0
        self.bytes_out = 0
        self.done = False

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        env = self.environ
        line = logs.format_access_line(
            client_address(env),
            str(env.get("REQUEST_METHOD", "-")),
            request_path(env, self.reveal),
            self.status or 500,
            self.input.bytes_read if self.input is not None else 0,
            self.bytes_out,
            time.monotonic() - self.start,
            env.get(TRANS_ID),
            env.get("swiftlite.source"),
        )
        logs.info_line(self.logger, line)


class _LoggedBody:
    """Counts bytes out and writes the log line on close."""

    def __init__(self, body: Any, record: _Record) -> None:
        self.body = body
        self.record = record
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.body:
                self.record.bytes_out += len(chunk)
                yield chunk
        except (Exception, green.Timeout):
            self.record.status = 500 if self.record.bytes_out == 0 else self.record.status
            self.complete = True
            raise
        self.complete = True

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if not self.complete and self.record.status:
                self.record.status = CLIENT_DISCONNECT
            self.record.finish()


def make_logger(options: ProxyLoggingOptions) -> logging.Logger:
    return logs.get_logger(
        options.access_log_name,
        options.access_log_file or options.log_file,
        options.access_log_level,
    )


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#proxy_logging``."""
    options = config.parse_options(
        ProxyLoggingOptions, local_conf, global_conf, where="[filter:proxy_logging]"
    )

    def make(app: Any) -> ProxyLoggingMiddleware:
        return ProxyLoggingMiddleware(app, options, make_logger(options))

    return make
