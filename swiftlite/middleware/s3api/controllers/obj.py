"""Objects: PutObject (plain, ``aws-chunked``, checksummed), GetObject and HeadObject (ranges,
conditionals, ``response-*`` overrides), DeleteObject, CopyObject."""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Mapping
from typing import IO, Any

from webob import Response

from swiftlite.common.names import str_to_wsgi
from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import body as bodymod
from swiftlite.middleware.s3api import checksums, mpu_checksum, xmlio
from swiftlite.middleware.s3api.controllers import object_parts, tagging
from swiftlite.middleware.s3api.controllers.names import check_key
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import (
    CHECKSUM_PREFIX,
    empty,
    iso_from_http,
    object_etag,
    quote_etag,
    xml_response,
)

META = "x-amz-meta-"
SWIFT_META = "X-Object-Meta-"
# request headers an object keeps, as Swift keeps them
KEPT = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
)
CONDITIONALS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range")
OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
SHOWN = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Last-Modified",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "Expires",
)


def _names(ctx: Context) -> tuple[str, str]:
    bucket, key = ctx.names()
    return bucket, key


def object_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Swift headers for what an S3 write says about the object (metadata, content-*)."""
    out = {}
    for name, value in headers.items():
        if name.startswith(META):
            out[SWIFT_META + name[len(META) :]] = value
        elif name in KEPT:
            out[name.title()] = value
    storage = headers.get("x-amz-storage-class")
    if storage is not None and storage != "STANDARD":
        raise S3Error("InvalidStorageClass", StorageClassRequested=storage)
    return out


def s3_headers(resp: Response) -> dict[str, str]:
    """The S3 view of a Swift object's headers."""
    out = {}
    for name, value in resp.headers.items():
        title = name.title()
        if title.startswith(SWIFT_META):
            out[META + name[len(SWIFT_META) :].lower()] = value
        elif title in SHOWN:
            out[title] = value
    out["ETag"] = object_etag(resp.headers)
    out["Accept-Ranges"] = "bytes"
    out["x-amz-storage-class"] = "STANDARD"
    tags = tagging.decode(resp.headers.get(tagging.OBJECT_TAGGING))
    if tags:
        out["x-amz-tagging-count"] = str(len(tags))
    if resp.headers.get("X-Object-Sysmeta-Versions-Version-Id"):
        out["x-amz-version-id"] = resp.headers["X-Object-Sysmeta-Versions-Version-Id"]
    return out


def _checksum_headers(resp: Response, enabled: bool) -> dict[str, str]:
    out = {}
    if enabled:
        for alg in checksums.ALGORITHMS:
            value = resp.headers.get(CHECKSUM_PREFIX + alg)
            if value:
                out["x-amz-checksum-" + alg.lower()] = value
        if out:
            out["x-amz-checksum-type"] = resp.headers.get(CHECKSUM_PREFIX + "Type", "FULL_OBJECT")
    return out


def _response_checksums(ctx: Context, bucket: str, key: str, resp: Response) -> dict[str, str]:
    """With ``x-amz-checksum-mode: ENABLED``: the whole object's checksum on a 200, or the
    part's on a ``partNumber`` GET of a multipart object."""
    if ctx.req.headers.get("x-amz-checksum-mode", "").upper() != "ENABLED":
        return {}
    number = ctx.req.query.get("partNumber", "")
    if resp.status_int == 206 and number.isdigit():
        return _part_checksum_headers(ctx, bucket, key, resp, int(number))
    return _checksum_headers(resp, resp.status_int == 200)


def _part_checksum_headers(
    ctx: Context, bucket: str, key: str, resp: Response, number: int
) -> dict[str, str]:
    """A ``partNumber`` GET of a multipart object with a checksum: that part's checksum."""
    kind = object_parts.checksum_type(resp.headers)
    found = object_parts.part_checksum(ctx, bucket, key, resp.headers, number) if kind else None
    if kind is None or found is None:
        return {}
    return {"x-amz-checksum-" + found[0].lower(): found[1], "x-amz-checksum-type": kind}


def _missing(ctx: Context, bucket: str) -> str:
    return "NoSuchKey" if ctx.bucket_exists(bucket) else "NoSuchBucket"


