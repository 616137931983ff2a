"""copy: server-side copy, ``COPY`` with ``Destination`` and ``PUT`` with ``X-Copy-From``.

What it owns, as Swift's copy middleware does:

* ``COPY /v1/a/c/o`` + ``Destination: c2/o2`` (+ ``Destination-Account``) is handled as
  ``PUT /v1/<dest account>/c2/o2`` with ``X-Copy-From: /c/o`` (+ ``X-Copy-From-Account``).
* A copy PUT must have an empty body (400). The source is read first, with a GET subrequest
  carrying the caller's auth (so the source container's read ACL decides, ``X-Newest`` is
  asked, a client ``Range`` copies just that range, ``If-*`` apply to the source). A failed GET's
  answer is the client's answer, before anything about the destination is looked at: a missing
  source is 404 even where the caller may not write, an unreadable source 403 even when the
  destination container is missing. A source over ``max_file_size`` (or of unknown length) is
  413. The source body streams straight into a PUT subrequest at the destination.
* ``?multipart-manifest=get`` copies a large object's manifest instead of its content: the
  source GET asks for the raw manifest, an SLO's is PUT back with ``multipart-manifest=put``
  (SLO validates it again) and a DLO's ``X-Object-Manifest`` is set on the new object.
* ``?symlink=get`` copies a link itself (its ``X-Symlink-Target*`` headers go to the new
  object, so ``symlink`` makes it a link); without it a link's target is copied.
* Metadata: the source's headers (minus its ETag, Content-Type, timestamps and large-object
  markers) then the request's on top; with ``X-Fresh-Metadata: true`` only the source's
  sysmeta is kept. Content-Type is the request's, else the source's.
* A successful copy answers with ``X-Copied-From``, ``X-Copied-From-Account`` and
  ``X-Copied-From-Last-Modified`` plus the new object's metadata. ``OPTIONS`` on an object
  lists ``COPY`` in ``Allow``.

It never talks to a backend: both halves are subrequests (``subrequest.py``), logged with
``swift.source`` ``SSC``. Header-path parsing (``split_copy_path``) and the metadata rule
(``sink_headers``) are pure.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors
from swiftlite.common.http.headers import is_sys_meta
from swiftlite.common.names import check_name, wsgi_to_str
from swiftlite.middleware import pathinfo, subrequest
from swiftlite.middleware.subrequest import CARRY, IterReader, api_path
from swiftlite.proxy import responses
from swiftlite.proxy.controllers.base import client_content_type
from swiftlite.proxy.server import invalid_response

SOURCE = "SSC"

SOURCE_EXCLUDED = frozenset(
    {
        "etag",
        "content-type",
        "content-length",
        "x-timestamp",
        "x-backend-timestamp",
        "x-static-large-object",
        "x-object-manifest",
        "x-manifest-etag",
        "x-parts-count",
        "last-modified",
        "accept-ranges",
        "content-range",
        "date",
        "x-trans-id",
        "x-openstack-request-id",
        "transfer-encoding",
        "connection",
    }
)
COPY_REQUEST_HEADERS = frozenset(
    {"x-copy-from", "x-copy-from-account", "destination", "destination-account"}
)
# Request headers that are about this hop, never given to the destination PUT.
NOT_SENT = frozenset({"content-length", "transfer-encoding", "host", "expect", "range"})


@dataclass(frozen=True)
class CopyOptions:
    pass


def _text(status: int, text: str) -> Response:
    """A plain-text error: Swift's copy filter sets text/plain on exactly these."""
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


def _is_large_object(headers: Mapping[str, str]) -> bool:
    return "X-Static-Large-Object" in headers or "X-Object-Manifest" in headers


