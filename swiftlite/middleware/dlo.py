"""dlo: Dynamic Large Objects, an object whose content is every object under a prefix.

An object stored with ``X-Object-Manifest: <container>/<prefix>`` (URL-quoted, as Swift
takes it) is assembled on GET and HEAD from the objects of ``<container>`` whose names start
with ``<prefix>``, in listing order. What this filter owns, with Swift's DLO as the spec:

* The listing is read with the caller's authorisation (a GET subrequest of the segment
  container, all pages, past 10,000 names), so a caller who may not list the segment container
  gets its 403 and referrer ACLs apply as they do to listings; an error listing is the answer.
* Content-Length is the sum of the segments' sizes, the ETag the quoted MD5 of their ETags
  concatenated, Content-Type and metadata the manifest's own; conditional requests are
  judged against that ETag and the manifest's Last-Modified; a single range is served across
  segments; a multi-range GET gets 200 and the whole body (as Swift answers it).
* ``?multipart-manifest=get`` passes through: the manifest object itself.
* A PUT or POST with a malformed ``X-Object-Manifest`` is 400 with Swift's message.
* Swift's ``max_get_time``, ``rate_limit_after_segment`` and ``rate_limit_segments_per_sec``.

The bytes come from ``segments.py`` (which checks and streams them); this module only turns a
listing into pieces. It sits just above the proxy app, below ``slo``.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, errors, logs
from swiftlite.common.names import check_name, wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, subrequest
from swiftlite.middleware.segments import LargeObject, Piece, StreamLimits, respond, slice_pieces
from swiftlite.middleware.subrequest import CARRY, api_path

SOURCE = "DLO"
LISTING_LIMIT = 10000
BAD_MANIFEST = "X-Object-Manifest must be in the format container/prefix"


@dataclass(frozen=True)
class DloOptions:
    max_get_time: float = 86400.0
    rate_limit_after_segment: int = 10
    rate_limit_segments_per_sec: float = 1.0
    log_name: str = "dlo"
    log_level: str = "INFO"
    log_file: str | None = None


def parse_manifest(value: str) -> tuple[str, str] | None:
    """``<container>/<prefix>`` (a WSGI string, URL-quoted) -> real-str (container, prefix).

    None when it is malformed the way Swift refuses: no container, no prefix, a prefix
    starting with ``/``, or a ``?`` or ``&`` anywhere.
    """
    container, sep, prefix = value.partition("/")
    if not sep or not container or not prefix or "?" in value or "&" in value:
        return None
    if prefix.startswith("/"):
        return None
    try:
        text = check_name(wsgi_to_str(urllib.parse.unquote(value, encoding="latin-1")))
    except errors.Invalid:  # not UTF-8 once unquoted, or a NUL
        return None
    container, _, prefix = text.partition("/")
    if not container or not prefix:
        return None
    return container, prefix


def dlo_etag(etags: list[str]) -> str:
    """The DLO's ETag (unquoted): MD5 of its segments' ETags concatenated."""
    digest = hashlib.md5()
    for etag in etags:
        digest.update(etag.strip('"').encode("utf-8"))
    return digest.hexdigest()


class ListingError(Exception):
    def __init__(self, resp: Response) -> None:
        super().__init__(resp.status)
        self.resp = resp


class DloMiddleware:
    def __init__(self, app: Callable[..., Any], options: DloOptions) -> None:
        self.app = app
        self.options = options
        self.logger = logs.get_logger(options.log_name, options.log_file, options.log_level)
        self.limits = StreamLimits(
            max_get_time=options.max_get_time,
            rate_limit_after_segment=options.rate_limit_after_segment,
            rate_limit_segments_per_sec=options.rate_limit_segments_per_sec,
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD", "PUT", "POST"):
            return self.app(environ, start_response)
        names = pathinfo.object_path(environ)
        if names is None:
            return self.app(environ, start_response)
        req = Request(environ)
        refused = subrequest.query_refusal(req)
        if refused is not None:
            return refused(environ, start_response)
        if method in ("PUT", "POST"):
            value = req.headers.get("X-Object-Manifest")
            if value is not None and parse_manifest(value) is None:
                resp = Response(status=400, body=BAD_MANIFEST.encode(), content_type="text/plain")
                return resp(environ, start_response)
            return self.app(environ, start_response)
        if req.GET.get("multipart-manifest") == "get":
            return self.app(environ, start_response)
        return self.handle_get(req, names[0])(environ, start_response)

    def handle_get(self, req: Request, account: str) -> Any:
        resp = subrequest.send(req, self.app)
        manifest = resp.headers.get("X-Object-Manifest")
        if manifest is None or resp.status_int not in (200, 206, 304, 412, 416):
            return resp
        subrequest.close(resp)
        parsed = parse_manifest(manifest)
        if parsed is None:
            self.logger.error("%s: stored X-Object-Manifest is malformed", req.path)
            return Response(status=500, body=b"An error occurred", content_type="text/plain")
        container, prefix = parsed
        try:
            segments = self._listing(req.environ, account, container, prefix)
        except ListingError as exc:
            return exc.resp
        pieces = [
            Piece(
                length=int(seg["bytes"]),
                path=api_path(account, container, seg["name"]),
                small=True,
            )
            for seg in segments
        ]
        lengths = [p.length for p in pieces]
        etag = dlo_etag([seg["hash"] for seg in segments])
        headers = [(k, v) for k, v in resp.headerlist if k.lower() not in ("etag", "accept-ranges")]
        headers += [("ETag", f'"{etag}"'), ("Accept-Ranges", "bytes")]

        def cuts_for(start: int, stop: int) -> Iterator[tuple[Piece, int, int]]:
            for index, lo, hi in slice_pieces(lengths, start, stop):
                yield pieces[index], lo, hi

        large = LargeObject(
            length=sum(lengths),
            etag=etag,
            content_type=resp.headers.get("Content-Type", "application/octet-stream"),
            cuts_for=cuts_for,
            multi_range=False,
        )
        return respond(
            req, self.app, headers, large, source=SOURCE, logger=self.logger, limits=self.limits
        )

    def _listing(
        self, environ: dict[str, Any], account: str, container: str, prefix: str
    ) -> list[dict[str, Any]]:
        """Every object row under ``prefix``, all pages, with the caller's authorisation."""
        rows: list[dict[str, Any]] = []
        marker = ""
        while True:
            query = f"format=json&limit={LISTING_LIMIT}&prefix=" + urllib.parse.quote(prefix)
            if marker:
                query += "&marker=" + urllib.parse.quote(marker)
            sub = subrequest.make_subrequest(
                environ, "GET", api_path(account, container), source=SOURCE, auth=CARRY, query=query
            )
            resp = subrequest.send(sub, self.app)
            if resp.status_int == 204:
                subrequest.close(resp)
                return rows
            if resp.status_int != 200:
                raise ListingError(resp)
            page = json.loads(subrequest.drain(resp) or b"[]")
            page = [row for row in page if "name" in row]
            rows.extend(page)
            if len(page) < LISTING_LIMIT:
                return rows
            marker = page[-1]["name"]


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#dlo``."""
    options = config.parse_options(DloOptions, local_conf, global_conf, where="[filter:dlo]")
    register_info(
        "dlo",
        max_get_time=options.max_get_time,
        rate_limit_after_segment=options.rate_limit_after_segment,
        rate_limit_segments_per_sec=options.rate_limit_segments_per_sec,
    )

    def make(app: Any) -> DloMiddleware:
        return DloMiddleware(app, options)

    return make