def GET(ctx: Context) -> Response:
    """GetObject (and HeadObject, through HEAD)."""
    bucket, key = _names(ctx)
    q = ctx.req.query
    headers = {h.title(): ctx.req.headers[h] for h in CONDITIONALS if h in ctx.req.headers}
    query = {}
    if "versionId" in q and q["versionId"] != "null":
        query["version-id"] = q["versionId"]
    if "partNumber" in q:
        query["part-number"] = q["partNumber"]
    early = _etag_conditions(ctx, bucket, key, query, headers)
    if early is not None:
        return early
    resp = ctx.swift(ctx.req.method, bucket, key, headers=headers, query=query, stream=True)
    status = resp.status_int
    if status == 304:
        subrequest.close(resp)
        out = empty(304, **{"ETag": object_etag(resp.headers)})
        return out
    if status not in (200, 206):
        if status == 404 and "version-id" in query:
            raise ctx.fail(resp, "NoSuchVersion", Key=key, VersionId=q["versionId"])
        raise ctx.fail(resp, _missing(ctx, bucket) if status == 404 else "NoSuchKey", Key=key)
    out = Response(status=status)
    out.headerlist = []
    for name, value in s3_headers(resp).items():
        out.headers[name] = value
    out.headers.update(_response_checksums(ctx, bucket, key, resp))
    for param, header in OVERRIDES.items():
        if param in q:
            value = q[param]
            if any(c < " " or c == "\x7f" for c in value):
                subrequest.close(resp)
                raise S3Error("InvalidArgument", f"Invalid {param} value", ArgumentName=param)
            out.headers[header] = str_to_wsgi(value)
    if ctx.req.method == "HEAD":
        subrequest.close(resp)
        out.app_iter = []
        out.headers["Content-Length"] = resp.headers.get("Content-Length", "0")
    else:
        out.app_iter = resp.app_iter
    return out


def etag_matches(current: str, condition: str) -> bool:
    """Whether an ``If-Match``-style list (``*`` or quoted ETags) names ``current`` (pure)."""
    wanted = [quote_etag(v) for v in condition.split(",") if v.strip()]
    return "*" in condition.strip() or current in wanted


def _etag_conditions(
    ctx: Context, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]
) -> Response | None:
    """``If-Match``/``If-None-Match`` against the S3 ETag (a multipart object's is not
    Swift's), decided here after a HEAD; they are then left out of the GET."""
    if_match, if_none = headers.pop("If-Match", None), headers.pop("If-None-Match", None)
    if if_match is None and if_none is None:
        return None
    head = ctx.swift("HEAD", bucket, key, query=query)
    subrequest.close(head)
    if head.status_int // 100 != 2:
        return None  # the GET answers the 404 (or other error) itself
    current = object_etag(head.headers)
    if if_match is not None and not etag_matches(current, if_match):
        raise S3Error("PreconditionFailed", Condition="If-Match")
    if if_match is not None:
        headers.pop("If-Unmodified-Since", None)
    if if_none is not None and etag_matches(current, if_none):
        return empty(304, ETag=current)
    if if_none is not None:
        headers.pop("If-Modified-Since", None)
    return None


def HEAD(ctx: Context) -> Response:
    """HeadObject."""
    return GET(ctx)


def _check_put_conditions(ctx: Context, bucket: str, key: str) -> None:
    """``If-Match`` on PutObject: 412 unless the current object's ETag matches."""
    want = ctx.req.headers.get("if-match")
    if want is None:
        return
    resp = ctx.swift("HEAD", bucket, key)
    subrequest.close(resp)
    if resp.status_int == 404:
        raise S3Error("NoSuchKey", Key=key)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchKey")
    current = object_etag(resp.headers)
    if want.strip() != "*" and quote_etag(want) != current:
        raise S3Error("PreconditionFailed", Condition="If-Match")


