"""tempauth: users from the config, self-validating tokens, and Swift's authorization rules.

It owns three things:

* **Tokens.** ``GET /auth/v1.0`` (also ``/auth/v1/<account>/auth`` and ``/auth/auth``) with
  ``X-Auth-User: <account>:<user>`` and ``X-Auth-Key`` (or ``X-Storage-User`` /
  ``X-Storage-Pass``) answers 200 with ``X-Storage-Url``, ``X-Auth-Token``,
  ``X-Storage-Token`` and ``X-Auth-Token-Expires``. A token is ``<reseller_prefix>tk`` plus
  hex of (version, expiry, ``account:user``, HMAC-SHA256). The MAC covers the user's groups
  and a hash of the user's key, so any worker can check a token without shared state, and a
  token stops working when it expires, when the user's key or groups change, or when the
  secret changes. Users and tokens live in ``tempauth_identity.py``. See docs/auth.md.
* **S3.** A subrequest of ``s3api`` carries ``handoff.S3Auth``: its signature is checked
  once with the user's key (``<account>:<user>`` is the S3 access key) and the subrequest
  then runs as that user, as Swift's s3api with tempauth.
* **Identity.** A valid ``X-Auth-Token`` (or ``X-Storage-Token``) sets
  ``swiftlite.remote_user`` and installs ``swiftlite.authorize``; an invalid token of our
  prefix is a 401 at once. A valid ``X-Service-Token`` beside it adds its user's groups.
* **Authorization**, as Swift's tempauth: ``reseller_prefix`` may list several prefixes
  (``AUTH, SERVICE``); reseller admins own every account of them, ``.admin`` users own their
  account under every prefix (but only reseller admins PUT or DELETE accounts), unless the
  prefix has a ``<PREFIX>_require_group`` the user's groups (with the service token's) lack;
  a non-owner's container or account write loses the owner-only headers (ACLs, sync and
  temp-url keys) and the rest applies;
  container ACLs in ``environ['swiftlite.acl']`` (set by the proxy) grant by referrer or group,
  and account ACLs (read with a HEAD subrequest, cached) grant read-only, read-write or admin.
  Denials are 401 without a valid token and 403 with one, and a 401 names the path's
  account as its realm, percent-quoted. Requests whose outcome cannot depend on a container
  ACL are decided here before the proxy runs; the others, and a bad path or a method the
  proxy does not implement (its 412/404/405 come first), are deferred to the proxy.

ACL syntax lives in ``middleware/acl.py``; this module does the HTTP side.
"""

from __future__ import annotations

import hmac
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, hashing, logs
from swiftlite.common.errors import BadInput, BadName, NotFound
from swiftlite.common.http.headers import OWNER_HEADERS
from swiftlite.common.names import ApiPath, split_api_path, str_to_wsgi, wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.middleware import acl as aclmod
from swiftlite.middleware.s3api import handoff
from swiftlite.middleware.tempauth_identity import (
    TokenSigner,
    User,
    parse_require_groups,
    parse_users,
)
from swiftlite.proxy import responses

AUTHORIZE = "swiftlite.authorize"
OVERRIDE = "swiftlite.authorize_override"
OWNER = "swiftlite.owner"
REMOTE_USER = "swiftlite.remote_user"
ACL = "swiftlite.acl"
SOURCE = "swiftlite.source"
CACHE = "swiftlite.cache"
TRANS_ID = "swiftlite.trans_id"
GROUPS = "swiftlite.tempauth.groups"  # private: the authenticated user's groups
# True when the caller is a reseller admin (Swift's ``reseller_request``): filters such as
# account_quotas let only such callers set what an account's owner may not.
RESELLER = "swiftlite.reseller_request"
SERVICE_HEADER = "X-Service-Token"
ACL_MEMO = "swiftlite.tempauth.account_acls"  # private: account ACLs read for this request

