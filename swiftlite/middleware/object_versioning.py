"""object_versioning: Swift's ``X-Versions-Enabled`` versioning, versions in the reserved namespace.

Owns: enabling (``X-Versions-Enabled: true`` on container PUT/POST creates the hidden
``\\x00versions\\x00<container>`` and records it in ``X-Container-Sysmeta-Versions-Container``;
``false`` stops new versions and keeps the old ones); writes to a versioned container (a PUT
stores the data as a version and makes the name a static link to it; a DELETE writes a
delete marker version and removes the link; both answer ``X-Object-Version-Id``); objects
written before versioning (version ``null``), copied into the versions container when first
overwritten; ``?version-id=<id>`` GET/HEAD/DELETE, and PUT of an empty body to make that
version current again (restore); ``?versions`` listings (``versions_listing.py``); and the
409 for deleting a container that still has versions.

It sits where Swift's object versioning does, between ``versioned_writes`` and ``symlink``
(``... versioned_writes object_versioning symlink proxy-server``). The links it writes carry
the sysmeta ``symlink`` reads (``X-Object-Sysmeta-Symlink-*``, ``Versions-Symlink``,
``Symloop-Extend``, ``Allow-Reserved-Names``); ``symlink``, below, answers this filter's own
subrequests (``OV``) with a link itself and follows links for a client's GET/HEAD of a name
(and for ``OVF``, a ``?version-id`` read), and the version it reached is read back from its
``Content-Location``. Requests into that namespace are this filter's own,
so they are sent with ``auth=BYPASS`` after the caller was authorized against the client
container's ACLs here (``authorize``), as the proxy would have.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors, reserved
from swiftlite.common.errors import BadInput, BadName
from swiftlite.common.http.conditional import normalize_etag
from swiftlite.common.names import split_api_path
from swiftlite.common.registry import register_info
from swiftlite.common.storage_app import error_response
from swiftlite.common.timestamp import Timestamp
from swiftlite.middleware import pathinfo, symlink, version_copy, versioned_containers
from swiftlite.middleware import versions_listing as vl
from swiftlite.middleware.subrequest import (
    AUTHORIZE,
    AUTHORIZED,
    BYPASS,
    CARRY,
    OVERRIDE,
    IterReader,
    api_path,
    close,
    drain,
    get_container_info,
    make_subrequest,
)
from swiftlite.middleware.versioned_containers import check_step
from swiftlite.middleware.versioned_writes import Refused, copy_headers, lower_keys, text
from swiftlite.proxy.controllers.obj import guess_content_type

SOURCE = "OV"
FOLLOW_SOURCE = "OVF"
VERSION_ID = "X-Object-Version-Id"
CURRENT_VERSION_ID = "X-Object-Current-Version-Id"
ALLOW = {reserved.ALLOW_HEADER: "true"}
NO_VERSIONS_CONTAINER = (
    "The versions container does not exist. You may want to re-enable object versioning."
)
# Client headers a version link does not take from the client's PUT.
NOT_FOR_LINK = frozenset(
    {
        "etag",
        "x-if-delete-at",
        "x-symlink-target-account",
        "x-object-manifest",
        "x-static-large-object",
        "x-object-sysmeta-slo-etag",
        "x-object-sysmeta-slo-size",
        "content-length",
        "transfer-encoding",
        "host",
        "x-timestamp",
        "content-type",
    }
)
NOT_FOR_VERSION = frozenset(
    {"x-delete-at", "x-delete-after", "host", "content-length", "transfer-encoding"}
)


@dataclass(frozen=True)
class ObjectVersioningOptions:
    allow_object_versioning: bool = True


class CountingReader:
    """The client's body, counted: a chunked PUT has no Content-Length to read the size from."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.count += len(chunk)
        return chunk


def _timestamp(req: Request) -> Timestamp:
    given = req.headers.get("X-Timestamp")
    try:
        return Timestamp(given) if given else Timestamp.now()
    except ValueError:
        raise Refused(text(400, "X-Timestamp should be a UNIX timestamp float value")) from None


