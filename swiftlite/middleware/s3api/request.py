"""One S3 request: its bucket and key, its query, its credentials, and the way it asks Swift.

``S3Request.from_environ`` reads path-style (``/bucket/key``) and virtual-hosted-style
(``bucket.<storage_domain>/key``) addressing. ``Context.swift`` sends a subrequest to the
rest of the pipeline as the S3 user (the ``handoff.S3Auth`` rides along, so the auth filter
authorizes it as it would that user's Swift request) and ``Context.fail`` maps Swift's
error statuses to S3's codes.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webob import Request, Response

from swiftlite.common.names import str_to_wsgi
from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api.auth import AuthInput, Signed
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.handoff import PLACEHOLDER, S3_AUTH, S3Auth

SOURCE = "S3"
SEGMENTS_SUFFIX = "+segments"


@dataclass
class Options:
    """``[filter:s3api]`` options (Swift's names)."""

    location: str = "us-east-1"
    storage_domain: str = ""
    max_bucket_listing: int = 1000
    max_parts_listing: int = 1000
    max_upload_part_num: int = 10000
    max_multi_delete_objects: int = 1000
    min_segment_size: int = 5242880
    dns_compliant_bucket_names: bool = True
    allow_no_owner: bool = False
    cors_accounts: tuple[str, ...] = ()  # whose buckets answer S3 CORS preflights, in order
    log_level: str = "INFO"

    @property
    def domains(self) -> list[str]:
        return [d.strip().lower() for d in self.storage_domain.split(",") if d.strip()]


def split_query(query: str) -> list[tuple[str, str]]:
    """``k=v&k2`` as decoded WSGI-string pairs, in order (``+`` stays a plus, as AWS signs)."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append(
            (
                urllib.parse.unquote(key, encoding="latin-1"),
                urllib.parse.unquote(value, encoding="latin-1"),
            )
        )
    return pairs


def _utf8(value: str, what: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise S3Error("InvalidURI", f"The {what} is not valid UTF-8.") from None


@dataclass
class S3Request:
    """What an S3 request addresses (names as real strs)."""

    environ: dict[str, Any]
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    headers: Mapping[str, str]  # lower-case names, WSGI strings
    auth_input: AuthInput
    path: str = ""  # for error documents: /bucket/key

    @classmethod
    def from_environ(cls, environ: dict[str, Any], options: Options) -> S3Request:
        path_wsgi = environ.get("PATH_INFO", "") or "/"
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["content-length"] = environ["CONTENT_LENGTH"]
        if "CONTENT_MD5" in environ:
            headers["content-md5"] = environ["CONTENT_MD5"]
        pairs = split_query(environ.get("QUERY_STRING", ""))
        query: dict[str, str] = {}
        for name, value in pairs:
            query.setdefault(_utf8(name, "query"), _utf8(value, "query"))
        host = headers.get("host", "").rsplit(":", 1)[0].lower() if headers.get("host") else ""
        vhost = None
        for domain in options.domains:
            if host.endswith("." + domain):
                vhost = host[: -len(domain) - 1]
                break
        path = _utf8(path_wsgi, "path")
        if vhost is not None:
            bucket: str | None = vhost
            key: str | None = path[1:] or None
        else:
            parts = path[1:].split("/", 1)
            bucket = parts[0] or None
            key = parts[1] if len(parts) > 1 and parts[1] else None
        raw_path = environ.get("RAW_PATH_INFO") or urllib.parse.quote(
            path_wsgi.encode("latin-1"), safe="/~"
        )
        auth_input = AuthInput(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=path_wsgi.encode("latin-1"),
            raw_path=raw_path,
            query=pairs,
            headers=headers,
            vhost_bucket=vhost,
        )
        shown = "/" + (bucket or "") + ("/" + key if key else "")
        return cls(environ, auth_input.method, bucket, key, query, headers, auth_input, shown)


@dataclass
class Context:
    """An S3 request being served: the request, its credentials, and the app below."""

    req: S3Request
    app: Callable[..., Any]
    options: Options
    signed: Signed
    auth: S3Auth = field(init=False)

    def __post_init__(self) -> None:
        self.auth = S3Auth(self.signed.access_key, self.signed.check)

    @property
    def account(self) -> str:
        return self.auth.account or PLACEHOLDER

    @property
    def owner(self) -> str:
        return self.auth.user or self.signed.access_key

    def swift(
        self,
        method: str,
        container: str | None = None,
        obj: str | None = None,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        content_length: int | None = None,
        stream: bool = False,
    ) -> Response:
        """Send ``method /v1/<account>[/container[/obj]]`` down as the S3 user.

        The answer's body is read to the end (a filter's work, such as an SLO delete, may
        happen while it is read) unless ``stream``: then the caller sends or closes it."""
        path = subrequest.api_path(self.account, container, obj)
        qs = urllib.parse.urlencode(
            {k: str_to_wsgi(v) for k, v in (query or {}).items()}, encoding="latin-1"
        )
        sub = subrequest.make_subrequest(
            self.req.environ,
            method,
            path,
            source=SOURCE,
            query=qs,
            headers=headers,
            body=body,
            content_length=content_length,
        )
        sub.environ[S3_AUTH] = self.auth
        resp = subrequest.send(sub, self.app)
        if self.auth.error:
            subrequest.close(resp)
            raise S3Error(self.auth.error)
        if not stream:
            length = resp.headers.get("Content-Length")
            resp.app_iter = [subrequest.drain(resp)]  # webob forgets the length here
            if length is not None:
                resp.headers["Content-Length"] = length
        return resp

    def fail(self, resp: Response, missing: str = "NoSuchKey", **extra: str) -> S3Error:
        """The S3 error for a Swift error response (its body is closed)."""
        subrequest.close(resp)
        status = resp.status_int
        if status == 404:
            return S3Error(missing, **extra)
        code = {
            400: "InvalidArgument",
            401: "AccessDenied",
            403: "AccessDenied",
            405: "MethodNotAllowed",
            408: "RequestTimeout",
            409: "BucketNotEmpty",
            411: "MissingContentLength",
            412: "PreconditionFailed",
            413: "EntityTooLarge",
            416: "InvalidRange",
            422: "BadDigest",
            499: "IncompleteBody",
            503: "ServiceUnavailable",
        }.get(status, "InternalError")
        return S3Error(code, **extra)

    def bucket_name(self) -> str:
        """The request's bucket (the router sends only bucket requests to bucket handlers)."""
        if self.req.bucket is None:
            raise S3Error("InvalidRequest", "This request needs a bucket.")
        return self.req.bucket

    def names(self) -> tuple[str, str]:
        """The request's bucket and key (for object handlers)."""
        if self.req.key is None:
            raise S3Error("InvalidRequest", "This request needs a key.")
        return self.bucket_name(), self.req.key

    def bucket_exists(self, bucket: str) -> bool:
        """HEAD the bucket's container: True if there, False if not, S3Error otherwise."""
        resp = self.swift("HEAD", bucket)
        subrequest.close(resp)
        if resp.status_int // 100 == 2:
            return True
        if resp.status_int == 404:
            return False
        raise self.fail(resp, "NoSuchBucket", BucketName=bucket)


def swift_request(req: Request) -> bool:
    """Requests s3api never takes: Swift's own API, auth and info paths."""
    path = req.environ.get("PATH_INFO", "")
    return path.startswith(("/v1/", "/auth/", "/info", "/healthcheck")) or path in ("/v1", "/auth")