def body_length(ctx: Context) -> tuple[int | None, int | None]:
    """(the client's framing length, the decoded object length)."""
    headers = ctx.req.headers
    raw_text = ctx.req.environ.get("CONTENT_LENGTH")
    chunked_te = ctx.req.environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
    try:
        raw = int(raw_text) if raw_text else None
        decoded_text = headers.get("x-amz-decoded-content-length")
        decoded = int(decoded_text) if decoded_text is not None else None
    except ValueError:
        raise S3Error("InvalidArgument", "A length is not a number.") from None
    if (raw is not None and raw < 0) or (decoded is not None and decoded < 0):
        raise S3Error("InvalidArgument", "A length is negative.")
    if raw is None and not chunked_te:
        raise S3Error("MissingContentLength")
    aws_chunked = ctx.signed.payload.startswith("STREAMING-") or "aws-chunked" in headers.get(
        "content-encoding", ""
    )
    if aws_chunked:
        return raw, decoded
    return raw, raw


SPOOL_MEMORY = 8 << 20  # bytes of a trailer-checksummed body kept in memory; more goes to disk


def _spool(reader: bodymod.BodyReader) -> tuple[IO[bytes], int]:
    """Read and verify the whole body (raising its S3 error) into a spool; the spool and size."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 - returned
    size = 0
    try:
        while True:
            try:
                data = reader.read(1 << 16)
            except bodymod.BodyError as exc:
                raise exc.error from None
            if not data:
                break
            spool.write(data)
            size += len(data)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size


def store(
    ctx: Context,
    bucket: str,
    key: str,
    extra: Mapping[str, str],
    missing: str = "NoSuchBucket",
    part_checksum: str | None = None,
) -> tuple[Response, bodymod.BodyReader]:
    """PUT the client's body to ``bucket/key``: the response (2xx) and the reader.

    With ``part_checksum`` (a multipart upload's algorithm) that checksum of the body is
    computed when the client sent none, and kept in the part's Content-Type too."""
    bad = bodymod.header_error(dict(ctx.req.headers))
    if bad is not None:
        raise bad
    raw, decoded = body_length(ctx)
    reader = bodymod.BodyReader(
        ctx.req.environ["wsgi.input"], raw, decoded, ctx.signed, dict(ctx.req.headers)
    )
    if part_checksum is not None:
        reader.compute(part_checksum)
    headers = dict(extra)
    for alg in checksums.ALGORITHMS:
        value = ctx.req.headers.get("x-amz-checksum-" + alg.lower())
        if value:
            headers[CHECKSUM_PREFIX + alg] = value
    body: Any = reader
    if any(alg not in reader.header_sums for alg in reader.running):
        # a trailer checksum is known only after the last byte: verify first, then store it
        body, decoded = _spool(reader)
        for alg, value in reader.checksums.items():
            headers[CHECKSUM_PREFIX + alg] = value
    if part_checksum is not None:
        value = reader.checksums.get(part_checksum) or reader.header_sums[part_checksum]
        headers["Content-Type"] = mpu_checksum.part_content_type(part_checksum, value)
    if decoded is None:
        headers["Transfer-Encoding"] = "chunked"
    resp = ctx.swift("PUT", bucket, key, headers=headers, body=body, content_length=decoded)
    if reader.error is not None:
        subrequest.close(resp)
        raise reader.error
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, missing, BucketName=bucket)
    subrequest.close(resp)
    return resp, reader


def PUT(ctx: Context) -> Response:
    """PutObject, or CopyObject with ``x-amz-copy-source``."""
    bucket, key = _names(ctx)
    why = check_key(key)
    if why:
        raise S3Error(why)
    if "x-amz-copy-source" in ctx.req.headers:
        return copy(ctx, bucket, key)
    _check_put_conditions(ctx, bucket, key)
    headers = object_headers(ctx.req.headers)
    if "x-amz-tagging" in ctx.req.headers:
        headers[tagging.OBJECT_TAGGING] = tagging.from_header(ctx.req.headers["x-amz-tagging"])
    if ctx.req.headers.get("if-none-match", "").strip() == "*":
        headers["If-None-Match"] = "*"
    elif "if-none-match" in ctx.req.headers:
        raise S3Error("NotImplemented", "If-None-Match on a write supports only *.")
    headers.setdefault("Content-Type", "binary/octet-stream")
    resp, reader = store(ctx, bucket, key, headers)
    out = empty(200, ETag=quote_etag(reader.etag))
    for alg, value in reader.checksums.items():
        out.headers["x-amz-checksum-" + alg.lower()] = value
    version = resp.headers.get("X-Object-Version-Id")
    if version:
        out.headers["x-amz-version-id"] = version
    return out


