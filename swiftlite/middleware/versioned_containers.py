"""versioned_containers: object versioning's container and account requests.

Part of ``object_versioning`` (see there): enabling and disabling a container
(``X-Versions-Enabled``), the 409 for deleting one that still has versions, container
GET/HEAD (``X-Versions-Enabled`` back, the versions' bytes in ``X-Container-Bytes-Used``,
version links shown as their versions in listings, and the ``?versions`` listing), and
account listings, whose container rows count their versions' bytes as Swift's do.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from swiftlite.common import config
from swiftlite.common.http import listing
from swiftlite.middleware import json_listing
from swiftlite.middleware import versions_listing as vl
from swiftlite.middleware.subrequest import api_path, drain, get_container_info
from swiftlite.middleware.versioned_writes import Refused, lower_keys, text

if TYPE_CHECKING:
    from swiftlite.middleware.object_versioning import ObjectVersioningMiddleware

SOURCE = "OV"
CLIENT_ENABLED = "X-Versions-Enabled"
SYSMETA_ENABLED = "X-Container-Sysmeta-Versions-Enabled"
SYSMETA_CONTAINER = "X-Container-Sysmeta-Versions-Container"


def check_step(resp: Response, missing: str | None = None) -> None:
    """Refused for a failed internal step: 404 -> 412 (or 500 ``missing``), 4xx as is, else 503."""
    if 200 <= resp.status_int < 300:
        return
    body = drain(resp)
    if resp.status_int == 404:
        raise Refused(text(500, missing) if missing else text(412, "Precondition Failed"))
    if 400 <= resp.status_int < 500:
        raise Refused(Response(status=resp.status, body=body, content_type="text/plain"))
    raise Refused(text(503, "Service Unavailable"))


def handle(
    mw: ObjectVersioningMiddleware, req: Request, version: str, account: str, container: str
) -> Response:
    if req.method in ("PUT", "POST") and CLIENT_ENABLED in req.headers:
        return enable(mw, req, account, container)
    if req.method == "DELETE":
        return delete_container(mw, req, account, container)
    if req.method in ("GET", "HEAD"):
        return read_container(mw, req, version, account, container)
    return req.get_response(mw.app)


def enable(mw: ObjectVersioningMiddleware, req: Request, account: str, container: str) -> Response:
    info = get_container_info(req.environ, mw.app, account, container, SOURCE)
    if lower_keys(info.get("sysmeta") or {}).get("versions-location"):
        return text(
            400,
            "Cannot enable object versioning on a container that is already using the "
            "legacy versioned writes feature.",
        )
    enabled = config.config_true(req.headers.pop(CLIENT_ENABLED))
    req.headers[SYSMETA_ENABLED] = str(enabled)
    vcont = vl.versions_container(container)
    created = False
    if enabled:
        headers = {}
        if req.method == "PUT" and "X-Storage-Policy" in req.headers:
            headers["X-Storage-Policy"] = req.headers["X-Storage-Policy"]
        made = mw.sub(req, "PUT", api_path(account, vcont), headers)
        drain(made)
        if not (200 <= made.status_int < 300 or made.status_int == 409):
            return text(500, "Error enabling object versioning")
        req.headers[SYSMETA_CONTAINER] = urllib.parse.quote(vcont)
        created = True
    resp = req.get_response(mw.app)
    if created and not 200 <= resp.status_int < 300:
        drain(mw.sub(req, "DELETE", api_path(account, vcont)))
    return resp


def delete_container(
    mw: ObjectVersioningMiddleware, req: Request, account: str, container: str
) -> Response:
    location, _enabled = mw.location(req, account, container)
    if location:
        head = mw.sub(req, "HEAD", api_path(account, location))
        drain(head)
        count = int(head.headers.get("X-Container-Object-Count", "0") or 0)
        if 200 <= head.status_int < 300 and count > 0:
            return text(409, "Delete all versions before deleting container.")
        if not 200 <= head.status_int < 300 and head.status_int != 404:
            return text(500, "Error deleting versioned container")
        gone = mw.sub(req, "DELETE", api_path(account, location))
        drain(gone)
        if not 200 <= gone.status_int < 300 and gone.status_int != 404:
            return text(500, "Error deleting versioned container")
    return req.get_response(mw.app)


def read_container(
    mw: ObjectVersioningMiddleware, req: Request, version: str, account: str, container: str
) -> Response:
    content_type = json_listing.wanted_type(req) if req.method == "GET" else None
    if req.method == "GET" and content_type is None:
        return req.get_response(mw.app)
    if req.method == "GET":
        # a JSON page with no link in it (as stored, or as the symlink filter below shows it)
        # has no version row to show, the common case: it goes back as it came; a ?versions
        # listing and the other formats are built from the rows
        plain_json = content_type == listing.JSON and "versions" not in req.GET
        markers = (b"symlink_target", b'"symlink_path"') if plain_json else ()
        resp, rows = json_listing.fetch(req, mw.app, markers)
    else:
        resp, rows = req.get_response(mw.app), None
    if SYSMETA_ENABLED in resp.headers:
        resp.headers[CLIENT_ENABLED] = resp.headers[SYSMETA_ENABLED]
    location = urllib.parse.unquote(resp.headers.get(SYSMETA_CONTAINER, ""))
    if location and "X-Container-Bytes-Used" in resp.headers:
        head = mw.sub(req, "HEAD", api_path(account, location))
        drain(head)
        if 200 <= head.status_int < 300:
            used = int(resp.headers["X-Container-Bytes-Used"])
            more = int(head.headers.get("X-Container-Bytes-Used", "0") or 0)
            resp.headers["X-Container-Bytes-Used"] = str(used + more)
    if rows is None or content_type is None:
        return resp
    location = location or vl.versions_container(container)
    listing_versions = "versions" in req.GET
    rows = [
        vl.primary_row(r, version, account, container, location, listing_versions) for r in rows
    ]
    if listing_versions:
        rows = list_versions(mw, req, account, location, rows)
    return json_listing.respond(resp, "container", container, vl.client_rows(rows), content_type)


def list_versions(
    mw: ObjectVersioningMiddleware,
    req: Request,
    account: str,
    location: str,
    primary: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    params = {k: v for k, v in req.GET.items()}
    query = {**vl.versions_query(params), "format": "json"}
    listing = mw.sub(req, "GET", api_path(account, location), query=urllib.parse.urlencode(query))
    versions: list[dict[str, Any]] | None = None
    if listing.status_int != 404:
        check_step(listing)
        versions = json.loads(drain(listing) or b"[]")
    else:
        drain(listing)
    limit = mw.limits.container_listing_limit
    given = params.get("limit", "")
    if given.isascii() and given.isdigit() and len(given) <= 20:  # "²".isdigit() is True
        limit = min(int(given), limit)
    reverse = config.config_true(params.get("reverse", ""))
    return vl.merge(primary, versions, account, location, limit, reverse)


def list_account(mw: ObjectVersioningMiddleware, req: Request, account: str) -> Response:
    """An account listing whose container rows count their hidden versions' bytes too (and
    show a versions container left without its container, so it can be cleaned up)."""
    content_type = json_listing.wanted_type(req)
    if content_type is None:
        return req.get_response(mw.app)
    params = dict(req.GET.items())
    resp, rows = json_listing.fetch(req, mw.app)
    if rows is None:
        return resp
    query = {"format": "json", "prefix": vl.versions_bound("prefix", params.get("prefix", ""))}
    for key in ("marker", "end_marker"):
        if params.get(key):
            query[key] = vl.versions_bound(key, params[key])
    listing = mw.sub(req, "GET", api_path(account), query=urllib.parse.urlencode(query))
    versions = json.loads(drain(listing) or b"[]") if 200 <= listing.status_int < 300 else []
    by_name = {r["name"]: r for r in rows if "name" in r}
    for item in versions:
        parent = vl.parent_container(item.get("name", ""))
        if parent is None:
            continue
        if parent in by_name:
            by_name[parent]["bytes"] += item["bytes"]
        else:
            rows.append({**item, "name": parent, "count": 0})
    rows.sort(key=lambda r: r.get("subdir") or r["name"], reverse=_true(params.get("reverse")))
    limit = mw.limits.account_listing_limit
    given = params.get("limit", "")
    if given.isascii() and given.isdigit() and len(given) <= 20:  # "²".isdigit() is True
        limit = min(limit, int(given))
    return json_listing.respond(resp, "account", account, rows[:limit], content_type)


def _true(value: str | None) -> bool:
    return config.config_true(value or "")
