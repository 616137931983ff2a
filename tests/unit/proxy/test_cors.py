"""cors: origin checks, preflight answers, exposed headers, strict and non-strict modes."""

from __future__ import annotations

from types import SimpleNamespace

from webob import Request, Response

from swiftlite.proxy import cors
from swiftlite.proxy.info import INFOCACHE, container_key
from swiftlite.proxy.server import ProxyOptions


def controller(strict: bool = True, allow: tuple[str, ...] = (), expose: tuple[str, ...] = ()):
    options = ProxyOptions(
        strict_cors_mode=strict, cors_allow_origin=allow, cors_expose_headers=expose
    )
    return SimpleNamespace(
        app=SimpleNamespace(options=options),
        account="AUTH_t",
        container="c",
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
    )


def request(method: str, headers: dict[str, str], allow_origin: str | None = None) -> Request:
    meta_cors = {"allow_origin": allow_origin, "expose_headers": None, "max_age": None}
    info = {"status": 204, "meta": {}, "sysmeta": {}, "cors": meta_cors}
    return Request.blank(
        "/v1/AUTH_t/c/o",
        method=method,
        headers=headers,
        environ={INFOCACHE: {container_key("AUTH_t", "c"): info}},
    )


def test_proxy_wide_allow_origin_allows_without_container_metadata():
    req = request("OPTIONS", {"Origin": "http://a", "Access-Control-Request-Method": "GET"})
    assert cors.preflight(controller(), req).status_int == 401
    resp = cors.preflight(controller(allow=("http://a",)), req)
    assert resp.status_int == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "http://a"
    assert "Access-Control-Max-Age" not in resp.headers


def test_origin_with_control_characters_is_never_echoed():
    req = request("OPTIONS", {"Origin": "http://a\x01", "Access-Control-Request-Method": "GET"})
    assert cors.preflight(controller(allow=("*",)), req).status_int == 401


def test_non_strict_mode_adds_headers_for_any_origin():
    req = request("GET", {"Origin": "http://anyone"})
    strict = cors.actual(controller(), req, Response())
    assert "Access-Control-Allow-Origin" not in strict.headers
    loose = cors.actual(controller(strict=False, expose=("X-Extra",)), req, Response())
    assert loose.headers["Access-Control-Allow-Origin"] == "http://anyone"
    assert "x-extra" in loose.headers["Access-Control-Expose-Headers"].split(", ")


def test_request_without_origin_is_untouched():
    resp = cors.actual(controller(allow=("*",)), request("GET", {}), Response())
    assert "Access-Control-Allow-Origin" not in resp.headers
