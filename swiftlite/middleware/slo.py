"""slo: Static Large Objects, an object made of the segments its JSON manifest lists.

What this filter owns, with Swift's SLO as the spec:

* ``PUT ?multipart-manifest=put``: the manifest is parsed and every segment checked
  (``slo_manifest.py``; each object segment is HEADed through this filter, so a nested SLO
  reports its own size and ETag) against ``max_manifest_segments``, ``max_manifest_size`` and
  ``min_segment_size``; problems are a 400 listing them in Swift's bulk format. The stored
  manifest carries ``X-Static-Large-Object: True`` and the sysmeta
  ``X-Object-Sysmeta-Slo-Etag``/``-Size``; the container row gets the SLO's total size and
  ``slo_etag`` through ``X-Backend-Container-Update-Override-*`` (``swift_bytes`` in the
  content type, so the container's bytes-used still counts the manifest only, as in Swift).
  ``?heartbeat=on`` answers 202 at once and sends a space every ``yield_frequency`` seconds
  while checking, then the result in the body.
* ``GET``/``HEAD``: Content-Length is the total, ``ETag`` the quoted SLO ETag,
  ``X-Manifest-Etag`` the manifest's; ranges (one or many) across segments, segment ranges,
  nested SLOs (depth at most 10), inline data, ``?part-number=N``; conditionals against the SLO
  ETag. ``?multipart-manifest=get`` returns the stored manifest (JSON), ``&format=raw`` the
  PUT form. Bytes come from ``segments.py``: a segment missing or changed stops the body short,
  so the connection is dropped (409 before the first byte).
* ``DELETE ?multipart-manifest=delete``: segments (nested manifests' too) then the manifest,
  answered as bulk delete answers; with ``&async=yes`` (``allow_async_delete``) the segments
  are deleted in the background after the manifest.
* Container listings (JSON, XML) show an SLO's total ``bytes`` and its ``slo_etag``.
* ``X-Static-Large-Object`` is a reserved header on any other PUT or POST (400).
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, errors, green, intparse, logs
from swiftlite.common.http import listing
from swiftlite.common.names import split_api_path
from swiftlite.common.registry import register_info
from swiftlite.common.storage_app import error_response
from swiftlite.middleware import bulk_response, pathinfo, slo_delete, subrequest
from swiftlite.middleware import slo_manifest as manifest
from swiftlite.middleware.segments import (
    LargeObject,
    Piece,
    SegmentError,
    StreamLimits,
    respond,
    slice_pieces,
)
from swiftlite.middleware.subrequest import CARRY, api_path
from swiftlite.proxy.controllers.obj import guess_content_type

SOURCE = "SLO"
SYSMETA_ETAG = "X-Object-Sysmeta-Slo-Etag"
SYSMETA_SIZE = "X-Object-Sysmeta-Slo-Size"
OVERRIDE = "X-Backend-Container-Update-Override-"
STORED_OVERRIDE = "X-Object-Sysmeta-Container-Update-Override-"
MAX_DEPTH = manifest.MAX_DEPTH
SYSMETA_DEPTH = "X-Object-Sysmeta-Slo-Depth"  # swiftlite: levels of nesting, checked at PUT
# Swift's reason texts, as a heartbeat answer's "Response Body" gives them.
REASONS = {
    400: "Bad Request\nThe server could not comply with the request since it is either "
    "malformed or otherwise incorrect.",
    422: "Unprocessable Entity\nUnable to process the contained instructions",
}
RESERVED = (
    "X-Static-Large-Object is a reserved header. To create a static large object add query "
    "param multipart-manifest=put."
)


@dataclass(frozen=True)
class SloOptions:
    max_manifest_segments: int = 1000
    max_manifest_size: int = 8 * 1024 * 1024
    min_segment_size: int = 1
    yield_frequency: float = 10.0
    allow_async_delete: bool = True
    concurrency: int = 2
    max_get_time: float = 86400.0
    rate_limit_under_size: int = 1024 * 1024
    rate_limit_after_segment: int = 10
    rate_limit_segments_per_sec: float = 1.0
    log_name: str = "slo"
    log_level: str = "INFO"
    log_file: str | None = None


def _text(status: int, body: str) -> Response:
    return Response(status=status, body=body.encode("utf-8"), content_type="text/plain")


def _is_slo(headers: Any) -> bool:
    return config.config_true(headers.get("X-Static-Large-Object", "false"))


def _depth(headers: Any) -> int:
    """How many levels of manifests a HEAD's object is (manifests from before: 1)."""
    if not _is_slo(headers):
        return 0
    value = headers.get(SYSMETA_DEPTH, "")
    return int(value) if intparse.is_digits(value) else 1


