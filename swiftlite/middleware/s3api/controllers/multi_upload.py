"""Multipart uploads, kept as Swift's s3api keeps them, so Swift sees the result as an SLO.

In ``<bucket>+segments``: the upload's marker object ``<key>/<upload id>`` (it carries the
object's metadata from CreateMultipartUpload) and its parts ``<key>/<upload id>/<n>``.
CompleteMultipartUpload writes ``<bucket>/<key>`` as an SLO manifest of the chosen parts, with
the S3 ETag (``md5(part md5s)-<count>``) in sysmeta, then removes the marker and the parts it
did not use. AbortMultipartUpload removes the marker and every part.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import uuid
from typing import Any

from webob import Response

from swiftlite.common import intparse
from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import checksums, mpu_checksum, xmlio
from swiftlite.middleware.s3api.controllers import obj as objmod
from swiftlite.middleware.s3api.controllers.names import check_key
from swiftlite.middleware.s3api.controllers.service import owner_element
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import SEGMENTS_SUFFIX, Context
from swiftlite.middleware.s3api.responses import (
    CHECKSUM_PREFIX,
    S3_ETAG,
    UPLOAD_SYSMETA,
    empty,
    encode_name,
    iso_from_http,
    iso_from_listing,
    parse_xml,
    quote_etag,
    read_body,
    read_json,
    xml_response,
)

UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
SLO_OVERRIDE = "X-Backend-Container-Update-Override-Etag"


def _upload_id(ctx: Context) -> str:
    upload_id = ctx.req.query.get("uploadId", "")
    if not UPLOAD_ID.match(upload_id):
        raise S3Error("NoSuchUpload", UploadId=upload_id)
    return upload_id


def _marker(ctx: Context, bucket: str, key: str, upload_id: str) -> Response:
    """HEAD the upload's marker (NoSuchUpload when gone)."""
    resp = ctx.swift("HEAD", bucket + SEGMENTS_SUFFIX, f"{key}/{upload_id}")
    subrequest.close(resp)
    if resp.status_int == 404:
        raise S3Error("NoSuchUpload", UploadId=upload_id)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchUpload")
    return resp


def initiate(ctx: Context) -> Response:
    """CreateMultipartUpload."""
    bucket, key = ctx.names()
    why = check_key(key)
    if why:
        raise S3Error(why)
    if "x-amz-tagging" in ctx.req.headers:
        raise S3Error("NotImplemented", "Object tagging is not implemented.")
    headers = objmod.object_headers(ctx.req.headers)
    headers.setdefault("Content-Type", "binary/octet-stream")
    alg, kind = mpu_checksum.choose(
        ctx.req.headers.get("x-amz-checksum-algorithm"), ctx.req.headers.get("x-amz-checksum-type")
    )
    if not ctx.bucket_exists(bucket):
        raise S3Error("NoSuchBucket", BucketName=bucket)
    segments = bucket + SEGMENTS_SUFFIX
    resp = ctx.swift("PUT", segments)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket")
    upload_id = uuid.uuid4().hex
    marker_headers = {
        "Content-Type": mpu_checksum.marker_content_type(alg, kind),
        "X-Object-Meta-S3api-Content-Type": headers.pop("Content-Type"),
        "X-Object-Meta-S3api-Headers": json.dumps(headers),
    }
    resp = ctx.swift("PUT", segments, f"{key}/{upload_id}", headers=marker_headers, body=b"")
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket")
    root = xmlio.Element("InitiateMultipartUploadResult")
    xmlio.sub(root, "Bucket", bucket)
    xmlio.sub(root, "Key", key)
    xmlio.sub(root, "UploadId", upload_id)
    out = xml_response(root)
    if alg is not None and kind is not None:
        out.headers["x-amz-checksum-algorithm"] = alg
        out.headers["x-amz-checksum-type"] = kind
    return out


