"""Small helpers every controller uses to answer: XML bodies, S3 dates, ETags, names."""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.body import BodyError, BodyReader
from swiftlite.middleware.s3api.errors import S3Error

S3_ETAG = "X-Object-Sysmeta-S3api-Etag"
CHECKSUM_PREFIX = "X-Object-Sysmeta-S3api-Checksum-"
UPLOAD_SYSMETA = "X-Object-Sysmeta-S3api-Upload-Id"  # a finished multipart object's upload


def xml_response(root: ET.Element, status: int = 200, **headers: str) -> Response:
    """A 200 (or ``status``) with ``root`` as its XML body."""
    resp = Response(status=status, body=xmlio.dumps(root), content_type="application/xml")
    for key, value in headers.items():
        resp.headers[key.replace("_", "-")] = value
    return resp


def empty(status: int, **headers: str) -> Response:
    """A bodyless answer (204, or 200 with ``Content-Length: 0``)."""
    resp = Response(status=status)
    resp.headers.pop("Content-Type", None)
    for key, value in headers.items():
        resp.headers[key.replace("_", "-")] = value
    if status != 204:
        resp.content_length = 0
    return resp


def iso_from_listing(value: str) -> str:
    """Swift's listing ``2026-12-02T18:30:42.123456`` as S3's ``...T18:30:42.123Z``."""
    main, _, frac = value.partition(".")
    return f"{main}.{(frac + '000')[:3]}Z"


def iso_from_http(value: str | None) -> str:
    """An HTTP date as S3's ISO 8601 form."""
    when = email.utils.parsedate_to_datetime(value) if value else None
    if when is None:
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_from_timestamp(value: str | float) -> str:
    """A Swift timestamp (``1733164242.12345``) as S3's ISO form."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = time.time()
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        + f".{int(seconds * 1000) % 1000:03d}Z"
    )


def http_date_from_timestamp(value: str) -> str:
    """A Swift timestamp as an HTTP date."""
    try:
        return email.utils.formatdate(float(value), usegmt=True)
    except (TypeError, ValueError):
        return email.utils.formatdate(usegmt=True)


def quote_etag(etag: str) -> str:
    """S3 ETags are quoted."""
    etag = etag.strip()
    return etag if etag.startswith('"') else f'"{etag}"'


def object_etag(headers: Any) -> str:
    """The ETag S3 shows for an object: a multipart upload's own, else Swift's."""
    return quote_etag(headers.get(S3_ETAG) or headers.get("ETag", "").strip('"'))


def row_etag(row: dict[str, Any]) -> str:
    """The ETag of a listing row (a multipart object's ``s3_etag`` when the row has one)."""
    main, _, params = str(row.get("hash", "")).partition(";")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key == "s3_etag" and value:
            return quote_etag(value)
    return quote_etag(main.strip())


def encode_name(name: str, url: bool) -> str:
    """A name for a listing body: as is, or percent-encoded for ``encoding-type=url``."""
    return urllib.parse.quote(name, safe="/") if url else name


def read_json(resp: Response) -> Any:
    """A Swift JSON listing's rows."""
    body = subrequest.drain(resp)
    try:
        return json.loads(body or b"[]")
    except ValueError:
        raise S3Error("InternalError", "Swift answered a listing that is not JSON.") from None


def read_body(ctx: Any, limit: int = xmlio.MAX_BODY, object_checksums: bool = False) -> bytes:
    """The client's small (XML) body, up to ``limit`` bytes, verified as a PUT's would be.

    With ``object_checksums`` the ``x-amz-checksum-*`` headers are about an object, not this
    body (CompleteMultipartUpload's), and are left alone here."""
    environ = ctx.req.environ
    try:
        raw = int(environ["CONTENT_LENGTH"]) if environ.get("CONTENT_LENGTH") else None
    except ValueError:
        raise S3Error("InvalidArgument", "Content-Length is not a number.") from None
    chunked_te = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
    if raw is None and not chunked_te:
        return b""
    if raw is not None and raw > limit + 4096:
        raise S3Error("MaxMessageLengthExceeded")
    decoded_text = ctx.req.headers.get("x-amz-decoded-content-length")
    decoded = int(decoded_text) if decoded_text and decoded_text.isdigit() else None
    streaming = ctx.signed.payload.startswith("STREAMING-")
    length = decoded if streaming else raw
    headers = dict(ctx.req.headers)
    if object_checksums:
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-amz-checksum-")}
    reader = BodyReader(environ["wsgi.input"], raw, length, ctx.signed, headers)
    parts = []
    total = 0
    try:
        while True:
            chunk = reader.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise S3Error("MaxMessageLengthExceeded")
            parts.append(chunk)
            if length is not None and total >= length:
                break
    except BodyError as exc:
        raise exc.error from None
    return b"".join(parts)


def parse_xml(body: bytes, root_name: str | None = None) -> ET.Element:
    """The client's XML document (MalformedXML if broken or not ``root_name``)."""
    if not body:
        raise S3Error("MissingRequestBodyError")
    try:
        root = xmlio.parse(body)
    except xmlio.XmlError:
        raise S3Error("MalformedXML") from None
    if root_name is not None and xmlio.local(root.tag) != root_name:
        raise S3Error("MalformedXML")
    return root


def epoch(value: str) -> float:
    """An HTTP date as seconds (0 when unreadable)."""
    parsed = email.utils.parsedate_tz(value)
    return float(email.utils.mktime_tz(parsed)) if parsed else 0.0
