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
KEPT = ["X-Object-Meta-Color", "X-Container-Read", "X-Auth-Token"]


class Echo:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.headers = dict(Request(environ).headers)
        resp = Response(status=200, headers={h: "v" for h in [*INTERNAL, *KEPT, "X-Timestamp"]})
        return resp(environ, start_response)


def test_request_internal_headers_are_removed_others_kept() -> None:
    echo = Echo()
    req = Request.blank("/v1/a/c/o", headers={h: "client" for h in INTERNAL + KEPT})
    req.get_response(GatekeeperMiddleware(echo, GatekeeperOptions()))
    assert not [h for h in INTERNAL if h in echo.headers]
    assert all(echo.headers[h] == "client" for h in KEPT)


def test_client_x_timestamp_is_moved_aside_not_passed_on() -> None:
    echo = Echo()
    headers = {"X-Timestamp": "99999999999.99999", "X-Backend-Inbound-X-Timestamp": "forged"}
    Request.blank("/v1/a/c/o", headers=headers).get_response(
        GatekeeperMiddleware(echo, GatekeeperOptions())
    )
    assert "X-Timestamp" not in echo.headers
    assert echo.headers["X-Backend-Inbound-X-Timestamp"] == "99999999999.99999"


def test_x_timestamp_shunt_can_be_turned_off() -> None:
    echo = Echo()
    app = filter_factory({}, shunt_inbound_x_timestamp="false")(echo)
    Request.blank("/v1/a/c/o", headers={"X-Timestamp": "1"}).get_response(app)
    assert echo.headers["X-Timestamp"] == "1"


def test_response_x_timestamp_reaches_the_client() -> None:
    resp = Request.blank("/").get_response(filter_factory({})(Echo()))
    assert resp.headers["X-Timestamp"] == "v"


def test_response_internal_headers_are_removed_others_kept() -> None:
    resp = Request.blank("/").get_response(filter_factory({})(Echo()))
    assert not [h for h in INTERNAL if h in resp.headers]
    assert all(resp.headers[h] == "v" for h in KEPT)