def upload_checksum(marker: Response) -> tuple[str | None, str]:
    """The upload's checksum algorithm (None without one) and type, from its marker."""
    found = mpu_checksum.marker_checksum(marker.headers.get("Content-Type", ""))
    return found if found is not None else (None, "")


def _sent_algorithms(ctx: Context) -> set[str]:
    """The checksum algorithms of the request's headers and promised trailers."""
    names = {h.lower() for h in ctx.req.headers if h.lower().startswith("x-amz-checksum-")}
    trailer = ctx.req.headers.get("x-amz-trailer", "")
    names.update(n.strip().lower() for n in trailer.split(",") if n.strip())
    sent = {n.removeprefix("x-amz-checksum-").upper() for n in names}
    return sent & set(checksums.ALGORITHMS)


def _part_number(ctx: Context) -> int:
    text = ctx.req.query.get("partNumber", "")
    limit = ctx.options.max_upload_part_num
    # ASCII digits, at most 20: "²" passes isdigit() and then int() raises (was a 500)
    if not intparse.is_digits(text) or not 1 <= int(text) <= limit:
        raise S3Error(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {limit}, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=text,
        )
    return int(text)


def upload_part(ctx: Context) -> Response:
    """UploadPart and UploadPartCopy."""
    bucket, key = ctx.names()
    number = _part_number(ctx)
    upload_id = _upload_id(ctx)
    alg, _kind = upload_checksum(_marker(ctx, bucket, key, upload_id))
    segments = bucket + SEGMENTS_SUFFIX
    part = f"{key}/{upload_id}/{number}"
    if "x-amz-copy-source" in ctx.req.headers:
        return _upload_part_copy(ctx, segments, part, alg)
    if alg is not None:
        for other in sorted(_sent_algorithms(ctx) - {alg}):
            raise mpu_checksum.mismatch(alg, other)
    _resp, reader = objmod.store(ctx, segments, part, {}, missing="NoSuchUpload", part_checksum=alg)
    out = empty(200, ETag=quote_etag(reader.etag))
    for alg, value in reader.checksums.items():
        out.headers["x-amz-checksum-" + alg.lower()] = value
    return out


def _upload_part_copy(ctx: Context, segments: str, part: str, alg: str | None) -> Response:
    src_bucket, src_key, version = objmod.parse_copy_source(ctx.req.headers["x-amz-copy-source"])
    headers = objmod.copy_headers(ctx, src_bucket, src_key, version)
    if "Range" in headers and not headers["Range"].startswith("bytes="):
        raise S3Error(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last",
            ArgumentName="x-amz-copy-source-range",
        )
    resp = ctx.swift("PUT", segments, part, headers=headers, body=b"")
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchKey")
    root = xmlio.Element("CopyPartResult")
    xmlio.sub(root, "LastModified", iso_from_http(resp.headers.get("Last-Modified")))
    xmlio.sub(root, "ETag", quote_etag(resp.headers.get("ETag", "").strip('"')))
    if alg is not None:
        xmlio.sub(root, "Checksum" + alg, _copied_part_checksum(ctx, segments, part, alg))
    return xml_response(root)


def _copied_part_checksum(ctx: Context, segments: str, part: str, alg: str) -> str:
    """A copied part of an upload with a checksum: read it back for its checksum and keep that
    in its Content-Type, as UploadPart does."""
    resp = ctx.swift("GET", segments, part, stream=True)
    if resp.status_int != 200:
        raise ctx.fail(resp, "NoSuchUpload")
    running = checksums.new(alg)
    try:
        for chunk in resp.app_iter:
            running.update(chunk)
    finally:
        subrequest.close(resp)
    value = running.b64()
    headers = {"Content-Type": mpu_checksum.part_content_type(alg, value)}
    post = ctx.swift("POST", segments, part, headers=headers)
    subrequest.close(post)
    if post.status_int // 100 != 2:
        raise ctx.fail(post, "NoSuchUpload")
    return value


