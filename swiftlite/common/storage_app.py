"""Base of the storage WSGI apps: verb dispatch, device checks, and the error table.

Handlers are methods named after HTTP verbs that *return* webob responses. Lower layers raise
domain errors (``swiftlite.common.errors``); ``ERROR_STATUS`` below is the one place they
become statuses. Anything else becomes a 500 with a short body, logged with its traceback, and
never shown to the client.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from webob import Request, Response

from swiftlite.common import errors, fs, green, logs, statsd
from swiftlite.common.http.headers import X_BACKEND_TIMESTAMP
from swiftlite.common.http.reader import ChunkError

# Most specific first: the first matching class decides.
ERROR_STATUS: list[tuple[type[errors.SwiftliteError], int]] = [
    (errors.Deleted, 404),
    (errors.Expired, 404),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.DiskFull, 507),
    (errors.DeviceUnavailable, 507),
    (errors.Unavailable, 503),
    (errors.Timeout, 408),
    (errors.BadName, 412),
    (errors.PreconditionFailed, 412),
    (errors.TooLarge, 413),
    (errors.LengthRequired, 411),
    (errors.BadInput, 400),
    (errors.Invalid, 400),
    (errors.Corrupt, 500),
    (errors.ConfigError, 500),
]


def json_body(body: bytes, verb: str, limit: int | None = None) -> Any:
    """A backend verb's JSON body, decoded; TooLarge past ``limit`` bytes, BadInput if it
    is not JSON. The caller checks its shape."""
    if limit is not None and len(body) > limit:
        raise errors.TooLarge(f"{verb} body too large")
    try:
        return json.loads(body)
    except ValueError:
        raise errors.BadInput(f"{verb} body is not JSON") from None


def status_for(exc: errors.SwiftliteError) -> int:
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: errors.SwiftliteError) -> Response:
    """The response for a domain error: its status, a short body, and any backend timestamp."""
    status = status_for(exc)
    body = str(exc) if 400 <= status < 500 and status != 404 else ""
    resp = Response(status=status, body=body.encode("utf-8"), content_type="text/plain")
    timestamp = getattr(exc, "timestamp", None)
    if timestamp is not None:
        resp.headers[X_BACKEND_TIMESTAMP] = getattr(timestamp, "internal", str(timestamp))
    return resp


def timing_metric(method: str, status: int) -> str:
    """Swift's name for a storage request's timing: a 404 is a normal answer, not an error."""
    if status < 400 or status == 404:
        return f"{method}.timing"
    return f"{method}.errors.timing"


class StorageServer:
    """A storage WSGI app. Subclasses define verb methods ``PUT(self, req) -> Response``."""

    server_type = "storage"
    allowed_methods: frozenset[str] = frozenset()

    def __init__(
        self, devices: str, mount_check: bool, logger: logging.Logger, log_requests: bool = False
    ) -> None:
        self.devices = devices
        self.mount_check = mount_check
        self.logger = logger
        self.log_requests = log_requests
        # Swift's <kind>-server.<VERB>.timing / .errors.timing (statsd.NULL without a host)
        self.metrics = statsd.process_client(f"{self.server_type}-server")

    def device_path(self, device: str) -> str:
        """The device root; raises DeviceUnavailable (507) if unmounted or missing."""
        return fs.check_device(self.devices, device, self.mount_check)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.monotonic()
        req = Request(environ)
        resp = self.handle(req)
        if self.log_requests:
            self.log_access(req, resp, time.monotonic() - started)
        if self.metrics.enabled and req.method in self.allowed_methods:
            self.metrics.timing_since(timing_metric(req.method, resp.status_int), started)
        return self.respond(req, resp, environ, start_response)

    def respond(
        self,
        req: Request,
        resp: Response,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        """Send ``resp``; a subclass may stream it differently (the object server's sendfile)."""
        return resp(environ, start_response)

    def log_access(self, req: Request, resp: Response, duration: float) -> None:
        logs.info_line(
            self.logger,
            logs.format_access_line(
                req.remote_addr,
                req.method,
                # the raw bytes: webob's req.path decodes UTF-8 and raises on a bad name
                logs.wsgi_bytes(req.environ.get("PATH_INFO", "")),
                resp.status_int,
                req.content_length or 0,
                resp.content_length or 0,
                duration,
                req.headers.get("X-Trans-Id"),
            ),
        )

    def handle(self, req: Request) -> Response:
        method = req.method
        if method not in self.allowed_methods:
            return Response(status=405, headers={"Allow": ", ".join(sorted(self.allowed_methods))})
        try:
            return getattr(self, method)(req)
        except errors.SwiftliteError as exc:
            return error_response(exc)
        except (green.Timeout, TimeoutError):
            return Response(status=408, body=b"Timeout reading the request body")
        except ChunkError:  # the client's chunked framing is broken
            return Response(status=400, body=b"Bad chunked body", content_type="text/plain")
        except ConnectionResetError:  # the client went away inside its body
            return Response(status="499 Client Disconnect", body=b"Client disconnected")
        except Exception:
            self.logger.exception(
                "%s %s failed (trans %s)",
                logs.escape(method),
                logs.escape(req.environ.get("PATH_INFO")),
                logs.escape(req.headers.get("X-Trans-Id", "-")),
            )
            return Response(status=500, body=b"An error occurred", content_type="text/plain")