class SloMiddleware:
    def __init__(self, app: Callable[..., Any], options: SloOptions) -> None:
        self.app = app
        self.options = options
        self.logger = logs.get_logger(options.log_name, options.log_file, options.log_level)
        self.limits = StreamLimits(
            max_get_time=options.max_get_time,
            rate_limit_after_segment=options.rate_limit_after_segment,
            rate_limit_segments_per_sec=options.rate_limit_segments_per_sec,
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = pathinfo.api_path(environ)
        if path is None or path.container is None:
            return self.app(environ, start_response)
        req = Request(environ)
        try:
            req.GET  # noqa: B018  (a query that is not UTF-8: the proxy below answers 400)
        except UnicodeDecodeError:
            return self.app(environ, start_response)
        method = req.method
        if path.obj is None:
            if method == "GET":
                return self.handle_listing(req, path.container)(environ, start_response)
            return self.app(environ, start_response)
        param = req.GET.get("multipart-manifest")
        try:
            if method == "PUT" and param == "put":
                return self.handle_put(req, path.account, path.container, path.obj)(
                    environ, start_response
                )
            if method == "DELETE" and param == "delete":
                deleter = slo_delete.Deleter(self, req, path.account)
                return deleter.respond()(environ, start_response)
            if method in ("GET", "HEAD"):
                return self.handle_get(req, path.account)(environ, start_response)
            if "X-Static-Large-Object" in req.headers:
                return _text(400, RESERVED)(environ, start_response)
        except errors.Invalid as exc:
            return error_response(exc)(environ, start_response)
        return self.app(environ, start_response)

    # -- PUT ---------------------------------------------------------------------------------
    def handle_put(self, req: Request, account: str, container: str, obj: str) -> Any:
        opts = self.options
        if req.headers.get("X-Copy-From"):
            return _text(405, "Multipart Manifest PUTs cannot be COPY requests")
        length = req.content_length
        chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
        if length is None and not chunked:
            return _text(411, "Length Required")
        if length is not None and length > opts.max_manifest_size:
            return _text(413, f"Manifest File > {opts.max_manifest_size} bytes")
        body = _read_upto(req.environ["wsgi.input"], length, opts.max_manifest_size + 1)
        if len(body) > opts.max_manifest_size:
            return _text(413, f"Manifest File > {opts.max_manifest_size} bytes")
        try:
            segments = manifest.parse_put(body, f"/{container}/{obj}")
        except manifest.ManifestError as exc:
            return Response(status=400, body=exc.body, content_type="text/plain")
        if sum(1 for s in segments if s.path is not None) > opts.max_manifest_segments:
            return _text(
                413, f"Number of object-backed segments must be <= {opts.max_manifest_segments}"
            )
        fmt = bulk_response.response_format(req) or "text/plain"
        if config.config_true(req.GET.get("heartbeat", "false")):
            return self._heartbeat_put(req, account, obj, segments, fmt)
        return self._store(req, account, obj, segments, fmt)

    def _heartbeat_put(
        self, req: Request, account: str, obj: str, segments: list[Any], fmt: str
    ) -> Response:
        done = green.Event()

        def work() -> None:
            try:
                done.send(self._store(req, account, obj, segments, fmt))
            except Exception as exc:  # noqa: BLE001 - reported in the 202's body
                self.logger.error("SLO PUT %s failed: %s", req.path, exc)
                done.send(_text(500, "An error occurred"))

        green.spawn_n(work)

        def chunks() -> Iterator[bytes]:
            yield b" "
            while True:
                try:
                    with green.Timeout(self.options.yield_frequency):
                        resp = done.wait()
                    break
                except green.Timeout:
                    yield b" "
            data: dict[str, Any] = {"Response Status": resp.status}
            problems: list[list[str]] = []
            if 200 <= resp.status_int < 300:
                data["Etag"] = resp.headers.get("ETag", "")
                data["Last Modified"] = resp.headers.get("Last-Modified", "")
                data["Response Body"] = ""
            else:
                problems = getattr(resp, "slo_problems", [])
                text = b"" if problems else resp.body
                data["Response Body"] = text.decode("utf-8", "replace") or REASONS.get(
                    resp.status_int, resp.status[4:]
                )
            yield b"\r\n\r\n" + bulk_response.response_body(fmt, data, problems, "upload")

        resp = Response(status=202, content_type=fmt, charset=None, app_iter=chunks())
        req.environ["eventlet.minimum_write_chunk_size"] = 0
        return resp

    def _head_all(self, req: Request, paths: list[str]) -> dict[str, manifest.HeadResult]:
        account = split_api_path(req.path_info).account

        def head(path: str) -> tuple[str, manifest.HeadResult]:
            container, _, obj = path.lstrip("/").partition("/")
            sub = subrequest.make_subrequest(
                req.environ, "HEAD", api_path(account, container, obj), source=SOURCE, auth=CARRY
            )
            resp = subrequest.send(sub, self)
            subrequest.drain(resp)
            modified = resp.last_modified
            return path, manifest.HeadResult(
                status=resp.status_int,
                status_line=resp.status,
                length=resp.content_length or 0,
                etag=(resp.headers.get("ETag") or "").strip('"'),
                content_type=resp.headers.get("Content-Type", ""),
                last_modified=modified.strftime("%Y-%m-%dT%H:%M:%S.%f") if modified else "",
                is_slo=_is_slo(resp.headers),
                depth=_depth(resp.headers),
            )

        pool = green.GreenPool(max(1, self.options.concurrency))
        return dict(pool.imap(head, paths))

    def _store(
        self, req: Request, account: str, obj: str, segments: list[Any], fmt: str
    ) -> Response:
        paths = list(dict.fromkeys(s.path for s in segments if s.path is not None))
        heads = self._head_all(req, paths)
        records: list[dict[str, Any]] = []
        problems: list[list[str]] = []
        total = 0
        depth = 1
        last = len(segments) - 1
        for index, seg in enumerate(segments):
            if seg.data is not None:
                records.append(manifest.stored_data(seg))
                total += len(seg.data)
                continue
            used, record, found = manifest.check_segment(
                seg,
                heads[seg.path],
                allow_short=index == last,
                min_segment_size=self.options.min_segment_size,
            )
            problems.extend(manifest.split_problem(p) for p in found)
            depth = max(depth, heads[seg.path].depth + 1)
            if record is not None:
                records.append(record)
            total += used
        if problems:
            body = bulk_response.response_body(fmt, {}, problems, "upload")
            resp = Response(status=400, body=body, content_type=fmt, charset=None)
            resp.slo_problems = problems  # type: ignore[attr-defined]
            return resp
        etag = manifest.slo_etag(records)
        client_etag = (req.headers.get("ETag") or "").strip('"')
        if client_etag and client_etag != etag:
            return _text(422, "Unprocessable Entity")
        return self._put_manifest(req, obj, records, etag, total, depth)

    def _put_manifest(
        self,
        req: Request,
        obj: str,
        records: list[dict[str, Any]],
        etag: str,
        total: int,
        depth: int,
    ) -> Response:
        data = json.dumps(records).encode("utf-8")
        json_md5 = hashlib.md5(data).hexdigest()
        content_type = req.headers.get("Content-Type") or guess_content_type(obj)
        # a filter above may add its own listing-etag parameters (s3api's ``s3_etag``)
        extra = req.headers.get(OVERRIDE + "Etag", "").split(";")[1:]
        params = "".join(f"; {p.strip()}" for p in extra if p.strip())
        env = dict(req.environ)  # the client's request, with the stored manifest as its body
        env["wsgi.input"] = _Bytes(data)
        env["CONTENT_LENGTH"] = str(len(data))
        env.pop("HTTP_TRANSFER_ENCODING", None)
        env["QUERY_STRING"] = ""
        down = Request(env)
        down.headers.update(
            {
                SYSMETA_ETAG: etag,
                SYSMETA_SIZE: str(total),
                SYSMETA_DEPTH: str(depth),
                "X-Static-Large-Object": "True",
                "ETag": json_md5,
                "Content-Type": content_type,
                OVERRIDE + "Etag": f"{json_md5}; slo_etag={etag}{params}",
                OVERRIDE + "Content-Type": f"{content_type};swift_bytes={total}",
                # kept with the manifest, so the row a later POST re-sends lists the same
                STORED_OVERRIDE + "Etag": f"{json_md5}; slo_etag={etag}{params}",
                STORED_OVERRIDE + "Size": str(total),
            }
        )
        resp = subrequest.send(down, self.app)
        if 200 <= resp.status_int < 300:
            resp.headers["ETag"] = f'"{etag}"'
        return resp

    # -- GET / HEAD --------------------------------------------------------------------------
    def handle_get(self, req: Request, account: str) -> Any:
        manifest_get = req.GET.get("multipart-manifest") == "get"
        resp = subrequest.send(req, self.app)
        if not _is_slo(resp.headers) or resp.status_int not in (200, 206, 304, 412, 416):
            return resp
        if manifest_get:
            return self._manifest_response(req, resp)
        part = req.GET.get("part-number")
        part_number = None
        if part is not None:
            # ASCII digits only: "²" passes isdigit() and then int() raises (was a 500)
            part_number = int(part) if intparse.is_digits(part) else 0
            if part_number < 1:
                subrequest.close(resp)
                return _text(400, "Part number must be an integer greater than 0")
        if req.method == "HEAD" and part_number is None and resp.headers.get(SYSMETA_SIZE):
            size = int(resp.headers[SYSMETA_SIZE])
            etag = resp.headers.get(SYSMETA_ETAG, "")
            large = LargeObject(size, etag, resp.content_type or "", lambda a, b: iter(()))
            return self._respond(req, resp, large, resp.headers.get("ETag", ""))
        if resp.status_int == 200 and req.method == "GET":
            body = subrequest.drain(resp)
        else:
            subrequest.close(resp)
            refetched = self._fetch_manifest(req.environ, req.path_info)
            if not _is_slo(refetched.headers) or refetched.status_int != 200:
                return refetched
            resp, body = refetched, subrequest.drain(refetched)
        try:
            records = manifest.load_stored(body)
        except ValueError as exc:
            self.logger.error("Unable to load SLO manifest %s: %s", req.path, exc)
            return _text(500, "Unable to load SLO manifest")
        pieces = [self._piece(account, r) for r in records]
        lengths = [manifest.segment_length(r) for r in records]
        total = sum(lengths)
        etag = resp.headers.get(SYSMETA_ETAG) or manifest.slo_etag(records)

        def cuts_for(start: int, stop: int) -> Iterator[tuple[Piece, int, int]]:
            return self._cuts(req.environ, account, pieces, lengths, start, stop, 1)

        large = LargeObject(total, etag, resp.content_type or "", cuts_for)
        if part_number is not None:
            return self._part_response(req, resp, large, lengths, part_number)
        return self._respond(req, resp, large, resp.headers.get("ETag", ""))

    def _respond(self, req: Request, resp: Response, large: LargeObject, json_md5: str) -> Any:
        drop = {"etag", "x-object-sysmeta-slo-etag", "x-object-sysmeta-slo-size"}
        if req.method == "GET":  # a HEAD keeps the depth for the PUT check of a parent
            drop.add("x-object-sysmeta-slo-depth")
        headers = [(k, v) for k, v in resp.headerlist if k.lower() not in drop]
        headers += [("ETag", f'"{large.etag}"'), ("X-Manifest-Etag", json_md5.strip('"'))]
        return respond(
            req, self.app, headers, large, source=SOURCE, logger=self.logger, limits=self.limits
        )

    def _part_response(
        self, req: Request, resp: Response, large: LargeObject, lengths: list[int], number: int
    ) -> Any:
        if number > len(lengths):
            body = b"" if req.method == "HEAD" else b"The requested part number is not satisfiable"
            out = Response(status=416, body=body, content_type="text/plain")
            out.headers["Content-Range"] = f"bytes */{large.length}"
            out.headers["X-Parts-Count"] = str(len(lengths))
            return out
        start = sum(lengths[: number - 1])
        stop = start + lengths[number - 1]
        req.headers["Range"] = f"bytes={start}-{stop - 1}"
        for key in [k for k in req.headers if k.lower().startswith("if-")]:
            del req.headers[key]
        answer = self._respond(req, resp, large, resp.headers.get("ETag", ""))
        answer.headers["X-Parts-Count"] = str(len(lengths))
        if req.method == "HEAD":
            answer.status = 206
            answer.headers["Content-Length"] = str(stop - start)
            answer.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{large.length}"
        return answer

    def _manifest_response(self, req: Request, resp: Response) -> Response:
        if req.GET.get("format") != "raw":
            resp.headers["Content-Type"] = "application/json; charset=utf-8"
            return resp
        if req.method == "HEAD" or resp.status_int != 200:
            return resp
        try:
            raw = manifest.raw_form(manifest.load_stored(subrequest.drain(resp)))
        except ValueError:
            return _text(500, "Unable to load SLO manifest")
        headers = [
            (k, v) for k, v in resp.headerlist if k.lower() not in ("etag", "content-length")
        ]
        headers += [("ETag", hashlib.md5(raw).hexdigest()), ("Content-Length", str(len(raw)))]
        return Response(status=200, headerlist=headers, body=raw)

    def _fetch_manifest(self, environ: dict[str, Any], path: str) -> Response:
        sub = subrequest.make_subrequest(
            environ, "GET", path, source=SOURCE, auth=CARRY, query="multipart-manifest=get"
        )
        return subrequest.send(sub, self.app)

    def _piece(self, account: str, record: dict[str, Any]) -> Piece:
        length = manifest.segment_length(record)
        if "data" in record:
            return Piece(length=length, data=base64.b64decode(record["data"]))
        container, _, obj = str(record["name"]).lstrip("/").partition("/")
        return Piece(
            length=length,
            path=api_path(account, container, obj),
            offset=manifest.range_start(record),
            etag=None if record.get("sub_slo") else str(record["hash"]).strip('"'),
            size=None if record.get("sub_slo") else int(record["bytes"]),
            small=length < self.options.rate_limit_under_size,
            nested=bool(record.get("sub_slo")),
        )

    def _cuts(
        self,
        environ: dict[str, Any],
        account: str,
        pieces: list[Piece],
        lengths: list[int],
        start: int,
        stop: int,
        depth: int,
    ) -> Iterator[tuple[Piece, int, int]]:
        """The leaf cuts for [start, stop), opening nested manifests as they are reached."""
        for index, lo, hi in slice_pieces(lengths, start, stop):
            piece = pieces[index]
            if not piece.nested:
                yield piece, lo, hi
                continue
            if depth >= MAX_DEPTH:
                raise SegmentError(f"max recursion depth {MAX_DEPTH} exceeded")
            sub = self._fetch_manifest(environ, piece.path or "")
            if sub.status_int != 200 or not _is_slo(sub.headers):
                subrequest.close(sub)
                raise SegmentError(f"sub-manifest GET answered {sub.status_int}")
            try:
                records = manifest.load_stored(subrequest.drain(sub))
            except ValueError as exc:
                raise SegmentError(f"sub-manifest unreadable: {exc}") from None
            sub_pieces = [self._piece(account, r) for r in records]
            sub_lengths = [manifest.segment_length(r) for r in records]
            offset = piece.offset
            yield from self._cuts(
                environ, account, sub_pieces, sub_lengths, offset + lo, offset + hi, depth + 1
            )

    # -- container listings ------------------------------------------------------------------
    def handle_listing(self, req: Request, container: str) -> Any:
        """A container listing with SLO rows as clients see them (JSON and XML only)."""
        wanted = listing.negotiate(req.GET.get("format"), req.headers.get("Accept"))
        if wanted not in (listing.JSON, listing.XML, listing.TEXT_XML):
            return self.app
        resp = subrequest.send(req, self.app)
        if resp.status_int != 200:
            return resp
        body = subrequest.drain(resp)
        if b"swift_bytes=" not in body and b"slo_etag=" not in body:
            resp.body = body  # no SLO row: the listing as it came (the common, fast case)
            return resp
        if wanted != listing.JSON:  # the rows again as JSON, to rewrite and render here
            params = [(k, v) for k, v in req.GET.items() if k != "format"]
            again = subrequest.make_subrequest(
                req.environ,
                "GET",
                req.path_info,
                source=SOURCE,
                auth=CARRY,  # the caller's own listing, read as the caller
                query=urllib.parse.urlencode([*params, ("format", "json")]),
                headers={k: v for k, v in req.headers.items() if k.lower() == "x-newest"},
            )
            resp = subrequest.send(again, self.app)
            if resp.status_int != 200:
                return resp
            body = subrequest.drain(resp)
        try:
            rows = json.loads(body)
        except ValueError:
            return _text(500, "An error occurred")
        for row in rows:
            show_slo_row(row)
        out = Response(
            status=200,
            headerlist=[(k, v) for k, v in resp.headerlist if k.lower() != "content-length"],
            body=listing.render("container", container, rows, wanted),
        )
        out.content_type = wanted
        out.charset = "utf-8"
        return out


def show_slo_row(row: dict[str, Any]) -> None:
    """A listing row as clients see it: an SLO's total bytes and its slo_etag (pure)."""
    if "subdir" in row:
        return
    ctype = str(row.get("content_type", ""))
    main, sep, params = ctype.partition(";")
    kept = []
    for param in params.split(";") if sep else []:
        key, _, value = param.strip().partition("=")
        if key == "swift_bytes":
            # any writer sets this in a Content-Type: one that is not a number is dropped,
            # the row's own bytes kept (int("²") was a 500 for every listing of the container)
            if intparse.is_digits(value):
                row["bytes"] = int(value)
        elif param.strip():
            kept.append(param.strip())
    if sep:
        row["content_type"] = ";".join([main, *kept])
    etag, sep, params = str(row.get("hash", "")).partition(";")
    if sep:
        rest = []
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "slo_etag":
                row["slo_etag"] = f'"{value}"'
            elif param.strip():
                rest.append(param.strip())
        row["hash"] = "; ".join([etag.strip(), *rest])


def _read_upto(stream: Any, length: int | None, limit: int) -> bytes:
    """The request body (``length`` bytes, or to its end when chunked), at most ``limit``."""
    want = limit if length is None else min(length, limit)
    parts: list[bytes] = []
    got = 0
    while got < want:
        chunk = stream.read(min(65536, want - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = len(self.data)
        out, self.data = self.data[:size], self.data[size:]
        return out


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#slo``."""
    options = config.parse_options(SloOptions, local_conf, global_conf, where="[filter:slo]")
    register_info(
        "slo",
        max_manifest_segments=options.max_manifest_segments,
        max_manifest_size=options.max_manifest_size,
        yield_frequency=options.yield_frequency,
        min_segment_size=options.min_segment_size,
        allow_async_delete=options.allow_async_delete,
    )

    def make(app: Any) -> SloMiddleware:
        return SloMiddleware(app, options)

    return make