def _parts(
    ctx: Context, bucket: str, key: str, upload_id: str, marker: int = 0
) -> list[dict[str, Any]]:
    """Every stored part of the upload after part ``marker``, in part order."""
    prefix = f"{key}/{upload_id}/"
    rows: list[dict[str, Any]] = []
    swift_marker = ""
    while True:
        query = {"format": "json", "prefix": prefix, "marker": swift_marker}
        resp = ctx.swift("GET", bucket + SEGMENTS_SUFFIX, query=query)
        if resp.status_int // 100 != 2:
            raise ctx.fail(resp, "NoSuchUpload")
        page = read_json(resp) if resp.status_int == 200 else []
        if not page:
            break
        rows.extend(page)
        swift_marker = str(page[-1]["name"])
    parts = []
    for row in rows:
        tail = str(row["name"])[len(prefix) :]
        if intparse.is_digits(tail) and int(tail) > marker:
            parts.append({**row, "number": int(tail)})
    return sorted(parts, key=lambda r: r["number"])


def list_parts(ctx: Context) -> Response:
    """ListParts."""
    bucket, key = ctx.names()
    upload_id = _upload_id(ctx)
    alg, kind = upload_checksum(_marker(ctx, bucket, key, upload_id))
    q = ctx.req.query
    try:
        after = int(q.get("part-number-marker", "0") or 0)
        limit = min(
            int(q.get("max-parts", ctx.options.max_parts_listing)), ctx.options.max_parts_listing
        )
    except ValueError:
        raise S3Error(
            "InvalidArgument", "max-parts and part-number-marker must be integers"
        ) from None
    if limit < 0 or after < 0:
        raise S3Error("InvalidArgument", "max-parts and part-number-marker must be non-negative")
    parts = _parts(ctx, bucket, key, upload_id, after)
    shown, truncated = parts[:limit], len(parts) > limit
    url = q.get("encoding-type") == "url"
    root = xmlio.Element("ListPartsResult")
    xmlio.sub(root, "Bucket", bucket)
    xmlio.sub(root, "Key", encode_name(key, url))
    xmlio.sub(root, "UploadId", upload_id)
    owner_element(root, ctx, "Initiator")
    owner_element(root, ctx)
    xmlio.sub(root, "StorageClass", "STANDARD")
    xmlio.sub(root, "PartNumberMarker", after)
    xmlio.sub(root, "NextPartNumberMarker", shown[-1]["number"] if shown else after)
    xmlio.sub(root, "MaxParts", limit)
    if url:
        xmlio.sub(root, "EncodingType", "url")
    xmlio.sub(root, "IsTruncated", "true" if truncated else "false")
    if alg is not None:
        xmlio.sub(root, "ChecksumAlgorithm", alg)
        xmlio.sub(root, "ChecksumType", kind)
    for part in shown:
        elem = xmlio.sub(root, "Part")
        xmlio.sub(elem, "PartNumber", part["number"])
        xmlio.sub(elem, "LastModified", iso_from_listing(str(part.get("last_modified", ""))))
        xmlio.sub(elem, "ETag", quote_etag(str(part["hash"])))
        xmlio.sub(elem, "Size", int(part["bytes"]))
        found = mpu_checksum.part_checksum(str(part.get("content_type", "")))
        if found is not None:
            xmlio.sub(elem, "Checksum" + found[0], found[1])
    return xml_response(root)


