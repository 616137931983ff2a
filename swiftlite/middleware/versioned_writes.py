"""versioned_writes: Swift's legacy versioning, ``X-Versions-Location`` and ``X-History-Location``.

Owns both legacy modes of a container whose archive container is named in
``X-Container-Sysmeta-Versions-Location`` (mode in ``X-Container-Sysmeta-Versions-Mode``):

* **stack** (``X-Versions-Location: <archive>``): a PUT over an existing object first copies
  it into the archive as ``<3 hex digits: name length in bytes><name>/<timestamp>``; a DELETE
  restores the newest archived copy onto the name and deletes that copy from the archive.
* **history** (``X-History-Location: <archive>``): PUTs archive the same way; a DELETE
  archives the current object, writes a zero-byte delete marker
  (``application/x-deleted;swift_versions_deleted=1``) and then deletes; nothing is restored.

On container PUT/POST the client headers become that sysmeta (both at once is 400; an empty
value or ``X-Remove-Versions-Location`` / ``X-Remove-History-Location`` turns it off), and
container GET/HEAD answer them back. Every write needs write access to the archive as well
(403 otherwise, before anything is written); a missing archive makes the write 412, as in
Swift. The object is read and copied through ``subrequest.py`` (``?symlink=get``: a link is
versioned as a link; below ``slo``/``dlo``, so a manifest is versioned, not its segments).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, reserved
from swiftlite.common.errors import BadName
from swiftlite.common.names import check_name
from swiftlite.common.registry import register_info
from swiftlite.common.timestamp import Timestamp
from swiftlite.middleware import pathinfo
from swiftlite.middleware.subrequest import (
    AUTHORIZE,
    BYPASS,
    CARRY,
    OVERRIDE,
    IterReader,
    api_path,
    drain,
    get_container_info,
    make_subrequest,
)

SOURCE = "VW"
DELETE_MARKER_CONTENT_TYPE = "application/x-deleted;swift_versions_deleted=1"
CLIENT_VERSIONS_LOC = "X-Versions-Location"
CLIENT_HISTORY_LOC = "X-History-Location"
SYSMETA_VERSIONS_LOC = "X-Container-Sysmeta-Versions-Location"
SYSMETA_VERSIONS_MODE = "X-Container-Sysmeta-Versions-Mode"
REMOVE_HEADERS = ("X-Remove-Versions-Location", "X-Remove-History-Location")
ACL_KEY = "swiftlite.acl"

# Headers of a GET response that are about that response, never copied into a new object.
NOT_COPIED = frozenset(
    {
        "content-length",
        "x-timestamp",
        "last-modified",
        "accept-ranges",
        "date",
        "x-trans-id",
        "x-openstack-request-id",
        "content-location",
        "connection",
        "transfer-encoding",
        "x-symlink-target",
        "x-symlink-target-account",
        "x-symlink-target-etag",
        "x-symlink-target-bytes",
        "x-object-version-id",
        "etag",
    }
)
OVERRIDE_ETAG = "X-Object-Sysmeta-Container-Update-Override-Etag"
BACKEND_OVERRIDE_ETAG = "X-Backend-Container-Update-Override-Etag"


@dataclass(frozen=True)
class VersionedWritesOptions:
    # Swift's default: the legacy modes are off until an operator allows them
    allow_versioned_writes: bool = False


class Refused(Exception):
    """Stop the client's request with ``resp`` (a 4xx/5xx)."""

    def __init__(self, resp: Response) -> None:
        super().__init__(resp.status)
        self.resp = resp


def text(status: int, body: str) -> Response:
    return Response(status=status, body=body.encode("utf-8"), content_type="text/plain")


def lower_keys(mapping: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in mapping.items()}


def copy_headers(source: Response) -> dict[str, str]:
    """The headers that describe ``source``'s object, for a PUT that re-creates it."""
    headers = {k: v for k, v in source.headers.items() if k.lower() not in NOT_COPIED}
    if source.headers.get("ETag"):
        headers["ETag"] = source.headers["ETag"].strip('"')
    override = source.headers.get(OVERRIDE_ETAG)
    if override:  # keep a link's (or manifest's) listing parameters in the new row
        headers[BACKEND_OVERRIDE_ETAG] = override
    slo_size = source.headers.get("X-Object-Sysmeta-Slo-Size")
    if slo_size and "swift_bytes=" not in headers.get("Content-Type", ""):
        headers["Content-Type"] = f"{headers.get('Content-Type', '')}; swift_bytes={slo_size}"
    return headers


def check_response(resp: Response) -> None:
    """Refused for a failed step: 412 for a client error (no archive, no access), else 503."""
    if 200 <= resp.status_int < 300:
        return
    drain(resp)
    if 400 <= resp.status_int < 500:
        raise Refused(text(412, "Precondition Failed"))
    raise Refused(text(503, "Service Unavailable"))


