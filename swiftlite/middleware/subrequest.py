"""subrequest: the one way a filter asks the rest of the pipeline for something.

A filter (copy, dlo, slo, symlink, versioning, bulk, s3api, ...) that needs another object,
container or account builds a subrequest here and sends it to ``self.app``, the rest of the
pipeline below it. It never talks to a backend itself. What a subrequest takes from the
request that caused it is fixed here, not by each filter:

* **Inherited**: the WSGI basics (``wsgi.*``, server and remote address), the Host, the
  User-Agent, Referer and Origin (referrer ACLs apply to subrequests too), the trans id
  (``swiftlite.trans_id`` and ``X-Trans-Id``), the cache client and the per-request info memo
  (``swiftlite.infocache``: the same dict, so what one subrequest learns the others reuse).
* **Never inherited**: other client headers, the body and its framing (``CONTENT_LENGTH``,
  ``CONTENT_TYPE``, ``wsgi.input``), the query string, webob's caches, and what the proxy
  decided for the parent request (``swiftlite.acl``, ``swiftlite.owner``).
* **Auth is explicit**: ``auth=CARRY`` copies the caller's identity (``swiftlite.authorize``,
  the remote user and the tempauth groups), so the proxy authorizes the subrequest with the
  target's ACLs as if the caller had sent it: a filter cannot widen access. ``auth=BYPASS``
  sets ``swiftlite.authorize_override``: the subrequest is allowed without asking, for what is
  not the caller's action (an info lookup, a filter's own bookkeeping); callers say why in a
  comment where they use it. ``auth=AUTHORIZED`` is for a request the filter has just
  authorized the caller for itself: it is allowed without asking, but it carries the caller's
  identity and not the override, so what a filter below asks for on its behalf (``symlink``
  following a link the answer turned out to be) is authorized as the caller again.
* ``source`` names the filter in ``swiftlite.source``, which the access log prints, so every
  subrequest line says who made it.

``get_container_info`` and ``get_account_info`` give a filter the proxy's info dicts (see
``proxy/info.py``): from the request memo or the shared cache when there, else through a HEAD
subrequest, whose answer the proxy's controller records in the shared memo.
"""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from webob import Request, Response

from swiftlite.common import logs
from swiftlite.common.names import str_to_wsgi
from swiftlite.proxy.info import INFOCACHE, account_key, container_key

CARRY = "carry"
BYPASS = "bypass"
AUTHORIZED = "authorized"

AUTHORIZE = "swiftlite.authorize"
OVERRIDE = "swiftlite.authorize_override"
# auth=AUTHORIZED: the caller's identity, kept aside (a hook in the environ is always asked)
# for the CARRY subrequests made from this one.
DEFERRED_IDENTITY = "swiftlite.deferred_identity"
SOURCE = "swiftlite.source"
CACHE = "swiftlite.cache"

INHERITED = frozenset(
    {
        "wsgi.version",
        "wsgi.url_scheme",
        "wsgi.errors",
        "wsgi.multithread",
        "wsgi.multiprocess",
        "wsgi.run_once",
        "SCRIPT_NAME",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_REFERER",
        "HTTP_ORIGIN",
        "HTTP_X_TRANS_ID",
        "HTTP_X_FORWARDED_FOR",
        "swiftlite.trans_id",
        CACHE,
        INFOCACHE,
    }
)
# The caller's identity, carried only with auth=CARRY.
AUTH_KEYS = (
    "swiftlite.authorize",
    "swiftlite.remote_user",
    "swiftlite.tempauth.groups",
    "swiftlite.reseller_request",
)


def query_refusal(req: Request) -> Response | None:
    """400 for an object request whose query string is not UTF-8 (``?x=%ff``), in the words
    the proxy uses for a listing parameter; None when webob can decode it.

    ``req.GET`` raises on such a query, which was a 500 in every filter that reads one; a
    filter answers this before reading. (A listing request goes on to the proxy, which names
    the parameter the same way.)
    """
    pairs = urllib.parse.parse_qsl(req.query_string, keep_blank_values=True, encoding="latin-1")
    for key, value in pairs:
        try:
            key.encode("latin-1").decode("utf-8")
            value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            name = logs.escape(key)
            return Response(
                status=400,
                body=f'"{name}" parameter not valid UTF-8'.encode(),
                content_type="text/plain",
            )
    return None


def api_path(account: str, container: str | None = None, obj: str | None = None) -> str:
    """``/v1/<a>[/<c>[/<o>]]`` from real-str names, as a WSGI ``PATH_INFO`` string."""
    parts = ["", "v1", account]
    if container is not None:
        parts.append(container)
        if obj is not None:
            parts.append(obj)
    return "/".join(str_to_wsgi(p) for p in parts)


