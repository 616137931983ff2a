"""formpost: browser uploads with an HTML form, signed with a temp-url key (Swift's FormPost).

A ``POST`` of ``multipart/form-data`` to ``/v1/<a>/<c>[/<prefix>]`` is turned into one object
``PUT`` per file field, named ``<prefix><filename>``. The fields before the files say what
the signer allowed: ``redirect``, ``max_file_size``, ``max_file_count``, ``expires`` and
``signature``, an HMAC over ``<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n
<expires>`` with a ``Temp-URL-Key``(``-2``) of the account or the container, in any digest of
``allowed_digests`` (see ``signature.py``). ``x_delete_at`` / ``x_delete_after`` fields set
the objects' expiry.

The answer is Swift's: with ``redirect``, a 303 to ``<redirect>?status=<code>&message=<text>``;
without it, a text body ``<status line>[\\r\\nFormPost: <Message>]``. A bad or expired
signature is a 401, a malformed form or a file over ``max_file_size`` a 400.

Each PUT is a subrequest (``source="FP"``) with the override set, so tempauth steps aside, and
a hook that allows that one PUT and nothing else. The form body is streamed: a file goes to
the object servers as it arrives, never held whole in memory.
"""

from __future__ import annotations

import html
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response
from webob.util import status_reasons

from swiftlite.common import config
from swiftlite.common.names import ApiPath, wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, signature
from swiftlite.middleware.formdata import FormDataError, Part, iter_parts, parse_header_params
from swiftlite.middleware.subrequest import (
    AUTHORIZE,
    BYPASS,
    api_path,
    drain,
    get_account_info,
    get_container_info,
    make_subrequest,
    send,
)
from swiftlite.middleware.tempurl import keys_from_meta

MAX_VALUE_LENGTH = 4096
REDIRECT_SAFE = ":/?#[]@!$&'()*+,;=%~"


class FormInvalid(Exception):
    """A 400: the form is malformed."""


class FormUnauthorized(Exception):
    """A 401: the signature is missing, wrong or expired."""


@dataclass(frozen=True)
class FormPostOptions:
    """``[filter:formpost]``."""

    allowed_digests: str = "sha1 sha256 sha512"

    def __post_init__(self) -> None:
        signature.normalize_digests(self.allowed_digests.replace(",", " ").split())

    @property
    def digests(self) -> tuple[str, ...]:
        return signature.normalize_digests(self.allowed_digests.replace(",", " ").split())


@dataclass(frozen=True)
class ExactPut:
    """The hook of a form's PUT subrequest: that one object, PUT only."""

    path_info: str

    def __call__(self, req: Request) -> Response | None:
        if req.method == "PUT" and req.environ.get("PATH_INFO") == self.path_info:
            return None
        return Response(status=401, body=b"Unauthorized", content_type="text/plain")


class CappedReader:
    """``read`` over a part that fails once more than ``limit`` bytes came through."""

    def __init__(self, part: Part, limit: int) -> None:
        self.part = part
        self.limit = limit
        self.count = 0
        self.exceeded = False

    def read(self, size: int = -1) -> bytes:
        data = self.part.read(size)
        self.count += len(data)
        if self.count > self.limit:
            self.exceeded = True
            raise ValueError("max_file_size exceeded")  # the proxy aborts the PUT
        return data


def status_line(code: int) -> str:
    return f"{code} {status_reasons.get(code, 'Unknown')}"