def list_uploads(ctx: Context) -> Response:
    """ListMultipartUploads: the markers in ``<bucket>+segments``."""
    bucket = ctx.bucket_name()
    if not ctx.bucket_exists(bucket):
        raise S3Error("NoSuchBucket", BucketName=bucket)
    q = ctx.req.query
    prefix = q.get("prefix", "")
    url = q.get("encoding-type") == "url"
    try:
        limit = min(int(q.get("max-uploads", "1000")), 1000)
    except ValueError:
        raise S3Error("InvalidArgument", "max-uploads must be an integer") from None
    key_marker, id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    rows: list[dict[str, Any]] = []
    swift_marker = ""
    while True:
        resp = ctx.swift(
            "GET",
            bucket + SEGMENTS_SUFFIX,
            query={"format": "json", "prefix": prefix, "marker": swift_marker},
        )
        if resp.status_int == 404:
            subrequest.close(resp)
            break
        if resp.status_int // 100 != 2:
            raise ctx.fail(resp, "NoSuchBucket")
        page = read_json(resp) if resp.status_int == 200 else []
        if not page:
            break
        rows.extend(page)
        swift_marker = str(page[-1]["name"])
    uploads = []
    for row in rows:
        key, _, upload_id = str(row["name"]).rpartition("/")
        if key and UPLOAD_ID.match(upload_id) and (key, upload_id) > (key_marker, id_marker):
            uploads.append((key, upload_id, row))
    uploads.sort()
    shown, truncated = uploads[:limit], len(uploads) > limit
    root = xmlio.Element("ListMultipartUploadsResult")
    xmlio.sub(root, "Bucket", bucket)
    xmlio.sub(root, "KeyMarker", encode_name(key_marker, url))
    xmlio.sub(root, "UploadIdMarker", id_marker)
    xmlio.sub(root, "NextKeyMarker", encode_name(shown[-1][0], url) if shown else "")
    xmlio.sub(root, "NextUploadIdMarker", shown[-1][1] if shown else "")
    xmlio.sub(root, "Prefix", encode_name(prefix, url))
    xmlio.sub(root, "MaxUploads", limit)
    if url:
        xmlio.sub(root, "EncodingType", "url")
    xmlio.sub(root, "IsTruncated", "true" if truncated else "false")
    for key, upload_id, row in shown:
        elem = xmlio.sub(root, "Upload")
        xmlio.sub(elem, "Key", encode_name(key, url))
        xmlio.sub(elem, "UploadId", upload_id)
        owner_element(elem, ctx, "Initiator")
        owner_element(elem, ctx)
        xmlio.sub(elem, "StorageClass", "STANDARD")
        xmlio.sub(elem, "Initiated", iso_from_listing(str(row.get("last_modified", ""))))
        found = mpu_checksum.marker_checksum(str(row.get("content_type", "")))
        if found is not None:
            xmlio.sub(elem, "ChecksumAlgorithm", found[0])
            xmlio.sub(elem, "ChecksumType", found[1])
    return xml_response(root)


def abort(ctx: Context) -> Response:
    """AbortMultipartUpload: the marker and every part go."""
    bucket, key = ctx.names()
    upload_id = _upload_id(ctx)
    _marker(ctx, bucket, key, upload_id)
    segments = bucket + SEGMENTS_SUFFIX
    for part in _parts(ctx, bucket, key, upload_id):
        subrequest.close(ctx.swift("DELETE", segments, str(part["name"])))
    subrequest.close(ctx.swift("DELETE", segments, f"{key}/{upload_id}"))
    return empty(204)


def parse_complete(body: bytes) -> list[tuple[int, str]]:
    """[(part number, etag)] from a ``CompleteMultipartUpload`` document (pure)."""
    root = parse_xml(body, "CompleteMultipartUpload")
    chosen = []
    for part in xmlio.children(root, "Part"):
        number, etag = xmlio.text(part, "PartNumber"), xmlio.text(part, "ETag")
        if number is None or not intparse.is_digits(number) or etag is None:
            raise S3Error("MalformedXML")
        chosen.append((int(number), etag.strip('"')))
    if not chosen:
        raise S3Error("MalformedXML")
    numbers = [n for n, _ in chosen]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise S3Error("InvalidPartOrder")
    return chosen


def s3_etag(etags: list[str]) -> str:
    """S3's multipart ETag: md5 of the parts' binary md5s, ``-<count>`` (pure)."""
    try:
        joined = b"".join(binascii.unhexlify(e) for e in etags)
    except (binascii.Error, ValueError):
        joined = "".join(etags).encode()
    return f"{hashlib.md5(joined).hexdigest()}-{len(etags)}"


