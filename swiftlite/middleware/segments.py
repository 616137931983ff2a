"""segments: a large object's bytes, cut from its segments and streamed through subrequests.

Shared by ``dlo`` and ``slo``. A large object is a sequence of *pieces*: a segment object
(all of it, or one byte range of it) or a run of inline bytes. This module owns

* ``slice_pieces``: which pieces, and which bytes of each, make a byte span of the whole
  (pure; ranges over the concatenation reduce to it);
* ``SegmentStream``: the body. Each object piece is one GET subrequest (with the caller's
  auth, ``?multipart-manifest=get`` so a segment is never expanded again, a ``Range`` when only
  part of it is used). The answer is checked before its bytes are passed on: a 2xx, the ETag
  and size the manifest recorded (when it recorded them), and the length promised. The first
  piece is fetched before the response starts (``prime``), so a large object whose first
  segment is gone is a 409, as in Swift. A later failure is logged and the body simply stops:
  the response is then shorter than its Content-Length, and ``catch_errors`` drops the
  connection, so no client takes the truncated body for the whole object.
* Swift's limits on reading segments: ``max_get_time`` (seconds for one response), and after
  ``rate_limit_after_segment`` segments at most ``rate_limit_segments_per_sec`` segments a
  second (0: no limit).

It knows nothing about manifests: ``dlo`` and ``slo`` turn theirs into pieces.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from webob import Response

from swiftlite.common import green
from swiftlite.common.http import ranges
from swiftlite.common.http.conditional import evaluate, normalize_etag, parse_http_date
from swiftlite.middleware import subrequest
from swiftlite.middleware.subrequest import CARRY


@dataclass(frozen=True)
class Piece:
    """One part of a large object: ``length`` bytes of a segment object, or inline ``data``.

    ``path`` is the segment's WSGI API path, ``offset`` the first byte used inside it; ``etag``
    and ``size`` are what the manifest recorded for the whole segment object (None: unchecked).
    """

    length: int
    path: str | None = None
    offset: int = 0
    etag: str | None = None
    size: int | None = None
    data: bytes | None = None
    small: bool = False  # counts against the segment rate limit
    nested: bool = False  # an SLO manifest whose own pieces make these bytes


@dataclass(frozen=True)
class StreamLimits:
    max_get_time: float = 86400.0
    rate_limit_after_segment: int = 10
    rate_limit_segments_per_sec: float = 1.0


Cut = tuple[int, int, int]  # (piece index, first byte, stop byte) within that piece


def slice_pieces(lengths: Sequence[int], start: int, stop: int) -> list[Cut]:
    """The cuts of pieces of ``lengths`` that make bytes ``[start, stop)`` of their concatenation.

    Each cut is ``(index, lo, hi)``: bytes ``[lo, hi)`` of piece ``index``. Empty pieces and
    pieces outside the span give no cut; the cuts' lengths add up to the span's.
    """
    cuts: list[Cut] = []
    pos = 0
    for index, length in enumerate(lengths):
        end = pos + length
        if pos >= stop:
            break
        lo, hi = max(start, pos), min(stop, end)
        if lo < hi:
            cuts.append((index, lo - pos, hi - pos))
        pos = end
    return cuts


def rate_limit_delay(limits: StreamLimits, started: float, now: float, fetched: int) -> float:
    """Seconds to wait before fetching segment number ``fetched`` (0-based) of a response.

    The first ``rate_limit_after_segment`` go at once; after them, at most
    ``rate_limit_segments_per_sec`` a second counted from the response's start (0: no limit).
    """
    rate = limits.rate_limit_segments_per_sec
    after = limits.rate_limit_after_segment
    if rate <= 0 or fetched < after:
        return 0.0
    return max(0.0, started + (fetched - after) / rate - now)


class SegmentError(Exception):
    """A segment is missing, changed, or short: the large object cannot be served whole."""


class SegmentStream:
    """The bytes of ``cuts`` (pieces with the part of each to send), fetched in order.

    ``cuts`` may be lazy (a DLO's listing, an SLO's nested manifests); it may raise
    SegmentError itself.
    """

    def __init__(
        self,
        environ: dict[str, Any],
        app: Callable[..., Any],
        cuts: Iterable[tuple[Piece, int, int]],
        *,
        source: str,
        name: str,
        logger: logging.Logger,
        limits: StreamLimits,
    ) -> None:
        self.environ = environ
        self.app = app
        self.cuts = iter(cuts)
        self.source = source
        self.name = name
        self.logger = logger
        self.limits = limits
        self.started = time.monotonic()
        self.fetched = 0
        self._first: tuple[tuple[Piece, int, int], Any] | None = None
        self._current: Response | None = None
        self._closed = False

    # -- the first piece, before the response starts ------------------------------------------
    def prime(self) -> str | None:
        """Fetch the first piece; the reason it cannot be served, or None when it can."""
        try:
            cut = next(self.cuts, None)
            if cut is None:
                return None
            self._first = (cut, self._open(*cut))
        except SegmentError as exc:
            self.logger.error("ERROR: %s: %s", self.name, exc)
            return str(exc)
        return None

    # -- the body ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[bytes]:
        try:
            if self._first is not None:
                (piece, lo, hi), opened = self._first
                self._first = None
                yield from self._read(piece, lo, hi, opened)
            for piece, lo, hi in self.cuts:
                self._check_time()
                self._rate_limit(piece)
                yield from self._read(piece, lo, hi, self._open(piece, lo, hi))
        except SegmentError as exc:
            # Stop short: catch_errors sees fewer bytes than Content-Length and drops the
            # connection, so the client cannot take this body for the whole object.
            self.logger.error(
                "ERROR: while streaming %s (trans %s): %s",
                self.name,
                self.environ.get("swiftlite.trans_id", "-"),
                exc,
            )
        finally:
            self.close()

    def close(self) -> None:
        if self._current is not None:
            subrequest.close(self._current)
            self._current = None
        if self._first is not None:
            _cut, opened = self._first
            if isinstance(opened, Response):
                subrequest.close(opened)
            self._first = None
        self._closed = True

    def _check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.max_get_time:
            raise SegmentError(f"max_get_time of {self.limits.max_get_time:g}s exceeded")

    def _rate_limit(self, piece: Piece) -> None:
        if piece.data is not None or not piece.small:
            return
        wait = rate_limit_delay(self.limits, self.started, time.monotonic(), self.fetched)
        if wait > 0:
            green.sleep(wait)

    def _open(self, piece: Piece, lo: int, hi: int) -> Response | bytes:
        """The checked GET answer for a piece (or its inline bytes)."""
        if piece.data is not None or piece.path is None:
            return (piece.data or b"")[lo:hi]
        self.fetched += 1
        first, last = piece.offset + lo, piece.offset + hi - 1
        headers: dict[str, str] = {}
        whole = first == 0 and piece.size is not None and last == piece.size - 1
        if not whole:
            headers["Range"] = f"bytes={first}-{last}"
        sub = subrequest.make_subrequest(
            self.environ,
            "GET",
            piece.path,
            source=self.source,
            auth=CARRY,
            query="multipart-manifest=get",
            headers=headers,
        )
        resp = subrequest.send(sub, self.app)
        problem = _problem(resp, piece, first, hi - lo)
        if problem is not None:
            subrequest.close(resp)
            raise SegmentError(f"segment {_quote(piece.path)}: {problem}")
        return resp

    def _read(self, piece: Piece, lo: int, hi: int, opened: Response | bytes) -> Iterator[bytes]:
        if isinstance(opened, bytes):
            yield opened
            return
        self._current = opened
        want = hi - lo
        got = 0
        for chunk in opened.app_iter:
            if got + len(chunk) > want:
                chunk = chunk[: want - got]
            got += len(chunk)
            if chunk:
                yield chunk
            if got >= want:
                break
        subrequest.close(opened)
        self._current = None
        if got < want:
            raise SegmentError(f"segment {_quote(piece.path or '')}: {got} of {want} bytes")


def _problem(resp: Response, piece: Piece, first: int, want: int) -> str | None:
    """Why a segment GET's answer cannot be used for ``want`` bytes from ``first``, or None."""
    status = resp.status_int
    if status not in (200, 206):
        return f"GET answered {status}"
    if piece.etag is not None and normalize_etag(resp.headers.get("ETag")) != piece.etag:
        return "ETag does not match the manifest"
    if piece.size is not None and _total_size(resp) not in (None, piece.size):
        return "size does not match the manifest"
    if status == 200 and first != 0:
        return "Range was not honoured"  # the bytes would start at the wrong place
    return None


