"""ACLs, canned ones only: bucket ACLs map onto the container's read ACL as Swift's s3api
does (``public-read`` is ``.r:*,.rlistings``); objects are always owner-only.

Get{Bucket,Object}Acl answer the owner's FULL_CONTROL plus the grants the container's ACL
implies; Put{Bucket,Object}Acl take ``x-amz-acl`` or an XML body that grants no more than a
canned ACL does; anything else is ``NotImplemented``.
"""

from __future__ import annotations

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context
from swiftlite.middleware.s3api.responses import empty, parse_xml, read_body, xml_response

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CANNED_READ = {
    "private": "",
    "public-read": ".r:*,.rlistings",
    "public-read-write": ".r:*,.rlistings",
    "authenticated-read": "",
    "bucket-owner-read": "",
    "bucket-owner-full-control": "",
}


def container_headers(canned: str | None) -> dict[str, str]:
    """The container headers for a canned ACL (none for None); InvalidArgument if unknown."""
    if canned is None:
        return {}
    if canned not in CANNED_READ:
        raise S3Error(
            "InvalidArgument", "Invalid canned ACL", ArgumentName="x-amz-acl", ArgumentValue=canned
        )
    return {"X-Container-Read": CANNED_READ[canned]}


def _grant(parent: xmlio.ET.Element, who: str | None, permission: str) -> None:
    grant = xmlio.sub(parent, "Grant")
    grantee = xmlio.sub(grant, "Grantee")
    grantee.set("xmlns:xsi", XSI)
    if who is None:
        grantee.set("xsi:type", "Group")
        xmlio.sub(grantee, "URI", ALL_USERS)
    else:
        grantee.set("xsi:type", "CanonicalUser")
        xmlio.sub(grantee, "ID", who)
        xmlio.sub(grantee, "DisplayName", who)
    xmlio.sub(grant, "Permission", permission)


def _policy(ctx: Context, public: bool) -> Response:
    root = xmlio.Element("AccessControlPolicy")
    owner = xmlio.sub(root, "Owner")
    xmlio.sub(owner, "ID", ctx.owner)
    xmlio.sub(owner, "DisplayName", ctx.owner)
    grants = xmlio.sub(root, "AccessControlList")
    _grant(grants, ctx.owner, "FULL_CONTROL")
    if public:
        _grant(grants, None, "READ")
    return xml_response(root)


def _container_public(ctx: Context, bucket: str) -> bool:
    resp = ctx.swift("HEAD", bucket)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return ".r:*" in resp.headers.get("X-Container-Read", "")


def get_bucket(ctx: Context) -> Response:
    """GetBucketAcl."""
    return _policy(ctx, _container_public(ctx, ctx.bucket_name()))


def get_object(ctx: Context) -> Response:
    """GetObjectAcl: the object must exist; its ACL is its bucket's."""
    bucket, key = ctx.names()
    resp = ctx.swift("HEAD", bucket, key)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        missing = "NoSuchKey" if ctx.bucket_exists(bucket) else "NoSuchBucket"
        raise ctx.fail(resp, missing)
    return _policy(ctx, False)


def _canned_from_body(ctx: Context) -> str | None:
    canned = ctx.req.headers.get("x-amz-acl")
    body = read_body(ctx)
    if not body:
        if canned is None:
            raise S3Error(
                "MissingSecurityHeader",
                "Your request was missing a required header",
                MissingHeaderName="x-amz-acl",
            )
        return canned
    try:
        root = parse_xml(body, "AccessControlPolicy")
    except S3Error:
        raise S3Error("MalformedACLError") from None
    public = False
    acl_elem = xmlio.find(root, "AccessControlList")
    for grant in xmlio.children(acl_elem, "Grant") if acl_elem is not None else []:
        grantee = xmlio.find(grant, "Grantee")
        permission = xmlio.text(grant, "Permission")
        uri = xmlio.text(grantee, "URI") if grantee is not None else None
        if uri == ALL_USERS and permission == "READ":
            public = True
        elif uri is None and permission == "FULL_CONTROL":
            continue
        else:
            raise S3Error("NotImplemented", "Only canned ACLs are supported.")
    return "public-read" if public else "private"


def put_bucket(ctx: Context) -> Response:
    """PutBucketAcl: a canned ACL becomes the container's read ACL."""
    bucket = ctx.bucket_name()
    headers = container_headers(_canned_from_body(ctx))
    resp = ctx.swift("POST", bucket, headers=headers)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)
    return empty(200)


def put_object(ctx: Context) -> Response:
    """PutObjectAcl: only ``private`` (the object's effective ACL) is accepted."""
    bucket, key = ctx.names()
    canned = _canned_from_body(ctx)
    if canned not in ("private", "bucket-owner-full-control"):
        raise S3Error("NotImplemented", "Object ACLs other than private are not supported.")
    resp = ctx.swift("HEAD", bucket, key)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchKey")
    return empty(200)
