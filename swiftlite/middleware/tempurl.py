"""tempurl: temporary URLs that grant one method on one object (or prefix) without a token.

A request whose query holds ``temp_url_sig`` and ``temp_url_expires`` is checked here, as
Swift's tempurl middleware does. The signature is an HMAC (sha1, sha256 or sha512, see
``signature.py``) over ``[ip=<range>\\n]<METHOD>\\n<expires>\\n<path>`` with one of the keys
in the account's or the container's ``Temp-URL-Key``/``Temp-URL-Key-2`` metadata (read with
``get_account_info``/``get_container_info``). ``temp_url_prefix`` signs ``prefix:/v1/a/c/<p>``
for every object under ``<p>``; ``temp_url_ip_range`` limits the client address. A HEAD is
allowed with a GET, PUT or POST signature. Every failure is a 401 with Swift's body.

A valid temp URL plugs into the auth contract of ``tempauth``: this filter sets
``swiftlite.authorize_override`` (tempauth then steps aside) and installs, as
``swiftlite.authorize``, a ``Grant`` that the proxy asks for every request it serves:

* the client's request itself, and what the copy filter does in its name (the source read
  and the destination write of ``X-Copy-From``: the client chose the source), is allowed only
  on the signed object and method, so a PUT URL cannot copy another object in (Swift's
  same-container rule would allow that; a temp URL here grants exactly one object);
* other subrequests made by filters below (``swiftlite.source`` set: the segments of an SLO
  or DLO manifest, a symlink's target) are allowed to read (or use the signed method) within
  the key's scope: the container for a container key, the account for an account key, as
  Swift.

A temp URL cannot set ``X-Object-Manifest`` or ``X-Symlink-Target`` (400): such pointers
would let the holder read what the URL does not grant. ``incoming_remove_headers`` and
``outgoing_remove_headers`` (with their ``*_allow_headers`` exceptions) are stripped, and
GET/HEAD answers carry ``Content-Disposition`` (``filename``/``inline``) and ``Expires``.
This filter owns no storage: keys are ordinary owner-only metadata.
"""

from __future__ import annotations

import ipaddress
import os.path
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config
from swiftlite.common.errors import BadInput, BadName
from swiftlite.common.names import ApiPath, split_api_path, wsgi_to_str
from swiftlite.common.registry import register_info, register_sensitive_param
from swiftlite.middleware import pathinfo, signature
from swiftlite.middleware.copy import SOURCE as COPY_SOURCE
from swiftlite.middleware.subrequest import (
    AUTHORIZE,
    OVERRIDE,
    SOURCE,
    get_account_info,
    get_container_info,
)

REMOTE_USER = "swiftlite.remote_user"
GRANT = "swiftlite.tempurl.grant"  # the Grant of this request, for filters that care
DISALLOWED_INCOMING_HEADERS = ("X-Object-Manifest", "X-Symlink-Target")
KEY_NAMES = ("temp-url-key", "temp-url-key-2")
ACCOUNT_SCOPE = "account"
CONTAINER_SCOPE = "container"
INVALID_BODY = b"401 Unauthorized: Temp URL invalid\n"
HEAD_WITH = ("HEAD", "GET", "POST", "PUT")
MAX_HTTP_TIME = 253402300799  # 9999-12-31T23:59:59Z
# swiftlite.source values of requests made in the client's name: its own (None) and the copy
# filter's, whose source object the client named
CLIENT_NAMED = frozenset({None, COPY_SOURCE})


@dataclass(frozen=True)
class TempUrlOptions:
    """``[filter:tempurl]``: whitespace-separated lists, Swift's names and defaults."""

    methods: str = "GET HEAD PUT POST DELETE"
    incoming_remove_headers: str = "x-timestamp"
    incoming_allow_headers: str = ""
    outgoing_remove_headers: str = "x-object-meta-*"
    outgoing_allow_headers: str = "x-object-meta-public-*"
    allowed_digests: str = "sha1 sha256 sha512"

    def __post_init__(self) -> None:
        signature.normalize_digests(_words(self.allowed_digests))

    @property
    def digests(self) -> tuple[str, ...]:
        return signature.normalize_digests(_words(self.allowed_digests))

    def info(self) -> dict[str, Any]:
        """What /info publishes under ``tempurl``, as Swift."""
        return {
            "methods": list(_words(self.methods.upper())),
            "incoming_remove_headers": list(_words(self.incoming_remove_headers)),
            "incoming_allow_headers": list(_words(self.incoming_allow_headers)),
            "outgoing_remove_headers": list(_words(self.outgoing_remove_headers)),
            "outgoing_allow_headers": list(_words(self.outgoing_allow_headers)),
            **signature.digests_info(self.digests),
        }


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.replace(",", " ").split())


class HeaderFilter:
    """Names to remove, ``*`` meaning a prefix, with exceptions that are kept."""

    def __init__(self, remove: Iterable[str], allow: Iterable[str]) -> None:
        self.remove = _patterns(remove)
        self.allow = _patterns(allow)

    def drops(self, name: str) -> bool:
        low = name.lower()
        return _hit(low, self.remove) and not _hit(low, self.allow)


