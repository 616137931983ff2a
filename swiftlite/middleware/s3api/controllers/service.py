"""The service: ListBuckets (``GET /``)."""

from __future__ import annotations

from webob import Response

from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.controllers.names import valid_bucket
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import iso_from_listing, read_json, xml_response


def owner_element(parent: xmlio.ET.Element, ctx: Context, tag: str = "Owner") -> None:
    """``<Owner><ID/><DisplayName/></Owner>``: the S3 user (``account:user``)."""
    owner = xmlio.sub(parent, tag)
    xmlio.sub(owner, "ID", ctx.owner)
    xmlio.sub(owner, "DisplayName", ctx.owner)


def GET(ctx: Context) -> Response:
    """ListBuckets: the account's containers that are valid bucket names."""
    rows: list[dict[str, object]] = []
    marker = ""
    while True:
        resp = ctx.swift("GET", query={"format": "json", "marker": marker})
        if resp.status_int // 100 != 2:
            raise ctx.fail(resp, "AccessDenied")
        page = read_json(resp) if resp.status_int == 200 else []
        if not page:
            break
        rows.extend(page)
        marker = str(page[-1]["name"])
    root = xmlio.Element("ListAllMyBucketsResult")
    owner_element(root, ctx)
    buckets = xmlio.sub(root, "Buckets")
    for row in rows:
        name = str(row["name"])
        if not valid_bucket(name, ctx.options.dns_compliant_bucket_names):
            continue
        bucket = xmlio.sub(buckets, "Bucket")
        xmlio.sub(bucket, "Name", name)
        xmlio.sub(
            bucket,
            "CreationDate",
            iso_from_listing(str(row.get("last_modified", "2009-02-03T16:45:09.000"))),
        )
    return xml_response(root)


def not_allowed(ctx: Context) -> Response:
    """Any other method on ``/``."""
    raise S3Error("MethodNotAllowed", Method=ctx.req.method, ResourceType="SERVICE")
