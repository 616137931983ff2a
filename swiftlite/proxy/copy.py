"""Server-side copy: ``COPY`` with ``Destination``, and ``PUT`` with ``X-Copy-From``.

The pipeline has no copy filter, so the proxy does what Swift's copy middleware does:

* ``COPY /v1/a/c/o`` + ``Destination: c2/o2`` (+ ``Destination-Account``) becomes
  ``PUT /v1/<dest account>/c2/o2`` with ``X-Copy-From: /c/o`` (+ ``X-Copy-From-Account``).
* A copy PUT must have an empty body (400). The source is read with a GET subrequest through
  this app (so the source container's read ACL is checked, ``X-Newest`` is asked, a client
  ``Range`` copies just that range); a failed GET's answer is the client's answer, and a
  source over ``max_file_size`` is 413. The source body streams straight into the new PUT.
* Metadata: the source's headers (minus its ETag, Content-Type, timestamps and large-object
  markers) then the request's headers on top; with ``X-Fresh-Metadata: true`` only the
  source's sysmeta is kept. Content-Type is the request's, else the source's.
* A successful copy answers with ``X-Copied-From``, ``X-Copied-From-Account`` and
  ``X-Copied-From-Last-Modified`` plus the new object's metadata.

Header-path parsing (``split_copy_path``) and the metadata rule (``sink_headers``) are pure.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from webob import Request, Response

from swiftlite.common import config, constraints, errors
from swiftlite.common.http.headers import is_sys_meta
from swiftlite.common.names import check_name, str_to_wsgi, wsgi_to_str
from swiftlite.proxy.controllers.base import NOT_FORWARDED, client_content_type

if TYPE_CHECKING:
    from swiftlite.proxy.controllers.obj import ObjectController

SOURCE_EXCLUDED = frozenset(
    {
        "etag",
        "content-type",
        "content-length",
        "x-timestamp",
        "x-backend-timestamp",
        "x-static-large-object",
        "x-object-manifest",
        "last-modified",
        "accept-ranges",
        "content-range",
        "date",
        "x-trans-id",
        "x-openstack-request-id",
    }
)
COPY_REQUEST_HEADERS = frozenset(
    {"x-copy-from", "x-copy-from-account", "destination", "destination-account"}
)


def _text(status: int, text: str) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type="text/plain")


def split_copy_path(value: str, header: str) -> tuple[str, str]:
    """``c/o`` (URL-quoted, optional leading slash, as a WSGI string) -> real-str (c, o).

    PreconditionFailed (412) when it is not a container and an object name.
    """
    text = urllib.parse.unquote(wsgi_to_str(value))
    if text.startswith("/"):
        text = text[1:]
    container, sep, obj = text.partition("/")
    if not sep or not container or not obj:
        raise errors.PreconditionFailed(
            f"{header} header must be of the form <container name>/<object name>"
        )
    return check_name(container), check_name(obj)


def check_account(value: str) -> str:
    """A Destination-Account / X-Copy-From-Account value as a real-str account name."""
    name = check_name(urllib.parse.unquote(wsgi_to_str(value)))
    if not name or "/" in name:
        raise errors.PreconditionFailed("Account name cannot contain slashes")
    return name


def sink_headers(
    request_headers: Mapping[str, str], source_headers: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The new object's headers from the source's and the copy request's (pure)."""
    fresh = config.config_true(request_headers.get("X-Fresh-Metadata", "false"))
    out: dict[str, str] = {}
    for key, value in source_headers:
        low = key.lower()
        if fresh:
            if is_sys_meta("object", low):
                out[key] = value
        elif low not in SOURCE_EXCLUDED and not low.startswith("x-backend-"):
            out[key] = value
    lowered = {k.lower(): k for k in out}
    for key, value in request_headers.items():
        low = key.lower()
        if low in COPY_REQUEST_HEADERS or low == "x-fresh-metadata":
            continue
        if low in lowered:
            del out[lowered.pop(low)]
        out[key] = value
    if not request_headers.get("Content-Type"):
        for key, value in source_headers:
            if key.lower() == "content-type":
                out["Content-Type"] = value
    return out


