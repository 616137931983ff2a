"""Account and container listings on the wire: format negotiation and rendering.

Rows arrive as the JSON shapes Swift's backends speak: objects ``{"name", "hash", "bytes",
"content_type", "last_modified"}``, containers ``{"name", "count", "bytes", "last_modified"}``,
and roll-ups ``{"subdir": "x/"}``. This module turns a list of them into ``text/plain`` (one
name per line), JSON or XML, picks the format from ``?format=`` or the Accept header, and builds
the response (204 for an empty plain listing, as Swift does). The storage servers and the proxy
both use it. No I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from webob import Response
from webob.acceptparse import create_accept_header

PLAIN = "text/plain"
JSON = "application/json"
XML = "application/xml"
TEXT_XML = "text/xml"
OFFERS = (PLAIN, JSON, XML, TEXT_XML)
FORMAT_TO_TYPE = {"plain": PLAIN, "json": JSON, "xml": XML}

# Element order inside <object> and <container>, as Swift writes them.
_XML_FIELDS = {
    "container": ("name", "hash", "bytes", "content_type", "last_modified"),
    "account": ("name", "count", "bytes", "last_modified"),
}
_ITEM_TAG = {"container": "object", "account": "container"}


def negotiate(format_param: str | None, accept: str | None) -> str | None:
    """The listing content type; None when nothing acceptable is offered (406).

    ``format`` wins over Accept; an unknown format value means plain. No Accept header, an
    empty one or an unparsable one means plain, as Swift does.
    """
    if format_param:
        accept = FORMAT_TO_TYPE.get(format_param.lower(), PLAIN)
    if not accept or not accept.strip():
        return PLAIN
    return _best_offer(accept)


@functools.lru_cache(maxsize=256)
def _best_offer(accept: str) -> str | None:
    """webob's Accept parse of one header value, remembered: a listing passes the same few
    values (``format=json`` becomes ``application/json``) through several filters, and each
    parse costs about 18 us. Bounded, so varied client headers only cost misses."""
    offers = create_accept_header(accept).acceptable_offers(list(OFFERS))
    return offers[0][0] if offers else None


# In an attribute a parser turns a raw CR, LF or tab into a space; as character references
# (what ElementTree, and so Swift, writes) they survive.
_ATTR_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def _attr(value: str) -> str:
    """A double-quoted XML attribute value."""
    return '"' + escape(value, _ATTR_ENTITIES) + '"'


def render_plain(rows: Iterable[Mapping[str, Any]]) -> bytes:
    lines = [row.get("subdir") or row["name"] for row in rows]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def render_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return json.dumps(list(rows)).encode("utf-8")


def render_xml(kind: str, name: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Swift's XML: ``<container name="c"><object><name>..`` or ``<account name="a">``.

    As Swift writes them, an account listing has a newline after the root tag and after each
    entry, and its roll-ups are empty ``<subdir name=".." />`` elements; a container listing
    has no newlines, and its roll-ups carry a ``<name>`` child.
    """
    fields = _XML_FIELDS[kind]
    item = _ITEM_TAG[kind]
    sep = "\n" if kind == "account" else ""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f"<{kind} name={_attr(name)}>", sep]
    for row in rows:
        subdir = row.get("subdir")
        if subdir is not None:
            if kind == "account":
                out.append(f"<subdir name={_attr(subdir)} />{sep}")
            else:
                out.append(f"<subdir name={_attr(subdir)}><name>{escape(subdir)}</name></subdir>")
            continue
        out.append(f"<{item}>")
        for key in fields:
            if key in row:
                out.append(f"<{key}>{escape(str(row[key]))}</{key}>")
        for key, value in row.items():
            if key not in fields:
                out.append(f"<{key}>{escape(str(value))}</{key}>")
        out.append(f"</{item}>{sep}")
    out.append(f"</{kind}>")
    return "".join(out).encode("utf-8")


def render(kind: str, name: str, rows: Sequence[Mapping[str, Any]], content_type: str) -> bytes:
    """The body for ``content_type`` (one of OFFERS); ``kind`` is container or account."""
    if content_type == JSON:
        return render_json(rows)
    if content_type in (XML, TEXT_XML):
        return render_xml(kind, name, rows)
    return render_plain(rows)


def listing_response(
    kind: str,
    name: str,
    rows: Sequence[Mapping[str, Any]],
    content_type: str,
    headers: Mapping[str, str] | None = None,
    rendered: bytes | None = None,
) -> Response:
    """200 with the rendered body, or 204 when a plain listing is empty; ``rendered`` is a
    body the caller made itself (the container server's JSON page), used instead of ``rows``."""
    body = render(kind, name, rows, content_type) if rendered is None else rendered
    resp = Response(status=200 if body else 204, headers=dict(headers or {}))
    resp.content_type = content_type
    resp.charset = "utf-8"
    if body:
        resp.body = body
    return resp


def head_or_listing(
    kind: str,
    name: str,
    rows: Sequence[Mapping[str, Any]] | None,
    content_type: str,
    headers: Mapping[str, str],
    last_modified: str,
    rendered: bytes | None = None,
) -> Response:
    """An account or container server's GET (``rows``) or HEAD (``rows`` None) answer.

    A HEAD is 204 with the type the GET would have had; both carry ``Last-Modified``
    (``last_modified``, an HTTP date: the database's put timestamp).
    """
    if rows is not None:
        resp = listing_response(kind, name, rows, content_type, headers, rendered)
    else:
        resp = Response(status=204, headers=dict(headers))
        resp.content_type = content_type
        resp.charset = "utf-8"
    resp.headers["Last-Modified"] = last_modified
    return resp