def _patterns(names: Iterable[str]) -> tuple[tuple[str, bool], ...]:
    return tuple((n.lower().rstrip("*"), n.endswith("*")) for n in names)


def _hit(name: str, patterns: tuple[tuple[str, bool], ...]) -> bool:
    return any(name.startswith(p) if prefix else name == p for p, prefix in patterns)


def invalid(environ: dict[str, Any]) -> Response:
    """Swift's 401 for any temp URL failure (no body for HEAD)."""
    body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else INVALID_BODY
    resp = Response(status=401, body=body, content_type="text/plain", charset="utf-8")
    try:
        realm = split_api_path(environ.get("PATH_INFO", "")).account
    except (BadInput, BadName):
        realm = "unknown"
    resp.headers["Www-Authenticate"] = f'Swift realm="{urllib.parse.quote(realm)}"'
    return resp


def http_date(stamp: int) -> str:
    """``Expires`` text for a Unix time; far-future times are capped at the year 9999."""
    capped = min(stamp, MAX_HTTP_TIME)
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(capped))


def keys_from_meta(meta: dict[str, str]) -> list[str]:
    """The temp-url keys in an info dict's ``meta`` (names are title-cased, any case works)."""
    return [value for key, value in meta.items() if key.lower() in KEY_NAMES and value]


def disposition(kind: str, filename: str) -> str:
    """``<kind>; filename="<quoted>"; filename*=UTF-8''<quoted>`` (RFC 6266/5987)."""
    plain = urllib.parse.quote(filename, safe=" /")
    full = urllib.parse.quote(filename)
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{full}"


@dataclass(frozen=True)
class Grant:
    """What one verified temp URL allows; called as ``swiftlite.authorize``."""

    account: str
    container: str
    obj: str
    prefix: str | None
    method: str
    scope: str

    def covers_object(self, path: ApiPath) -> bool:
        if path.account != self.account or path.container != self.container:
            return False
        if path.obj is None:
            return False
        if self.prefix is not None:
            return path.obj.startswith(self.prefix)
        return path.obj == self.obj

    def in_scope(self, path: ApiPath) -> bool:
        if path.account != self.account:
            return False
        return self.scope == ACCOUNT_SCOPE or path.container == self.container

    def __call__(self, req: Request) -> Response | None:
        try:
            path = split_api_path(req.environ.get("PATH_INFO", ""))
        except (BadInput, BadName):
            return invalid(req.environ)
        if req.environ.get(SOURCE) in CLIENT_NAMED:
            # the client's own request (or a copy it asked for): exactly the signed object
            # and method
            if self.covers_object(path) and req.method == self.method:
                return None
            return invalid(req.environ)
        # a filter's subrequest on behalf of this URL (large-object segments, listings)
        if self.in_scope(path) and req.method in ("GET", "HEAD", self.method):
            return None
        return invalid(req.environ)


@dataclass(frozen=True)
class Query:
    """The temp URL parameters of a query string (raw text; checked later)."""

    sig: str | None
    expires: str | None
    prefix: str | None
    filename: str | None
    inline: bool
    ip_range: str | None

    @classmethod
    def parse(cls, query_string: str) -> Query:
        qs = urllib.parse.parse_qs(query_string, keep_blank_values=True)

        def first(name: str) -> str | None:
            values = qs.get(name)
            return values[0] if values else None

        return cls(
            sig=first("temp_url_sig"),
            expires=first("temp_url_expires"),
            prefix=first("temp_url_prefix"),
            filename=first("filename"),
            inline="inline" in qs,
            ip_range=first("temp_url_ip_range"),
        )