class IterReader:
    """``read(n)`` over an iterator of byte chunks (a source GET's body)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._iter: Iterator[bytes] = iter(chunks)
        self._buf = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            try:
                chunk = next(self._iter)
            except StopIteration:
                break
            self._buf += chunk
        if size < 0:
            data, self._buf = self._buf, b""
        else:
            data, self._buf = self._buf[:size], self._buf[size:]
        return data


def copy_verb(controller: ObjectController, req: Request) -> Response:
    """``COPY``: rewrite as a PUT with X-Copy-From at the destination and handle that."""
    destination = req.headers.get("Destination")
    if not destination:
        return _text(412, "Destination header required")
    dest_container, dest_obj = split_copy_path(destination, "Destination")
    dest_account = controller.account
    environ = dict(req.environ)
    headers = _wsgi_headers(req)
    headers.pop("Destination", None)
    headers.pop("Destination-Account", None)
    if "Destination-Account" in req.headers:
        dest_account = check_account(req.headers["Destination-Account"])
        headers["X-Copy-From-Account"] = str_to_wsgi(controller.account)
    source = f"/{controller.container}/{controller.obj}"
    headers["X-Copy-From"] = str_to_wsgi(urllib.parse.quote(source))
    headers["Content-Length"] = "0"
    headers.pop("Transfer-Encoding", None)
    path = "/".join(str_to_wsgi(p) for p in ("", "v1", dest_account, dest_container, dest_obj))
    for key in [k for k in environ if _request_specific(k)]:
        del environ[key]
    environ.update(REQUEST_METHOD="PUT", PATH_INFO=path, QUERY_STRING="")
    sub = Request(environ)
    sub.headers.update(headers)
    sub.body_file_raw = _EMPTY
    return controller.app.handle(sub)


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""


_EMPTY = _Empty()


def copy_from(controller: ObjectController, req: Request) -> Response:
    """``PUT`` with ``X-Copy-From``: GET the source, then store it at this object's path."""
    if req.content_length:
        return _text(400, "Copy requests require a zero byte body")
    src_container, src_obj = split_copy_path(req.headers["X-Copy-From"], "X-Copy-From")
    src_account = controller.account
    if req.headers.get("X-Copy-From-Account"):
        src_account = check_account(req.headers["X-Copy-From-Account"])
    constraints.check_object_name(controller.obj, controller.app.limits)
    source = _get_source(controller, req, src_account, src_container, src_obj)
    if source.status_int >= 300:
        return source
    length = source.content_length
    if length is None or length > controller.app.limits.max_file_size:
        _close(source)
        return _text(413, "Your request is too large.")
    headers = controller.forwarded_headers(req, controller.request_timestamp(req))
    merged = sink_headers(_wsgi_headers(req), source.headerlist)
    headers.update({k: v for k, v in merged.items() if k.lower() not in NOT_FORWARDED})
    headers.pop("ETag", None)
    if source.status_int == 200 and source.headers.get("ETag"):
        headers["ETag"] = source.headers["ETag"]
    controller.apply_delete_at(req, headers)
    copied_from = urllib.parse.quote(f"{src_container}/{src_obj}")
    extra = {
        "X-Copied-From": copied_from,
        "X-Copied-From-Account": urllib.parse.quote(src_account),
    }
    if source.headers.get("Last-Modified"):
        extra["X-Copied-From-Last-Modified"] = source.headers["Last-Modified"]
    for key, value in headers.items():
        if key.lower().startswith("x-object-meta-") or key.lower() == "x-delete-at":
            extra[key] = value
    controller.app.logger.info(
        "copying /%s/%s/%s to %s", src_account, src_container, src_obj, controller.path
    )
    try:
        return controller.store(
            req, headers, IterReader(source.app_iter).read, length, False, extra
        )
    finally:
        _close(source)


def _wsgi_headers(req: Request) -> dict[str, str]:
    """The copy request's headers, without a Content-Type the client never sent."""
    out = {k: v for k, v in req.headers.items() if k.lower() not in ("content-length", "host")}
    if client_content_type(req) is None:
        out.pop("Content-Type", None)
    return out


def _get_source(
    controller: ObjectController, req: Request, account: str, container: str, obj: str
) -> Response:
    environ = {k: v for k, v in req.environ.items() if not _request_specific(k)}
    environ.pop("swiftlite.owner", None)
    path = "/".join(str_to_wsgi(p) for p in ("", "v1", account, container, obj))
    environ.update(REQUEST_METHOD="GET", PATH_INFO=path, QUERY_STRING="")
    sub = Request(environ)
    for key, value in req.headers.items():
        low = key.lower()
        if low in (
            "range",
            "x-auth-token",
            "x-storage-token",
            "x-trans-id",
            "referer",
        ) or low.startswith("if-"):
            sub.headers[key] = value
    sub.headers.pop("If-None-Match", None)  # the PUT's If-None-Match is about the destination
    sub.headers["X-Newest"] = "true"
    sub.body_file_raw = _EMPTY
    return controller.app.handle(sub)


def _request_specific(key: str) -> bool:
    """Environ keys a subrequest must not inherit: headers, body framing, webob's caches."""
    return key.startswith(("HTTP_", "webob.")) or key in ("CONTENT_LENGTH", "CONTENT_TYPE")


def _close(resp: Response) -> None:
    close = getattr(resp.app_iter, "close", None)
    if close is not None:
        close()
