"""version_copy: server-side copies (COPY, PUT with X-Copy-From) that touch versioned containers.

Server-side copy is done by the proxy today (``proxy/copy.py``), below every filter, so a copy
would bypass object versioning: a copy into a versioned container would not be versioned, and
a copy of a versioned object would copy its version link (which names another container's
versions) instead of its data. Until copy is a filter above ``object_versioning`` (it then
sends a plain GET and a plain PUT through it, and this module has nothing to do), the
middleware hands such copies here: the source is read as clients see it (the version a link
or ``?version-id=`` names) and its body is written with a PUT through the versioning steps.
Copies between unversioned containers still go to the proxy untouched.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webob import Request, Response

from swiftlite.common import config
from swiftlite.middleware import symlink
from swiftlite.middleware import versions_listing as vl
from swiftlite.middleware.copy import check_account, sink_headers, split_copy_path
from swiftlite.middleware.subrequest import CARRY, IterReader, api_path, close, make_subrequest

if TYPE_CHECKING:
    from swiftlite.middleware.object_versioning import ObjectVersioningMiddleware

COPY_HEADERS = ("X-Copy-From", "X-Copy-From-Account", "Destination", "Destination-Account")
# What a source's response says about itself or its link, never copied into the new object.
NOT_COPIED = (
    symlink.SYSMETA_TARGET,
    symlink.SYSMETA_ACCOUNT,
    symlink.SYSMETA_ETAG,
    symlink.SYSMETA_BYTES,
    symlink.SYSMETA_ALLOW_RESERVED,
    symlink.SYMLOOP_EXTEND,
    symlink.SYSMETA_VERSIONS_SYMLINK,
    symlink.OVERRIDE_ETAG,
    "X-Object-Version-Id",
    "Content-Location",
)


@dataclass(frozen=True)
class CopyPlan:
    src_account: str
    src_container: str
    src_obj: str
    version: str | None
    dest_account: str
    dest_container: str
    dest_obj: str


def plan(req: Request, account: str, container: str, obj: str) -> CopyPlan | None:
    """What a COPY or a PUT with X-Copy-From copies where; None for any other request."""
    if req.method == "COPY" and req.headers.get("Destination"):
        dest_container, dest_obj = split_copy_path(req.headers["Destination"], "Destination")
        dest_account = account
        if req.headers.get("Destination-Account"):
            dest_account = check_account(req.headers["Destination-Account"])
        version = req.GET.get("version-id")
        return CopyPlan(account, container, obj, version, dest_account, dest_container, dest_obj)
    if req.method == "PUT" and req.headers.get("X-Copy-From"):
        src_container, src_obj = split_copy_path(req.headers["X-Copy-From"], "X-Copy-From")
        src_account = account
        if req.headers.get("X-Copy-From-Account"):
            src_account = check_account(req.headers["X-Copy-From-Account"])
        return CopyPlan(src_account, src_container, src_obj, None, account, container, obj)
    return None


def handle(mw: ObjectVersioningMiddleware, req: Request, copy: CopyPlan) -> Response | None:
    """The copy's response, or None when neither end is versioned (the proxy copies)."""
    src_loc, _ = mw.location(req, copy.src_account, copy.src_container)
    dest_loc, dest_enabled = mw.location(req, copy.dest_account, copy.dest_container)
    if not (src_loc or copy.version or (dest_loc and dest_enabled)):
        return None
    if copy.version and not src_loc and copy.version != "null":
        return Response(
            status=400,
            body=b"version-aware operations require that the container is versioned",
            content_type="text/plain",
        )
    source = fetch(mw, req, copy, src_loc)
    if not 200 <= source.status_int < 300:
        return source
    headers = sink_headers(
        {k: v for k, v in req.headers.items() if k not in COPY_HEADERS and k != "Host"},
        [(k, v) for k, v in source.headerlist if k not in NOT_COPIED],
    )
    headers.pop("Content-Length", None)
    headers.pop("Transfer-Encoding", None)
    if source.headers.get("ETag"):
        headers["ETag"] = source.headers["ETag"].strip('"')
    put = make_subrequest(
        req.environ,
        "PUT",
        api_path(copy.dest_account, copy.dest_container, copy.dest_obj),
        source="OV",
        auth=CARRY,  # the destination's write ACL applies, as for the client's own PUT
        headers=headers,
        body=IterReader(source.app_iter),
        content_length=source.content_length or 0,
    )
    try:
        if dest_loc:
            resp = mw.put(
                put, copy.dest_account, copy.dest_container, copy.dest_obj, dest_loc, dest_enabled
            )
        else:
            resp = put.get_response(mw.app)
    finally:
        close(source)
    if 200 <= resp.status_int < 300:
        resp.headers["X-Copied-From"] = urllib.parse.quote(f"{copy.src_container}/{copy.src_obj}")
        resp.headers["X-Copied-From-Account"] = urllib.parse.quote(copy.src_account)
        if source.headers.get("Last-Modified"):
            resp.headers["X-Copied-From-Last-Modified"] = source.headers["Last-Modified"]
    return resp


def fetch(mw: ObjectVersioningMiddleware, req: Request, copy: CopyPlan, loc: str) -> Response:
    """GET the source as a client would read it: a version link resolves to its version."""
    path = api_path(copy.src_account, copy.src_container, copy.src_obj)
    if copy.version and copy.version != "null":
        mw.authorize(req, copy.src_account, copy.src_container, method="GET")
        name = vl.version_object(copy.src_obj, copy.version)
        resp = mw.sub(req, "GET", api_path(copy.src_account, loc, name))
        if resp.headers.get("Content-Type") == vl.DELETE_MARKER_CONTENT_TYPE:
            close(resp)
            return Response(status=404, body=b"Not Found", content_type="text/plain")
        return resp
    get = make_subrequest(
        req.environ, "GET", path, source="OV", auth=CARRY, headers={"X-Newest": "true"}
    )
    resp = get.get_response(mw.app)
    if not 200 <= resp.status_int < 300:
        return resp
    if not config.config_true(resp.headers.get(symlink.SYSMETA_VERSIONS_SYMLINK, "")):
        return resp
    close(resp)
    if copy.version == "null":
        return Response(status=404, body=b"Not Found", content_type="text/plain")
    target = urllib.parse.unquote(resp.headers.get(symlink.SYSMETA_TARGET, ""))
    tcont, _, tobj = target.partition("/")
    # reading the version the caller's readable link names (as symlink does)
    return mw.sub(req, "GET", api_path(copy.src_account, tcont, tobj))
