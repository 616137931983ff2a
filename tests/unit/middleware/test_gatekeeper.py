"""gatekeeper: internal headers never cross the client boundary, in either direction."""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.middleware.gatekeeper import GatekeeperMiddleware, GatekeeperOptions, filter_factory

INTERNAL = [
    "X-Backend-Storage-Policy-Index",
    "X-Account-Sysmeta-Core-Access-Control",
    "X-Container-Sysmeta-Thing",
    "X-Object-Sysmeta-Crypto",
    "X-Object-Transient-Sysmeta-Crypto-Meta",
]
KEPT = ["X-Object-Meta-Color", "X-Container-Read", "X-Timestamp", "X-Auth-Token"]


class Echo:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.headers = dict(Request(environ).headers)
        resp = Response(status=200, headers={h: "v" for h in INTERNAL + KEPT})
        return resp(environ, start_response)


def test_request_internal_headers_are_removed_others_kept() -> None:
    echo = Echo()
    req = Request.blank("/v1/a/c/o", headers={h: "client" for h in INTERNAL + KEPT})
    req.get_response(GatekeeperMiddleware(echo, GatekeeperOptions()))
    assert not [h for h in INTERNAL if h in echo.headers]
    assert all(echo.headers[h] == "client" for h in KEPT)


def test_response_internal_headers_are_removed_others_kept() -> None:
    resp = Request.blank("/").get_response(filter_factory({})(Echo()))
    assert not [h for h in INTERNAL if h in resp.headers]
    assert all(resp.headers[h] == "v" for h in KEPT)