class FormPostMiddleware:
    """The formpost filter (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        options: FormPostOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.digests = frozenset(options.digests)
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        ctype, params = parse_header_params(environ.get("CONTENT_TYPE") or "")
        if ctype != "multipart/form-data" or "boundary" not in params:
            return self.app(environ, start_response)
        try:
            resp = self.translate(environ, params["boundary"])
        except FormDataError as exc:
            resp = _text(400, f"FormPost: {exc}")
        except FormInvalid as exc:
            resp = _text(400, f"FormPost: {exc}")
        except FormUnauthorized as exc:
            resp = _text(401, f"FormPost: {str(exc).title()}")
        return resp(environ, start_response)

    # -- the form ------------------------------------------------------------------------------
    def translate(self, environ: dict[str, Any], boundary: str) -> Response:
        """Upload every file of the form; the answer for the browser."""
        path = self._target(environ)
        attributes: dict[str, str] = {}
        code, message = 0, ""
        sub_headers: list[tuple[str, str]] = []
        file_count = 0
        for part in iter_parts(environ["wsgi.input"], boundary):
            if part.disposition == "form-data" and part.filename:
                file_count += 1
                if file_count > _int(attributes, "max_file_count"):
                    code, message = 400, "max file count exceeded"
                    break
                code, sub_headers = self._upload(environ, path, attributes, part)
                if code // 100 != 2:
                    break
            else:
                value = part.read(MAX_VALUE_LENGTH)
                if part.name:
                    text = value.decode("utf-8", "replace").rstrip("\r\n")
                    attributes[part.name.lower()] = text
        if not code:
            code, message = 400, "no files to process"
        return self._answer(code, message, attributes.get("redirect"), sub_headers)

    @staticmethod
    def _target(environ: dict[str, Any]) -> ApiPath | None:
        path = pathinfo.api_path(environ)
        return path if path is not None and path.version == "v1" and path.container else None

    def _check_signature(
        self, environ: dict[str, Any], path: ApiPath | None, attributes: dict[str, str]
    ) -> None:
        try:
            expires = int(attributes.get("expires") or 0)
        except ValueError:
            raise FormInvalid("expired not an integer") from None
        if expires < self.clock():
            raise FormUnauthorized("form expired")
        parsed = signature.parse_signature(attributes.get("signature") or "")
        if path is None or parsed is None or parsed[0] not in self.digests:
            raise FormUnauthorized("invalid signature")
        digest, given = parsed
        account = get_account_info(environ, self.app, path.account, "FP")
        container = get_container_info(environ, self.app, path.account, path.container or "", "FP")
        keys = keys_from_meta(account.get("meta") or {}) + keys_from_meta(
            container.get("meta") or {}
        )
        signed_path = wsgi_to_str(environ.get("PATH_INFO", ""))  # as sent, as Swift signs it
        message = signature.formpost_message(
            signed_path,
            attributes.get("redirect") or "",
            attributes.get("max_file_size") or "0",
            attributes.get("max_file_count") or "0",
            attributes.get("expires") or "0",
        )
        expected = [signature.hmac_hex(key, message, digest) for key in keys]
        if not expected or not signature.matches(given, expected):
            raise FormUnauthorized("invalid signature")

    def _upload(
        self,
        environ: dict[str, Any],
        path: ApiPath | None,
        attributes: dict[str, str],
        part: Part,
    ) -> tuple[int, list[tuple[str, str]]]:
        max_size = _int(attributes, "max_file_size")
        self._check_signature(environ, path, attributes)
        if path is None:  # never: _check_signature refuses it
            raise FormUnauthorized("invalid signature")
        headers = {}
        for field, header, what in (
            ("x_delete_at", "X-Delete-At", "Unix timestamp required."),
            ("x_delete_after", "X-Delete-After", "Number of seconds required."),
        ):
            if field in attributes:
                try:
                    headers[header] = str(int(attributes[field]))
                except ValueError:
                    raise FormInvalid(f"{field} not an integer: {what}") from None
        headers["Content-Type"] = part.headers.get("content-type") or "application/octet-stream"
        name = (path.obj or "") + (part.filename or "filename")
        target = api_path(path.account, path.container, name)
        body = CappedReader(part, max_size)
        sub = make_subrequest(
            # BYPASS drops the caller's identity; ExactPut then allows this one PUT only
            environ,
            "PUT",
            target,
            source="FP",
            auth=BYPASS,
            headers=headers,
            body=body,
        )
        sub.environ[AUTHORIZE] = ExactPut(target)
        resp = send(sub, self.app)
        drain(resp)
        if body.exceeded:
            raise FormInvalid("max_file_size exceeded")
        return resp.status_int, list(resp.headerlist)

    @staticmethod
    def _answer(
        code: int, message: str, redirect: str | None, sub_headers: list[tuple[str, str]]
    ) -> Response:
        cors = [(k, v) for k, v in sub_headers if k.lower().startswith("access-control")]
        if not redirect:
            body = status_line(code)
            if message:
                body += "\r\nFormPost: " + message.title()
            resp = _text(code, body)
            resp.headers.extend(cors)
            return resp
        location = urllib.parse.quote(redirect, safe=REDIRECT_SAFE)
        location += "&" if "?" in location else "?"
        location += f"status={code}&message={urllib.parse.quote(message)}"
        page = f'<html><body><p><a href="{html.escape(location)}">Click to continue...</a></p>'
        resp = Response(
            status=303, body=(page + "</body></html>").encode(), content_type="text/html"
        )
        resp.headers["Location"] = location
        resp.headers.extend(cors)
        return resp


def _int(attributes: dict[str, str], name: str) -> int:
    try:
        return int(attributes.get(name) or 0)
    except ValueError:
        raise FormInvalid(f"{name} not an integer") from None


def _text(status: int, text: str) -> Response:
    return Response(status=status, body=text.encode("utf-8"), content_type="text/plain")


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#formpost``."""
    options = config.parse_options(
        FormPostOptions, local_conf, global_conf, where="[filter:formpost]"
    )
    register_info("formpost", **signature.digests_info(options.digests))

    def make(app: Any) -> FormPostMiddleware:
        return FormPostMiddleware(app, options)

    return make
