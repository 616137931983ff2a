"""The s3api WSGI filter: recognise S3 requests, route them, answer errors as S3 does."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from webob import Request

from swiftlite.common import config, logs
from swiftlite.common.registry import register_info
from swiftlite.middleware.s3api import router
from swiftlite.middleware.s3api.auth import parse_auth
from swiftlite.middleware.s3api.controllers import cors
from swiftlite.middleware.s3api.errors import S3Error, error_response
from swiftlite.middleware.s3api.request import Context, Options, S3Request, swift_request


class S3ApiMiddleware:
    """See the package docstring."""

    def __init__(
        self, app: Callable[..., Any], options: Options, clock: Callable[[], float] = time.time
    ) -> None:
        self.app = app
        self.options = options
        self.clock = clock
        self.logger = logs.get_logger("s3api", None, options.log_level)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if swift_request(Request(environ)):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        preflight = method == "OPTIONS"  # a browser's CORS preflight: never signed
        if not preflight and not _has_s3_auth(environ):
            return self.app(environ, start_response)
        request_id = str(environ.get("swiftlite.trans_id") or "tx" + uuid.uuid4().hex)
        resource = environ.get("PATH_INFO", "/")
        ctx = None
        try:
            req = S3Request.from_environ(environ, self.options)
            resource = req.path
            if preflight:
                if req.bucket is None:
                    return self.app(environ, start_response)
                resp = cors.preflight(req, self.app, self.options.cors_accounts)
                return self._answer(resp, request_id, environ, start_response)
            signed = parse_auth(req.auth_input, self.clock(), self.options.location)
            if signed is None:
                return self.app(environ, start_response)
            ctx = Context(req, self.app, self.options, signed)
            resp = router.route(ctx)(ctx)
        except S3Error as err:
            resp = error_response(err, resource, request_id, method)
        if ctx is not None:
            with contextlib.suppress(S3Error):  # the answer stands without CORS headers
                cors.decorate(ctx, resp)
        return self._answer(resp, request_id, environ, start_response)

    @staticmethod
    def _answer(
        resp: Any, request_id: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        resp.headers["x-amz-request-id"] = request_id
        resp.headers["x-amz-id-2"] = request_id
        return resp(environ, start_response)


def _has_s3_auth(environ: dict[str, Any]) -> bool:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.startswith(("AWS ", "AWS4-")):
        return True
    query = environ.get("QUERY_STRING", "")
    return "X-Amz-Credential=" in query or "AWSAccessKeyId=" in query or "X-Amz-Algorithm=" in query


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#s3api``."""
    options = config.parse_options(Options, local_conf, global_conf, where="[filter:s3api]")
    register_info(
        "s3api",
        max_bucket_listing=options.max_bucket_listing,
        max_parts_listing=options.max_parts_listing,
        max_upload_part_num=options.max_upload_part_num,
        max_multi_delete_objects=options.max_multi_delete_objects,
        min_segment_size=options.min_segment_size,
        s3_acl=False,
        allow_multipart_uploads=True,
        version=1,
    )

    def make(app: Any) -> S3ApiMiddleware:
        return S3ApiMiddleware(app, options)

    return make
