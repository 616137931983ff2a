"""The proxy's own answers, byte for byte where clients look: paths, methods, error shapes,
listing parameters, timestamps, owner-only headers (issue 12). Backends are unreachable here,
so every answer shown is decided by the proxy itself."""

from __future__ import annotations

import pytest
from webob import Request

from swiftlite.common import errors
from swiftlite.proxy import responses
from swiftlite.proxy.controllers.base import Controller
from swiftlite.proxy.controllers.obj import KEEP_X_TIMESTAMP, ObjectController, parse_length
from swiftlite.proxy.server import ProxyApp, ProxyOptions
from tests.unit.proxy.test_proxy_app import DeadRing, _closed_port

HTML = "text/html; charset=UTF-8"


@pytest.fixture
def app() -> ProxyApp:
    ring = DeadRing(_closed_port())
    options = ProxyOptions(account_autocreate=True, post_quorum_timeout=0.01)
    return ProxyApp(options, rings={"account": ring, "container": ring, "object": ring})


def _call(app: ProxyApp, path: str, method: str = "GET", query: str = "", **environ):
    req = Request.blank("/", environ={"REQUEST_METHOD": method, **environ})
    req.environ["PATH_INFO"] = path  # raw WSGI form: one code point per byte
    req.environ["QUERY_STRING"] = query
    return req.get_response(app)


def _denying_authorize(req: Request):
    return responses.error(401)


# -- paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/v1/AUTH_test2/c/\xff",  # a raw 0xff byte
        "/v1/AUTH_test2/c/\xc0\xaf",  # overlong "/"
        "/v1/AUTH_test2/c/\xed\xa0\x80",  # a UTF-8 encoded surrogate
        "/v1/AUTH_test2/c/\xc3",  # a truncated sequence
        "/v1/AUTH_test2/c/\xe5\x98",  # U+5605 missing its last byte
        "/v1/AUTH_test2/c/a\x00b",  # NUL
        "/v1/AUTH_\xff",
    ],
)
def test_path_not_utf8_or_with_nul_is_412_not_500(app, path):
    resp = _call(app, path, **{"swiftlite.authorize": _denying_authorize})
    assert resp.status_int == 412
    assert resp.body == b"Invalid UTF8 or contains NULL"
    assert resp.headers["Content-Type"] == HTML


@pytest.mark.parametrize("path", ["/v1//c/o", "/v1/AUTH_test//o", "//v1/AUTH_test", "/v1//"])
def test_empty_path_segment_is_404_before_auth(app, path):
    resp = _call(app, path, **{"swiftlite.authorize": _denying_authorize})
    assert resp.status_int == 404
    assert resp.headers["Content-Type"] == HTML
    assert resp.body == b"<html><h1>Not Found</h1><p>The resource could not be found.</p></html>"


@pytest.mark.parametrize("method", ["LICK", "GETorHEAD_base", "PATCH", "get"])
@pytest.mark.parametrize("path", ["/v1/AUTH_test", "/v1/AUTH_test/c", "/v1/AUTH_test/c/o"])
def test_unimplemented_method_is_405_with_allow_before_auth(app, method, path):
    resp = _call(app, path, method, **{"swiftlite.authorize": _denying_authorize})
    assert resp.status_int == 405
    assert "GET" in resp.headers["Allow"]
    assert resp.headers["Content-Type"] == HTML


# -- error shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 412, 413, 503])
def test_proxy_error_is_swob_html_not_text_plain(status):
    resp = responses.error(status)
    assert resp.headers["Content-Type"] == HTML
    assert resp.body.startswith(b"<html><h1>")
    assert resp.content_length == len(resp.body)


def test_error_with_message_keeps_the_message_as_body():
    resp = responses.error(412, "Bad URL")
    assert (resp.body, resp.headers["Content-Type"]) == (b"Bad URL", HTML)


def test_unhandled_exception_is_swob_500_without_detail(app, monkeypatch):
    def boom(self, req):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(ObjectController, "GET", boom)
    resp = _call(app, "/v1/AUTH_a/c/o")
    assert resp.status_int == 500
    assert b"secret" not in resp.body
    assert resp.headers["Content-Type"] == HTML


def test_relayed_delete_204_carries_swob_content_type(app):
    controller = Controller(app)
    req = Request.blank("/v1/a/c/o", method="DELETE")
    resp = controller.client_response(req, 204, "", [("Content-Type", "text/plain")])
    assert resp.headers["Content-Type"] == HTML
    assert resp.body == b""


