"""Versioning onto Swift's ``object_versioning``: Get/PutBucketVersioning map to
``X-Versions-Enabled``; ListObjectVersions reads the container's ``?versions`` listing."""

from __future__ import annotations

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.controllers.bucket import fill_object
from swiftlite.middleware.s3api.controllers.service import owner_element
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import (
    empty,
    encode_name,
    iso_from_listing,
    parse_xml,
    read_body,
    read_json,
    xml_response,
)

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def _bucket(ctx: Context) -> str:
    return ctx.bucket_name()


def get(ctx: Context) -> Response:
    """GetBucketVersioning: Enabled, Suspended, or no Status when never enabled."""
    bucket = _bucket(ctx)
    resp = ctx.swift("HEAD", bucket)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    root = xmlio.Element("VersioningConfiguration")
    state = resp.headers.get("X-Versions-Enabled")
    if state is not None:
        xmlio.sub(root, "Status", "Enabled" if state.lower() == "true" else "Suspended")
    return xml_response(root)


def put(ctx: Context) -> Response:
    """PutBucketVersioning."""
    bucket = _bucket(ctx)
    root = parse_xml(read_body(ctx), "VersioningConfiguration")
    status = xmlio.text(root, "Status")
    if status not in ("Enabled", "Suspended"):
        raise S3Error("MalformedXML")
    if xmlio.text(root, "MfaDelete") == "Enabled":
        raise S3Error("NotImplemented", "MFA delete is not implemented.")
    headers = {"X-Versions-Enabled": "true" if status == "Enabled" else "false"}
    resp = ctx.swift("POST", bucket, headers=headers)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return empty(200)


def list_versions(ctx: Context) -> Response:
    """ListObjectVersions."""
    bucket = _bucket(ctx)
    q = ctx.req.query
    url = q.get("encoding-type") == "url"
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    try:
        limit = min(int(q.get("max-keys", "1000")), ctx.options.max_bucket_listing)
    except ValueError:
        raise S3Error("InvalidArgument", "max-keys must be an integer") from None
    query = {"format": "json", "versions": "", "prefix": prefix, "limit": str(limit + 1)}
    if delimiter:
        query["delimiter"] = delimiter
    if q.get("key-marker"):
        query["marker"] = q["key-marker"]
    if q.get("version-id-marker"):
        query["version_marker"] = q["version-id-marker"]
    resp = ctx.swift("GET", bucket, query=query)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    rows = read_json(resp) if resp.status_int == 200 else []
    shown, truncated = rows[:limit], len(rows) > limit
    root = xmlio.Element("ListVersionsResult")
    xmlio.sub(root, "Name", bucket)
    xmlio.sub(root, "Prefix", encode_name(prefix, url))
    xmlio.sub(root, "KeyMarker", encode_name(q.get("key-marker", ""), url))
    xmlio.sub(root, "VersionIdMarker", q.get("version-id-marker", ""))
    if truncated and shown:
        last = shown[-1]
        xmlio.sub(
            root, "NextKeyMarker", encode_name(str(last.get("name", last.get("subdir"))), url)
        )
        xmlio.sub(root, "NextVersionIdMarker", str(last.get("version_id", "")))
    xmlio.sub(root, "MaxKeys", limit)
    if delimiter:
        xmlio.sub(root, "Delimiter", encode_name(delimiter, url))
    if url:
        xmlio.sub(root, "EncodingType", "url")
    xmlio.sub(root, "IsTruncated", "true" if truncated else "false")
    for row in shown:
        if "subdir" in row:
            common = xmlio.sub(root, "CommonPrefixes")
            xmlio.sub(common, "Prefix", encode_name(str(row["subdir"]), url))
            continue
        marker = str(row.get("content_type", "")) == DELETE_MARKER
        if marker:
            elem = xmlio.sub(root, "DeleteMarker")
            xmlio.sub(elem, "Key", encode_name(str(row["name"]), url))
            xmlio.sub(elem, "VersionId", str(row.get("version_id", "null")))
            xmlio.sub(elem, "IsLatest", "true" if row.get("is_latest") else "false")
            xmlio.sub(elem, "LastModified", iso_from_listing(str(row.get("last_modified", ""))))
            owner_element(elem, ctx)
            continue
        elem = xmlio.sub(root, "Version")
        fill_object(elem, ctx, row, url, True)
        key = xmlio.find(elem, "Key")
        version = xmlio.ET.Element("VersionId")
        version.text = str(row.get("version_id", "null"))
        latest = xmlio.ET.Element("IsLatest")
        latest.text = "true" if row.get("is_latest") else "false"
        position = list(elem).index(key) + 1 if key is not None else 0
        elem.insert(position, latest)
        elem.insert(position, version)
    return xml_response(root)
