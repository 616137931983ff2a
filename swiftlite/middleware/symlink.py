"""symlink: objects that name another object (``X-Symlink-Target``), as Swift's symlinks.

Owns: turning a zero-byte ``PUT`` with ``X-Symlink-Target: <container>/<object>`` (and
``X-Symlink-Target-Account``) into a link, kept in object sysmeta
(``X-Object-Sysmeta-Symlink-Target*``); static links (``X-Symlink-Target-Etag``), whose target
must exist with that ETag at PUT and at every read (409 otherwise); following links on
GET/HEAD, chains included, up to ``symloop_max`` hops (409 beyond); ``?symlink=get`` for the
link itself; a 307 to the target for a POST that landed on a link; and the ``symlink_path``,
``symlink_etag`` and ``symlink_bytes`` keys of container listings.

How a listing learns about links: the PUT sets the container update's ETag override to the
empty body's MD5 followed by ``; symlink_target=...`` parameters (Swift stores them the same
way, so the container server needs no notion of links); this filter parses them back out of
each row's ``hash``.

Every request to a target goes through ``subrequest.py`` with ``auth=CARRY``: the proxy checks
the caller against the target's own ACLs, so a link never widens access. The filter keeps no
state outside sysmeta, and never talks to a backend.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, reserved
from swiftlite.common.errors import BadInput, BadName
from swiftlite.common.http import listing
from swiftlite.common.http.conditional import normalize_etag
from swiftlite.common.names import check_name, split_api_path
from swiftlite.common.registry import register_info
from swiftlite.middleware import json_listing, subrequest
from swiftlite.middleware.subrequest import BYPASS, CARRY, api_path, close, make_subrequest

SOURCE = "SYM"
DEFAULT_SYMLOOP_MAX = 2
MD5_OF_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"

TARGET = "X-Symlink-Target"
TARGET_ACCOUNT = "X-Symlink-Target-Account"
TARGET_ETAG = "X-Symlink-Target-Etag"
TARGET_BYTES = "X-Symlink-Target-Bytes"
SYSMETA_TARGET = "X-Object-Sysmeta-Symlink-Target"
SYSMETA_ACCOUNT = "X-Object-Sysmeta-Symlink-Target-Account"
SYSMETA_ETAG = "X-Object-Sysmeta-Symlink-Target-Etag"
SYSMETA_BYTES = "X-Object-Sysmeta-Symlink-Target-Bytes"
# A link a filter wrote into the reserved namespace (object versioning): following it may
# name reserved paths, and the hop does not count against symloop_max.
SYSMETA_ALLOW_RESERVED = "X-Object-Sysmeta-Symlink-Allow-Reserved-Names"
SYMLOOP_EXTEND = "X-Object-Sysmeta-Symloop-Extend"
SYSMETA_VERSIONS_SYMLINK = "X-Object-Sysmeta-Versions-Symlink"
OVERRIDE_ETAG = "X-Object-Sysmeta-Container-Update-Override-Etag"
BACKEND_OVERRIDE_ETAG = "X-Backend-Container-Update-Override-Etag"
SLO_ETAG = "X-Object-Sysmeta-Slo-Etag"
SLO_SIZE = "X-Object-Sysmeta-Slo-Size"
# Set by a filter above (object versioning) that already knows the target's ETag and size:
# the PUT takes X-Symlink-Target-Etag and -Bytes as given instead of asking the target.
SYMLINK_OVERRIDE = "swiftlite.symlink_override"
# Filters above whose subrequests read a stored link itself, never its target (versioned
# writes and object versioning, as in Swift, where they ask with ?symlink=get).
RAW_SOURCES = frozenset({"VW", "OV"})

TARGET_FORM = "X-Symlink-Target header must be of the form <container name>/<object name>"
_TO_CLIENT = (
    (SYSMETA_TARGET, TARGET),
    (SYSMETA_ACCOUNT, TARGET_ACCOUNT),
    (SYSMETA_ETAG, TARGET_ETAG),
    (SYSMETA_BYTES, TARGET_BYTES),
)


@dataclass(frozen=True)
class SymlinkOptions:
    symloop_max: int = DEFAULT_SYMLOOP_MAX

    def __post_init__(self) -> None:
        if self.symloop_max < 1:  # as Swift: a value below 1 means the default
            object.__setattr__(self, "symloop_max", DEFAULT_SYMLOOP_MAX)


class LinkError(Exception):
    """A refusal while following or checking a link; carries the response to answer."""

    def __init__(self, resp: Response) -> None:
        super().__init__(resp.status)
        self.resp = resp


def content_location(path: str) -> str:
    """A WSGI path (``api_path``'s) as a header value: its UTF-8 bytes percent-quoted."""
    return urllib.parse.quote(path.encode("latin-1"))


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    resp = Response(status=status, body=text.encode("utf-8"), content_type="text/plain")
    resp.headers.update(headers or {})
    return resp


def parse_hash_params(value: str) -> tuple[str, list[tuple[str, str]]]:
    """``"<etag>; k=v; k2=v2"`` -> (etag, [(k, v), ...]) as a listing's ``hash`` holds them."""
    head, *rest = value.split(";")
    params = []
    for part in rest:
        key, sep, val = part.strip().partition("=")
        if sep and key:
            params.append((key.strip().lower(), val.strip().strip('"')))
    return head.strip(), params


def listing_row(row: dict[str, Any], version: str, account: str) -> dict[str, Any]:
    """A JSON listing row with its link parameters moved from ``hash`` to symlink_* keys."""
    if "hash" not in row or ";" not in str(row["hash"]):
        return row
    etag, params = parse_hash_params(str(row["hash"]))
    target = None
    kept = [etag]
    for key, value in params:
        if key == "symlink_target":
            target = value
        elif key == "symlink_target_account":
            account = value
        elif key == "symlink_target_etag":
            row["symlink_etag"] = value
        elif key == "symlink_target_bytes":
            try:
                row["symlink_bytes"] = int(value)
            except ValueError:
                continue
        else:
            kept.append(f"{key}={value}")
    row["hash"] = "; ".join(kept)
    if target:
        row["symlink_path"] = os.path.join("/", version, account, target)
    return row


def link_target(headers: Any, account: str) -> tuple[str, str, str] | None:
    """(account, container, object) a stored link names, as real strs; None if not a link."""
    raw = headers.get(SYSMETA_TARGET)
    if not raw:
        return None
    container, _, obj = urllib.parse.unquote(raw).lstrip("/").partition("/")
    raw_account = headers.get(SYSMETA_ACCOUNT)
    if raw_account:
        account = urllib.parse.unquote(raw_account)
    return account, container, obj


def _client_headers(resp: Response) -> None:
    for sysmeta, client in _TO_CLIENT:
        value = resp.headers.get(sysmeta)
        if value is not None:
            resp.headers[client] = value


def _copied_headers(req: Request) -> dict[str, str]:
    """The client's headers a hop to the target repeats (Range, conditionals, X-Newest...)."""
    skip = {"host", "content-length", "transfer-encoding", "x-backend-storage-policy-index"}
    return {k: v for k, v in req.headers.items() if k.lower() not in skip}


class SymlinkMiddleware:
    def __init__(self, app: Callable[..., Any], options: SymlinkOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        req = Request(environ)
        try:
            path = split_api_path(
                environ.get("PATH_INFO", ""), allow_reserved=reserved.allowed(req.headers)
            )
        except (BadInput, BadName):
            return self.app(environ, start_response)
        refused = subrequest.query_refusal(req) if path.obj is not None else None
        if refused is not None:
            return refused(environ, start_response)
        try:
            if path.obj is not None:
                resp = self.handle_object(req, path.version, path.account, path.container, path.obj)
            elif path.container is not None and req.method == "GET":
                resp = self.handle_listing(req, path.version, path.account, path.container)
            else:
                return self.app(environ, start_response)
        except LinkError as exc:
            resp = exc.resp
        except BadName as exc:
            resp = _text(412, str(exc))
        return resp(environ, start_response)

    # -- containers ----------------------------------------------------------------------------
    def handle_listing(self, req: Request, version: str, account: str, container: str) -> Response:
        content_type = json_listing.wanted_type(req)
        if content_type is None:
            return req.get_response(self.app)
        # a JSON page without a link goes back as it came (the common case); another format
        # is rendered here from the JSON rows whatever they hold
        markers = (b"symlink_target",) if content_type == listing.JSON else ()
        resp, rows = json_listing.fetch(req, self.app, markers)
        if rows is None:
            return resp
        rows = [listing_row(r, version, account) if "name" in r else r for r in rows]
        return json_listing.respond(resp, "container", container, rows, content_type)

    # -- objects -------------------------------------------------------------------------------
    def handle_object(
        self, req: Request, version: str, account: str, container: str | None, obj: str
    ) -> Response:
        method = req.method
        if method in ("GET", "HEAD"):
            raw = req.GET.get("symlink") == "get" or req.environ.get("swiftlite.source") in (
                RAW_SOURCES
            )
            if raw:
                resp = req.get_response(self.app)
                _client_headers(resp)
                return resp
            return self.follow(req, version, account)
        if method == "PUT" and TARGET in req.headers:
            return self.handle_put(req, version, account, container or "", obj)
        if method == "POST":
            return self.handle_post(req, version, account)
        for name in (TARGET_ACCOUNT, TARGET_ETAG, TARGET_BYTES):
            req.headers.pop(name, None)
        return req.get_response(self.app)

    def follow(
        self,
        req: Request,
        version: str,
        account: str,
        target_etag: str | None = None,
        follow_soft: bool = True,
        first_path: str | None = None,
    ) -> Response:
        """The response for ``req`` after following links; LinkError for a refusal."""
        resp = req.get_response(self.app)
        loops = 0
        last_path = first_path
        allow_reserved = reserved.allowed(req.headers)
        while True:
            found = link_target(resp.headers, account)
            link_etag = resp.headers.get(SYSMETA_ETAG)
            if found is None or not (link_etag or follow_soft):
                return self._final(resp, target_etag, last_path)
            close(resp)
            seen = normalize_etag(link_etag or resp.headers.get("ETag")) or ""
            if target_etag and target_etag != seen:
                raise LinkError(
                    _text(
                        409,
                        "X-Symlink-Target-Etag headers do not match",
                        {"Content-Location": content_location(last_path or "")},
                    )
                )
            if loops >= self.options.symloop_max:
                raise LinkError(
                    _text(
                        409,
                        "Too many levels of symbolic links, maximum allowed is "
                        f"{self.options.symloop_max}",
                    )
                )
            if not config.config_true(resp.headers.get(SYMLOOP_EXTEND, "")):
                loops += 1
            internal = config.config_true(resp.headers.get(SYSMETA_ALLOW_RESERVED, ""))
            allow_reserved = allow_reserved or internal
            account = found[0]
            last_path = api_path(*found).replace("/v1/", f"/{version}/", 1)
            target_etag = link_etag
            headers = _copied_headers(req)
            if allow_reserved:
                headers[reserved.ALLOW_HEADER] = "true"
            hop = make_subrequest(
                req.environ,
                req.method,
                last_path,
                source=SOURCE,
                # A link into the reserved namespace was written by a filter (object
                # versioning: clients cannot name reserved targets), and reading it is reading
                # the link the caller was just allowed to read; any other hop is authorized
                # against the target's own ACLs.
                auth=BYPASS if internal else CARRY,
                headers=headers,
            )
            resp = hop.get_response(self.app)

    @staticmethod
    def _final(resp: Response, target_etag: str | None, last_path: str | None) -> Response:
        if target_etag and 200 <= resp.status_int < 300:
            final = normalize_etag(resp.headers.get("ETag"))
            # a manifest matches by its stored ETag (what object versioning links to) or by
            # the large object's ETag (what a client sees and links to)
            if final and target_etag not in (final, resp.headers.get(SLO_ETAG)):
                close(resp)
                raise LinkError(
                    _text(
                        409,
                        f"Object Etag {final!r} does not match X-Symlink-Target-Etag header "
                        f"{target_etag!r}",
                        {"Content-Location": content_location(last_path or "")},
                    )
                )
        if last_path and "Content-Location" not in resp.headers:
            # a filter below may have named the target for clients already (object
            # versioning: ``/v1/a/c/o?version-id=...`` instead of a reserved path)
            resp.headers["Content-Location"] = content_location(last_path)
        return resp

    # -- PUT -----------------------------------------------------------------------------------
    def handle_put(
        self, req: Request, version: str, account: str, container: str, obj: str
    ) -> Response:
        if req.content_length != 0:
            return _text(400, "Symlink requests require a zero byte body")
        target = self._check_target(req, account, container, obj)
        if isinstance(target, Response):
            return target
        raw_target = req.headers.pop(TARGET)
        raw_account = req.headers.pop(TARGET_ACCOUNT, None)
        req.headers[SYSMETA_TARGET] = raw_target
        if raw_account is not None:
            req.headers[SYSMETA_ACCOUNT] = raw_account
        etag_text = req.headers.pop(TARGET_ETAG, None)
        given_bytes = req.headers.pop(TARGET_BYTES, None)
        base = None
        if etag_text is not None:
            etag = normalize_etag(etag_text) or ""
            if '"' in etag or not etag:
                return _text(400, "Bad X-Symlink-Target-Etag format")
            if req.environ.get(SYMLINK_OVERRIDE) and given_bytes is not None:
                size = given_bytes
            else:
                base, size = self._check_static_target(req, version, target, etag)
            req.headers[SYSMETA_ETAG] = etag
            req.headers[SYSMETA_BYTES] = size
        params = [req.headers.get(OVERRIDE_ETAG) or base or MD5_OF_EMPTY]
        params.append(f"symlink_target={raw_target}")
        if raw_account is not None:
            params.append(f"symlink_target_account={raw_account}")
        if etag_text is not None:
            params.append(f"symlink_target_etag={req.headers[SYSMETA_ETAG]}")
            params.append(f"symlink_target_bytes={req.headers[SYSMETA_BYTES]}")
        override = "; ".join(params)
        req.headers[OVERRIDE_ETAG] = override
        # the object server reads the override from the backend header (sysmeta keeps it)
        req.headers[BACKEND_OVERRIDE_ETAG] = override
        resp = req.get_response(self.app)
        if 200 <= resp.status_int < 300 and etag_text is not None:
            resp.headers[TARGET_ETAG] = req.headers[SYSMETA_ETAG]
            resp.headers[TARGET_BYTES] = req.headers[SYSMETA_BYTES]
        return resp

    @staticmethod
    def _check_target(
        req: Request, account: str, container: str, obj: str
    ) -> tuple[str, str, str] | Response:
        """(account, container, object) of the target; a 400/412 response when malformed."""
        value = urllib.parse.unquote(req.headers[TARGET])
        if value.startswith("/"):
            return _text(412, TARGET_FORM)
        t_container, _, t_obj = value.partition("/")
        if not t_container or not t_obj:
            return _text(412, TARGET_FORM)
        allow = reserved.allowed(req.headers)
        check_name(t_container, allow)
        check_name(t_obj, allow)
        t_account = account
        if TARGET_ACCOUNT in req.headers:
            t_account = urllib.parse.unquote(req.headers[TARGET_ACCOUNT])
            if not t_account or "/" in t_account:
                return _text(412, "Account name cannot contain slashes")
            check_name(t_account, allow)
        if (t_account, t_container, t_obj) == (account, container, obj):
            return _text(400, "Symlink cannot target itself")
        return t_account, t_container, t_obj

    def _check_static_target(
        self, req: Request, version: str, target: tuple[str, str, str], etag: str
    ) -> tuple[str | None, str]:
        """(ETag override base carried from the target, target bytes); LinkError on refusal."""
        path = api_path(*target).replace("/v1/", f"/{version}/", 1)
        headers = {}
        if reserved.allowed(req.headers):
            headers[reserved.ALLOW_HEADER] = "true"
        head = make_subrequest(
            req.environ, "HEAD", path, source=SOURCE, auth=CARRY, headers=headers
        )
        resp = self.follow(
            head, version, target[0], target_etag=etag, follow_soft=False, first_path=path
        )
        close(resp)
        if resp.status_int == 404:
            raise LinkError(
                _text(
                    409,
                    "X-Symlink-Target does not exist",
                    {"Content-Location": content_location(path)},
                )
            )
        if not 200 <= resp.status_int < 300:
            raise LinkError(_text(resp.status_int, resp.status.split(" ", 1)[-1]))
        base = None
        carried = resp.headers.get(OVERRIDE_ETAG)
        if carried and ";" in carried:  # keep the target's listing params (e.g. slo_etag)
            base = MD5_OF_EMPTY + ";" + carried.split(";", 1)[1]
        elif resp.headers.get(SLO_ETAG):
            base = f"{MD5_OF_EMPTY}; slo_etag={resp.headers[SLO_ETAG]}"
        size = resp.headers.get(SLO_SIZE) or resp.headers.get("Content-Length") or "0"
        if not req.headers.get("Content-Type") and resp.headers.get("Content-Type"):
            req.headers["Content-Type"] = resp.headers["Content-Type"]
        return base, size

    # -- POST ----------------------------------------------------------------------------------
    def handle_post(self, req: Request, version: str, account: str) -> Response:
        if TARGET in req.headers:
            return _text(400, "A PUT request is required to set a symlink target")
        resp = req.get_response(self.app)
        if not 200 <= resp.status_int < 300:
            return resp
        # BYPASS: the caller was just allowed to write this object; the HEAD only tells
        # whether what it wrote to is a link (our object servers do not echo sysmeta on POST).
        head = make_subrequest(
            req.environ,
            "HEAD",
            req.environ["PATH_INFO"],
            source=SOURCE,
            auth=BYPASS,
            headers={reserved.ALLOW_HEADER: "true"} if reserved.allowed(req.headers) else None,
        )
        head.environ["swiftlite.source"] = "OV"  # read the link itself, not its target
        stored = head.get_response(self.app)
        close(stored)
        found = link_target(stored.headers, account)
        if found is None or config.config_true(stored.headers.get(SYSMETA_VERSIONS_SYMLINK, "")):
            return resp  # object versioning, above, applies the POST to the current version
        location = urllib.parse.quote(api_path(*found).replace("/v1/", f"/{version}/", 1))
        redirect = _text(
            307,
            "The requested POST was applied to a symlink. POST directly to the target to "
            "apply requested metadata.",
            {"Location": location},
        )
        return redirect


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#symlink``."""
    options = config.parse_options(
        SymlinkOptions, local_conf, global_conf, where="[filter:symlink]"
    )
    register_info("symlink", symloop_max=options.symloop_max)

    def make(app: Any) -> SymlinkMiddleware:
        return SymlinkMiddleware(app, options)

    return make
