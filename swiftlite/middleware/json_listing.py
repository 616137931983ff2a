"""json_listing: let a filter rewrite a container listing's rows whatever format was asked.

Swift's filters (symlink, object versioning) edit listings as JSON and rely on
``listing_formats`` to turn JSON into the client's format. Until that filter sits above them,
a filter here asks the pipeline below for JSON (``fetch``), edits the rows, and renders them
in the format the client negotiated (``respond``), with ``common/http/listing.py``. When the
client's request already asks for JSON, nothing changes on the way down.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from webob import Request, Response

from swiftlite.common.http import listing


def wanted_type(req: Request) -> str | None:
    """The listing content type the client negotiated; None for a 406, or for a query that
    is not UTF-8 (the proxy below answers that one with its 400)."""
    try:
        wanted = req.GET.get("format")
    except UnicodeDecodeError:
        return None
    return listing.negotiate(wanted, req.headers.get("Accept"))


def as_json_request(req: Request) -> None:
    """Make ``req`` ask the pipeline below for a JSON listing."""
    pairs = urllib.parse.parse_qsl(req.query_string, keep_blank_values=True, encoding="latin-1")
    pairs = [(k, v) for k, v in pairs if k != "format"] + [("format", "json")]
    req.environ["QUERY_STRING"] = urllib.parse.urlencode(pairs, encoding="latin-1")
    req.environ["HTTP_ACCEPT"] = listing.JSON


def fetch(
    req: Request, app: Callable[..., Any], markers: tuple[bytes, ...] = ()
) -> tuple[Response, list[dict[str, Any]] | None]:
    """The response to ``req`` asked as JSON, and its rows (None when not a 2xx JSON list).

    With ``markers``, a body that holds none of them is not parsed (rows None): it has nothing
    for the caller to rewrite, and a 10,000-row page costs a JSON decode and encode.
    """
    as_json_request(req)
    resp = req.get_response(app)
    if not 200 <= resp.status_int < 300 or req.method != "GET":
        return resp, None
    if markers and not any(m in resp.body for m in markers):
        return resp, None
    try:
        rows = json.loads(resp.body or b"[]")
    except ValueError:
        return resp, None
    if not isinstance(rows, list):
        return resp, None
    return resp, rows


def respond(
    resp: Response, kind: str, name: str, rows: list[dict[str, Any]], content_type: str
) -> Response:
    """``resp`` with ``rows`` rendered as ``content_type`` (204 for an empty plain listing)."""
    body = listing.render(kind, name, rows, content_type)
    resp.status = 200 if body else 204
    resp.content_type = content_type
    resp.charset = "utf-8"
    resp.body = body
    return resp