ACCOUNT_ACL_HEADER = "X-Account-Access-Control"
ACCOUNT_ACL_SYSMETA = "X-Account-Sysmeta-Core-Access-Control"
CONTAINER_ACL_HEADERS = ("X-Container-Read", "X-Container-Write")
# methods the proxy implements; for any other the proxy's 405 comes before authorization
API_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"})

# The well-known test accounts, used when the config names no user at all.
DEFAULT_USERS = {
    "user_admin_admin": "admin .admin .reseller_admin",
    "user_test_tester": "testing .admin",
    "user_test2_tester2": "testing2 .admin",
    "user_test_tester3": "testing3",
    "user_test5_tester5": "testing5 service",
}


@dataclass(frozen=True)
class TempAuthOptions:
    """``[filter:tempauth]`` options (``user_*`` keys are read beside these)."""

    reseller_prefix: str = "AUTH"
    auth_prefix: str = "/auth/"
    token_life: int = 86400
    allow_overrides: bool = True
    storage_url_scheme: str = "default"
    token_secret: str | None = None
    account_acl_cache_time: float = 5.0
    log_file: str | None = None
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.storage_url_scheme not in ("default", "http", "https"):
            raise ValueError("storage_url_scheme must be default, http or https")
        if self.token_life <= 0:
            raise ValueError("token_life must be positive")

    @property
    def prefixes(self) -> tuple[str, ...]:
        """Every account prefix, each with its underscore: ``AUTH, SERVICE`` gives
        ``("AUTH_", "SERVICE_")``; an empty entry (``''``) stands for accounts of any name."""
        out = []
        for item in self.reseller_prefix.split(","):
            name = item.strip(" \t")
            if name in ("''", '""'):
                name = ""
            elif name and not name.endswith("_"):
                name += "_"
            if name not in out:
                out.append(name)
        return tuple(out) or ("",)

    @property
    def prefix(self) -> str:
        """The first prefix: the one tokens and storage URLs carry (``AUTH_``)."""
        return self.prefixes[0]

    @property
    def auth_path(self) -> str:
        """``/auth/``: always one leading and one trailing slash."""
        return "/" + (self.auth_prefix.strip("/") or "auth") + "/"


def derive_secret(options: TempAuthOptions) -> bytes:
    """``token_secret``, or a key derived from the cluster's hash prefix and suffix."""
    if options.token_secret:
        return options.token_secret.encode("utf-8")
    prefix, suffix = hashing.secrets()
    return hmac.new(b"swiftlite tempauth token key", prefix + b"\x00" + suffix, "sha256").digest()


