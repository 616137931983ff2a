"""Account and container info for the proxy: existence, counts, ACLs and metadata, cached.

Object and container requests need to know whether their container (or account) exists, and
what its ACLs are, before they act. ``account_info`` and ``container_info`` answer from, in
order: the request's own memo (``environ['swiftlite.infocache']``), the shared cache
(``environ['swiftlite.cache']``, memcached or the cache filter's local one, else the app's own
local cache), and finally a HEAD to the backends. Found answers are kept for
``recheck_*_existence`` seconds, not-found ones a tenth of that (as Swift), server errors never.
This proxy's own writes clear the entries they change (``clear_info``); other proxies' writes
show up when the entry expires, which is Swift's consistency model too.

Info is a plain JSON-able dict, so it survives memcached: ``status`` (the backend status the
info came from: 2xx means it exists), counts, ``meta``/``sysmeta`` (title-cased names without
their prefix), for accounts ``storage_policies`` (per-policy usage keyed by lower-cased
policy name), and for containers ``read_acl``, ``write_acl`` and ``storage_policy``.

``autocreate_account`` creates an account on the account replicas (a PUT with a fresh
timestamp), used by the container PUT when ``account_autocreate`` is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from swiftlite.common.http.headers import title
from swiftlite.common.reserved import ALLOW_HEADER as ALLOW_RESERVED
from swiftlite.common.timestamp import Timestamp
from swiftlite.proxy.getter import fetch, good_db_status
from swiftlite.proxy.putter import fan_out
from swiftlite.proxy.quorum import best_reply, is_success

INFOCACHE = "swiftlite.infocache"
_NOT_FOUND_FACTOR = 0.1


def account_key(account: str) -> str:
    return f"account/{account}"


def container_key(account: str, container: str) -> str:
    return f"container/{account}/{container}"


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _prefixed(headers: Iterable[tuple[str, str]], prefix: str) -> dict[str, str]:
    out = {}
    for key, value in headers:
        low = key.lower()
        if low.startswith(prefix):
            out[title(low[len(prefix) :])] = value
    return out


_POLICY_PREFIX = "x-account-storage-policy-"
_POLICY_STATS = {"-bytes-used": "bytes", "-object-count": "object_count"}


def policy_stats(headers: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Per-policy usage from ``X-Account-Storage-Policy-<Name>-Bytes-Used`` / ``-Object-Count``,
    keyed by the lower-cased policy name (pure)."""
    out: dict[str, dict[str, int]] = {}
    for key, value in headers:
        low = key.lower()
        if not low.startswith(_POLICY_PREFIX):
            continue
        for suffix, stat in _POLICY_STATS.items():
            if low.endswith(suffix) and len(low) > len(_POLICY_PREFIX) + len(suffix):
                name = low[len(_POLICY_PREFIX) : -len(suffix)]
                out.setdefault(name, {})[stat] = _int(value)
    return out