def DELETE(ctx: Context) -> Response:
    """DeleteObject: 204 whether or not the key existed (NoSuchBucket if the bucket does not);
    a multipart object's segments go with it."""
    bucket, key = _names(ctx)
    query = {}
    version = ctx.req.query.get("versionId")
    if version is not None and version != "null":
        query["version-id"] = version
    return delete_key(ctx, bucket, key, query)


def delete_key(ctx: Context, bucket: str, key: str, query: dict[str, str]) -> Response:
    """Delete one key as DeleteObject does (multi-delete uses it per key)."""
    head = ctx.swift("HEAD", bucket, key, query=query)
    subrequest.close(head)
    if head.status_int == 404 and not ctx.bucket_exists(bucket):
        raise S3Error("NoSuchBucket", BucketName=bucket)
    if head.status_int // 100 == 2 and head.headers.get("X-Static-Large-Object"):
        query = {**query, "multipart-manifest": "delete"}
    resp = ctx.swift("DELETE", bucket, key, query=query)
    subrequest.close(resp)
    if resp.status_int // 100 != 2 and resp.status_int != 404:
        raise ctx.fail(resp, "NoSuchKey", Key=key)
    return empty(204)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``/bucket/key?versionId=v`` (URL-encoded) -> (bucket, key, version) (pure)."""
    path, _, query = value.partition("?")
    version = None
    if query:
        params = urllib.parse.parse_qs(query)
        if "versionId" not in params:
            raise S3Error(
                "InvalidArgument",
                "Unsupported copy source parameter.",
                ArgumentName="x-amz-copy-source",
            )
        version = params["versionId"][0]
    try:
        text = urllib.parse.unquote(path.encode("latin-1").decode("utf-8"), errors="strict")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise S3Error(
            "InvalidArgument", "Copy source is not UTF-8.", ArgumentName="x-amz-copy-source"
        ) from None
    bucket, sep, key = text.lstrip("/").partition("/")
    if not sep or not bucket or not key:
        raise S3Error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            ArgumentName="x-amz-copy-source",
        )
    return bucket, key, version


def copy_headers(
    ctx: Context, src_bucket: str, src_key: str, version: str | None
) -> dict[str, str]:
    """The Swift copy request's headers: source, its conditions, the metadata directive."""
    if version is not None and version != "null":
        raise S3Error(
            "NotImplemented", "Copying a version other than the current one is not implemented."
        )
    headers = {"X-Copy-From": urllib.parse.quote(f"/{src_bucket}/{src_key}")}
    for cond in ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since"):
        value = ctx.req.headers.get("x-amz-copy-source-" + cond)
        if value is not None:
            headers[cond.title()] = value
    if ctx.req.headers.get("x-amz-copy-source-range"):
        headers["Range"] = ctx.req.headers["x-amz-copy-source-range"]
    return headers


def copy(ctx: Context, bucket: str, key: str) -> Response:
    """CopyObject: a Swift copy (``X-Copy-From``), metadata COPY or REPLACE."""
    src_bucket, src_key, version = parse_copy_source(ctx.req.headers["x-amz-copy-source"])
    directive = ctx.req.headers.get("x-amz-metadata-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise S3Error(
            "InvalidArgument",
            "Unknown metadata directive.",
            ArgumentName="x-amz-metadata-directive",
        )
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY" and version is None:
        raise S3Error(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    tag_directive = ctx.req.headers.get("x-amz-tagging-directive", "COPY")
    if tag_directive not in ("COPY", "REPLACE"):
        raise S3Error(
            "InvalidArgument",
            "Unknown tagging directive.",
            ArgumentName="x-amz-tagging-directive",
        )
    headers = copy_headers(ctx, src_bucket, src_key, version)
    headers.pop("Range", None)
    if directive == "REPLACE":
        headers.update(object_headers(ctx.req.headers))
        headers["X-Fresh-Metadata"] = "true"
    if tag_directive == "REPLACE":
        headers[tagging.OBJECT_TAGGING] = tagging.from_header(
            ctx.req.headers.get("x-amz-tagging", "")
        )
    resp = ctx.swift("PUT", bucket, key, headers=headers, body=b"")
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        if resp.status_int == 404:
            raise S3Error(_missing(ctx, src_bucket), Key=src_key)
        raise ctx.fail(resp, "NoSuchKey")
    root = xmlio.Element("CopyObjectResult")
    xmlio.sub(root, "LastModified", iso_from_http(resp.headers.get("Last-Modified")))
    xmlio.sub(root, "ETag", quote_etag(resp.headers.get("ETag", "").strip('"')))
    return xml_response(root)


ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})