def _text_response(
    status: int, text: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """Swift's swob shape: ``text/html; charset=UTF-8``, its page when no text is given."""
    return responses.response(status, text, headers)


def realm_of(path_info: str) -> str:
    """The realm a 401 names, as swob names it: the path's second segment (the account of
    ``/v1/<account>``), ``unknown`` for the auth paths, percent-quoted (safe ``/``) so no
    client byte can leave the quoted string or the header (``%22``, ``%0A``)."""
    segs = path_info.split("/", 3)
    realm = "unknown"
    if len(segs) >= 3 and segs[0] == "" and segs[1] and segs[2]:
        realm = segs[2]
    if realm in ("v1.0", "auth"):
        realm = "unknown"
    return urllib.parse.quote(realm, safe="/", encoding="latin-1", errors="replace")


def _header_text(req: Request, *names: str) -> str | None:
    """The first present header among ``names``, decoded from its WSGI form."""
    for name in names:
        value = req.headers.get(name)
        if value:
            try:
                return wsgi_to_str(value)
            except BadName:
                return None
    return None


class TempAuthMiddleware:
    """The tempauth filter (see the module docstring)."""

    def __init__(
        self,
        app: Callable[..., Any],
        options: TempAuthOptions,
        users: Mapping[str, User],
        clock: Callable[[], float] = time.time,
        require_groups: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self.prefix = options.prefix
        self.prefixes = options.prefixes
        # prefix -> the group a user needs (beside owning the account) to own its accounts
        self.require_groups = dict(require_groups or {})
        self.users = dict(users)
        self.clock = clock
        self.signer = TokenSigner(derive_secret(options), self.prefix)
        self.logger = logs.get_logger("tempauth", options.log_file, options.log_level)

    # -- the WSGI entry -----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.options.allow_overrides and environ.get(OVERRIDE):
            return self.app(environ, start_response)
        req = Request(environ)
        # the raw WSGI path: webob's req.path_info would fail on bytes that are not UTF-8
        if environ.get("PATH_INFO", "").startswith(self.options.auth_path):
            return self.handle_auth(req)(environ, start_response)
        s3 = environ.get(handoff.S3_AUTH)
        token = req.headers.get("X-Auth-Token") or req.headers.get("X-Storage-Token")
        if s3 is not None:
            if not self._s3_identity(environ, s3):
                return self._unauthorized(self._realm(req))(environ, start_response)
        elif token and token.startswith(self.prefix):
            checked = self.signer.verify(token, self.users, self.prefixes, self.clock())
            if checked is None:
                return self._unauthorized(self._realm(req))(environ, start_response)
            user, groups, _expires = checked
            environ[REMOTE_USER] = user.ident
            environ[GROUPS] = groups + self._service_groups(req, groups)
            if ".reseller_admin" in groups:
                environ[RESELLER] = True
        environ[AUTHORIZE] = self.authorize
        early = self._decide_early(req)
        if early is not None:
            return early(environ, start_response)
        return self.app(environ, self._response_hook(req, start_response))

    def _s3_identity(self, environ: dict[str, Any], s3: handoff.S3Auth) -> bool:
        """An S3 request from s3api (see ``s3api/handoff.py``): check its signature with the
        user's key once, then act as that user; the path's placeholder becomes the account."""
        if s3.error:
            return False
        if not s3.resolved:
            user = self.users.get(s3.access_key)
            if user is None:
                s3.error = "InvalidAccessKeyId"
                return False
            if not s3.check(user.key):
                s3.error = "SignatureDoesNotMatch"
                return False
            s3.account, s3.user = user.account_id, user.ident
            s3.groups = user.groups(self.prefixes)
        environ[REMOTE_USER] = s3.user
        environ[GROUPS] = s3.groups
        placeholder = "/v1/" + handoff.PLACEHOLDER
        path = environ.get("PATH_INFO", "")
        if path == placeholder or path.startswith(placeholder + "/"):
            environ["PATH_INFO"] = "/v1/" + str_to_wsgi(s3.account or "") + path[len(placeholder) :]
        return True

    def _service_groups(self, req: Request, groups: tuple[str, ...]) -> tuple[str, ...]:
        """The groups a valid ``X-Service-Token`` adds to an authenticated user's own."""
        service = req.headers.get(SERVICE_HEADER)
        if not service or not service.startswith(self.signer.marker):
            return ()
        checked = self.signer.verify(service, self.users, self.prefixes, self.clock())
        if checked is None:
            return ()
        return tuple(g for g in checked[1] if g not in groups)

    def _response_hook(self, req: Request, start_response: Callable[..., Any]) -> Any:
        """Account GET/HEAD: show owners the ACL; account writes: forget the cached ACL."""
        path = self._api_path(req)
        if path is None or path.container is not None:
            return start_response
        environ = req.environ

        def hooked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            ok = status[:1] == "2"
            if ok and req.method in ("GET", "HEAD") and environ.get(OWNER):
                stored = [v for k, v in headers if k.lower() == ACCOUNT_ACL_SYSMETA.lower()]
                if stored and stored[0]:
                    headers = [*headers, (ACCOUNT_ACL_HEADER, stored[0])]
            if ok and req.method in ("PUT", "POST") and ACCOUNT_ACL_SYSMETA in req.headers:
                cache = environ.get(CACHE)
                if cache is not None:
                    cache.delete(self._acl_cache_key(path.account))
                environ.get(ACL_MEMO, {}).pop(path.account, None)
            return start_response(status, headers, exc_info)

        return hooked

    # -- decisions ----------------------------------------------------------------------------
    def authorize(self, req: Request) -> Response | None:
        """``swiftlite.authorize``: None to allow, else the 401/403/400 response to return."""
        path = self._api_path(req)
        if path is None:
            return _text_response(404, "Not Found")
        return self._decide(req, path, req.environ.get(ACL))

    def _decide_early(self, req: Request) -> Response | None:
        """Decide now what no container ACL could change; defer the rest to the proxy."""
        path = self._api_path(req)
        if path is None or req.method == "OPTIONS" or req.method not in API_METHODS:
            # a bad path or a method the proxy does not implement: the proxy answers (412,
            # 404, 405) before any authorization, as Swift does
            return None
        if path.container is None and req.method in ("PUT", "DELETE"):
            # the proxy answers 405 first when account management is off, then authorizes
            return None
        if path.container is None or (path.obj is None and req.method not in ("GET", "HEAD")):
            return self._decide(req, path, None)
        if GROUPS not in req.environ and req.method not in ("GET", "HEAD"):
            # Object writes need a user: write ACLs cannot hold referrer elements.
            return self._denied(req, path.account)
        return None

    def _decide(self, req: Request, path: ApiPath, acl_value: str | None) -> Response | None:
        account = path.account
        if not self._is_ours(account):
            return self._denied(req, account)
        acct_acl_input: aclmod.AccountAcl | None = None
        account_write = path.container is None and req.method in ("PUT", "POST")
        if account_write and ACCOUNT_ACL_HEADER in req.headers:
            try:
                raw = wsgi_to_str(req.headers[ACCOUNT_ACL_HEADER])
                acct_acl_input = aclmod.parse_account_acl(raw)
            except (aclmod.AclError, BadName) as exc:
                text = f"X-Account-Access-Control invalid: {exc}\n"
                return _text_response(400, text)
        allowed, owner = self._grant(req, path, acl_value)
        if not allowed:
            return self._denied(req, account)
        if owner:
            req.environ[OWNER] = True
            if account_write and ACCOUNT_ACL_HEADER in req.headers:
                del req.headers[ACCOUNT_ACL_HEADER]
                value = aclmod.format_account_acl(acct_acl_input)
                req.headers[ACCOUNT_ACL_SYSMETA] = str_to_wsgi(value)
            return self._clean_container_acls(req, path)
        if req.method in ("PUT", "POST") and path.obj is None:
            _drop_owner_headers(req)
        return None

    def _grant(self, req: Request, path: ApiPath, acl_value: str | None) -> tuple[bool, bool]:
        """(allowed, owner) by Swift's tempauth rules, in Swift's order."""
        account, method = path.account, req.method
        groups: tuple[str, ...] = req.environ.get(GROUPS, ())
        prefix = self._prefix_of(account) or ""
        tail = account[len(prefix) :]
        if ".reseller_admin" in groups and tail and not tail.startswith("."):
            return True, True
        if account in groups and (method not in ("PUT", "DELETE") or path.container is not None):
            required = self.require_groups.get(prefix)
            if not required or required in groups:
                return True, True
        if method == "OPTIONS":
            return True, False
        container_acl = aclmod.parse_acl(acl_value)
        referer = req.headers.get("Referer")
        if aclmod.container_acl_allows(container_acl, groups, referer, path.obj is not None):
            return True, False
        if not groups:
            return False, False
        account_acl = self._account_acl(req, account)
        return aclmod.account_acl_allows(account_acl, groups, method, path.container is not None)

    def _clean_container_acls(self, req: Request, path: ApiPath) -> Response | None:
        if path.obj is not None or path.container is None or req.method not in ("PUT", "POST"):
            return None
        for header in CONTAINER_ACL_HEADERS:
            if header not in req.headers:
                continue
            try:
                req.headers[header] = aclmod.clean_acl(header, req.headers[header])
            except aclmod.AclError as exc:
                return _text_response(400, f"{exc}\n")
        return None

    # -- account ACLs ---------------------------------------------------------------------------
    def _acl_cache_key(self, account: str) -> str:
        return f"tempauth/account_acl/{account}"

    def _account_acl(self, req: Request, account: str) -> aclmod.AccountAcl | None:
        """The account's ACL: per-request memo, then swiftlite.cache, then a HEAD subrequest."""
        memo: dict[str, aclmod.AccountAcl | None] = req.environ.setdefault(ACL_MEMO, {})
        if account in memo:
            return memo[account]
        cache = req.environ.get(CACHE)
        key = self._acl_cache_key(account)
        cached = cache.get(key) if cache is not None else None
        if isinstance(cached, dict) and isinstance(cached.get("acl"), str):
            text = cached["acl"]
        else:
            text, cacheable = self._fetch_account_acl(req, account)
            if cache is not None and cacheable:
                cache.set(key, {"acl": text}, time=self.options.account_acl_cache_time)
        try:
            result = aclmod.parse_account_acl(text)
        except aclmod.AclError as exc:
            self.logger.warning("account %s: stored ACL is invalid: %s", account, exc)
            result = None
        memo[account] = result
        return result

    def _fetch_account_acl(self, req: Request, account: str) -> tuple[str, bool]:
        """(sysmeta text or "", whether the answer may be cached) from ``HEAD /v1/<account>``."""
        environ = {
            "REQUEST_METHOD": "HEAD",
            "PATH_INFO": "/v1/" + str_to_wsgi(account),
            OVERRIDE: True,
            SOURCE: "tempauth",
        }
        for key in (CACHE, TRANS_ID, "HTTP_X_TRANS_ID", "REMOTE_ADDR", "HTTP_HOST"):
            if key in req.environ:
                environ[key] = req.environ[key]
        sub = Request.blank("/", environ=environ)
        resp = sub.get_response(self.app)
        resp.body  # noqa: B018  (read to the end and close, so the pipeline finishes it)
        if resp.status_int // 100 == 2:
            return wsgi_to_str(resp.headers.get(ACCOUNT_ACL_SYSMETA, "")), True
        if resp.status_int == 404:
            return "", True
        self.logger.warning("account %s: ACL lookup answered %s", account, resp.status)
        return "", False

    # -- token issue -----------------------------------------------------------------------------
    def handle_auth(self, req: Request) -> Response:
        """``GET <auth_prefix>v1.0`` and the other forms Swift accepts."""
        if req.method != "GET":
            return _text_response(405, "Method Not Allowed", {"Allow": "GET"})
        segs = req.environ.get("PATH_INFO", "")[len(self.options.auth_path) :].strip("/").split("/")
        if segs[0] == "v1" and len(segs) == 3 and segs[2] == "auth":
            account: str | None = _wsgi_name(segs[1])
            user_name = _header_text(req, "X-Storage-User")
            if not user_name:
                ident = _header_text(req, "X-Auth-User") or ""
                acct2, _, user_name = ident.partition(":")
                if not user_name or acct2 != account:
                    return self._unauthorized(self._realm(req))
            key = _header_text(req, "X-Storage-Pass", "X-Auth-Key")
        elif segs[0] in ("auth", "v1.0") and len(segs) == 1:
            ident = _header_text(req, "X-Auth-User", "X-Storage-User") or ""
            account, _, user_name = ident.partition(":")
            if not user_name:
                return self._unauthorized(self._realm(req))
            key = _header_text(req, "X-Auth-Key", "X-Storage-Pass")
        else:
            return _text_response(400, "Bad auth path")
        realm = self._realm(req)
        user = self.users.get(f"{account}:{user_name}")
        if user is None or key is None or not hmac.compare_digest(user.key, key):
            return self._unauthorized(realm)
        token, expires = self._token_for(req, user)
        now = self.clock()
        host_url = req.host_url
        if "$HOST" in user.url and not _printable(host_url):
            # the Host header would reach X-Storage-Url: no control or non-ASCII byte may
            return _text_response(400, "Invalid Host header")
        url = user.url.replace("$HOST", host_url)
        if self.options.storage_url_scheme != "default":
            url = self.options.storage_url_scheme + ":" + url.split(":", 1)[1]
        headers = {
            "X-Storage-Url": str_to_wsgi(url),
            "X-Auth-Token": token,
            "X-Storage-Token": token,
            "X-Auth-Token-Expires": str(max(0, int(expires - now))),
        }
        return _text_response(200, "", headers)

    def _token_for(self, req: Request, user: User) -> tuple[str, int]:
        """Re-use this user's unexpired token when the cache remembers one, else issue one."""
        cache = req.environ.get(CACHE)
        key = f"{self.prefix}/user/{user.ident}"
        now = self.clock()
        if cache is not None:
            candidate = cache.get(key)
            if isinstance(candidate, str):
                checked = self.signer.verify(candidate, self.users, self.prefixes, now)
                if checked is not None and checked[0] == user:
                    return candidate, checked[2]
        expires = int(now) + self.options.token_life
        token = self.signer.issue(user, user.groups(self.prefixes), expires)
        if cache is not None:
            cache.set(key, token, time=self.options.token_life)
        return token, expires

    # -- helpers -------------------------------------------------------------------------------
    def _prefix_of(self, account: str) -> str | None:
        """The reseller prefix ``account`` falls under (a named one before ``''``), or None."""
        for prefix in self.prefixes:
            if prefix and account.startswith(prefix):
                return prefix
        return "" if "" in self.prefixes else None

    def _is_ours(self, account: str) -> bool:
        return self._prefix_of(account) is not None

    @staticmethod
    def _api_path(req: Request) -> ApiPath | None:
        try:
            return split_api_path(req.environ.get("PATH_INFO", ""))  # raw WSGI string
        except (BadInput, BadName, NotFound):
            return None

    @staticmethod
    def _realm(req: Request) -> str:
        return realm_of(req.environ.get("PATH_INFO", ""))

    @staticmethod
    def _unauthorized(realm: str) -> Response:
        """401 naming ``realm``, which the caller has quoted (see ``realm_of``)."""
        return _text_response(401, None, {"Www-Authenticate": f'Swift realm="{realm}"'})

    def _denied(self, req: Request, account: str) -> Response:
        if GROUPS in req.environ:
            return _text_response(403)
        return self._unauthorized(self._realm(req))


def _drop_owner_headers(req: Request) -> None:
    """Remove what only an owner may set (ACLs, sync and temp-url keys) from a non-owner's
    container or account write, and let the rest of the request apply, as Swift does."""
    for name in list(req.headers.keys()):
        low = name.lower()
        if low.startswith("x-remove-"):
            low = "x-" + low[len("x-remove-") :]
        if low in OWNER_HEADERS:
            del req.headers[name]


def _printable(text: str) -> bool:
    return all("\x21" <= c <= "\x7e" for c in text)


def _wsgi_name(value: str) -> str | None:
    try:
        return wsgi_to_str(value)
    except BadName:
        return None


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#tempauth``."""
    user_conf = {k: v for k, v in local_conf.items() if k.startswith(("user_", "user64_"))}
    rule_conf = {k: v for k, v in local_conf.items() if k.endswith("require_group")}
    plain = {k: v for k, v in local_conf.items() if k not in user_conf and k not in rule_conf}
    options = config.parse_options(TempAuthOptions, plain, global_conf, where="[filter:tempauth]")
    require_groups = parse_require_groups(rule_conf, options.prefixes)
    if not user_conf:
        logging.getLogger("swiftlite.tempauth").warning(
            "tempauth: no user_* keys; the well-known test users are active"
        )
        user_conf = dict(DEFAULT_USERS)
    users = parse_users(user_conf, options.prefix)
    register_info("tempauth", account_acls=True)

    def make(app: Any) -> TempAuthMiddleware:
        return TempAuthMiddleware(app, options, users, require_groups=require_groups)

    return make