class IterReader:
    """``read(n)`` over an iterator of byte chunks (a GET's body fed into a PUT)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._iter: Iterator[bytes] = iter(chunks)
        self._buf = b""
        self._source = chunks

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            try:
                chunk = next(self._iter)
            except StopIteration:
                break
            self._buf += chunk
        if size < 0:
            data, self._buf = self._buf, b""
        else:
            data, self._buf = self._buf[:size], self._buf[size:]
        return data

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


def _identity(environ: Mapping[str, Any]) -> dict[str, Any]:
    """What auth=CARRY copies: the caller's identity keys and override, or, from an
    auth=AUTHORIZED subrequest, the identity it kept aside."""
    deferred = environ.get(DEFERRED_IDENTITY)
    if deferred is not None:
        return dict(deferred)
    found = {key: environ[key] for key in AUTH_KEYS if key in environ}
    if environ.get(OVERRIDE):
        found[OVERRIDE] = True
    return found


def make_environ(
    environ: Mapping[str, Any],
    method: str,
    path: str,
    *,
    source: str,
    auth: str = CARRY,
    query: str = "",
) -> dict[str, Any]:
    """A fresh environ for ``method path?query`` that inherits what the module doc lists."""
    if auth not in (CARRY, BYPASS, AUTHORIZED):
        raise ValueError(f"auth must be CARRY, BYPASS or AUTHORIZED, not {auth!r}")
    env = {key: environ[key] for key in INHERITED if key in environ}
    env.setdefault("wsgi.url_scheme", "http")
    env.setdefault("SERVER_NAME", "localhost")
    env.setdefault("SERVER_PORT", "80")
    env.setdefault("SERVER_PROTOCOL", "HTTP/1.1")
    env.setdefault("SCRIPT_NAME", "")
    if INFOCACHE not in environ and isinstance(environ, dict):
        # Share one memo between the parent and all its subrequests.
        environ[INFOCACHE] = env[INFOCACHE] = {}
    if auth == CARRY:
        env.update(_identity(environ))
    elif auth == AUTHORIZED:
        env[DEFERRED_IDENTITY] = _identity(environ)
        env[OVERRIDE] = True
    else:
        env[OVERRIDE] = True
    env.update(
        REQUEST_METHOD=method,
        PATH_INFO=path,
        QUERY_STRING=query,
        CONTENT_LENGTH="0",
    )
    env[SOURCE] = source
    env["wsgi.input"] = io.BytesIO(b"")
    return env


def make_subrequest(
    environ: Mapping[str, Any],
    method: str,
    path: str,
    *,
    source: str,
    auth: str = CARRY,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | Any = None,
    content_length: int | None = None,
) -> Request:
    """A subrequest of the request whose environ is ``environ`` (see the module doc).

    ``body`` is bytes, or an object with ``read(n)``; with a reader and no ``content_length``
    the body is sent chunked (the proxy then streams it until ``read`` returns b"").
    ``headers`` are WSGI strings, set after the environ is built.
    """
    env = make_environ(environ, method, path, source=source, auth=auth, query=query)
    if isinstance(body, bytes):
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
    elif body is not None:
        env["wsgi.input"] = body
        if content_length is None:
            del env["CONTENT_LENGTH"]
            env["HTTP_TRANSFER_ENCODING"] = "chunked"
        else:
            env["CONTENT_LENGTH"] = str(content_length)
    req = Request(env)
    if headers:
        for key, value in headers.items():
            req.headers[key] = value
    return req


def send(req: Request, app: Callable[..., Any]) -> Response:
    """Run ``req`` through ``app`` and return the response (its body not yet read)."""
    return req.get_response(app)


def close(resp: Response) -> None:
    """Close a subrequest's body iterator without reading it (frees the backend connection)."""
    close_it = getattr(resp.app_iter, "close", None)
    if close_it is not None:
        close_it()


def drain(resp: Response) -> bytes:
    """Read a subrequest's whole body and close it (small bodies: listings, errors)."""
    try:
        return b"".join(resp.app_iter)
    finally:
        close(resp)


def _info(
    environ: dict[str, Any], app: Callable[..., Any], key: str, path: str, source: str
) -> dict[str, Any]:
    memo = environ.setdefault(INFOCACHE, {})
    found = memo.get(key)
    if found is None:
        cache = environ.get(CACHE)
        cached = cache.get(key) if cache is not None else None
        if isinstance(cached, dict) and "status" in cached:
            memo[key] = found = cached
    if found is None:
        # BYPASS: looking up what exists is the filter's bookkeeping, not the caller's access;
        # the caller's own request is authorized by the proxy as usual.
        resp = send(make_subrequest(environ, "HEAD", path, source=source, auth=BYPASS), app)
        drain(resp)
        found = memo.get(key)
        if found is None:  # answered above the proxy (e.g. a filter refused it)
            found = {"status": resp.status_int, "meta": {}, "sysmeta": {}}
    return found


def prefetch_info(environ: dict[str, Any], account: str, container: str | None) -> None:
    """Read the account's and the container's cached info in one cache round trip, into the
    request's memo (the lookups that follow find them there); a miss is left to them."""
    cache = environ.get(CACHE)
    if cache is None or container is None:
        return  # one key: its own lookup costs the same
    memo = environ.setdefault(INFOCACHE, {})
    keys = [k for k in (account_key(account), container_key(account, container)) if k not in memo]
    if len(keys) < 2:
        return
    for key, cached in zip(keys, cache.get_multi(keys), strict=True):
        if isinstance(cached, dict) and "status" in cached:
            memo[key] = cached


def get_container_info(
    environ: dict[str, Any],
    app: Callable[..., Any],
    account: str,
    container: str,
    source: str,
) -> dict[str, Any]:
    """The proxy's info dict for a container (``proxy/info.py``): ``status``, counts, ACLs,
    ``meta``, ``sysmeta``, ``storage_policy``. Names are real strs."""
    path = api_path(account, container)
    return _info(environ, app, container_key(account, container), path, source)


def get_account_info(
    environ: dict[str, Any], app: Callable[..., Any], account: str, source: str
) -> dict[str, Any]:
    """The proxy's info dict for an account: ``status``, counts, ``meta``, ``sysmeta``."""
    return _info(environ, app, account_key(account), api_path(account), source)