def _total_size(resp: Response) -> int | None:
    if resp.status_int == 206:
        _, _, total = (resp.headers.get("Content-Range") or "").rpartition("/")
        return int(total) if total.isdigit() else None
    return resp.content_length


def _quote(path: str) -> str:
    """A path fit for a log line (no control bytes)."""
    return (
        path.encode("latin-1", "replace")
        .decode("utf-8", "replace")
        .encode("unicode_escape")
        .decode("ascii")
    )


CutSource = Callable[[int, int], Iterable[tuple[Piece, int, int]]]


@dataclass
class LargeObject:
    """What a large object's GET/HEAD answer is made from (besides the manifest's headers)."""

    length: int
    etag: str  # unquoted
    content_type: str
    cuts_for: CutSource  # (start, stop) of the whole -> the cuts that make it
    multi_range: bool = True  # False: a multi-range GET gets the whole body (Swift's DLO)


def respond(
    req: Any,
    app: Callable[..., Any],
    headers: list[tuple[str, str]],
    large: LargeObject,
    *,
    source: str,
    logger: logging.Logger,
    limits: StreamLimits,
) -> Response:
    """The client's answer for a large object: conditionals and ranges against the whole.

    ``headers`` are the manifest's response headers with the large object's own (ETag,
    Content-Type, markers) already set; Content-Length and Content-Range are decided here.
    """
    base = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-range")]
    last_modified = parse_http_date(_header(headers, "Last-Modified"))
    decided = evaluate(req.headers, large.etag, last_modified)
    if decided is not None:
        return Response(status=decided, headerlist=[*base, ("Content-Length", "0")], app_iter=[])
    length = large.length
    plan = ranges.plan(req.headers.get("Range"), length)
    if req.method == "HEAD":
        return Response(
            status=200, headerlist=[*base, ("Content-Length", str(length))], app_iter=[]
        )
    if plan.status == 416:
        body = b"Requested Range Not Satisfiable"
        extra = [("Content-Range", ranges.unsatisfied_range(length))]
        return _with_body(416, base + extra, body)
    partial = plan.status == 206 and (len(plan.spans) == 1 or large.multi_range)
    spans = plan.spans if partial else ((0, length),)

    def stream(start: int, stop: int) -> SegmentStream:
        return SegmentStream(
            req.environ,
            app,
            large.cuts_for(start, stop),
            source=source,
            name=req.path,
            logger=logger,
            limits=limits,
        )

    first = stream(*spans[0])
    if first.prime() is not None:
        first.close()
        return _with_body(409, [("Content-Type", "text/html; charset=UTF-8")], _CONFLICT)
    if len(spans) == 1:
        start, stop = spans[0]
        extra = [("Content-Length", str(stop - start))]
        status = 206 if partial else 200
        if partial:
            extra.append(("Content-Range", ranges.content_range(start, stop, length)))
        return Response(status=status, headerlist=base + extra, app_iter=first)
    streams = iter([first])

    def read_range(start: int, stop: int) -> Iterable[bytes]:
        return next(streams, None) or stream(start, stop)

    boundary = ranges.new_boundary()
    ctype = large.content_type
    total = ranges.multipart_length(spans, ctype, boundary, length)
    body_iter = ranges.multipart_body(spans, ctype, boundary, length, read_range)
    kept = [(k, v) for k, v in base if k.lower() != "content-type"]
    extra = [
        ("Content-Type", ranges.multipart_content_type(boundary)),
        ("Content-Length", str(total)),
    ]
    return Response(status=206, headerlist=kept + extra, app_iter=_Closing(body_iter, first))


_CONFLICT = (
    b"<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request."
    b"</p></html>"
)


class _Closing:
    """An iterator that also closes ``stream`` when closed early."""

    def __init__(self, chunks: Iterator[bytes], stream: SegmentStream) -> None:
        self.chunks = chunks
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        self.stream.close()


def _with_body(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-length",)]
    return Response(
        status=status, headerlist=[*kept, ("Content-Length", str(len(body)))], body=body
    )


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    low = name.lower()
    for key, value in headers:
        if key.lower() == low:
            return value
    return None