def test_relayed_listing_200_keeps_its_own_content_type(app):
    controller = Controller(app)
    req = Request.blank("/v1/a/c", method="GET")
    resp = controller.client_response(req, 200, "", [("Content-Type", "application/json")], b"[]")
    assert resp.headers["Content-Type"] == "application/json"


def test_relayed_404_without_body_gets_the_not_found_page(app):
    controller = Controller(app)
    req = Request.blank("/v1/a/c/o", method="GET")
    resp = controller.client_response(req, 404, "", [("Content-Type", "text/plain")])
    assert resp.body.startswith(b"<html><h1>Not Found</h1>")


# -- listing parameters ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/AUTH_a", "/v1/AUTH_a/c"])
@pytest.mark.parametrize("key", ["format", "marker", "end_marker", "prefix", "delimiter"])
def test_listing_param_not_utf8_is_400_not_500(app, path, key):
    resp = _call(app, path, query=f"{key}=%ff")
    assert resp.status_int == 400
    assert resp.body == f'"{key}" parameter not valid UTF-8'.encode()


@pytest.mark.parametrize("path", ["/v1/AUTH_a", "/v1/AUTH_a/c"])
def test_listing_limit_superscript_two_is_not_500(app, path):
    assert _call(app, path, query="limit=%C2%B2").status_int != 500


@pytest.mark.parametrize("path", ["/v1/AUTH_a", "/v1/AUTH_a/c"])
def test_listing_limit_over_maximum_is_412(app, path):
    resp = _call(app, path, query="limit=10001")
    assert (resp.status_int, resp.body) == (412, b"Maximum limit is 10000")


@pytest.mark.parametrize("path", ["/v1/AUTH_a", "/v1/AUTH_a/c"])
def test_account_and_container_head_has_accept_ranges_and_zero_length(app, path):
    resp = _call(app, path, "HEAD")  # the backends are down: 503, still shaped
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Content-Length"] == "0"


# -- timestamps and lengths -----------------------------------------------------------------------
@pytest.mark.parametrize("given", ["99999999999.99999", "-1", "garbage", "1000000000.00000"])
def test_client_x_timestamp_is_never_the_write_stamp(given):
    req = Request.blank("/v1/a/c/o", method="PUT", headers={"X-Timestamp": given})
    stamp = ObjectController.request_timestamp(req)
    assert 1_700_000_000 < stamp.seconds < 9_999_999_999
    assert stamp.internal != given


def test_internal_caller_may_keep_its_x_timestamp():
    req = Request.blank("/v1/a/c/o", method="PUT", headers={"X-Timestamp": "1000000000.00000"})
    req.environ[KEEP_X_TIMESTAMP] = True
    assert ObjectController.request_timestamp(req).internal == "1000000000.00000"


@pytest.mark.parametrize("value", ["\u00b2", "5\x85", "1_0", "+5", "9" * 30])
def test_content_length_not_ascii_digits_is_400(value):
    req = Request.blank("/v1/a/c/o", method="PUT")
    req.environ["CONTENT_LENGTH"] = value
    with pytest.raises(errors.BadInput):
        parse_length(req)


# -- owner-only headers ---------------------------------------------------------------------------
def test_non_owner_container_write_drops_owner_headers(app):
    controller = Controller(app)
    headers = {
        "X-Container-Read": ".r:*",
        "X-Remove-Container-Write": "x",
        "X-Container-Meta-Temp-URL-Key": "k",
        "X-Container-Sync-Key": "s",
        "X-Container-Meta-Color": "blue",
    }
    req = Request.blank("/v1/a/c", method="POST", headers=headers)
    req.environ["swiftlite.authorize"] = lambda r: None  # an auth filter runs; not an owner
    sent = controller.transfer_headers(req, "container", {})
    assert {k.lower() for k in sent} == {"x-container-meta-color"}


def test_owner_container_write_keeps_owner_headers(app):
    controller = Controller(app)
    req = Request.blank("/v1/a/c", method="POST", headers={"X-Container-Read": ".r:*"})
    req.environ["swiftlite.authorize"] = lambda r: None
    req.environ["swiftlite.owner"] = True
    assert controller.transfer_headers(req, "container", {}) == {"X-Container-Read": ".r:*"}


def test_account_put_without_management_is_405_before_auth(app):
    resp = _call(app, "/v1/AUTH_test", "PUT", **{"swiftlite.authorize": _denying_authorize})
    assert resp.status_int == 405
    assert "PUT" not in resp.headers["Allow"]
