"""bulk: Swift's bulk operations, many objects in one request.

* ``POST|DELETE /v1/<acct>?bulk-delete``: the objects and containers listed in the body are
  deleted (``bulk_delete.py``).
* ``PUT /v1/<acct>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2``: every file
  of the archive becomes an object (``bulk_extract.py``); another value is a 400
  ``Unsupported archive format``.

Both answer 200 at once and report in the body, in the format ``Accept`` picks, with
heartbeats while they work (``bulk_response.py``). The filter sits before tempauth, as in
Swift's pipeline, so every item is its own subrequest through the auth filter and the proxy,
carrying the caller's token: each item is authorized on its own, and the access log shows one
line per item (source ``BD`` or ``EA``) beside the client's request. ``/info`` lists
``bulk_delete`` and ``bulk_upload`` with Swift's keys.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, logs
from swiftlite.common.names import VALID_API_VERSIONS
from swiftlite.common.registry import register_info
from swiftlite.middleware import bulk_response
from swiftlite.middleware.bulk_delete import BulkDelete
from swiftlite.middleware.bulk_extract import Extract, archive_kind


@dataclass(frozen=True)
class BulkOptions:
    """``[filter:bulk]`` options, Swift's names and defaults."""

    max_containers_per_extraction: int = 10000
    max_failed_extractions: int = 1000
    max_deletes_per_request: int = 10000
    max_failed_deletes: int = 1000
    yield_frequency: float = 10.0
    delete_concurrency: int = 2
    delete_container_retry_count: int = 0
    log_name: str = "bulk"
    log_level: str = "INFO"
    log_file: str | None = None

    def __post_init__(self) -> None:
        # Swift keeps the concurrency between 1 and 1000
        object.__setattr__(self, "delete_concurrency", min(1000, max(1, self.delete_concurrency)))
        for name in ("max_deletes_per_request", "max_failed_deletes", "max_failed_extractions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.delete_container_retry_count < 0:
            raise ValueError("delete_container_retry_count must not be negative")


def _params(environ: dict[str, Any]) -> dict[str, str]:
    """The query's parameters (first of each); never raises, whatever the bytes."""
    pairs = urllib.parse.parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


class BulkMiddleware:
    """The bulk filter (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        options: BulkOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.options = options
        self.clock = clock
        self.logger = logs.get_logger(options.log_name, options.log_file, options.log_level)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        segs = str(environ.get("PATH_INFO", "")).split("/", 2)
        if method not in ("PUT", "POST", "DELETE") or len(segs) < 2:
            return self.app(environ, start_response)
        if segs[0] != "" or segs[1] not in VALID_API_VERSIONS:
            return self.app(environ, start_response)
        params = _params(environ)
        resp: Response | None = None
        if method == "PUT" and "extract-archive" in params:
            resp = self.extract(Request(environ), params["extract-archive"])
        elif method in ("POST", "DELETE") and "bulk-delete" in params:
            resp = self.delete(Request(environ))
        if resp is None:
            return self.app(environ, start_response)
        return resp(environ, start_response)

    # -- the two operations -------------------------------------------------------------------
    def delete(self, req: Request) -> Response:
        fmt = bulk_response.response_format(req)
        job = BulkDelete(self.app, req, self.options, self.logger, self.clock)
        return self._answer(fmt, job.run(fmt, _max_path()))

    def extract(self, req: Request, value: str) -> Response:
        kind = archive_kind(value)
        if kind is None:
            return Response(
                status=400, body=b"Unsupported archive format", content_type="text/plain"
            )
        fmt = bulk_response.response_format(req)
        limits = constraints.load()
        job = Extract(self.app, req, self.options, self.logger, self.clock)
        return self._answer(fmt, job.run(fmt, kind, _max_path(), limits.max_file_size))

    @staticmethod
    def _answer(fmt: str | None, body: Any) -> Response:
        return Response(status=200, content_type=fmt or "text/plain", charset=None, app_iter=body)


def _max_path() -> int:
    """The longest ``/container/object`` an item may name (Swift's bound on a list line)."""
    limits = constraints.load()
    return limits.max_object_name_length + limits.max_container_name_length + 2


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#bulk``."""
    options = config.parse_options(BulkOptions, local_conf, global_conf, where="[filter:bulk]")
    register_info(
        "bulk_upload",
        max_containers_per_extraction=options.max_containers_per_extraction,
        max_failed_extractions=options.max_failed_extractions,
    )
    register_info(
        "bulk_delete",
        max_deletes_per_request=options.max_deletes_per_request,
        max_failed_deletes=options.max_failed_deletes,
    )

    def make(app: Any) -> BulkMiddleware:
        return BulkMiddleware(app, options)

    return make
