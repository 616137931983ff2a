"""account_quotas: reseller-only quota headers; 413 at exactly the byte, the count, per policy."""

from __future__ import annotations

import pytest
from webob import Request, Response

from swiftlite.middleware.account_quotas import AccountQuotasMiddleware, AccountQuotasOptions
from tests.unit.middleware.guard_backend import InfoProxy

RESELLER = {"swiftlite.reseller_request": True}
HOSTILE = [
    "-1",
    "+5",
    " 5",
    "1.5",
    "\u0663",
    "\u00b2",
    "0x10",
    "1" * 20,
    "abc",
    "9223372036854775808",
]
POLICIES = [(0, "gold"), (1, "Silver")]


def _filter(account: dict[str, str] | None = None, policy: str = "0"):
    backend = InfoProxy()
    headers = {"X-Account-Bytes-Used": "90", "X-Account-Object-Count": "9"}
    headers.update(account or {})
    backend.accounts["AUTH_a"] = headers
    backend.containers[("AUTH_a", "c")] = {"X-Backend-Storage-Policy-Index": policy}
    app = AccountQuotasMiddleware(backend, AccountQuotasOptions(), policies=lambda: POLICIES)
    return app, backend


def _put(app, size: int, **environ):
    req = Request.blank("/v1/AUTH_a/c/o", method="PUT", body=b"x" * size)
    req.environ.update(environ)
    return req.get_response(app)


def _account_post(app, headers: dict[str, str], **environ):
    req = Request.blank("/v1/AUTH_a", method="POST", headers=headers)
    req.environ.update(environ)
    return req.get_response(app)


@pytest.mark.parametrize(
    ("stored", "size", "status"),
    [
        ({"X-Account-Sysmeta-Quota-Bytes": "100"}, 10, 201),
        ({"X-Account-Sysmeta-Quota-Bytes": "100"}, 11, 413),
        ({"X-Account-Meta-Quota-Bytes": "100"}, 10, 201),  # the legacy form is honoured
        ({"X-Account-Meta-Quota-Bytes": "100"}, 11, 413),
        ({"X-Account-Sysmeta-Quota-Bytes": "200", "X-Account-Meta-Quota-Bytes": "100"}, 50, 201),
    ],
)
def test_put_bytes_quota_is_met_at_the_byte_and_413_past_it(stored, size, status):
    app, _ = _filter(stored)
    resp = _put(app, size)
    assert resp.status_int == status
    if status == 413:
        assert resp.body == b"Upload exceeds quota."


@pytest.mark.parametrize(("quota", "status"), [("10", 201), ("9", 413)])
def test_put_count_quota_is_met_at_the_count_and_413_past_it(quota, status):
    app, _ = _filter({"X-Account-Sysmeta-Quota-Count": quota})
    assert _put(app, 0).status_int == status


def test_reseller_is_not_held_to_quotas():
    app, _ = _filter({"X-Account-Sysmeta-Quota-Bytes": "0"})
    assert _put(app, 5, **RESELLER).status_int == 201


def test_over_quota_denial_comes_first():
    app, _ = _filter({"X-Account-Sysmeta-Quota-Bytes": "0"})
    assert (
        _put(app, 1, **{"swiftlite.authorize": lambda req: Response(status=401)}).status_int == 401
    )
    assert _put(app, 1, **{"swiftlite.authorize": lambda req: None}).status_int == 413


@pytest.mark.parametrize(
    ("stats", "quota", "size", "status"),
    [
        ("gold", "X-Account-Sysmeta-Quota-Bytes-Policy-0", 10, 201),
        ("gold", "X-Account-Sysmeta-Quota-Bytes-Policy-0", 11, 413),
        ("gold", "X-Account-Sysmeta-Quota-Count-Policy-0", 0, 413),  # 5 objects, quota 5
        ("gold", "X-Account-Sysmeta-Quota-Bytes-Policy-1", 11, 201),  # another policy's quota
    ],
)
def test_policy_quota_uses_the_policy_usage(stats, quota, size, status):
    value = "5" if "Count" in quota else "100"
    app, _ = _filter(
        {
            f"X-Account-Storage-Policy-{stats.title()}-Bytes-Used": "90",
            f"X-Account-Storage-Policy-{stats.title()}-Object-Count": "5",
            quota: value,
        }
    )
    resp = _put(app, size)
    assert resp.status_int == status
    if status == 413:
        assert resp.body == b"Upload exceeds policy quota."


