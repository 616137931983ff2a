"""catch_errors: the outermost filter. Transaction ids, and no exception ever reaches a client.

Every request gets a transaction id in Swift's form, ``tx`` + 21 hex digits + ``-`` + the unix
time as 10 hex digits, then the ``trans_id_suffix`` option and ``-`` + the first 32 characters
of the client's ``X-Trans-Id-Extra`` (URL-quoted). It is stored in
``environ['swiftlite.trans_id']``, put on the request as ``X-Trans-Id`` (so the proxy passes it
to the backends) and on every response as ``X-Trans-Id`` and ``X-Openstack-Request-Id``.

An exception from below, raised while calling the app or while producing the body before its
first byte, becomes a 500 with the short body ``An error occurred``; the traceback goes to the
log only. After the first byte the status is gone, so the error is logged and re-raised, and
the server drops the connection; a body that ends short of its Content-Length is treated the
same way, so a client never takes a truncated body for a whole one.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, green, logs
from swiftlite.common.http.server import BodyCut

TRANS_ID = "swiftlite.trans_id"
ERROR_BODY = b"An error occurred"
_NO_BODY_STATUSES = (204, 304)


@dataclass(frozen=True)
class CatchErrorsOptions:
    trans_id_suffix: str = ""
    log_file: str | None = None
    log_level: str = "INFO"


def make_trans_id(suffix: str = "", now: float | None = None) -> str:
    """``tx<21 hex>-<10 hex of unix time><quoted suffix>``."""
    stamp = int(time.time() if now is None else now)
    return f"tx{uuid.uuid4().hex[:21]}-{stamp:010x}{urllib.parse.quote(suffix)}"


class ShortBodyError(BodyCut):
    """The app's body ended before its Content-Length; the connection must be dropped."""


class CatchErrorsMiddleware:
    def __init__(self, app: Callable[..., Any], options: CatchErrorsOptions) -> None:
        self.app = app
        self.options = options
        self.logger = logs.get_logger("catch-errors", options.log_file, options.log_level)

    def trans_id_for(self, environ: dict[str, Any]) -> str:
        suffix = self.options.trans_id_suffix
        extra = environ.get("HTTP_X_TRANS_ID_EXTRA")
        if extra:
            # the WSGI string stands for bytes: quote those bytes, not their UTF-8 re-encoding
            suffix += "-" + extra[:32].encode("latin-1", "replace").decode("utf-8", "replace")
        return make_trans_id(suffix)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        trans_id = environ.get(TRANS_ID)
        if not trans_id:
            trans_id = self.trans_id_for(environ)
            environ[TRANS_ID] = trans_id
        environ["HTTP_X_TRANS_ID"] = trans_id
        captured: list[Any] = []
        body: Any = None

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return _no_write

        try:
            body = self.app(environ, capture)
            chunks = iter(body)
            first = _first_chunk(chunks)
            if not captured:
                raise RuntimeError("the app returned without calling start_response")
        except (Exception, green.Timeout):
            self.logger.exception("%s %s failed (%s)", _method(environ), _path(environ), trans_id)
            _close_quietly(body, self.logger)
            return self._error(start_response, trans_id)
        status, headers = captured
        headers = _with_trans_id(headers, trans_id)
        start_response(status, headers)
        expected = _expected_length(environ, status, headers)
        return _Body(self, body, chunks, first, expected, environ)

    def _error(self, start_response: Callable[..., Any], trans_id: str) -> list[bytes]:
        headers = _with_trans_id(
            [("Content-Type", "text/plain"), ("Content-Length", str(len(ERROR_BODY)))], trans_id
        )
        start_response("500 Internal Server Error", headers)
        return [ERROR_BODY]


def _no_write(data: bytes) -> None:
    raise RuntimeError("the write() callable is not supported; return an iterable")


def _close_quietly(body: Any, logger: Any) -> None:
    close = getattr(body, "close", None)
    if close is None:
        return
    try:
        close()
    except (Exception, green.Timeout):
        logger.exception("closing a failed response body failed")


def _first_chunk(chunks: Iterator[bytes]) -> bytes | None:
    """The first non-empty chunk, or None when the body is empty."""
    for chunk in chunks:
        if chunk:
            return chunk
    return None


def _with_trans_id(headers: Iterable[tuple[str, str]], trans_id: str) -> list[tuple[str, str]]:
    drop = ("x-trans-id", "x-openstack-request-id")
    kept = [(k, v) for k, v in headers if k.lower() not in drop]
    return [*kept, ("X-Trans-Id", trans_id), ("X-Openstack-Request-Id", trans_id)]


def _expected_length(environ: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> int:
    """Content-Length the body must reach, or -1 when there is nothing to enforce."""
    code = int(status.split(" ", 1)[0])
    if environ.get("REQUEST_METHOD") == "HEAD" or code in _NO_BODY_STATUSES or code < 200:
        return -1
    for key, value in headers:
        if key.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return -1


def _method(environ: dict[str, Any]) -> str:
    return logs.escape(str(environ.get("REQUEST_METHOD", "-")))


def _path(environ: dict[str, Any]) -> str:
    """The request path, escaped for a log line (a decoded ``%0a`` must not end the line)."""
    return logs.escape(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")))


class _Body:
    """The response body: the prefetched first chunk, the rest, and a byte count check."""

    def __init__(
        self,
        owner: CatchErrorsMiddleware,
        body: Any,
        chunks: Iterator[bytes],
        first: bytes | None,
        expected: int,
        environ: dict[str, Any],
    ) -> None:
        self.owner = owner
        self.body = body
        self.chunks = chunks
        self.first = first
        self.expected = expected
        self.environ = environ

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        if self.first is not None:
            sent += len(self.first)
            yield self.first
        try:
            for chunk in self.chunks:
                sent += len(chunk)
                yield chunk
        except (Exception, green.Timeout):
            self.owner.logger.exception(
                "%s %s failed mid-body after %d bytes (%s)",
                _method(self.environ),
                _path(self.environ),
                sent,
                logs.escape(self.environ.get(TRANS_ID)),
            )
            raise
        if 0 <= sent < self.expected:
            self.owner.logger.error(
                "%s %s: body ended at %d of %d bytes (%s)",
                _method(self.environ),
                _path(self.environ),
                sent,
                self.expected,
                logs.escape(self.environ.get(TRANS_ID)),
            )
            raise ShortBodyError(f"body ended at {sent} of {self.expected} bytes")

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#catch_errors``."""
    options = config.parse_options(
        CatchErrorsOptions, local_conf, global_conf, where="[filter:catch_errors]"
    )

    def make(app: Any) -> CatchErrorsMiddleware:
        return CatchErrorsMiddleware(app, options)

    return make