def account_info_from(status: int, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """Info from an account HEAD/GET answer (pure)."""
    lookup = {k.lower(): v for k, v in headers}
    return {
        "status": status,
        "container_count": _int(lookup.get("x-account-container-count")),
        "object_count": _int(lookup.get("x-account-object-count")),
        "bytes": _int(lookup.get("x-account-bytes-used")),
        "deleted": lookup.get("x-account-status", "").lower() == "deleted",
        "meta": _prefixed(headers, "x-account-meta-"),
        "sysmeta": _prefixed(headers, "x-account-sysmeta-"),
        "storage_policies": policy_stats(headers),
    }


def container_info_from(status: int, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """Info from a container HEAD/GET answer (pure)."""
    lookup = {k.lower(): v for k, v in headers}
    meta = _prefixed(headers, "x-container-meta-")
    return {
        "status": status,
        "object_count": _int(lookup.get("x-container-object-count")),
        "bytes": _int(lookup.get("x-container-bytes-used")),
        "read_acl": lookup.get("x-container-read"),
        "write_acl": lookup.get("x-container-write"),
        "storage_policy": lookup.get("x-backend-storage-policy-index", "0"),
        "meta": meta,
        "sysmeta": _prefixed(headers, "x-container-sysmeta-"),
        "cors": {
            "allow_origin": meta.get("Access-Control-Allow-Origin"),
            "expose_headers": meta.get("Access-Control-Expose-Headers"),
            "max_age": meta.get("Access-Control-Max-Age"),
        },
    }


def _memo(environ: dict[str, Any]) -> dict[str, Any]:
    memo = environ.get(INFOCACHE)
    if memo is None:
        memo = environ[INFOCACHE] = {}
    return memo


def _lookup(app: Any, environ: dict[str, Any], key: str) -> dict[str, Any] | None:
    memo = _memo(environ)
    info = memo.get(key)
    if info is not None:
        return info
    cached = app.cache(environ).get(key)
    if isinstance(cached, dict) and "status" in cached:
        memo[key] = cached
        return cached
    return None


def remember(app: Any, environ: dict[str, Any], key: str, info: dict[str, Any], ttl: float) -> None:
    """Keep ``info`` in the request memo and, unless it is a server error, the shared cache."""
    _memo(environ)[key] = info
    status = info["status"]
    if is_success(status):
        app.cache(environ).set(key, info, time=ttl)
    elif status in (404, 410):
        app.cache(environ).set(key, info, time=ttl * _NOT_FOUND_FACTOR)


def _head(
    app: Any, environ: dict[str, Any], ring: Any, part: int, path: str, kind: str
) -> tuple[int, list[tuple[str, str]]]:
    # A reserved (NUL) name got this far only on a request that was allowed it, and the
    # lookup must see that container as the request's own backend requests will.
    headers = {"X-Trans-Id": environ.get("swiftlite.trans_id", ""), ALLOW_RESERVED: "true"}
    fetched = fetch(app.backend, ring, part, "HEAD", path, headers, "", good_db_status, kind)
    if fetched.source is not None:
        source = fetched.source
        source.close()
        return source.status, source.header_items
    best = best_reply(fetched.replies)
    if best is None:
        return 503, []
    return best.status, best.headers


def account_info(app: Any, environ: dict[str, Any], account: str) -> dict[str, Any]:
    key = account_key(account)
    info = _lookup(app, environ, key)
    if info is None:
        part = app.account_ring.get_part(account)
        status, headers = _head(app, environ, app.account_ring, part, f"/{account}", "Account")
        info = account_info_from(status, headers)
        remember(app, environ, key, info, app.options.recheck_account_existence)
    return info


def container_info(
    app: Any, environ: dict[str, Any], account: str, container: str
) -> dict[str, Any]:
    key = container_key(account, container)
    info = _lookup(app, environ, key)
    if info is None:
        part = app.container_ring.get_part(account, container)
        path = f"/{account}/{container}"
        status, headers = _head(app, environ, app.container_ring, part, path, "Container")
        info = container_info_from(status, headers)
        remember(app, environ, key, info, app.options.recheck_container_existence)
    return info


def clear_info(
    app: Any, environ: dict[str, Any], account: str, container: str | None = None
) -> None:
    """Forget what this proxy knows of an account (and container) after writing to it."""
    keys = [account_key(account)]
    if container is not None:
        keys.append(container_key(account, container))
    memo = _memo(environ)
    cache = app.cache(environ)
    for key in keys:
        memo.pop(key, None)
        cache.delete(key)


def autocreate_account(app: Any, environ: dict[str, Any], account: str) -> bool:
    """Create ``account`` on its replicas; True when a quorum said 2xx."""
    part, nodes = app.account_ring.get_nodes(account)
    headers = {
        "X-Timestamp": Timestamp.now().internal,
        "X-Trans-Id": environ.get("swiftlite.trans_id", ""),
    }
    replies = fan_out(
        app.backend,
        app.account_ring,
        part,
        "PUT",
        f"/{account}",
        [headers] * len(nodes),
        server_type="Account",
    )
    best = best_reply(replies)
    clear_info(app, environ, account)
    if best is not None and is_success(best.status):
        app.logger.info("autocreated account %r", account)
        return True
    app.logger.warning("could not autocreate account %r: %s", account, [r.status for r in replies])
    return False