def complete(ctx: Context) -> Response:
    """CompleteMultipartUpload: the SLO manifest of the chosen parts."""
    bucket, key = ctx.names()
    upload_id = _upload_id(ctx)
    body = read_body(ctx, object_checksums=True)
    chosen = parse_complete(body)
    try:
        marker = _marker(ctx, bucket, key, upload_id)
    except S3Error as exc:
        replayed = (
            _replayed_complete(ctx, bucket, key, upload_id, chosen) if exc.status == 404 else None
        )
        if replayed is None:
            raise
        return replayed
    alg, kind = upload_checksum(marker)
    if alg is not None:
        _check_complete_checksum_headers(ctx, alg, kind)
    stored = {p["number"]: p for p in _parts(ctx, bucket, key, upload_id)}
    manifest = []
    for index, (number, etag) in enumerate(chosen):
        part = stored.get(number)
        if part is None or str(part["hash"]) != etag:
            raise S3Error("InvalidPart", PartNumber=number, ETag=etag, UploadId=upload_id)
        if index < len(chosen) - 1 and int(part["bytes"]) < ctx.options.min_segment_size:
            raise S3Error(
                "EntityTooSmall",
                ProposedSize=part["bytes"],
                MinSizeAllowed=ctx.options.min_segment_size,
            )
        path = f"/{bucket}{SEGMENTS_SUFFIX}/{part['name']}"
        manifest.append({"path": path, "etag": etag, "size_bytes": int(part["bytes"])})
    etag = s3_etag([e for _, e in chosen])
    headers = _marker_headers(marker)
    checksum = None
    if alg is not None:
        checksum = _object_checksum(ctx, alg, kind, upload_id, chosen, body, stored)
        headers[CHECKSUM_PREFIX + alg] = checksum
        headers[CHECKSUM_PREFIX + "Type"] = kind
    headers[S3_ETAG] = etag
    headers[UPLOAD_SYSMETA] = upload_id
    headers[SLO_OVERRIDE] = f"; s3_etag={etag}"
    _check_complete_conditions(ctx, bucket, key, headers)
    data = json.dumps(manifest).encode()
    resp = ctx.swift(
        "PUT", bucket, key, query={"multipart-manifest": "put"}, headers=headers, body=data
    )
    body = subrequest.drain(resp)
    if resp.status_int // 100 != 2:
        if resp.status_int == 400:
            raise S3Error("InvalidPart", body.decode("utf-8", "replace")[:200])
        raise ctx.fail(resp, "NoSuchBucket")
    used = {n for n, _ in chosen}
    segments = bucket + SEGMENTS_SUFFIX
    for number, part in stored.items():
        if number not in used:
            subrequest.close(ctx.swift("DELETE", segments, str(part["name"])))
    subrequest.close(ctx.swift("DELETE", segments, f"{key}/{upload_id}"))
    return _complete_result(bucket, key, etag, alg, checksum, kind)


def _complete_result(
    bucket: str, key: str, etag: str, alg: str | None, checksum: str | None, kind: str | None
) -> Response:
    root = xmlio.Element("CompleteMultipartUploadResult")
    xmlio.sub(root, "Location", f"/{bucket}/{key}")
    xmlio.sub(root, "Bucket", bucket)
    xmlio.sub(root, "Key", key)
    xmlio.sub(root, "ETag", quote_etag(etag))
    if alg is not None and checksum is not None and kind is not None:
        xmlio.sub(root, "Checksum" + alg, checksum)
        xmlio.sub(root, "ChecksumType", kind)
    return xml_response(root)