def test_policy_quota_follows_the_container_policy():
    stored = {
        "X-Account-Storage-Policy-Silver-Bytes-Used": "100",
        "X-Account-Sysmeta-Quota-Bytes-Policy-1": "100",
    }
    app, _ = _filter(stored, policy="1")
    assert _put(app, 1).status_int == 413
    app, _ = _filter(stored, policy="0")
    assert _put(app, 1).status_int == 201


@pytest.mark.parametrize(
    "header",
    [
        "X-Account-Quota-Bytes",
        "X-Account-Quota-Count",
        "X-Account-Meta-Quota-Bytes",
        "X-Remove-Account-Quota-Bytes",
        "X-Remove-Account-Meta-Quota-Bytes",
        "X-Account-Quota-Bytes-Policy-gold",
        "X-Remove-Account-Quota-Count-Policy-Silver",
    ],
)
def test_owner_may_not_set_quotas(header):
    app, backend = _filter()
    resp = _account_post(app, {header: "5"}, **{"swiftlite.owner": True})
    assert resp.status_int == 403
    assert not backend.writes


def test_owner_may_post_other_account_metadata():
    app, _backend = _filter()
    assert _account_post(app, {"X-Account-Meta-Color": "red"}).status_int == 201


def test_reseller_sets_quotas_as_sysmeta():
    app, backend = _filter()
    headers = {
        "X-Account-Quota-Bytes": "1000",
        "X-Account-Quota-Count": "7",
        "X-Account-Quota-Bytes-Policy-gold": "500",
        "X-Account-Quota-Count-Policy-Silver": "3",
    }
    assert _account_post(app, headers, **RESELLER).status_int == 201
    sent = backend.writes[-1][2]
    assert sent["X-Account-Sysmeta-Quota-Bytes"] == "1000"
    assert sent["X-Account-Sysmeta-Quota-Count"] == "7"
    assert sent["X-Account-Sysmeta-Quota-Bytes-Policy-0"] == "500"
    assert sent["X-Account-Sysmeta-Quota-Count-Policy-1"] == "3"
    assert "X-Account-Quota-Bytes-Policy-gold" not in sent


def test_reseller_legacy_header_sets_the_quota_and_stays_metadata():
    app, backend = _filter()
    assert _account_post(app, {"X-Account-Meta-Quota-Bytes": "42"}, **RESELLER).status_int == 201
    sent = backend.writes[-1][2]
    assert sent["X-Account-Sysmeta-Quota-Bytes"] == "42"
    assert sent["X-Account-Meta-Quota-Bytes"] == "42"


def test_reseller_remove_wins_over_a_value():
    app, backend = _filter()
    headers = {"X-Account-Quota-Bytes": "5", "X-Remove-Account-Quota-Bytes": "x"}
    assert _account_post(app, headers, **RESELLER).status_int == 201
    assert backend.writes[-1][2]["X-Account-Sysmeta-Quota-Bytes"] == ""


@pytest.mark.parametrize(
    "header",
    [
        "X-Account-Quota-Bytes",
        "X-Account-Quota-Count",
        "X-Account-Meta-Quota-Bytes",
        "X-Account-Quota-Bytes-Policy-gold",
    ],
)
@pytest.mark.parametrize("value", HOSTILE)
def test_reseller_quota_not_a_number_is_400(header, value):
    app, backend = _filter()
    assert _account_post(app, {header: value}, **RESELLER).status_int == 400
    assert not backend.writes


def test_account_head_shows_quotas_under_client_names():
    app, _backend = _filter(
        {
            "X-Account-Sysmeta-Quota-Bytes": "10",
            "X-Account-Sysmeta-Quota-Count": "3",
            "X-Account-Sysmeta-Quota-Bytes-Policy-1": "4",
        }
    )
    resp = Request.blank("/v1/AUTH_a", method="GET").get_response(app)
    assert resp.headers["X-Account-Quota-Bytes"] == "10"
    assert resp.headers["X-Account-Quota-Count"] == "3"
    assert resp.headers["X-Account-Quota-Bytes-Policy-Silver"] == "4"


def test_stored_quota_not_a_number_is_ignored():
    app, _ = _filter(
        {"X-Account-Sysmeta-Quota-Bytes": "\u0663", "X-Account-Sysmeta-Quota-Count": "-2"}
    )
    assert _put(app, 1000).status_int == 201


def test_quota_headers_on_container_requests_are_meaningless():
    app, _backend = _filter()
    req = Request.blank("/v1/AUTH_a/c", method="POST", headers={"X-Account-Quota-Bytes": "1"})
    assert req.get_response(app).status_int == 201
