"""tempauth: tokens, identity, and Swift's authorization rules, through a stand-in proxy."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.errors import ConfigError
from swiftlite.middleware.tempauth import (
    TokenSigner,
    User,
    filter_factory,
)
from tests.unit.middleware.stub_proxy import StubProxy
from tests.unit.middleware.tempauth_env import (
    RESELLER,
    TESTER,
    TESTER2,
    TESTER3,
    Cluster,
    default_users,
    shared_cluster,
)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


@pytest.fixture
def shared() -> Cluster:
    """test:tester has made AUTH_test/c with object o."""
    return shared_cluster()


# -- tokens --------------------------------------------------------------------------------------
def test_get_token_good_credentials_returns_url_and_token(cluster: Cluster) -> None:
    resp = cluster.request(
        "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    )
    assert resp.status_int == 200
    assert resp.headers["X-Storage-Url"] == "http://localhost/v1/AUTH_test"
    token = resp.headers["X-Auth-Token"]
    assert token.startswith("AUTH_tk")
    assert all(c in "0123456789abcdef" for c in token[7:])
    assert resp.headers["X-Storage-Token"] == token
    assert resp.headers["X-Auth-Token-Expires"] == "86400"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/auth/v1.0", {"X-Storage-User": "test:tester", "X-Storage-Pass": "testing"}),
        ("/auth/auth", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}),
        ("/auth/v1/test/auth", {"X-Storage-User": "tester", "X-Storage-Pass": "testing"}),
        ("/auth/v1/test/auth", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}),
    ],
)
def test_get_token_other_forms_succeed(cluster: Cluster, path: str, headers: dict) -> None:
    resp = cluster.request(path, headers=headers)
    assert resp.status_int == 200
    assert resp.headers["X-Storage-Url"].endswith("/v1/AUTH_test")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "wrong"}),
        ("/auth/v1.0", {"X-Auth-User": "test:nobody", "X-Auth-Key": "testing"}),
        ("/auth/v1.0", {"X-Auth-User": "tester", "X-Auth-Key": "testing"}),
        ("/auth/v1.0", {}),
        ("/auth/v1/test2/auth", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}),
    ],
)
def test_get_token_bad_credentials_is_401_with_realm(
    cluster: Cluster, path: str, headers: dict
) -> None:
    resp = cluster.request(path, headers=headers)
    assert resp.status_int == 401
    assert resp.headers["Www-Authenticate"].startswith("Swift realm=")
    assert "X-Auth-Token" not in resp.headers


def test_get_token_post_is_405(cluster: Cluster) -> None:
    resp = cluster.request("/auth/v1.0", "POST", {"X-Auth-User": "test:tester"})
    assert resp.status_int == 405


def test_get_token_unknown_auth_path_is_400(cluster: Cluster) -> None:
    assert cluster.request("/auth/v2/whatever").status_int == 400


def test_get_token_twice_reuses_cached_token(cluster: Cluster) -> None:
    hdrs = {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    first = cluster.request("/auth/v1.0", headers=hdrs)
    cluster.clock.now += 100
    second = cluster.request("/auth/v1.0", headers=hdrs)
    assert second.headers["X-Auth-Token"] == first.headers["X-Auth-Token"]
    assert second.headers["X-Auth-Token-Expires"] == "86300"


def test_get_token_https_scheme_option_rewrites_url() -> None:
    cluster = Cluster(storage_url_scheme="https")
    resp = cluster.request(
        "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    )
    assert resp.headers["X-Storage-Url"] == "https://localhost/v1/AUTH_test"


def test_get_token_configured_url_is_returned() -> None:
    cluster = Cluster({"user_test_tester": "testing .admin http://example.com:8080/v1/AUTH_test"})
    resp = cluster.request(
        "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    )
    assert resp.headers["X-Storage-Url"] == "http://example.com:8080/v1/AUTH_test"


def test_token_from_other_worker_with_same_secret_is_accepted(cluster: Cluster) -> None:
    token = cluster.token(*TESTER)
    other = Cluster()  # a second process: separate cache, same cluster hash secret
    resp = other.request("/v1/AUTH_test", "HEAD", {"X-Auth-Token": token})
    assert resp.status_int == 204


def test_token_with_other_secret_is_401(cluster: Cluster) -> None:
    token = cluster.token(*TESTER)
    other = Cluster(token_secret="something else")  # noqa: S106
    assert other.request("/v1/AUTH_test", "HEAD", {"X-Auth-Token": token}).status_int == 401


def test_token_after_expiry_is_401(cluster: Cluster) -> None:
    token = cluster.token(*TESTER)
    cluster.clock.now += 86401
    resp = cluster.request("/v1/AUTH_test", "HEAD", {"X-Auth-Token": token})
    assert resp.status_int == 401
    assert cluster.stub.calls == []


def test_token_after_key_change_is_401(cluster: Cluster) -> None:
    token = cluster.token(*TESTER)
    changed = Cluster({**default_users(), "user_test_tester": "newkey .admin"})
    assert changed.request("/v1/AUTH_test", "HEAD", {"X-Auth-Token": token}).status_int == 401


def test_token_after_admin_revoked_is_401(cluster: Cluster) -> None:
    token = cluster.token(*TESTER)
    demoted = Cluster({**default_users(), "user_test_tester": "testing"})
    assert demoted.request("/v1/AUTH_test", "HEAD", {"X-Auth-Token": token}).status_int == 401


def test_invalid_token_is_401_before_proxy(cluster: Cluster) -> None:
    resp = cluster.request("/v1/AUTH_test/c", "GET", {"X-Auth-Token": "AUTH_tkdeadbeef"})
    assert resp.status_int == 401
    assert resp.headers["Www-Authenticate"] == 'Swift realm="AUTH_test"'
    assert cluster.stub.calls == []


def test_token_of_our_prefix_without_tk_marker_is_401_not_anonymous(cluster: Cluster) -> None:
    resp = cluster.request("/v1/AUTH_test/c", "GET", {"X-Auth-Token": "AUTH_deadbeef"})
    assert resp.status_int == 401
    assert cluster.stub.calls == []


@settings(deadline=None, max_examples=40)
@given(
    account=st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=12),
    name=st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=12),
    expires=st.integers(min_value=1_700_000_001, max_value=2**40),
    flip=st.integers(min_value=0, max_value=10_000),
)
def test_token_verify_roundtrip_and_any_flipped_digit_fails(
    account: str, name: str, expires: int, flip: int
) -> None:
    user = User(account, name, "key", f"$HOST/v1/AUTH_{account}", (".admin",))
    users = {user.ident: user}
    signer = TokenSigner(b"secret", "AUTH_")
    token = signer.issue(user, user.groups("AUTH_"), expires)
    assert signer.verify(token, users, "AUTH_", 1_700_000_000) == (
        user,
        user.groups("AUTH_"),
        expires,
    )
    pos = len("AUTH_tk") + flip % (len(token) - len("AUTH_tk"))
    digit = "0" if token[pos] != "0" else "1"
    tampered = token[:pos] + digit + token[pos + 1 :]
    assert signer.verify(tampered, users, "AUTH_", 1_700_000_000) is None


def test_a_remembered_token_still_expires_and_still_follows_the_users_config() -> None:
    """Fails if the per-worker memo of checked tokens outlives a token's expiry, or keeps a
    token good after the config gave its user another key (a reload's new User)."""
    user = User("test", "tester", "key", "$HOST/v1/AUTH_test", (".admin",))
    users = {user.ident: user}
    signer = TokenSigner(b"secret", "AUTH_")
    token = signer.issue(user, user.groups("AUTH_"), 1_700_000_100)
    assert signer.verify(token, users, "AUTH_", 1_700_000_000) is not None
    assert signer.verify(token, users, "AUTH_", 1_700_000_000) is not None  # remembered
    assert signer.verify(token, users, "AUTH_", 1_700_000_100) is None  # expired all the same
    rekeyed = User("test", "tester", "new key", "$HOST/v1/AUTH_test", (".admin",))
    assert signer.verify(token, users, "AUTH_", 1_700_000_000) is not None
    assert signer.verify(token, {user.ident: rekeyed}, "AUTH_", 1_700_000_000) is None


# -- owners ---------------------------------------------------------------------------------------
def test_request_without_token_on_account_is_401(cluster: Cluster) -> None:
    resp = cluster.request("/v1/AUTH_test")
    assert resp.status_int == 401
    assert cluster.stub.calls == []


def test_admin_creates_container_and_object(shared: Cluster) -> None:
    resp = shared.request("/v1/AUTH_test/c/o", as_user=TESTER)
    assert resp.status_int == 200
    assert resp.body == b"data"


def test_admin_of_other_account_is_403(shared: Cluster) -> None:
    assert shared.request("/v1/AUTH_test/c/o", as_user=TESTER2).status_int == 403
    assert shared.request("/v1/AUTH_test", as_user=TESTER2).status_int == 403


def test_account_put_by_account_admin_is_403(cluster: Cluster) -> None:
    assert cluster.request("/v1/AUTH_test", "PUT", as_user=TESTER).status_int == 403


def test_account_put_by_reseller_admin_succeeds(cluster: Cluster) -> None:
    assert cluster.request("/v1/AUTH_new", "PUT", as_user=RESELLER).status_int == 204
    assert cluster.stub.seen_environs[-1].get("swiftlite.owner") is True


def test_reseller_admin_on_dot_account_is_403(cluster: Cluster) -> None:
    assert cluster.request("/v1/AUTH_.hidden", as_user=RESELLER).status_int == 403


def test_account_outside_reseller_prefix_is_denied(cluster: Cluster) -> None:
    assert cluster.request("/v1/OTHER_test", as_user=RESELLER).status_int == 403
    assert cluster.request("/v1/OTHER_test").status_int == 401


def test_admin_request_sets_owner_and_remote_user(shared: Cluster) -> None:
    shared.request("/v1/AUTH_test/c", as_user=TESTER)
    environ = shared.stub.seen_environs[-1]
    assert environ["swiftlite.owner"] is True
    assert environ["swiftlite.remote_user"] == "test:tester"


# -- realm and response shapes ------------------------------------------------------------------
def test_www_authenticate_realm_cannot_split_the_response(cluster: Cluster) -> None:
    # /v1/AUTH_haxx"\nContent-Length: 14\n\n<b>Hello, as a WSGI path
    path = "/v1/AUTH_haxx%22%0AContent-Length%3A%2014%0A%0A%3Cb%3EHello"
    resp = cluster.request(path)
    assert resp.status_int == 401
    realm = resp.headers["Www-Authenticate"]
    assert realm == 'Swift realm="AUTH_haxx%22%0AContent-Length%3A%2014%0A%0A%3Cb%3EHello"'
    assert "\n" not in realm
    assert realm.count('"') == 2


def test_www_authenticate_realm_quotes_non_ascii_bytes(cluster: Cluster) -> None:
    resp = cluster.request("/v1/AUTH_%C3%A9%E1%A0%81/c")
    assert resp.headers["Www-Authenticate"] == 'Swift realm="AUTH_%C3%A9%E1%A0%81"'


@pytest.mark.parametrize("host", ["evil\nSet-Cookie: x=1", "h\x85st", "a b"])
def test_host_with_control_or_non_ascii_byte_never_reaches_x_storage_url(
    cluster: Cluster, host: str
) -> None:
    headers = {"X-Auth-User": "test:tester", "X-Auth-Key": "testing", "Host": host}
    resp = cluster.request("/auth/v1.0", headers=headers)
    assert resp.status_int == 400
    assert "X-Storage-Url" not in resp.headers


def test_auth_path_failure_realm_is_unknown(cluster: Cluster) -> None:
    resp = cluster.request("/auth/v1.0", headers={"X-Auth-User": 'x"y:z', "X-Auth-Key": "k"})
    assert resp.status_int == 401
    assert resp.headers["Www-Authenticate"] == 'Swift realm="unknown"'


def test_denials_are_swob_html_not_text_plain(shared: Cluster) -> None:
    unauth = shared.request("/v1/AUTH_test")
    assert unauth.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert unauth.body.startswith(b"<html><h1>Unauthorized</h1>")
    forbidden = shared.request("/v1/AUTH_test/c/o", as_user=TESTER2)
    assert forbidden.status_int == 403
    assert forbidden.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert forbidden.body.startswith(b"<html><h1>Forbidden</h1>")


def test_path_not_utf8_is_not_a_crash_in_tempauth(cluster: Cluster) -> None:
    # webob's req.path_info decodes as UTF-8 and raised here; the proxy answers 412 instead
    resp = cluster.request("/v1/AUTH_test2/c/%ff")
    assert resp.status_int != 500
    assert cluster.stub.calls[-1][0] == "GET"  # handed on to the proxy undecided


@pytest.mark.parametrize("method", ["LICK", "GETorHEAD_base", "PATCH"])
def test_unknown_method_is_left_to_the_proxys_405_before_auth(
    cluster: Cluster, method: str
) -> None:
    cluster.request("/v1/AUTH_test/c", method)
    assert cluster.stub.calls[-1][0] == method


def test_account_put_is_left_to_the_proxy_which_may_answer_405_first(cluster: Cluster) -> None:
    resp = cluster.request("/v1/AUTH_test", "PUT")
    assert cluster.stub.calls[-1][0] == "PUT"
    assert resp.status_int == 401  # the stub proxy authorizes, as the real one does


# -- configuration --------------------------------------------------------------------------------
def test_filter_factory_without_users_uses_test_accounts() -> None:
    auth = filter_factory({})(StubProxy())
    assert set(auth.users) == {
        "admin:admin",
        "test:tester",
        "test2:tester2",
        "test:tester3",
        "test5:tester5",
    }
    assert auth.users["test5:tester5"].groups("AUTH_") == ("test5", "test5:tester5", "service")
    assert ".reseller_admin" in auth.users["admin:admin"].groups("AUTH_")


def test_filter_factory_user_keys_not_warned_as_unknown(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="swiftlite.config"):
        conf = {"user_a_b": "k", "user64_dW5kZXJfc2NvcmU_YV9i": "k2 .admin", "token_life": "60"}
        auth = filter_factory({}, **conf)(StubProxy())
    assert "unknown option" not in caplog.text
    assert set(auth.users) == {"a:b", "under_score:a_b"}
    assert auth.options.token_life == 60


@pytest.mark.parametrize("conf", [{"user_a": "k"}, {"user_a_b": ""}, {"storage_url_scheme": "x"}])
def test_filter_factory_bad_config_raises(conf: dict) -> None:
    with pytest.raises(ConfigError):
        filter_factory({}, **conf)


def test_utf8_object_name_is_authorized_not_404(shared: Cluster) -> None:
    """The raw WSGI PATH_INFO, not webob's decoded path, must reach split_api_path."""
    resp = shared.request("/v1/AUTH_test/c/%C3%A9t%C3%A9", "PUT", body=b"x", as_user=TESTER)
    assert resp.status_int == 201
    tester3 = shared.request("/v1/AUTH_test/c/%C3%A9t%C3%A9", as_user=TESTER3)
    assert tester3.status_int == 403  # decided by the ACL rules, not a path error