def attributes(ctx: Context) -> Response:
    """GetObjectAttributes: ETag, Checksum, ObjectParts, StorageClass, ObjectSize."""
    bucket, key = _names(ctx)
    wanted = {a.strip() for a in ctx.req.headers.get("x-amz-object-attributes", "").split(",")}
    wanted.discard("")
    if not wanted or not wanted <= ATTRIBUTES:
        raise S3Error(
            "InvalidArgument",
            "Invalid attribute name specified.",
            ArgumentName="x-amz-object-attributes",
        )
    query = {}
    version = ctx.req.query.get("versionId")
    if version is not None and version != "null":
        query["version-id"] = version
    resp = ctx.swift("HEAD", bucket, key, query=query)
    if resp.status_int // 100 != 2:
        raise ctx.fail(
            resp, _missing(ctx, bucket) if resp.status_int == 404 else "NoSuchKey", Key=key
        )
    root = xmlio.Element("GetObjectAttributesResponse")
    etag = object_etag(resp.headers).strip('"')
    if "ETag" in wanted:
        xmlio.sub(root, "ETag", etag)
    if "Checksum" in wanted:
        sums = _checksum_headers(resp, True)
        if sums:
            elem = xmlio.sub(root, "Checksum")
            for name, value in sums.items():
                alg = name.rsplit("-", 1)[1].upper()
                xmlio.sub(elem, "ChecksumType" if alg == "TYPE" else "Checksum" + alg, value)
    if "ObjectParts" in wanted and "-" in etag:
        _object_parts(ctx, bucket, key, resp, xmlio.sub(root, "ObjectParts"), etag)
    if "StorageClass" in wanted:
        xmlio.sub(root, "StorageClass", "STANDARD")
    if "ObjectSize" in wanted:
        xmlio.sub(root, "ObjectSize", resp.headers.get("Content-Length", "0"))
    out = xml_response(root)
    if resp.headers.get("Last-Modified"):
        out.headers["Last-Modified"] = resp.headers["Last-Modified"]
    return out


def _object_parts(
    ctx: Context, bucket: str, key: str, resp: Response, elem: Any, etag: str
) -> None:
    """GetObjectAttributes' ObjectParts: the part count and, for an object with a checksum,
    a page of its parts (``x-amz-max-parts``, ``x-amz-part-number-marker``)."""
    xmlio.sub(elem, "PartsCount", etag.rsplit("-", 1)[1])
    if object_parts.checksum_type(resp.headers) is None:
        return
    try:
        limit = int(ctx.req.headers.get("x-amz-max-parts", "1000"))
        after = int(ctx.req.headers.get("x-amz-part-number-marker", "0"))
    except ValueError:
        raise S3Error(
            "InvalidArgument", "x-amz-max-parts and x-amz-part-number-marker must be integers"
        ) from None
    if limit < 0 or after < 0:
        raise S3Error(
            "InvalidArgument", "x-amz-max-parts and x-amz-part-number-marker must be non-negative"
        )
    limit = min(limit, 1000)
    listed = object_parts.parts(ctx, bucket, key, resp.headers, after=after)
    shown = listed[:limit]
    xmlio.sub(elem, "PartNumberMarker", after)
    xmlio.sub(elem, "NextPartNumberMarker", shown[-1][0] if shown else after)
    xmlio.sub(elem, "MaxParts", limit)
    xmlio.sub(elem, "IsTruncated", "true" if len(listed) > limit else "false")
    for number, size, found in shown:
        part = xmlio.sub(elem, "Part")
        xmlio.sub(part, "PartNumber", number)
        xmlio.sub(part, "Size", size)
        if found is not None:
            xmlio.sub(part, "Checksum" + found[0], found[1])