def _replayed_complete(
    ctx: Context, bucket: str, key: str, upload_id: str, chosen: list[tuple[int, str]]
) -> Response | None:
    """The answer to a Complete sent again after it succeeded (a client retrying a reply it
    lost): the same result when the object is still the one this upload made, from the same
    parts; None (NoSuchUpload) otherwise. Nothing is written again."""
    resp = ctx.swift("HEAD", bucket, key)
    subrequest.close(resp)
    headers = resp.headers
    if resp.status_int != 200 or headers.get(UPLOAD_SYSMETA) != upload_id:
        return None
    etag = s3_etag([e for _, e in chosen])
    if headers.get(S3_ETAG) != etag:
        return None  # another part list than the one completed
    kind = headers.get(CHECKSUM_PREFIX + "Type")
    alg = next(
        (a for a in checksums.ALGORITHMS if headers.get(CHECKSUM_PREFIX + a) is not None), None
    )
    checksum = headers.get(CHECKSUM_PREFIX + alg) if alg is not None else None
    return _complete_result(bucket, key, etag, alg, checksum, kind)


def _check_complete_checksum_headers(ctx: Context, alg: str, kind: str) -> None:
    """Complete's own ``x-amz-checksum-type`` and ``x-amz-checksum-<alg>`` headers must be
    the upload's (BadDigest for another type, InvalidRequest for another algorithm)."""
    asked = ctx.req.headers.get("x-amz-checksum-type")
    if asked is not None and asked != kind:
        raise S3Error(
            "BadDigest",
            f"The upload was created using the {kind} checksum mode. The complete request "
            "must use the same checksum mode.",
        )
    for other in sorted(_sent_algorithms(ctx) - {alg}):
        raise mpu_checksum.mismatch(alg, other)


def _object_checksum(
    ctx: Context,
    alg: str,
    kind: str,
    upload_id: str,
    chosen: list[tuple[int, str]],
    body: bytes,
    stored: dict[int, dict[str, Any]],
) -> str:
    """The object's checksum from the chosen parts' (checked against what the client lists,
    and against Complete's own ``x-amz-checksum-<alg>`` header: BadDigest)."""
    part_sums: dict[int, str | None] = {}
    for number, _etag in chosen:
        found = mpu_checksum.part_checksum(str(stored[number].get("content_type", "")))
        part_sums[number] = found[1] if found is not None and found[0] == alg else None
    mpu_checksum.check_parts(alg, upload_id, chosen, mpu_checksum.parse_parts(body), part_sums)
    parts = [(str(part_sums[n]), int(stored[n]["bytes"])) for n, _ in chosen]
    value = mpu_checksum.object_checksum(alg, kind, parts)
    want = ctx.req.headers.get("x-amz-checksum-" + alg.lower())
    if want is not None and want != value:
        raise S3Error(
            "BadDigest", f"The {alg} you specified did not match the calculated checksum."
        )
    return value


def _marker_headers(marker: Response) -> dict[str, str]:
    """The object headers CreateMultipartUpload kept on the marker."""
    try:
        headers = json.loads(marker.headers.get("X-Object-Meta-S3api-Headers", "{}"))
    except ValueError:
        headers = {}
    if not isinstance(headers, dict):
        headers = {}
    headers["Content-Type"] = marker.headers.get(
        "X-Object-Meta-S3api-Content-Type", "binary/octet-stream"
    )
    return {str(k): str(v) for k, v in headers.items()}


def _check_complete_conditions(
    ctx: Context, bucket: str, key: str, headers: dict[str, str]
) -> None:
    """``If-None-Match: *`` and ``If-Match`` on CompleteMultipartUpload."""
    if ctx.req.headers.get("if-none-match", "").strip() == "*":
        resp = ctx.swift("HEAD", bucket, key)
        subrequest.close(resp)
        if resp.status_int // 100 == 2:
            raise S3Error("PreconditionFailed", Condition="If-None-Match")
    want = ctx.req.headers.get("if-match")
    if want is not None:
        resp = ctx.swift("HEAD", bucket, key)
        subrequest.close(resp)
        if resp.status_int == 404:
            raise S3Error("NoSuchKey", Key=key)
        if want.strip() != "*" and quote_etag(want) != objmod.object_etag(resp.headers):
            raise S3Error("PreconditionFailed", Condition="If-Match")
