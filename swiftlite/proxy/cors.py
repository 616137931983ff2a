"""cors: Cross-Origin Resource Sharing for container and object requests, as Swift's proxy.

Allowed origins are the container's ``X-Container-Meta-Access-Control-Allow-Origin`` (a
space-separated list, or ``*``) plus the proxy's ``cors_allow_origin`` option.

* ``preflight``: the controllers' ``OPTIONS``. Without ``Origin`` it is the plain ``Allow``
  answer. With one, it is 200 with ``Access-Control-Allow-Origin`` (``*`` when the container
  allows ``*``, else the origin echoed with ``Vary: Origin``), ``-Allow-Methods``, the
  requested ``-Allow-Headers`` and the container's ``-Max-Age`` when the origin is allowed
  and ``Access-Control-Request-Method`` is a method of the resource; otherwise 401.
* ``actual``: every other container/object answer to a request with ``Origin`` gets
  ``Access-Control-Allow-Origin`` and ``Access-Control-Expose-Headers`` (the simple response
  headers, ``etag``, ``x-timestamp``, ``x-trans-id``, ``x-openstack-request-id``, the
  proxy's ``cors_expose_headers``, every user metadata header of the answer and the
  container's ``X-Container-Meta-Access-Control-Expose-Headers``). With
  ``strict_cors_mode`` (the default) a refused origin gets none of them.

Client-supplied values echoed here (the origin, requested headers) are header-safe: an
``Origin`` that is not printable ASCII is never echoed.
"""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.proxy import info

SIMPLE_EXPOSED = (
    "cache-control",
    "content-language",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
    "etag",
    "x-timestamp",
    "x-trans-id",
    "x-openstack-request-id",
)


def _safe(value: str) -> bool:
    return bool(value) and all(" " <= ch <= "~" for ch in value)


def cors_info(controller: Any, req: Request) -> dict[str, Any]:
    """The container's ``cors`` info dict (keys may be None)."""
    found = info.container_info(
        controller.app, req.environ, controller.account, controller.container
    )
    return found.get("cors") or {}


def is_origin_allowed(app: Any, cors: dict[str, Any], origin: str) -> bool:
    allowed = set((cors.get("allow_origin") or "").split())
    allowed.update(app.options.cors_allow_origin)
    return origin in allowed or "*" in allowed


def _wildcard(cors: dict[str, Any]) -> bool:
    return (cors.get("allow_origin") or "").strip() == "*"


def _add_vary(headers: Any, name: str) -> None:
    current = headers.get("Vary")
    headers["Vary"] = f"{current}, {name}" if current else name


def preflight(controller: Any, req: Request) -> Response:
    """The answer to ``OPTIONS`` on a container or object (see the module doc)."""
    methods = ", ".join(sorted(controller.allowed_methods))
    resp = Response(status=200, headers={"Allow": methods})
    origin = req.headers.get("Origin")
    if not origin:
        return resp
    cors = cors_info(controller, req)
    wanted = req.headers.get("Access-Control-Request-Method")
    if (
        not _safe(origin)
        or not is_origin_allowed(controller.app, cors, origin)
        or wanted not in controller.allowed_methods
    ):
        resp.status = 401
        return resp
    if _wildcard(cors):
        resp.headers["Access-Control-Allow-Origin"] = "*"
    else:
        resp.headers["Access-Control-Allow-Origin"] = origin
        _add_vary(resp.headers, "Origin")
    if cors.get("max_age") is not None:
        resp.headers["Access-Control-Max-Age"] = cors["max_age"]
    resp.headers["Access-Control-Allow-Methods"] = methods
    requested = req.headers.get("Access-Control-Request-Headers", "")
    asked = sorted({h.strip() for h in requested.split(",") if _safe(h.strip())})
    if asked:
        resp.headers["Access-Control-Allow-Headers"] = ", ".join(asked)
        _add_vary(resp.headers, "Access-Control-Request-Headers")
    return resp


def actual(controller: Any, req: Request, resp: Response) -> Response:
    """Add the CORS headers of an actual (non-preflight) request's answer."""
    origin = req.headers.get("Origin")
    if not origin or req.method == "OPTIONS" or not _safe(origin):
        return resp
    cors = cors_info(controller, req)
    options = controller.app.options
    if options.strict_cors_mode and not is_origin_allowed(controller.app, cors, origin):
        return resp
    if "Access-Control-Expose-Headers" not in resp.headers:
        exposed = set(SIMPLE_EXPOSED)
        exposed.update(h.lower() for h in options.cors_expose_headers)
        for name in resp.headers:
            low = name.lower()
            if low.startswith(("x-container-meta-", "x-object-meta-")):
                exposed.add(low)
        exposed.update(h.lower() for h in (cors.get("expose_headers") or "").split())
        resp.headers["Access-Control-Expose-Headers"] = ", ".join(sorted(exposed))
    if "Access-Control-Allow-Origin" not in resp.headers:
        if _wildcard(cors):
            resp.headers["Access-Control-Allow-Origin"] = "*"
        else:
            resp.headers["Access-Control-Allow-Origin"] = origin
            _add_vary(resp.headers, "Origin")
    return resp
