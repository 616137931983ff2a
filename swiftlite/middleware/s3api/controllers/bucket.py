"""Buckets: Create, Head, Delete, GetBucketLocation, ListObjects v1 and v2."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.controllers import acl
from swiftlite.middleware.s3api.controllers.names import valid_bucket
from swiftlite.middleware.s3api.controllers.service import owner_element
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import SEGMENTS_SUFFIX, Context
from swiftlite.middleware.s3api.responses import (
    empty,
    encode_name,
    iso_from_listing,
    parse_xml,
    read_body,
    read_json,
    row_etag,
    xml_response,
)


def PUT(ctx: Context) -> Response:
    """CreateBucket, with the LocationConstraint and canned ACL checks."""
    bucket = ctx.bucket_name()
    if not valid_bucket(bucket, ctx.options.dns_compliant_bucket_names):
        raise S3Error("InvalidBucketName", BucketName=bucket)
    body = read_body(ctx)
    if body:
        root = parse_xml(body, "CreateBucketConfiguration")
        where = xmlio.text(root, "LocationConstraint")
        if where and where != ctx.options.location:
            raise S3Error(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                LocationConstraint=where,
            )
    headers = acl.container_headers(ctx.req.headers.get("x-amz-acl"))
    resp = ctx.swift("PUT", bucket, headers=headers)
    subrequest.close(resp)
    if resp.status_int == 202:
        raise S3Error("BucketAlreadyOwnedByYou", BucketName=bucket)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return empty(200, Location="/" + bucket)


def HEAD(ctx: Context) -> Response:
    """HeadBucket."""
    bucket = ctx.bucket_name()
    resp = ctx.swift("HEAD", bucket)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return empty(200, x_amz_bucket_region=ctx.options.location)


def DELETE(ctx: Context) -> Response:
    """DeleteBucket: 409 BucketNotEmpty while objects remain; its segments container goes too."""
    bucket = ctx.bucket_name()
    resp = ctx.swift("DELETE", bucket)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    subrequest.close(ctx.swift("DELETE", bucket + SEGMENTS_SUFFIX))
    return empty(204)


def location(ctx: Context) -> Response:
    """GetBucketLocation (empty for us-east-1, as S3)."""
    bucket = ctx.bucket_name()
    if not ctx.bucket_exists(bucket):
        raise S3Error("NoSuchBucket", BucketName=bucket)
    root = xmlio.Element("LocationConstraint")
    if ctx.options.location != "us-east-1":
        root.text = ctx.options.location
    return xml_response(root)


def _max_keys(ctx: Context, name: str = "max-keys") -> int:
    value = ctx.req.query.get(name, str(ctx.options.max_bucket_listing))
    try:
        number = int(value)
    except ValueError:
        raise S3Error(
            "InvalidArgument",
            f"Provided {name} not an integer or within integer range",
            ArgumentName=name,
            ArgumentValue=value,
        ) from None
    if number < 0:
        raise S3Error(
            "InvalidArgument",
            f"{name} must be non-negative",
            ArgumentName=name,
            ArgumentValue=value,
        )
    return min(number, ctx.options.max_bucket_listing)


def swift_marker(marker: str, prefix: str, delimiter: str) -> str:
    """The Swift marker that resumes after ``marker``: past a whole common prefix when the
    marker is one (``a/`` -> ``a0`` for ``/``), so its keys are not listed again (pure)."""
    if delimiter and marker.endswith(delimiter) and marker.startswith(prefix):
        last = delimiter[-1]
        return marker[:-1] + chr(ord(last) + 1)
    return marker


def list_rows(
    ctx: Context, bucket: str, prefix: str, delimiter: str, marker: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` rows after ``marker`` and whether more follow."""
    if limit == 0:
        return [], False
    query = {"format": "json", "limit": str(limit + 1), "prefix": prefix}
    if delimiter:
        query["delimiter"] = delimiter
    if marker:
        query["marker"] = swift_marker(marker, prefix, delimiter)
    resp = ctx.swift("GET", bucket, query=query)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    rows = read_json(resp) if resp.status_int == 200 else []
    return rows[:limit], len(rows) > limit


def _encoding(ctx: Context) -> bool:
    """Whether names are to be percent-encoded (``encoding-type=url``)."""
    encoding = ctx.req.query.get("encoding-type")
    if encoding is not None and encoding != "url":
        raise S3Error(
            "InvalidArgument",
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=encoding,
        )
    return encoding == "url"


def _start(ctx: Context, v2: bool) -> str:
    """Where the listing starts: v1's marker, v2's continuation token or start-after."""
    q = ctx.req.query
    if not v2:
        return q.get("marker", "")
    token = q.get("continuation-token")
    if token is None:
        return q.get("start-after", "")
    try:
        return base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
        ) from None


def GET(ctx: Context) -> Response:
    """ListObjects (v1) and ListObjectsV2 (``list-type=2``)."""
    q = ctx.req.query
    bucket = ctx.bucket_name()
    v2 = q.get("list-type") == "2"
    url = _encoding(ctx)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    limit = _max_keys(ctx)
    marker = _start(ctx, v2)
    rows, truncated = list_rows(ctx, bucket, prefix, delimiter, marker, limit)
    root = xmlio.Element("ListBucketResult")
    xmlio.sub(root, "Name", bucket)
    xmlio.sub(root, "Prefix", encode_name(prefix, url))
    if v2:
        if "continuation-token" in q:
            xmlio.sub(root, "ContinuationToken", q["continuation-token"])
        if "start-after" in q:
            xmlio.sub(root, "StartAfter", encode_name(q["start-after"], url))
        xmlio.sub(root, "KeyCount", len(rows))
    else:
        xmlio.sub(root, "Marker", encode_name(marker, url))
    last = str(rows[-1].get("name", rows[-1].get("subdir"))) if rows else ""
    if truncated and v2:
        xmlio.sub(root, "NextContinuationToken", base64.b64encode(last.encode()).decode())
    elif truncated and delimiter:
        xmlio.sub(root, "NextMarker", encode_name(last, url))
    xmlio.sub(root, "MaxKeys", limit)
    if delimiter:
        xmlio.sub(root, "Delimiter", encode_name(delimiter, url))
    if url:
        xmlio.sub(root, "EncodingType", "url")
    xmlio.sub(root, "IsTruncated", "true" if truncated else "false")
    fetch_owner = not v2 or q.get("fetch-owner") == "true"
    for row in rows:
        if "subdir" not in row:
            fill_object(xmlio.sub(root, "Contents"), ctx, row, url, fetch_owner)
    for row in rows:
        if "subdir" in row:
            common = xmlio.sub(root, "CommonPrefixes")
            xmlio.sub(common, "Prefix", encode_name(str(row["subdir"]), url))
    return xml_response(root)


def fill_object(
    elem: xmlio.ET.Element, ctx: Context, row: dict[str, Any], url: bool, owner: bool
) -> None:
    """``Key``, ``LastModified``, ``ETag``, ``Size``, ``StorageClass`` (and ``Owner``)."""
    xmlio.sub(elem, "Key", encode_name(str(row["name"]), url))
    xmlio.sub(elem, "LastModified", iso_from_listing(str(row.get("last_modified", ""))))
    xmlio.sub(elem, "ETag", row_etag(row))
    xmlio.sub(elem, "Size", int(row.get("bytes", 0)))
    if owner:
        owner_element(elem, ctx)
    xmlio.sub(elem, "StorageClass", "STANDARD")