class ObjectVersioningMiddleware:
    def __init__(self, app: Callable[..., Any], options: ObjectVersioningOptions) -> None:
        self.app = app
        self.options = options
        self.limits = constraints.load()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        path = pathinfo.api_path(environ, reserved.allowed(req.headers))
        if path is None:
            return self.app(environ, start_response)
        try:
            req.GET  # noqa: B018  (a query that is not UTF-8: the proxy below answers 400)
        except UnicodeDecodeError:
            return self.app(environ, start_response)
        if not self.options.allow_object_versioning:
            return self.app(environ, start_response)
        if path.container is None:
            if req.method != "GET":
                return self.app(environ, start_response)
            return versioned_containers.list_account(self, req, path.account)(
                environ, start_response
            )
        try:
            if reserved.is_reserved(path.container):
                resp = self.internal_request(
                    req, path.version, path.account, path.container, path.obj
                )
            elif path.obj is None:
                resp = versioned_containers.handle(
                    self, req, path.version, path.account, path.container
                )
            else:
                resp = self.object_request(req, path.account, path.container, path.obj)
        except Refused as exc:
            resp = exc.resp
        except errors.Invalid as exc:
            resp = error_response(exc)
        return resp(environ, start_response)

    # -- shared steps ------------------------------------------------------------------------
    def authorize(
        self, req: Request, account: str, container: str, method: str | None = None
    ) -> None:
        """Refused unless the caller may do ``method`` (the request's) on the client
        container's objects (the proxy's check, made here as the requests that follow are
        BYPASS)."""
        hook = req.environ.get(AUTHORIZE)
        if hook is None or req.environ.get(OVERRIDE):
            return
        method = method or req.method
        info = get_container_info(req.environ, self.app, account, container, SOURCE)
        read = method in ("GET", "HEAD")
        probe = make_subrequest(
            req.environ, method, api_path(account, container, "x"), source=SOURCE, auth=CARRY
        )
        probe.environ["swiftlite.acl"] = info.get("read_acl" if read else "write_acl")
        denied = hook(probe)
        if denied is not None:
            raise Refused(denied)

    def sub(
        self,
        req: Request,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        source: str = SOURCE,
        auth: str = BYPASS,  # the caller was authorized against the client container already
        **kw: Any,
    ) -> Response:
        """A subrequest of ours; ``symlink`` below answers one from ``SOURCE`` with a link
        itself (never following it) and follows links for one from ``FOLLOW_SOURCE``."""
        sub = make_subrequest(
            req.environ,
            method,
            path,
            source=source,
            auth=auth,
            headers={**ALLOW, **(headers or {})},
            **kw,
        )
        return sub.get_response(self.app)

    def location(self, req: Request, account: str, container: str) -> tuple[str, bool]:
        info = get_container_info(req.environ, self.app, account, container, SOURCE)
        sysmeta = lower_keys(info.get("sysmeta") or {})
        location = urllib.parse.unquote(sysmeta.get("versions-container", "")).split("/")[0]
        return location, config.config_true(sysmeta.get("versions-enabled", ""))

    # -- requests inside the versions container (symlink's hops, our own) ------------------
    def internal_request(
        self, req: Request, version: str, account: str, vcont: str, obj: str | None
    ) -> Response:
        resp = req.get_response(self.app)
        parent = vl.parent_container(vcont)
        if parent and obj and req.method in ("GET", "HEAD") and 200 <= resp.status_int < 300:
            name, ts = vl.split_version(obj)
            if ts is not None:
                resp.headers[VERSION_ID] = ts.internal
                where = urllib.parse.quote(f"/{version}/{account}/{parent}/{name}")
                resp.headers["Content-Location"] = f"{where}?version-id={ts.internal}"
        return resp

    # -- objects -----------------------------------------------------------------------------
    def object_request(self, req: Request, account: str, container: str, obj: str) -> Response:
        copy = version_copy.plan(req, account, container, obj)
        if copy is not None:
            return version_copy.handle(self, req, copy) or req.get_response(self.app)
        location, enabled = self.location(req, account, container)
        version = req.GET.get("version-id")
        if version:
            return self.version_request(req, account, container, obj, location, version)
        if not location:
            return req.get_response(self.app)
        if req.method == "PUT":
            return self.put(req, account, container, obj, location, enabled)
        if req.method == "DELETE":
            return self.delete(req, account, container, obj, location, enabled)
        if req.method == "POST":
            return self.post(req, account, location)
        resp = req.get_response(self.app)
        if req.method in ("GET", "HEAD") and 200 <= resp.status_int < 300:
            self._mark_current(req, resp, container, obj, location)
        return resp

    def _mark_current(
        self, req: Request, resp: Response, container: str, obj: str, location: str
    ) -> None:
        """``X-Object-Version-Id`` (and, for a version, a client ``Content-Location``) on a
        GET/HEAD of a name: of the version link itself (``?symlink=get``), or of the version
        ``symlink`` below followed it to."""
        resp.headers[VERSION_ID] = "null"
        if config.config_true(resp.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")):
            target = urllib.parse.unquote(resp.headers.get(symlink.SYSMETA_TARGET, ""))
            tcont, _, tobj = target.partition("/")
            _name, ts = vl.split_version(tobj)
            if tcont != location or ts is None:
                return
            resp.headers[VERSION_ID] = ts.internal
            if req.GET.get("symlink") == "get":  # the link itself: name the version as clients do
                quoted = urllib.parse.quote(f"{container}/{obj}")
                for header in (symlink.SYSMETA_TARGET, symlink.TARGET):
                    if header in resp.headers:
                        resp.headers[header] = f"{quoted}?version-id={ts.internal}"
            return
        found = self._followed_version(resp, location)
        if found is not None:
            version, account, name, ts = found
            resp.headers[VERSION_ID] = ts.internal
            where = urllib.parse.quote(f"/{version}/{account}/{container}/{name}")
            resp.headers["Content-Location"] = f"{where}?version-id={ts.internal}"

    @staticmethod
    def _followed_version(resp: Response, location: str) -> tuple[str, str, str, Timestamp] | None:
        """(api version, account, object name, version) of the version in ``location`` that
        ``symlink`` followed a link to (its ``Content-Location``); None for anything else."""
        # symlink quotes the path's UTF-8 bytes; unquoted as latin-1 they are the WSGI path again
        quoted = resp.headers.get("Content-Location", "").split("?")[0]
        try:
            path = split_api_path(urllib.parse.unquote(quoted, encoding="latin-1"), True)
        except (BadInput, BadName):
            return None
        if path.container != location or path.obj is None:
            return None
        name, ts = vl.split_version(path.obj)
        return None if ts is None else (path.version, path.account, name, ts)

    def copy_current(self, req: Request, account: str, container: str, obj: str, loc: str) -> None:
        """Copy an unversioned current object (version ``null``) into the versions container."""
        source = self.sub(req, "GET", api_path(account, container, obj), {"X-Newest": "true"})
        if source.status_int == 404:
            drain(source)
            return
        check_step(source)
        if config.config_true(source.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")):
            close(source)
            return
        stamp = source.headers.get("X-Timestamp") or Timestamp.now().internal
        put = self.sub(
            req,
            "PUT",
            api_path(account, loc, vl.version_object(obj, stamp)),
            copy_headers(source),
            body=IterReader(source.app_iter),
            content_length=source.content_length or 0,
        )
        close(source)
        drain(put)
        check_step(put, NO_VERSIONS_CONTAINER)

    def put(
        self, req: Request, account: str, container: str, obj: str, loc: str, enabled: bool
    ) -> Response:
        if not enabled:
            return req.get_response(self.app)
        self.authorize(req, account, container)
        self.copy_current(req, account, container, obj, loc)
        ts = _timestamp(req)
        name = vl.version_object(obj, ts)
        headers = {k: v for k, v in req.headers.items() if k.lower() not in NOT_FOR_VERSION}
        headers["X-Timestamp"] = ts.internal
        if not headers.get("Content-Type"):
            headers["Content-Type"] = guess_content_type(obj)
        reader = CountingReader(req.environ["wsgi.input"])
        stored = self.sub(
            req,
            "PUT",
            api_path(account, loc, name),
            headers,
            body=reader,
            content_length=req.content_length,
        )
        drain(stored)
        check_step(stored, NO_VERSIONS_CONTAINER)
        etag = normalize_etag(stored.headers.get("ETag")) or ""
        size = req.headers.get(symlink.SLO_SIZE) or str(reader.count)
        return self.put_link(req, account, container, obj, loc, name, etag, size, ts)

    def put_link(
        self,
        req: Request,
        account: str,
        container: str,
        obj: str,
        loc: str,
        name: str,
        etag: str,
        size: str,
        ts: Timestamp,
        content_type: str | None = None,
    ) -> Response:
        """Make ``obj`` a static link to version ``name`` of it (what symlink's PUT would
        store), a tick after ``ts``, so the link is always the newer write."""
        content_type = content_type or req.headers.get("Content-Type") or guess_content_type(obj)
        target = urllib.parse.quote(f"{loc}/{name}")
        headers = {k: v for k, v in req.headers.items() if k.lower() not in NOT_FOR_LINK}
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-symlink-")}
        base = headers.get(symlink.OVERRIDE_ETAG) or symlink.MD5_OF_EMPTY
        override = (
            f"{base}; symlink_target={target}; symlink_target_etag={etag}; "
            f"symlink_target_bytes={size}"
        )
        headers.update(
            {
                "X-Timestamp": Timestamp(ts, offset=1).internal,
                "Content-Type": content_type.split(";")[0].strip(),
                symlink.SYSMETA_TARGET: target,
                symlink.SYSMETA_ETAG: etag,
                symlink.SYSMETA_BYTES: size,
                symlink.SYSMETA_VERSIONS_SYMLINK: "true",
                symlink.SYMLOOP_EXTEND: "true",
                symlink.SYSMETA_ALLOW_RESERVED: "true",
                symlink.OVERRIDE_ETAG: override,
                symlink.BACKEND_OVERRIDE_ETAG: override,
            }
        )
        resp = self.sub(req, "PUT", api_path(account, container, obj), headers, body=b"")
        if 200 <= resp.status_int < 300:
            resp.headers["ETag"] = etag
            _obj, version = vl.split_version(name)
            resp.headers[VERSION_ID] = version.internal if version else "null"
        return resp

    def delete(
        self, req: Request, account: str, container: str, obj: str, loc: str, enabled: bool
    ) -> Response:
        if not enabled:
            return req.get_response(self.app)
        self.authorize(req, account, container)
        self.copy_current(req, account, container, obj, loc)
        ts = _timestamp(req)
        marker = self.sub(
            req,
            "PUT",
            api_path(account, loc, vl.version_object(obj, ts)),
            {"Content-Type": vl.DELETE_MARKER_CONTENT_TYPE, "X-Timestamp": ts.internal},
            body=b"",
        )
        drain(marker)
        check_step(marker, NO_VERSIONS_CONTAINER)
        req.headers["X-Timestamp"] = ts.internal
        resp = req.get_response(self.app)
        if 200 <= resp.status_int < 300 or resp.status_int == 404:
            resp.headers[VERSION_ID] = ts.internal
        return resp

    def post(self, req: Request, account: str, loc: str) -> Response:
        """A POST lands on the link and, for a version link, on the version it names."""
        resp = req.get_response(self.app)
        if not 200 <= resp.status_int < 300:
            return resp
        head = self.sub(req, "HEAD", req.environ["PATH_INFO"])
        drain(head)
        if not config.config_true(head.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")):
            return resp
        tcont, _, tobj = urllib.parse.unquote(
            head.headers.get(symlink.SYSMETA_TARGET, "")
        ).partition("/")
        if tcont != loc:
            return resp
        headers = {k: v for k, v in req.headers.items() if k.lower() not in NOT_FOR_VERSION}
        drain(resp)
        return self.sub(req, "POST", api_path(account, tcont, tobj), headers)

    # -- ?version-id ---------------------------------------------------------------------------
    def version_request(
        self, req: Request, account: str, container: str, obj: str, loc: str, version: str
    ) -> Response:
        if req.method == "POST":
            return text(400, "POST to a specific version is not allowed")
        if not loc and version != "null":
            return text(400, "version-aware operations require that the container is versioned")
        if version != "null":
            try:
                Timestamp(version)
            except ValueError:
                return text(400, "Invalid version parameter")
        if req.method == "DELETE":
            return self.delete_version(req, account, container, obj, loc, version)
        if req.method == "PUT":
            return self.restore(req, account, container, obj, loc, version)
        if version == "null":
            resp = req.get_response(self.app)
            if 200 <= resp.status_int < 300:
                linked = config.config_true(
                    resp.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")
                ) or (loc and self._followed_version(resp, loc))
                if linked:  # the name is a version with a real id
                    close(resp)
                    return text(404, "Not Found")
                resp.headers[VERSION_ID] = "null"
            return resp
        self.authorize(req, account, container)
        skip = {"host", "content-length", "transfer-encoding"}
        headers = {k: v for k, v in req.headers.items() if k.lower() not in skip}
        path = api_path(account, loc, vl.version_object(obj, version))
        # a version that is a link is followed by symlink below, unless ?symlink=get; the
        # caller is authorized for the version here, and for the link's target by the proxy
        raw = req.GET.get("symlink") == "get"
        resp = self.sub(
            req,
            req.method,
            path,
            headers,
            source=SOURCE if raw else FOLLOW_SOURCE,
            auth=AUTHORIZED,
        )
        if 200 <= resp.status_int < 300:
            resp.headers[VERSION_ID] = version
            if resp.headers.get("Content-Type") == vl.DELETE_MARKER_CONTENT_TYPE:
                close(resp)
                gone = text(404, "Not Found")
                gone.headers[VERSION_ID] = version
                gone.headers["Content-Type"] = vl.DELETE_MARKER_CONTENT_TYPE
                return gone
        return resp

    def delete_version(
        self, req: Request, account: str, container: str, obj: str, loc: str, version: str
    ) -> Response:
        if version == "null":
            return req.get_response(self.app)  # the current object, whatever it is
        self.authorize(req, account, container)
        head = self.sub(req, "HEAD", api_path(account, container, obj), {"X-Newest": "true"})
        drain(head)
        linked = None
        if head.status_int != 404:
            check_step(head)
            if config.config_true(head.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")):
                linked = urllib.parse.unquote(head.headers.get(symlink.SYSMETA_TARGET, ""))
        name = vl.version_object(obj, version)
        current = "null"
        if linked == f"{loc}/{name}":  # the current version: the link goes first, then the data
            gone = self.sub(req, "DELETE", api_path(account, container, obj))
            drain(gone)
            check_step(gone)
        elif linked:
            ts = vl.split_version(linked.partition("/")[2])[1]
            current = ts.internal if ts else "null"
        resp = self.sub(req, "DELETE", api_path(account, loc, name))
        resp.headers[VERSION_ID] = version
        resp.headers[CURRENT_VERSION_ID] = current
        return resp

    def restore(
        self, req: Request, account: str, container: str, obj: str, loc: str, version: str
    ) -> Response:
        """``PUT ?version-id=<id>`` with no body: make that version the current one."""
        if version == "null":
            return text(400, "Invalid version parameter")
        if req.content_length is None and "chunked" not in req.headers.get("Transfer-Encoding", ""):
            return text(411, "Length Required")
        if req.content_length or (req.content_length is None and req.body_file.read(1)):
            return text(400, "PUT version-id requests require a zero byte body")
        self.authorize(req, account, container)
        name = vl.version_object(obj, version)
        head = self.sub(req, "HEAD", api_path(account, loc, name))
        drain(head)
        if head.status_int == 404:
            return text(404, "The specified version does not exist")
        check_step(head)
        etag = normalize_etag(head.headers.get("ETag")) or ""
        size = head.headers.get("Content-Length") or "0"
        content_type = head.headers.get("Content-Type") or "application/octet-stream"
        req.headers.pop("X-Timestamp", None)
        return self.put_link(
            req, account, container, obj, loc, name, etag, size, Timestamp.now(), content_type
        )


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#object_versioning``."""
    options = config.parse_options(
        ObjectVersioningOptions, local_conf, global_conf, where="[filter:object_versioning]"
    )
    if options.allow_object_versioning:
        register_info("object_versioning")

    def make(app: Any) -> ObjectVersioningMiddleware:
        return ObjectVersioningMiddleware(app, options)

    return make
