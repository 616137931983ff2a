"""Which controller answers an S3 request: by bucket/key presence, method and subresource.

Every subresource S3 has that is not served here answers ``NotImplemented`` (501), never a
misleading success.
"""

from __future__ import annotations

from collections.abc import Callable

from webob import Response

from swiftlite.middleware.s3api.controllers import (
    acl,
    bucket,
    cors,
    multi_delete,
    multi_upload,
    obj,
    service,
    tagging,
    versioning,
)
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import Context

Handler = Callable[[Context], Response]

# S3 subresources (query keys) not served: each is a 501
UNSUPPORTED = frozenset(
    [
        "accelerate",
        "analytics",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "select",
        "torrent",
        "website",
    ]
)

BUCKET: dict[tuple[str, str | None], Handler] = {
    ("GET", None): bucket.GET,
    ("HEAD", None): bucket.HEAD,
    ("PUT", None): bucket.PUT,
    ("DELETE", None): bucket.DELETE,
    ("GET", "location"): bucket.location,
    ("GET", "acl"): acl.get_bucket,
    ("PUT", "acl"): acl.put_bucket,
    ("GET", "versioning"): versioning.get,
    ("PUT", "versioning"): versioning.put,
    ("GET", "versions"): versioning.list_versions,
    ("GET", "uploads"): multi_upload.list_uploads,
    ("POST", "delete"): multi_delete.POST,
    ("GET", "tagging"): tagging.get_bucket,
    ("PUT", "tagging"): tagging.put_bucket,
    ("DELETE", "tagging"): tagging.delete_bucket,
    ("GET", "cors"): cors.get,
    ("PUT", "cors"): cors.put,
    ("DELETE", "cors"): cors.delete,
}
OBJECT: dict[tuple[str, str | None], Handler] = {
    ("GET", None): obj.GET,
    ("HEAD", None): obj.HEAD,
    ("PUT", None): obj.PUT,
    ("DELETE", None): obj.DELETE,
    ("GET", "acl"): acl.get_object,
    ("GET", "attributes"): obj.attributes,
    ("PUT", "acl"): acl.put_object,
    ("GET", "tagging"): tagging.get_object,
    ("PUT", "tagging"): tagging.put_object,
    ("DELETE", "tagging"): tagging.delete_object,
    ("POST", "uploads"): multi_upload.initiate,
    ("PUT", "uploadId"): multi_upload.upload_part,
    ("GET", "uploadId"): multi_upload.list_parts,
    ("POST", "uploadId"): multi_upload.complete,
    ("DELETE", "uploadId"): multi_upload.abort,
}
BUCKET_SUBS = frozenset(k for _, k in BUCKET if k)
OBJECT_SUBS = frozenset(k for _, k in OBJECT if k)


def route(ctx: Context) -> Handler:
    """The handler for ``ctx``'s request; S3Error when there is none."""
    req = ctx.req
    method = req.method
    if req.bucket is None:
        if method == "GET":
            return service.GET
        return service.not_allowed
    query = req.query
    for name in UNSUPPORTED:
        if name in query:
            raise S3Error("NotImplemented", f"The {name} subresource is not implemented.")
    table, subs, kind = (
        (BUCKET, BUCKET_SUBS, "BUCKET") if req.key is None else (OBJECT, OBJECT_SUBS, "OBJECT")
    )
    sub = next((s for s in subs if s in query), None)
    handler = table.get((method, sub))
    if handler is None:
        if method not in ("GET", "HEAD", "PUT", "POST", "DELETE") or sub is None:
            raise S3Error("MethodNotAllowed", Method=method, ResourceType=kind)
        raise S3Error("NotImplemented", f"{method} on ?{sub} is not implemented.")
    return handler
