"""Controller: what the account, container and object controllers share.

It builds backend request headers (trans id, timestamps, the metadata a write carries),
calls the pipeline's authorization hook with the right ACL, chooses the client's answer from
several backend answers (``best_response``), and turns backend headers into client headers:
hop-by-hop and ``X-Backend-*`` headers never reach a client, and owner-only headers (ACLs,
temp-url keys) reach only owners. A controller is made per request; it holds names, not state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from webob import Request, Response
from webob.util import status_reasons

from swiftlite.common import errors, reserved
from swiftlite.common.http.headers import OWNER_HEADERS, is_backend
from swiftlite.common.timestamp import Timestamp
from swiftlite.db.listing import parse_params, query_params
from swiftlite.proxy import cors, responses
from swiftlite.proxy.getter import fetch, good_db_status
from swiftlite.proxy.quorum import Reply, best_reply

TRANS_ID = "swiftlite.trans_id"
ACL = "swiftlite.acl"
AUTHORIZE = "swiftlite.authorize"
OVERRIDE = "swiftlite.authorize_override"
OWNER = "swiftlite.owner"

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "date",
        "server",
    }
)

# Client headers that are about this hop or this proxy, never forwarded to object servers.
NOT_FORWARDED = HOP_BY_HOP | {
    "host",
    "expect",
    "content-length",
    "x-auth-token",
    "x-storage-token",
    "x-service-token",
    "authorization",
    "cookie",
    "x-delete-after",
    "x-copy-from",
    "x-copy-from-account",
    "destination",
    "destination-account",
    "x-fresh-metadata",
    "x-detect-content-type",
    "x-timestamp",
    "x-trans-id",
    "x-newest",
}


# Headers a container write carries to the container servers besides its metadata.
CONTAINER_HEADERS = (
    "x-container-read",
    "x-container-write",
    "x-container-sync-key",
    "x-container-sync-to",
    "x-versions-location",
    "x-history-location",
)


def client_headers(items: Iterable[tuple[str, str]], owner: bool) -> list[tuple[str, str]]:
    """Backend response headers fit for a client (see the module docstring)."""
    out = []
    for key, value in items:
        low = key.lower()
        if low in HOP_BY_HOP or is_backend(low):
            continue
        if not owner and low in OWNER_HEADERS:
            continue
        out.append((key, value))
    return out


def client_content_type(req: Request) -> str | None:
    """The Content-Type the client really sent.

    eventlet's WSGI server fills CONTENT_TYPE with ``text/plain`` when a request has none; its
    raw header list (``headers_raw``) tells the truth, so a missing type is still guessed.
    """
    raw = req.environ.get("headers_raw")
    if raw is not None and not any(k.lower() == "content-type" for k, _v in raw):
        return None
    return req.headers.get("Content-Type") or None


class Controller:
    """Base of the proxy controllers; subclasses define verb methods returning responses."""

    server_type = "Base"
    allowed_methods: frozenset[str] = frozenset()

    def __init__(self, app: Any) -> None:
        self.app = app

    # -- reads: one GETorHEAD per controller, CORS preflight for OPTIONS ------------------------
    def GETorHEAD(self, req: Request) -> Response:
        raise NotImplementedError

    def GET(self, req: Request) -> Response:
        return self.GETorHEAD(req)

    def HEAD(self, req: Request) -> Response:
        return self.GETorHEAD(req)

    def OPTIONS(self, req: Request) -> Response:
        return cors.preflight(self, req)

    # -- headers -----------------------------------------------------------------------------
    @staticmethod
    def trans_id(req: Request) -> str:
        return req.environ.get(TRANS_ID) or req.headers.get("X-Trans-Id", "")

    @staticmethod
    def listing_query(req: Request, maximum: int) -> dict[str, str]:
        """The listing parameters of a GET or HEAD, checked before any backend is asked.

        Raises BadInput (400, ``"marker" parameter not valid UTF-8``) for a value that is not
        UTF-8 and PreconditionFailed (412, ``Maximum limit is N``) for a ``limit`` above
        ``maximum``; a ``limit`` that is not ASCII digits is ignored, as Swift ignores a
        non-numeric one. Parsed from the raw query string: webob's ``req.GET`` would fail on
        the bad bytes themselves.
        """
        params = query_params(req.environ.get("QUERY_STRING", ""))
        if not reserved.allowed(req.headers):
            # a client cannot list into the reserved namespace (a value starting with NUL):
            # 400; a NUL later on is fine ("name%00" means just after the name)
            for key, value in params.items():
                if value.startswith("\x00"):
                    raise errors.BadInput(f'"{key}" parameter not valid')
        parse_params(params, maximum)
        return params

    def fetch_db(self, req: Request, ring: Any, part: int, path: str, server_type: str) -> Any:
        """GET/HEAD an account or container database; Accept and X-Newest go to the backend."""
        headers = self.base_headers(req)
        for name in ("Accept", "X-Newest"):
            if name in req.headers:
                headers[name] = req.headers[name]
        return fetch(
            self.app.backend,
            ring,
            part,
            req.method,
            path,
            headers,
            req.query_string,
            good_db_status,
            server_type,
        )

    def base_headers(self, req: Request, timestamp: Timestamp | None = None) -> dict[str, str]:
        """X-Timestamp (when given), X-Trans-Id, and the X-Backend-* headers the pipeline set."""
        headers: dict[str, str] = {}
        if timestamp is not None:
            headers["X-Timestamp"] = timestamp.internal
        trans_id = self.trans_id(req)
        if trans_id:
            headers["X-Trans-Id"] = trans_id
        for key, value in req.headers.items():
            if is_backend(key):
                headers[key] = value
        return headers

    def transfer_headers(self, req: Request, kind: str, into: dict[str, str]) -> dict[str, str]:
        """Copy a write's metadata for ``kind`` (account/container): meta, sysmeta, ACLs,
        and ``X-Remove-<Kind>-Meta-*`` as the empty value that deletes a key."""
        meta = f"x-{kind}-meta-"
        sysmeta = f"x-{kind}-sysmeta-"
        remove = f"x-remove-{kind}-"
        for key, value in req.headers.items():
            low = key.lower()
            if low.startswith(meta) or low.startswith(sysmeta):
                into[key] = value
            elif low.startswith(remove):
                into[f"X-{kind.title()}-{key[len(remove) :]}"] = ""
            elif kind == "container" and low in CONTAINER_HEADERS:
                into[key] = value
        if not self.is_owner(req):
            # Swift drops what only an owner may set and applies the rest of the request
            for key in [k for k in into if k.lower() in OWNER_HEADERS]:
                del into[key]
        return into

    # -- authorization -----------------------------------------------------------------------
    @classmethod
    def authorize(cls, req: Request, acl: str | None) -> Response | None:
        """Record the ACL for the auth filter and ask it; a Response means denied.

        The hook is asked whenever one is installed, even with the override set: a filter
        that vouches for a request (tempurl, formpost) sets the override so tempauth steps
        aside, and installs a hook scoped to what it vouched for. The override alone (a
        BYPASS subrequest) allows. Owner-only headers a non-owner sends past a hook are dropped,
        as Swift does.
        """
        environ = req.environ
        environ[ACL] = acl
        hook = environ.get(AUTHORIZE)
        if hook is None:
            return None
        denied = hook(req)
        if denied is None and not cls.is_owner(req):
            for key in [k for k in req.headers if k.lower() in OWNER_HEADERS]:
                del req.headers[key]
        return denied

    @staticmethod
    def is_owner(req: Request) -> bool:
        """The auth filter said so, or no auth hook is installed (bypassed, or no auth filter).

        An override with a hook installed (a temp URL's grant) is not ownership.
        """
        environ = req.environ
        return bool(environ.get(OWNER) or AUTHORIZE not in environ)

    # -- responses ---------------------------------------------------------------------------
    def client_response(
        self,
        req: Request,
        status: int,
        reason: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        app_iter: Any = None,
    ) -> Response:
        status_line = f"{status} {reason or _default_reason(status)}"
        headerlist = client_headers(headers, self.is_owner(req))
        if responses.shaped(status, req.method):
            headerlist = [(k, v) for k, v in headerlist if k.lower() != "content-type"]
            headerlist.append(("Content-Type", responses.HTML))
            if app_iter is None and not body and req.method != "HEAD" and status != 204:
                body = responses.default_body(status)
        if app_iter is None and req.method == "HEAD":
            app_iter = []  # keeps the backend's Content-Length, which a body would replace
        if app_iter is not None:
            return Response(status=status_line, headerlist=headerlist, app_iter=app_iter)
        resp = Response(status=status_line, headerlist=headerlist)
        resp.body = body
        return resp

    @staticmethod
    def db_read_headers(req: Request, resp: Response) -> Response:
        """Account and container reads: ``Accept-Ranges: bytes`` always, as Swift sends it, and
        ``Content-Length: 0`` on a HEAD or a 204 (no listing body follows)."""
        resp.headers["Accept-Ranges"] = "bytes"
        if req.method == "HEAD" or resp.status_int == 204:
            resp.headers["Content-Length"] = "0"
        return resp

    def best_response(
        self,
        req: Request,
        replies: list[Reply],
        etag: str | None = None,
        what: str = "",
    ) -> Response:
        """Swift's best response over ``replies``; 503 when no class has a quorum."""
        chosen = best_reply(replies)
        if chosen is None:
            self.app.logger.error(
                "%s %s returning 503 for %s",
                what or self.server_type,
                req.method,
                [r.status for r in replies],
            )
            return responses.error(503)
        resp = self.client_response(req, chosen.status, chosen.reason, chosen.headers, chosen.body)
        if etag:
            resp.headers["ETag"] = etag
        return resp


def _default_reason(status: int) -> str:
    return status_reasons.get(status, "Unknown")
