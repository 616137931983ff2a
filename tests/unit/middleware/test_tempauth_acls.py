"""tempauth's authorization rules: container ACLs, service tokens and account ACLs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from webob import Request

from swiftlite.common.errors import ConfigError
from swiftlite.middleware.tempauth import (
    filter_factory,
    parse_users,
)
from tests.unit.middleware.stub_proxy import StubProxy
from tests.unit.middleware.tempauth_env import (
    TESTER,
    TESTER2,
    TESTER3,
    Cluster,
    set_read_acl,
    shared_cluster,
)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def shared() -> Cluster:
    """test:tester has made AUTH_test/c with object o."""
    return shared_cluster()


# -- container ACLs -------------------------------------------------------------------------------
def test_non_admin_without_acl_is_403(shared: Cluster) -> None:
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER3).status_int == 403
    assert shared.request("/v1/AUTH_test/c", as_user=TESTER3).status_int == 403
    assert shared.request("/v1/AUTH_test", as_user=TESTER3).status_int == 403
    assert shared.request("/v1/AUTH_test/d", "PUT", as_user=TESTER3).status_int == 403


def test_read_acl_naming_user_allows_read_not_write(shared: Cluster) -> None:
    set_read_acl(shared, "test:tester3")
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER3).body == b"data"
    assert shared.request("/v1/AUTH_test/c", as_user=TESTER3).status_int == 200
    assert "swiftlite.owner" not in shared.stub.seen_environs[-1]
    resp = shared.request("/v1/AUTH_test/c/o2", "PUT", body=b"x", as_user=TESTER3)
    assert resp.status_int == 403


def test_read_acl_naming_account_allows_its_users(shared: Cluster) -> None:
    set_read_acl(shared, "test2")
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER2).status_int == 200


def test_write_acl_allows_object_put_not_read(shared: Cluster) -> None:
    set_read_acl(shared, "test:tester3", header="X-Container-Write")
    resp = shared.request("/v1/AUTH_test/c/o2", "PUT", body=b"x", as_user=TESTER3)
    assert resp.status_int == 201
    assert shared.request("/v1/AUTH_test/c/o2", as_user=TESTER3).status_int == 403
    assert shared.request("/v1/AUTH_test/c", "DELETE", as_user=TESTER3).status_int == 403


def test_public_read_acl_allows_anonymous_object_get_not_listing(shared: Cluster) -> None:
    set_read_acl(shared, ".r:*")
    assert shared.request("/v1/AUTH_test/c/o").body == b"data"
    assert shared.request("/v1/AUTH_test/c/o", "HEAD").status_int == 200
    assert shared.request("/v1/AUTH_test/c").status_int == 401
    assert shared.request("/v1/AUTH_test/c", as_user=TESTER3).status_int == 403


def test_rlistings_allows_anonymous_listing(shared: Cluster) -> None:
    set_read_acl(shared, ".r:*,.rlistings")
    resp = shared.request("/v1/AUTH_test/c")
    assert resp.status_int == 200
    assert resp.body == b"o\n"
    assert "X-Container-Read" not in resp.headers


def test_referrer_acl_matches_referer_host(shared: Cluster) -> None:
    set_read_acl(shared, ".r:.example.com,.r:-bad.example.com")
    ok = shared.request("/v1/AUTH_test/c/o", headers={"Referer": "http://www.example.com/x"})
    assert ok.status_int == 200
    bad = shared.request("/v1/AUTH_test/c/o", headers={"Referer": "http://bad.example.com/"})
    assert bad.status_int == 401
    assert shared.request("/v1/AUTH_test/c/o").status_int == 401


def test_anonymous_object_write_is_401_before_proxy(shared: Cluster) -> None:
    set_read_acl(shared, ".r:*")
    calls = len(shared.stub.calls)
    for method in ("PUT", "POST", "DELETE"):
        assert shared.request("/v1/AUTH_test/c/o", method).status_int == 401
    assert len(shared.stub.calls) == calls


def test_options_passes_without_token(shared: Cluster) -> None:
    shared.request("/v1/AUTH_test/c/o", "OPTIONS")
    assert shared.stub.calls[-1][0] == "OPTIONS"


@pytest.mark.parametrize(
    "header",
    [
        "X-Container-Read",
        "X-Container-Write",
        "X-Container-Sync-Key",
        "X-Container-Sync-To",
        "X-Container-Meta-Temp-URL-Key",
        "X-Container-Meta-Temp-URL-Key-2",
    ],
)
def test_owner_only_header_from_non_owner_is_dropped_not_403(shared: Cluster, header: str) -> None:
    acl = json.dumps({"read-write": ["test:tester3"]})
    shared.request("/v1/AUTH_test", "POST", {"X-Account-Access-Control": acl}, as_user=TESTER)
    headers = {header: ".r:*", "X-Container-Meta-Color": "blue"}
    resp = shared.request("/v1/AUTH_test/c", "POST", headers, as_user=TESTER3)
    assert resp.status_int == 204
    assert shared.stub.calls[-1][0] == "POST"  # the rest of the request went on
    stored = {k.lower() for k in shared.stub.containers[("AUTH_test", "c")]}
    assert header.lower() not in stored
    plain = shared.request("/v1/AUTH_test/d", "PUT", as_user=TESTER3)
    assert plain.status_int == 201


def test_remove_owner_header_from_non_owner_is_dropped(shared: Cluster) -> None:
    set_read_acl(shared, "test:tester3")
    acl = json.dumps({"read-write": ["test:tester3"]})
    shared.request("/v1/AUTH_test", "POST", {"X-Account-Access-Control": acl}, as_user=TESTER)
    headers = {"X-Remove-Container-Read": "x"}
    assert shared.request("/v1/AUTH_test/c", "POST", headers, as_user=TESTER3).status_int == 204
    assert shared.stub.calls[-1][0] == "POST"
    assert "X-Remove-Container-Read" not in shared.stub.last_headers


# -- service tokens -------------------------------------------------------------------------------
SERVICE_USERS = {
    "user_test_tester": "testing .admin",
    "user_test5_tester5": "testing5 service",
    "user_admin_admin": "admin .admin .reseller_admin",
}


@pytest.fixture
def service() -> Cluster:
    users = dict(SERVICE_USERS)
    c = Cluster(users, reseller_prefix="AUTH, SERVICE")
    c.auth.require_groups = {"SERVICE_": "service"}
    return c


def test_admin_owns_every_prefixs_account_of_its_user() -> None:
    user = parse_users({"user_test_tester": "testing .admin"}, "AUTH_")["test:tester"]
    assert user.groups(("AUTH_", "SERVICE_")) == (
        "test",
        "test:tester",
        "AUTH_test",
        "SERVICE_test",
    )


def test_service_account_without_service_token_is_403(service: Cluster) -> None:
    assert service.request("/v1/AUTH_test/c", "PUT", as_user=TESTER).status_int == 201
    assert service.request("/v1/SERVICE_test/c", "PUT", as_user=TESTER).status_int == 403


def test_service_token_adds_the_service_group(service: Cluster) -> None:
    token = service.token("test5:tester5", "testing5")
    headers = {"X-Service-Token": token}
    resp = service.request("/v1/SERVICE_test/c", "PUT", headers, as_user=TESTER)
    assert resp.status_int == 201


def test_service_token_alone_owns_nothing(service: Cluster) -> None:
    token = service.token("test5:tester5", "testing5")
    resp = service.request("/v1/SERVICE_test/c", "PUT", {"X-Auth-Token": token})
    assert resp.status_int == 403


def test_invalid_service_token_adds_nothing(service: Cluster) -> None:
    headers = {"X-Service-Token": "AUTH_tk" + "00" * 60}
    resp = service.request("/v1/SERVICE_test/c", "PUT", headers, as_user=TESTER)
    assert resp.status_int == 403


def test_require_group_options_parse_per_prefix() -> None:
    from swiftlite.middleware.tempauth import parse_require_groups

    got = parse_require_groups({"SERVICE_require_group": "service"}, ("AUTH_", "SERVICE_"))
    assert got == {"SERVICE_": "service"}
    with pytest.raises(ConfigError):
        parse_require_groups({"OTHER_require_group": "x"}, ("AUTH_",))


def test_filter_factory_reads_reseller_prefixes_and_require_group() -> None:
    make = filter_factory(
        {}, reseller_prefix="AUTH, SERVICE", SERVICE_require_group="service", **SERVICE_USERS
    )
    mw = make(StubProxy())
    assert mw.prefixes == ("AUTH_", "SERVICE_")
    assert mw.require_groups == {"SERVICE_": "service"}


def test_container_acl_from_owner_is_cleaned(shared: Cluster) -> None:
    set_read_acl(shared, " .referrer : *.example.com , test:tester3 ,, .rlistings ")
    stored = shared.stub.containers[("AUTH_test", "c")]["X-Container-Read"]
    assert stored == ".r:.example.com,test:tester3,.rlistings"
    resp = shared.request("/v1/AUTH_test/c", "HEAD", as_user=TESTER)
    assert resp.headers["X-Container-Read"] == stored


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Container-Write", ".r:*"), ("X-Container-Read", ".r:"), ("X-Container-Read", ".x:y")],
)
def test_container_acl_invalid_is_400(shared: Cluster, header: str, value: str) -> None:
    resp = shared.request("/v1/AUTH_test/c", "POST", {header: value}, as_user=TESTER)
    assert resp.status_int == 400


# -- account ACLs ---------------------------------------------------------------------------------
def set_account_acl(cluster: Cluster, acl: dict) -> Any:
    headers = {"X-Account-Access-Control": json.dumps(acl)}
    return cluster.request("/v1/AUTH_test", "POST", headers, as_user=TESTER)


@pytest.mark.parametrize(
    "value", ["not json", "[1]", '{"owner": ["x"]}', '{"admin": "x"}', '{"admin": [1]}']
)
def test_account_acl_invalid_is_400(cluster: Cluster, value: str) -> None:
    headers = {"X-Account-Access-Control": value}
    resp = cluster.request("/v1/AUTH_test", "POST", headers, as_user=TESTER)
    assert resp.status_int == 400
    assert b"X-Account-Access-Control invalid" in resp.body


def test_account_acl_stored_as_sysmeta_and_shown_only_to_owner(shared: Cluster) -> None:
    assert set_account_acl(shared, {"read-only": ["test:tester3"]}).status_int == 204
    stored = shared.stub.accounts["AUTH_test"]
    assert stored["X-Account-Sysmeta-Core-Access-Control"] == '{"read-only":["test:tester3"]}'
    assert "X-Account-Access-Control" not in stored
    owner_view = shared.request("/v1/AUTH_test", "HEAD", as_user=TESTER)
    assert owner_view.headers["X-Account-Access-Control"] == '{"read-only":["test:tester3"]}'
    assert "X-Account-Sysmeta-Core-Access-Control" not in owner_view.headers
    reader_view = shared.request("/v1/AUTH_test", "HEAD", as_user=TESTER3)
    assert reader_view.status_int == 200
    assert "X-Account-Access-Control" not in reader_view.headers


def test_account_acl_from_non_owner_is_403(shared: Cluster) -> None:
    set_account_acl(shared, {"read-write": ["test:tester3"]})
    headers = {"X-Account-Access-Control": json.dumps({"admin": ["test:tester3"]})}
    resp = shared.request("/v1/AUTH_test", "POST", headers, as_user=TESTER3)
    assert resp.status_int == 403


def test_account_acl_read_only_allows_reads_only(shared: Cluster) -> None:
    set_account_acl(shared, {"read-only": ["test:tester3"]})
    assert shared.request("/v1/AUTH_test", as_user=TESTER3).body == b"c\n"
    assert shared.request("/v1/AUTH_test/c", as_user=TESTER3).status_int == 200
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER3).body == b"data"
    resp = shared.request("/v1/AUTH_test/c/o", "PUT", body=b"x", as_user=TESTER3)
    assert resp.status_int == 403
    assert shared.request("/v1/AUTH_test/d", "PUT", as_user=TESTER3).status_int == 403


def test_account_acl_read_write_allows_containers_not_account_writes(shared: Cluster) -> None:
    set_account_acl(shared, {"read-write": ["test"]})
    assert shared.request("/v1/AUTH_test/d", "PUT", as_user=TESTER3).status_int == 201
    resp = shared.request("/v1/AUTH_test/c/o", "PUT", body=b"y", as_user=TESTER3)
    assert resp.status_int == 201
    assert shared.request("/v1/AUTH_test", as_user=TESTER3).status_int == 200
    assert shared.request("/v1/AUTH_test", "POST", as_user=TESTER3).status_int == 403


def test_account_acl_admin_makes_user_owner(shared: Cluster) -> None:
    set_account_acl(shared, {"admin": ["test:tester3"]})
    resp = shared.request("/v1/AUTH_test/c", "POST", {"X-Container-Read": ".r:*"}, as_user=TESTER3)
    assert resp.status_int == 204
    assert shared.stub.seen_environs[-1]["swiftlite.owner"] is True
    view = shared.request("/v1/AUTH_test", "HEAD", as_user=TESTER3)
    assert "X-Account-Access-Control" in view.headers


def test_account_acl_lookup_is_override_subrequest_and_cached(shared: Cluster) -> None:
    set_account_acl(shared, {"read-only": ["test:tester3"]})
    shared.stub.calls.clear()
    shared.request("/v1/AUTH_test/c/o", as_user=TESTER3)
    shared.request("/v1/AUTH_test/c/o", as_user=TESTER3)
    lookups = [c for c in shared.stub.calls if c[2] == "tempauth"]
    assert lookups == [("HEAD", "/v1/AUTH_test", "tempauth")]
    sub_env = next(e for e in shared.stub.seen_environs if e.get("swiftlite.source"))
    assert sub_env["swiftlite.authorize_override"] is True


def test_account_acl_change_applies_at_once(shared: Cluster) -> None:
    set_account_acl(shared, {"read-only": ["test:tester3"]})
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER3).status_int == 200
    assert set_account_acl(shared, {}).status_int == 204
    assert "X-Account-Sysmeta-Core-Access-Control" not in shared.stub.accounts["AUTH_test"]
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER3).status_int == 403


def test_authorize_override_skips_auth(cluster: Cluster) -> None:
    req = Request.blank("/v1/AUTH_test", environ={"swiftlite.authorize_override": True})
    assert req.get_response(cluster.auth).status_int == 204
    assert "swiftlite.authorize" not in cluster.stub.seen_environs[-1]


def test_client_sysmeta_is_stripped_before_tempauth(cluster: Cluster) -> None:
    headers = {"X-Account-Sysmeta-Core-Access-Control": '{"admin":["test:tester3"]}'}
    cluster.request("/v1/AUTH_test", "POST", headers, as_user=TESTER)
    assert cluster.stub.accounts["AUTH_test"] == {}