class CopyMiddleware:
    def __init__(self, app: Callable[..., Any], options: CopyOptions) -> None:
        self.app = app
        self.options = options
        self.limits = constraints.load()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method not in ("COPY", "PUT", "OPTIONS"):
            return self.app(environ, start_response)
        names = pathinfo.object_path(environ)
        if names is None:
            return self.app(environ, start_response)
        req = Request(environ)
        refused = subrequest.query_refusal(req)
        if refused is not None and (method == "COPY" or req.headers.get("X-Copy-From")):
            return refused(environ, start_response)
        try:
            if method == "COPY":
                resp = self.handle_copy(req, *names)
            elif method == "PUT" and req.headers.get("X-Copy-From"):
                resp = self.handle_put(req, *names)
            elif method == "OPTIONS":
                return self.handle_options(environ, start_response)
            else:
                return self.app(environ, start_response)
        except errors.Invalid as exc:
            resp = invalid_response(exc)  # swob's HTML type, the message as the body
        return resp(environ, start_response)

    def handle_options(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def add_copy(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("2"):
                for i, (key, value) in enumerate(headers):
                    low = key.lower()
                    if low in ("allow", "access-control-allow-methods") and "COPY" not in value:
                        headers[i] = (key, value + ", COPY")
            return start_response(status, headers, exc_info)

        return self.app(environ, add_copy)

    def handle_copy(self, req: Request, account: str, container: str, obj: str) -> Response:
        """``COPY``: the same copy as a PUT with X-Copy-From at the destination."""
        destination = req.headers.get("Destination")
        if not destination:
            return responses.error(412, "Destination header required")
        dest_account = account
        src_account: str | None = None
        if "Destination-Account" in req.headers:
            dest_account = check_account(req.headers["Destination-Account"])
            src_account = account
        dest_container, dest_obj = split_copy_path(destination, "Destination")
        source = (src_account or account, container, obj)
        return self.copy(req, source, (dest_account, dest_container, dest_obj))

    def handle_put(self, req: Request, account: str, container: str, obj: str) -> Response:
        """``PUT`` with ``X-Copy-From``: GET the source, then PUT it at this path."""
        if req.content_length:
            return _text(400, "Copy requests require a zero byte body")
        src_account = account
        if req.headers.get("X-Copy-From-Account"):
            src_account = check_account(req.headers["X-Copy-From-Account"])
        src_container, src_obj = split_copy_path(req.headers["X-Copy-From"], "X-Copy-From")
        return self.copy(req, (src_account, src_container, src_obj), (account, container, obj))

    def copy(
        self, req: Request, source: tuple[str, str, str], dest: tuple[str, str, str]
    ) -> Response:
        manifest_get = req.GET.get("multipart-manifest") == "get"
        got = self._get_source(req, source, manifest_get)
        if got.status_int >= 300:
            return got
        constraints.check_object_name(dest[2], self.limits)
        length = got.content_length
        if length is None or length > self.limits.max_file_size:
            subrequest.close(got)
            return responses.error(413)  # swob's page, as Swift's copy filter answers
        headers = sink_headers(self._request_headers(req), got.headerlist)
        headers.pop("ETag", None)
        query = ""
        if got.status_int == 200 and got.headers.get("ETag") and not _is_large_object(got.headers):
            headers["ETag"] = got.headers["ETag"]
        if manifest_get and "X-Static-Large-Object" in got.headers:
            query = "multipart-manifest=put"
        elif manifest_get and "X-Object-Manifest" in got.headers:
            headers["X-Object-Manifest"] = got.headers["X-Object-Manifest"]
        sink = subrequest.make_subrequest(
            req.environ,
            "PUT",
            api_path(*dest),
            source=SOURCE,
            auth=CARRY,
            query=query,
            headers=headers,
            body=IterReader(got.app_iter),
            content_length=length,
        )
        try:
            resp = subrequest.send(sink, self.app)
        finally:
            subrequest.close(got)
        if 200 <= resp.status_int < 300:
            resp.headers.update(self._copied_headers(source, got, sink))
        return resp

    def _request_headers(self, req: Request) -> dict[str, str]:
        """The copy request's headers that the destination PUT may carry."""
        out = {k: v for k, v in req.headers.items() if k.lower() not in NOT_SENT}
        if client_content_type(req) is None:
            out.pop("Content-Type", None)
        return out

    def _get_source(
        self, req: Request, source: tuple[str, str, str], manifest_get: bool
    ) -> Response:
        headers = {"X-Newest": "true"}
        for key, value in req.headers.items():
            low = key.lower()
            if low == "range" or (low.startswith("if-") and low != "if-none-match"):
                headers[key] = value  # If-None-Match is about the destination
        params = [("multipart-manifest", "get"), ("format", "raw")] if manifest_get else []
        version = req.GET.get("version-id")  # a COPY of one version reads that version
        if version:
            params.append(("version-id", version))
        if req.GET.get("symlink") == "get":  # a COPY of a link itself makes a link
            params.append(("symlink", "get"))
        query = urllib.parse.urlencode(params)
        sub = subrequest.make_subrequest(
            req.environ,
            "GET",
            api_path(*source),
            source=SOURCE,
            auth=CARRY,
            query=query,
            headers=headers,
        )
        return subrequest.send(sub, self.app)

    @staticmethod
    def _copied_headers(
        source: tuple[str, str, str], got: Response, sink: Request
    ) -> dict[str, str]:
        account, container, obj = source
        out = {
            "X-Copied-From": urllib.parse.quote(f"{container}/{obj}"),
            "X-Copied-From-Account": urllib.parse.quote(account),
        }
        if got.headers.get("Last-Modified"):
            out["X-Copied-From-Last-Modified"] = got.headers["Last-Modified"]
        for key, value in sink.headers.items():
            low = key.lower()
            if low.startswith("x-object-meta-") or low == "x-delete-at":
                out[key] = value
        return out


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#copy``."""
    options = config.parse_options(CopyOptions, local_conf, global_conf, where="[filter:copy]")

    def make(app: Any) -> CopyMiddleware:
        return CopyMiddleware(app, options)

    return make
