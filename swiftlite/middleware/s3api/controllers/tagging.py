"""Object and bucket tagging, kept in sysmeta as a URL-encoded query string.

Objects: ``X-Object-Sysmeta-S3api-Tagging``, set by ``x-amz-tagging`` on PutObject and
CopyObject (``x-amz-tagging-directive`` COPY/REPLACE) and by PutObjectTagging, which rewrites
the object in place with a Swift self-copy (object POSTs cannot change sysmeta). Buckets:
``X-Container-Sysmeta-S3api-Tagging``. S3's limits hold: at most 10 tags (50 on buckets), keys
up to 128 characters, values up to 256, no duplicate keys; anything else is ``InvalidTag``.
"""

from __future__ import annotations

import urllib.parse

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import empty, parse_xml, read_body, xml_response

OBJECT_TAGGING = "X-Object-Sysmeta-S3api-Tagging"
BUCKET_TAGGING = "X-Container-Sysmeta-S3api-Tagging"
MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256


def check_tags(tags: list[tuple[str, str]], limit: int = MAX_OBJECT_TAGS) -> None:
    """InvalidTag unless ``tags`` keep S3's limits (pure)."""
    if len(tags) > limit:
        raise S3Error("InvalidTag", f"Object tags cannot be greater than {limit}")
    seen = set()
    for key, value in tags:
        if not key or len(key) > MAX_KEY:
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid")
        if len(value) > MAX_VALUE:
            raise S3Error("InvalidTag", "The TagValue you have provided is invalid")
        if key.startswith("aws:"):
            raise S3Error("InvalidTag", "Your TagKey cannot be prefixed with aws:")
        if key in seen:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key")
        seen.add(key)


def encode(tags: list[tuple[str, str]]) -> str:
    """Tags as the URL-encoded query form sysmeta keeps (ASCII, so header-safe)."""
    return urllib.parse.urlencode(tags, quote_via=urllib.parse.quote)


def decode(value: str | None) -> list[tuple[str, str]]:
    """Tags back from their stored query form (none for an empty or missing value)."""
    if not value:
        return []
    return urllib.parse.parse_qsl(value, keep_blank_values=True)


def from_header(value: str) -> str:
    """``x-amz-tagging`` (a query string, WSGI str) checked and in stored form."""
    try:
        text = value.encode("latin-1").decode("utf-8")
        tags = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeError, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 "
            "then URLEncoded URL query parameters without tag name duplicates.",
            ArgumentName="x-amz-tagging",
        ) from None
    check_tags(tags)
    return encode(tags)


def _from_body(ctx: Context, limit: int) -> list[tuple[str, str]]:
    root = parse_xml(read_body(ctx), "Tagging")
    tag_set = xmlio.find(root, "TagSet")
    if tag_set is None:
        raise S3Error("MalformedXML")
    tags = []
    for tag in xmlio.children(tag_set, "Tag"):
        key = xmlio.text(tag, "Key")
        value = xmlio.text(tag, "Value")
        if key is None or value is None:
            raise S3Error("MalformedXML")
        tags.append((key, value))
    check_tags(tags, limit)
    return tags


def _document(tags: list[tuple[str, str]], **headers: str) -> Response:
    root = xmlio.Element("Tagging")
    tag_set = xmlio.sub(root, "TagSet")
    for key, value in tags:
        tag = xmlio.sub(tag_set, "Tag")
        xmlio.sub(tag, "Key", key)
        xmlio.sub(tag, "Value", value)
    return xml_response(root, 200, **headers)


def _version_query(ctx: Context) -> dict[str, str]:
    version = ctx.req.query.get("versionId")
    if version is not None and version != "null":
        return {"version-id": version}
    return {}


def _head_object(ctx: Context) -> Response:
    bucket, key = ctx.names()
    resp = ctx.swift("HEAD", bucket, key, query=_version_query(ctx))
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        missing = (
            "NoSuchKey" if resp.status_int != 404 or ctx.bucket_exists(bucket) else ("NoSuchBucket")
        )
        raise ctx.fail(resp, missing, Key=key)
    return resp


def get_object(ctx: Context) -> Response:
    """GetObjectTagging."""
    resp = _head_object(ctx)
    extra = {}
    if resp.headers.get("X-Object-Sysmeta-Versions-Version-Id"):
        extra["x-amz-version-id"] = resp.headers["X-Object-Sysmeta-Versions-Version-Id"]
    return _document(decode(resp.headers.get(OBJECT_TAGGING)), **extra)


def _rewrite_object(ctx: Context, stored: str) -> Response:
    """Set the object's tagging sysmeta by copying it onto itself."""
    bucket, key = ctx.names()
    if _version_query(ctx):
        raise S3Error("NotImplemented", "Tagging a noncurrent version is not implemented.")
    _head_object(ctx)
    headers = {
        "X-Copy-From": urllib.parse.quote(f"/{bucket}/{key}"),
        OBJECT_TAGGING: stored,
    }
    resp = ctx.swift("PUT", bucket, key, headers=headers, body=b"")
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchKey", Key=key)
    return resp


def put_object(ctx: Context) -> Response:
    """PutObjectTagging."""
    _rewrite_object(ctx, encode(_from_body(ctx, MAX_OBJECT_TAGS)))
    return empty(200)


def delete_object(ctx: Context) -> Response:
    """DeleteObjectTagging."""
    _rewrite_object(ctx, "")
    return empty(204)


def _bucket_headers(ctx: Context) -> Response:
    bucket = ctx.bucket_name()
    resp = ctx.swift("HEAD", bucket)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return resp


def _post_bucket(ctx: Context, stored: str) -> None:
    bucket = ctx.bucket_name()
    resp = ctx.swift("POST", bucket, headers={BUCKET_TAGGING: stored})
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)


def get_bucket(ctx: Context) -> Response:
    """GetBucketTagging: NoSuchTagSet when the bucket has none."""
    tags = decode(_bucket_headers(ctx).headers.get(BUCKET_TAGGING))
    if not tags:
        raise S3Error("NoSuchTagSet", BucketName=ctx.bucket_name())
    return _document(tags)


def put_bucket(ctx: Context) -> Response:
    """PutBucketTagging."""
    tags = _from_body(ctx, MAX_BUCKET_TAGS)
    _post_bucket(ctx, encode(tags))
    return empty(204)


def delete_bucket(ctx: Context) -> Response:
    """DeleteBucketTagging."""
    _post_bucket(ctx, "")
    return empty(204)
