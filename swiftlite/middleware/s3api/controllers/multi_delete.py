"""DeleteObjects (``POST /bucket?delete``): up to 1000 keys, each deleted as DeleteObject
deletes it, answered per key (only errors in quiet mode)."""

from __future__ import annotations

from webob import Response

from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.controllers.obj import delete_key
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import parse_xml, read_body, xml_response


def parse_delete(body: bytes, limit: int) -> tuple[bool, list[tuple[str, str | None]]]:
    """(quiet, [(key, version)]) from a ``Delete`` document; MalformedXML when wrong."""
    root = parse_xml(body, "Delete")
    quiet = (xmlio.text(root, "Quiet") or "false").lower() == "true"
    items: list[tuple[str, str | None]] = []
    for obj in xmlio.children(root, "Object"):
        key_elem = xmlio.find(obj, "Key")
        if key_elem is None or not key_elem.text:
            raise S3Error("MalformedXML")
        items.append((key_elem.text, xmlio.text(obj, "VersionId")))
    if not items or len(items) > limit:
        raise S3Error("MalformedXML")
    return quiet, items


def POST(ctx: Context) -> Response:
    """DeleteObjects."""
    bucket = ctx.bucket_name()
    quiet, items = parse_delete(read_body(ctx), ctx.options.max_multi_delete_objects)
    if not ctx.bucket_exists(bucket):
        raise S3Error("NoSuchBucket", BucketName=bucket)
    root = xmlio.Element("DeleteResult")
    for key, version in items:
        query = {"version-id": version} if version and version != "null" else {}
        try:
            delete_key(ctx, bucket, key, query)
        except S3Error as err:
            error = xmlio.sub(root, "Error")
            xmlio.sub(error, "Key", key)
            if version:
                xmlio.sub(error, "VersionId", version)
            xmlio.sub(error, "Code", err.code)
            xmlio.sub(error, "Message", err.message)
            continue
        if not quiet:
            deleted = xmlio.sub(root, "Deleted")
            xmlio.sub(deleted, "Key", key)
            if version:
                xmlio.sub(deleted, "VersionId", version)
    return xml_response(root)