class TempUrlMiddleware:
    """The tempurl filter (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        options: TempUrlOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.options = options
        self.methods = frozenset(_words(options.methods.upper()))
        self.digests = frozenset(options.digests)
        self.incoming = HeaderFilter(
            _words(options.incoming_remove_headers), _words(options.incoming_allow_headers)
        )
        self.outgoing = HeaderFilter(
            _words(options.outgoing_remove_headers), _words(options.outgoing_allow_headers)
        )
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return self.app(environ, start_response)
        query = Query.parse(environ.get("QUERY_STRING", ""))
        if query.sig is None and query.expires is None:
            return self.app(environ, start_response)
        checked = self.check(environ, query)
        if isinstance(checked, Response):
            return checked(environ, start_response)
        expires, grant = checked
        refused = self._disallowed_headers(environ)
        if refused is not None:
            return refused(environ, start_response)
        self._clean_incoming(environ)
        environ[AUTHORIZE] = grant
        environ[OVERRIDE] = True
        environ[REMOTE_USER] = ".wsgi.tempurl"
        environ[GRANT] = grant
        kept = {"temp_url_sig": query.sig, "temp_url_expires": query.expires}
        if query.prefix is not None:
            kept["temp_url_prefix"] = query.prefix
        if query.filename:
            kept["filename"] = query.filename
        environ["QUERY_STRING"] = urllib.parse.urlencode(kept)
        return self.app(environ, self._response_hook(environ, query, expires, start_response))

    # -- the checks ----------------------------------------------------------------------------
    def check(self, environ: dict[str, Any], query: Query) -> tuple[int, Grant] | Response:
        """``(expires, grant)`` for a valid temp URL, else the 401 to answer."""
        if not query.sig or not query.expires:
            return invalid(environ)
        expires = signature.parse_expires(query.expires)
        if expires is None or expires < self.clock():
            return invalid(environ)
        parsed = signature.parse_signature(query.sig)
        if parsed is None or parsed[0] not in self.digests:
            return invalid(environ)
        digest, given = parsed
        method = environ.get("REQUEST_METHOD", "")
        path = self._object_path(environ, method)
        if path is None or not self._ip_allowed(environ, query.ip_range):
            return invalid(environ)
        container, obj = path.container or "", path.obj or ""
        if query.prefix is None:
            signed_path = f"/v1/{path.account}/{container}/{obj}"
        elif obj.startswith(query.prefix):
            signed_path = f"prefix:/v1/{path.account}/{container}/{query.prefix}"
        else:
            return invalid(environ)
        keys = self._keys(environ, path)
        methods = HEAD_WITH if method == "HEAD" else (method,)
        for scope in (ACCOUNT_SCOPE, CONTAINER_SCOPE):
            expected = [
                signature.hmac_hex(
                    key,
                    signature.tempurl_message(m, expires, signed_path, query.ip_range),
                    digest,
                )
                for key in keys[scope]
                for m in methods
            ]
            if expected and signature.matches(given, expected):
                return expires, Grant(path.account, container, obj, query.prefix, method, scope)
        return invalid(environ)

    def _object_path(self, environ: dict[str, Any], method: str) -> ApiPath | None:
        if method not in self.methods:
            return None
        path = pathinfo.api_path(environ)
        if (
            path is None
            or path.version != "v1"
            or path.container is None
            or not (path.obj or "").strip("/")
        ):
            return None
        return path

    @staticmethod
    def _ip_allowed(environ: dict[str, Any], ip_range: str | None) -> bool:
        if not ip_range:
            return True
        client = environ.get("REMOTE_ADDR")
        if not client:
            return False
        try:
            return ipaddress.ip_address(client) in ipaddress.ip_network(ip_range)
        except ValueError:
            return False

    def _keys(self, environ: dict[str, Any], path: ApiPath) -> dict[str, list[str]]:
        account = get_account_info(environ, self.app, path.account, "TU")
        container = get_container_info(environ, self.app, path.account, path.container or "", "TU")
        return {
            ACCOUNT_SCOPE: keys_from_meta(account.get("meta") or {}),
            CONTAINER_SCOPE: keys_from_meta(container.get("meta") or {}),
        }

    # -- headers in and out ----------------------------------------------------------------------
    @staticmethod
    def _disallowed_headers(environ: dict[str, Any]) -> Response | None:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return None
        for name in DISALLOWED_INCOMING_HEADERS:
            if "HTTP_" + name.upper().replace("-", "_") in environ:
                body = f"The header {name!r} is not allowed in this tempurl".encode()
                return Response(status=400, body=body, content_type="text/plain")
        return None

    def _clean_incoming(self, environ: dict[str, Any]) -> None:
        for key in [k for k in environ if k.startswith("HTTP_")]:
            if self.incoming.drops(key[5:].replace("_", "-")):
                del environ[key]

    def _response_hook(
        self,
        environ: dict[str, Any],
        query: Query,
        expires: int,
        start_response: Callable[..., Any],
    ) -> Callable[..., Any]:
        method = environ.get("REQUEST_METHOD")
        name = os.path.basename(wsgi_to_str(environ.get("PATH_INFO", "")).rstrip("/"))

        def hooked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if not self.outgoing.drops(k)]
            if method in ("GET", "HEAD") and status[:1] == "2":
                existing = [v for k, v in headers if k.lower() == "content-disposition"]
                headers = [(k, v) for k, v in headers if k.lower() != "content-disposition"]
                if query.inline:
                    value = disposition("inline", query.filename) if query.filename else "inline"
                elif query.filename:
                    value = disposition("attachment", query.filename)
                elif existing:
                    value = existing[0]
                else:
                    value = disposition("attachment", name)
                headers.append(("Content-Disposition", value.replace("\n", "%0A")))
                headers.append(("Expires", http_date(expires)))
            return start_response(status, headers, exc_info)

        return hooked


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#tempurl``."""
    options = config.parse_options(
        TempUrlOptions, local_conf, global_conf, where="[filter:tempurl]"
    )
    register_info("tempurl", **options.info())
    register_sensitive_param("temp_url_sig")  # the access log shows only its start

    def make(app: Any) -> TempUrlMiddleware:
        return TempUrlMiddleware(app, options)

    return make