def authorize_write(
    environ: dict[str, Any], app: Callable[..., Any], account: str, container: str, source: str
) -> None:
    """Refused (the auth filter's 401/403) unless the caller may write into ``container``."""
    hook = environ.get(AUTHORIZE)
    if hook is None or environ.get(OVERRIDE):
        return
    info = get_container_info(environ, app, account, container, source)
    probe = make_subrequest(
        environ, "PUT", api_path(account, container, "x"), source=source, auth=CARRY
    )
    probe.environ[ACL_KEY] = info.get("write_acl")
    denied = hook(probe)
    if denied is not None:
        raise Refused(denied)


def version_prefix(name: str) -> str:
    return f"{len(name.encode('utf-8')):03x}{name}/"


def version_name(name: str, timestamp: str) -> str:
    return version_prefix(name) + Timestamp(timestamp).internal


class VersionedWritesMiddleware:
    def __init__(self, app: Callable[..., Any], options: VersionedWritesOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        path = pathinfo.api_path(environ, reserved.allowed(req.headers))
        if path is None:
            return self.app(environ, start_response)
        try:
            if path.container is not None and path.obj is None:
                resp = self.container_request(req)
            elif path.obj is not None and req.method in ("PUT", "DELETE"):
                resp = self.object_request(req, path.account, path.container or "", path.obj)
            else:
                return self.app(environ, start_response)
        except Refused as exc:
            resp = exc.resp
        return resp(environ, start_response)

    # -- containers ----------------------------------------------------------------------------
    def container_request(self, req: Request) -> Response:
        if req.method in ("PUT", "POST"):
            self._translate_container_headers(req)
        resp = req.get_response(self.app)
        location = resp.headers.get(SYSMETA_VERSIONS_LOC)
        if location:
            mode = resp.headers.get(SYSMETA_VERSIONS_MODE, "stack")
            client = CLIENT_HISTORY_LOC if mode == "history" else CLIENT_VERSIONS_LOC
            resp.headers[client] = location
        return resp

    def _translate_container_headers(self, req: Request) -> None:
        headers = req.headers
        if CLIENT_VERSIONS_LOC in headers and CLIENT_HISTORY_LOC in headers:
            if not headers[CLIENT_HISTORY_LOC]:
                del headers[CLIENT_HISTORY_LOC]
            elif headers[CLIENT_VERSIONS_LOC]:
                raise Refused(
                    text(
                        400,
                        f"Only one of {CLIENT_VERSIONS_LOC} or {CLIENT_HISTORY_LOC} may be "
                        "specified",
                    )
                )
            else:
                del headers[CLIENT_VERSIONS_LOC]
        for client, mode in ((CLIENT_VERSIONS_LOC, "stack"), (CLIENT_HISTORY_LOC, "history")):
            if client in headers:
                self._set_location(headers, headers.pop(client), mode)
        if any(headers.get(h) for h in REMOVE_HEADERS):
            headers[SYSMETA_VERSIONS_LOC] = ""
            headers[SYSMETA_VERSIONS_MODE] = ""
        for remove in REMOVE_HEADERS:
            headers.pop(remove, None)

    def _set_location(self, headers: Any, value: str, mode: str) -> None:
        if not value:
            headers["X-Remove-Versions-Location"] = "x"
            return
        if not self.options.allow_versioned_writes:
            raise Refused(text(412, "Versioned Writes is disabled"))
        location = urllib.parse.unquote(value)
        if "/" in location:
            raise Refused(text(412, "Container name cannot contain slashes"))
        try:
            check_name(location)
        except BadName as exc:
            raise Refused(text(412, str(exc))) from None
        headers[SYSMETA_VERSIONS_LOC] = value
        headers[SYSMETA_VERSIONS_MODE] = mode
        for remove in REMOVE_HEADERS:
            headers.pop(remove, None)

    # -- objects -------------------------------------------------------------------------------
    def object_request(self, req: Request, account: str, container: str, obj: str) -> Response:
        if not self.options.allow_versioned_writes:
            return req.get_response(self.app)
        info = get_container_info(req.environ, self.app, account, container, SOURCE)
        sysmeta = lower_keys(info.get("sysmeta") or {})
        location = sysmeta.get("versions-location")
        if not location:
            return req.get_response(self.app)
        archive = urllib.parse.unquote(location).split("/")[0]
        mode = sysmeta.get("versions-mode") or "stack"
        if req.method == "PUT":
            self.copy_current(req, account, archive, obj)
            return req.get_response(self.app)
        if mode == "history":
            self.copy_current(req, account, archive, obj)
            self._write_marker(req, account, archive, obj)
            return req.get_response(self.app)
        return self.pop(req, account, container, archive, obj)

    def _get_source(self, req: Request, path: str) -> Response:
        # BYPASS: Swift reads the current object pre-authorized, so a user with write access
        # but no read access can still overwrite (and so version) it.
        get = make_subrequest(
            req.environ,
            "GET",
            path,
            source=SOURCE,
            auth=BYPASS,
            query="symlink=get",
            headers={"X-Newest": "true"},
        )
        return get.get_response(self.app)

    def _put_copy(self, req: Request, path: str, source: Response) -> Response:
        put = make_subrequest(
            req.environ,
            "PUT",
            path,
            source=SOURCE,
            auth=BYPASS,  # the caller's write access to the archive was checked first
            headers=copy_headers(source),
            body=IterReader(source.app_iter),
            content_length=source.content_length or 0,
        )
        resp = put.get_response(self.app)
        drain(resp)
        return resp

    def copy_current(self, req: Request, account: str, archive: str, obj: str) -> None:
        """Copy the object, if there is one, into the archive (Refused on failure)."""
        authorize_write(req.environ, self.app, account, archive, SOURCE)
        source = self._get_source(req, req.environ["PATH_INFO"])
        if source.status_int == 404:
            drain(source)
            return
        check_response(source)
        stamp = source.headers.get("X-Timestamp") or Timestamp.now().internal
        target = api_path(account, archive, version_name(obj, stamp))
        check_response(self._put_copy(req, target, source))

    def _write_marker(self, req: Request, account: str, archive: str, obj: str) -> None:
        marker = make_subrequest(
            req.environ,
            "PUT",
            api_path(account, archive, version_name(obj, Timestamp.now().internal)),
            source=SOURCE,
            auth=BYPASS,  # archive write access checked in copy_current
            headers={"Content-Type": DELETE_MARKER_CONTENT_TYPE},
            body=b"",
        )
        resp = marker.get_response(self.app)
        check_response(resp)
        drain(resp)

    # -- stack-mode DELETE -----------------------------------------------------------------------
    def _listing(self, req: Request, account: str, archive: str, prefix: str) -> Iterator[dict]:
        """The archive's versions of one name, newest first (empty when there is no archive)."""
        marker = ""
        while True:
            query = urllib.parse.urlencode(
                {"prefix": prefix, "marker": marker, "reverse": "on", "format": "json"}
            )
            listing = make_subrequest(
                req.environ,
                "GET",
                api_path(account, archive),
                source=SOURCE,
                auth=BYPASS,  # the caller's archive write access is checked before any write
                query=query,
            )
            resp = listing.get_response(self.app)
            if resp.status_int == 404:
                drain(resp)
                return
            check_response(resp)
            rows = json.loads(drain(resp) or b"[]")
            if not rows:
                return
            yield from rows
            marker = rows[-1]["name"]

    def _restore(self, req: Request, account: str, archive: str, version: str) -> str | None:
        """Copy one archived version onto the request's name; its archive path, or None."""
        path = api_path(account, archive, version)
        source = self._get_source(req, path)
        if source.status_int == 404:
            drain(source)
            return None
        check_response(source)
        check_response(self._put_copy(req, req.environ["PATH_INFO"], source))
        return path

    def _delete(self, req: Request, path: str) -> Response:
        delete = make_subrequest(req.environ, "DELETE", path, source=SOURCE, auth=BYPASS)
        return delete.get_response(self.app)

    def pop(self, req: Request, account: str, container: str, archive: str, obj: str) -> Response:
        versions = self._listing(req, account, archive, version_prefix(obj))
        for row in versions:
            authorize_write(req.environ, self.app, account, archive, SOURCE)
            if row.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
                return self._pop_after_marker(req, account, archive, row, versions)
            restored = self._restore(req, account, archive, row["name"])
            if restored is None:
                continue
            # the original DELETE now removes the archived copy that was just reinstated
            return self._delete(req, restored)
        return req.get_response(self.app)

    def _pop_after_marker(
        self, req: Request, account: str, archive: str, marker: dict, versions: Iterator[dict]
    ) -> Response:
        head = make_subrequest(
            req.environ,
            "HEAD",
            req.environ["PATH_INFO"],
            source=SOURCE,
            auth=BYPASS,
            query="symlink=get",
            headers={"X-Newest": "true"},
        )
        current = head.get_response(self.app)
        drain(current)
        if current.status_int != 404:
            check_response(current)
            return req.get_response(self.app)  # back to the delete-marker state
        for row in versions:
            if row.get("content_type") == DELETE_MARKER_CONTENT_TYPE:
                break
            restored = self._restore(req, account, archive, row["name"])
            if restored is None:
                continue
            gone = self._delete(req, restored)
            drain(gone)
            if gone.status_int != 404:
                check_response(gone)
            break
        return self._delete(req, api_path(account, archive, marker["name"]))


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#versioned_writes``."""
    options = config.parse_options(
        VersionedWritesOptions, local_conf, global_conf, where="[filter:versioned_writes]"
    )
    if options.allow_versioned_writes:
        register_info(
            "versioned_writes", allowed_flags=["x-versions-location", "x-history-location"]
        )

    def make(app: Any) -> VersionedWritesMiddleware:
        return VersionedWritesMiddleware(app, options)

    return make
