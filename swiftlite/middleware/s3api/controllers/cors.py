"""Bucket CORS: Put/Get/DeleteBucketCors, S3 preflights, and CORS headers on S3 answers.

PutBucketCors keeps the whole document in container sysmeta (``cors_rules.encode``) and
writes the Swift CORS metadata derived from it (``cors_rules.swift_meta``), so the Swift API
and the proxy's own CORS (``proxy/cors.py``) follow the same origins. A container with Swift
CORS metadata but no S3 document reads as one rule (``cors_rules.from_swift``).

Preflights (``OPTIONS`` on an S3 path) carry no credentials, so the bucket's account cannot
come from the request: ``[filter:s3api] cors_accounts`` lists the accounts whose buckets
answer them, searched in order. S3 answers of a request with ``Origin`` get the headers of the
first rule allowing that origin and method, and none of the proxy's (which follow Swift's
coarser model).
"""

from __future__ import annotations

from typing import Any

from webob import Response

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import cors_rules
from swiftlite.middleware.s3api.cors_rules import Rule
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import SOURCE, Context, S3Request
from swiftlite.middleware.s3api.responses import empty, read_body, xml_response

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
    "are not whitelisted by the resource's CORS spec."
)


def _require_digest(ctx: Context) -> None:
    """S3 takes PutBucketCors only with a Content-MD5 or ``x-amz-checksum-*`` promise (the
    body reader verifies whichever is sent)."""
    headers = ctx.req.headers
    if "content-md5" in headers or "x-amz-trailer" in headers:
        return
    if any(name.startswith("x-amz-checksum-") for name in headers):
        return
    raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5")


def _post(ctx: Context, headers: dict[str, str]) -> None:
    bucket = ctx.bucket_name()
    resp = ctx.swift("POST", bucket, headers=headers)
    subrequest.close(resp)
    if resp.status_int // 100 != 2:
        raise ctx.fail(resp, "NoSuchBucket", BucketName=bucket)


def rules_of(info: dict[str, Any]) -> list[Rule]:
    """A container info dict's rules: the S3 document, else its Swift CORS metadata."""
    return cors_rules.decode(info.get("sysmeta") or {}) or cors_rules.from_swift(
        info.get("meta") or {}
    )


def put(ctx: Context) -> Response:
    """PutBucketCors."""
    _require_digest(ctx)
    rules = cors_rules.parse(read_body(ctx, cors_rules.MAX_DOCUMENT))
    headers = cors_rules.encode(rules)
    headers.update(cors_rules.swift_meta(rules))
    _post(ctx, headers)
    return empty(200)


def delete(ctx: Context) -> Response:
    """DeleteBucketCors (204 whether or not there was a configuration)."""
    _post(ctx, cors_rules.cleared())
    return empty(204)


def get(ctx: Context) -> Response:
    """GetBucketCors: NoSuchCORSConfiguration when the bucket has none."""
    bucket = ctx.bucket_name()
    if not ctx.bucket_exists(bucket):  # the user's own HEAD: authorized as theirs
        raise S3Error("NoSuchBucket", BucketName=bucket)
    rules = rules_of(_info(ctx, bucket))
    if not rules:
        raise S3Error("NoSuchCORSConfiguration", BucketName=bucket)
    return xml_response(cors_rules.to_xml(rules))


def _info(ctx: Context, bucket: str) -> dict[str, Any]:
    """The bucket's container info (the request memo's, after a HEAD of the bucket)."""
    account = ctx.auth.account or ctx.account
    return subrequest.get_container_info(ctx.req.environ, ctx.app, account, bucket, SOURCE)


def _allow(resp: Response, rule: Rule, origin: str) -> None:
    """The Access-Control-* headers of ``rule`` for ``origin`` (header-safe: ``origin`` was
    matched against a printable rule value)."""
    if "*" in rule.origins:
        resp.headers["Access-Control-Allow-Origin"] = "*"
    else:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Credentials"] = "true"
    resp.headers["Access-Control-Allow-Methods"] = ", ".join(rule.methods)
    if rule.expose:
        resp.headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose)
    if rule.max_age is not None:
        resp.headers["Access-Control-Max-Age"] = str(rule.max_age)
    resp.headers["Vary"] = VARY


def _bucket_rules(
    environ: dict[str, Any], app: Any, accounts: tuple[str, ...], bucket: str
) -> list[Rule]:
    """The rules of the first of ``accounts`` holding ``bucket``; none when none holds it."""
    for account in accounts:
        info = subrequest.get_container_info(environ, app, account, bucket, SOURCE)
        if info.get("status", 0) // 100 == 2:
            return rules_of(info)
    return []


def preflight(req: S3Request, app: Any, accounts: tuple[str, ...]) -> Response:
    """The answer to an S3 ``OPTIONS`` (S3Error when refused, as S3's XML)."""
    origin = req.headers.get("origin")
    if not origin:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    method = req.headers.get("access-control-request-method")
    if method not in cors_rules.METHODS:
        raise S3Error("BadRequest", "Invalid Access-Control-Request-Method.")
    bucket = req.bucket or ""
    kind = "BUCKET" if req.key is None else "OBJECT"
    # a bucket in none of the accounts answers as one without rules: an unsigned request
    # learns nothing about which containers exist
    rules = _bucket_rules(req.environ, app, accounts, bucket)
    if not rules:
        raise S3Error("AccessForbidden", NOT_ENABLED, Method=method, ResourceType=kind)
    asked = req.headers.get("access-control-request-headers", "")
    wanted = [h.strip() for h in asked.split(",") if h.strip()]
    rule = cors_rules.match(rules, origin, method, wanted)
    if rule is None:
        raise S3Error("AccessForbidden", NOT_ALLOWED, Method=method, ResourceType=kind)
    resp = empty(200)
    _allow(resp, rule, origin)
    if wanted:
        resp.headers["Access-Control-Allow-Headers"] = ", ".join(h.lower() for h in wanted)
    return resp


def decorate(ctx: Context, resp: Response) -> None:
    """Give ``resp`` (an answer to ``ctx``) the CORS headers of its bucket's rules.

    The proxy's own CORS headers (added to the subrequests' answers by Swift's rules) never
    pass: an S3 answer carries only what the S3 rules allow."""
    for name in [n for n in resp.headers if n.lower().startswith("access-control-")]:
        del resp.headers[name]
    origin = ctx.req.headers.get("origin")
    bucket = ctx.req.bucket
    if not origin or bucket is None or ctx.auth.account is None:
        return
    info = _info(ctx, bucket)
    if info.get("status", 0) // 100 != 2:
        return
    rule = cors_rules.match(rules_of(info), origin, ctx.req.method, [])
    if rule is not None:
        _allow(resp, rule, origin)
