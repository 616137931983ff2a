"""name_check, etag_quoter and read_only on a fake proxy: each rule and its hostile inputs."""

from __future__ import annotations

import pytest
from webob import Request

from swiftlite.common.errors import ConfigError
from swiftlite.common.registry import registered
from swiftlite.middleware import etag_quoter, name_check, read_only
from swiftlite.middleware.etag_quoter import EtagQuoterMiddleware, EtagQuoterOptions, quoted
from swiftlite.middleware.name_check import NameCheckMiddleware, NameCheckOptions
from swiftlite.middleware.read_only import ReadOnlyMiddleware, ReadOnlyOptions
from tests.unit.middleware.guard_backend import InfoProxy


# -- name_check ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/AUTH_a/c/o'1", b"forbidden chars"),
        ("/v1/AUTH_a/c/<script>", b"forbidden chars"),
        ("/v1/AUTH_a/c/" + "x" * 300, b"longer than the allowed maximum 255"),
        ("/v1/AUTH_a/c/./o", b"forbidden substring"),
        ("/v1/AUTH_a/c/../o", b"forbidden substring"),
        ("/v1/AUTH_a/c/o/..", b"forbidden substring"),
        ("/v1/AUTH_a/c/o/.", b"forbidden substring"),
    ],
)
def test_name_check_refuses_with_400(path, words):
    backend = InfoProxy(status=200)
    app = NameCheckMiddleware(backend, NameCheckOptions())
    resp = Request.blank(path).get_response(app)
    assert resp.status_int == 400
    assert words in resp.body
    assert not backend.seen


@pytest.mark.parametrize(
    "path",
    ["/v1/AUTH_a/c/o", "/v1/AUTH_a/c/.hidden", "/v1/AUTH_a/c/a..b", "/v1/AUTH_a/c/%E2%98%83"],
)
def test_name_check_passes_good_names(path):
    backend = InfoProxy(status=200)
    app = NameCheckMiddleware(backend, NameCheckOptions())
    assert Request.blank(path).get_response(app).status_int == 200


def test_name_check_length_counts_characters_not_bytes():
    app = NameCheckMiddleware(InfoProxy(status=200), NameCheckOptions(maximum_length=20))
    assert Request.blank("/v1/a/c/" + "%E2%98%83" * 12).get_response(app).status_int == 200
    assert Request.blank("/v1/a/c/" + "%E2%98%83" * 13).get_response(app).status_int == 400


def test_name_check_path_not_utf8_goes_to_the_proxy():
    backend = InfoProxy(status=412)
    app = NameCheckMiddleware(backend, NameCheckOptions())
    req = Request.blank("/")
    req.environ["PATH_INFO"] = "/v1/a/c/\xff"
    assert req.get_response(app).status_int == 412


def test_name_check_config_and_info():
    name_check.filter_factory({}, forbidden_chars="!", maximum_length="10")
    assert registered()["name_check"]["forbidden_chars"] == "!"
    assert registered()["name_check"]["maximum_length"] == 10
    with pytest.raises(ConfigError):
        name_check.filter_factory({}, forbidden_regexp="(")
    with pytest.raises(ConfigError):
        name_check.filter_factory({}, maximum_length="0")


# -- etag_quoter --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "out"),
    [("abc", '"abc"'), ('"abc"', '"abc"'), ('W/"abc"', 'W/"abc"'), ('"', '"""'), ("", '""')],
)
def test_quoted(value, out):
    assert quoted(value) == out


def _quoter(account=None, container=None, default=False):
    backend = InfoProxy(status=200)
    backend.reply_headers = {"ETag": "d41d8cd98f00b204e9800998ecf8427e"}
    backend.accounts["AUTH_a"] = account or {}
    backend.containers[("AUTH_a", "c")] = container or {}
    return EtagQuoterMiddleware(backend, EtagQuoterOptions(enable_by_default=default)), backend


@pytest.mark.parametrize(
    ("account", "container", "default", "want"),
    [
        (None, None, False, False),
        (None, None, True, True),
        ({"X-Account-Sysmeta-Rfc-Compliant-Etags": "true"}, None, False, True),
        (
            {"X-Account-Sysmeta-Rfc-Compliant-Etags": "true"},
            {"X-Container-Sysmeta-Rfc-Compliant-Etags": "false"},
            False,
            False,
        ),
        (None, {"X-Container-Sysmeta-Rfc-Compliant-Etags": "yes"}, False, True),
        (None, {"X-Container-Sysmeta-Rfc-Compliant-Etags": "\u00ff"}, True, False),
    ],
)
def test_etag_quoted_by_container_then_account_then_default(account, container, default, want):
    app, _ = _quoter(account, container, default)
    etag = Request.blank("/v1/AUTH_a/c/o").get_response(app).headers["ETag"]
    assert etag == (
        '"d41d8cd98f00b204e9800998ecf8427e"' if want else "d41d8cd98f00b204e9800998ecf8427e"
    )


@pytest.mark.parametrize(
    ("path", "kind"), [("/v1/AUTH_a", "Account"), ("/v1/AUTH_a/c", "Container")]
)
@pytest.mark.parametrize(
    ("value", "stored"), [("true", "true"), ("no", "false"), ("", ""), ("\u0663", "false")]
)
def test_etag_flag_is_stored_as_sysmeta(path, kind, value, stored):
    app, backend = _quoter()
    req = Request.blank(path, method="POST", headers={f"X-{kind}-Rfc-Compliant-Etags": value})
    req.get_response(app)
    assert backend.writes[-1][2][f"X-{kind}-Sysmeta-Rfc-Compliant-Etags"] == stored


def test_etag_flag_remove_and_show():
    app, backend = _quoter()
    req = Request.blank(
        "/v1/AUTH_a/c", method="POST", headers={"X-Remove-Container-Rfc-Compliant-Etags": "1"}
    )
    req.get_response(app)
    assert backend.writes[-1][2]["X-Container-Sysmeta-Rfc-Compliant-Etags"] == ""
    backend.accounts["AUTH_a"] = {"X-Account-Sysmeta-Rfc-Compliant-Etags": "true"}
    resp = Request.blank("/v1/AUTH_a", method="HEAD").get_response(app)
    assert resp.headers["X-Account-Rfc-Compliant-Etags"] == "true"


def test_etag_quoter_info():
    etag_quoter.filter_factory({}, enable_by_default="true")
    assert registered()["etag_quoter"] == {"enable_by_default": True}


# -- read_only ----------------------------------------------------------------------------------
def _read_only(cluster: bool, flag: str | None = None, allow_deletes: bool = False):
    backend = InfoProxy()
    backend.accounts["AUTH_a"] = {} if flag is None else {"X-Account-Sysmeta-Read-Only": flag}
    backend.accounts["AUTH_b"] = {}
    options = ReadOnlyOptions(read_only=cluster, allow_deletes=allow_deletes)
    return ReadOnlyMiddleware(backend, options), backend


@pytest.mark.parametrize(
    ("cluster", "flag", "refused"),
    [
        (False, None, False),
        (True, None, True),
        (False, "true", True),
        (True, "false", False),
        (True, "", True),
    ],
)
def test_read_only_cluster_and_account_flag(cluster, flag, refused):
    app, _ = _read_only(cluster, flag)
    for method in ("PUT", "POST", "DELETE", "COPY"):
        resp = Request.blank("/v1/AUTH_a/c/o", method=method).get_response(app)
        assert (resp.status_int == 405) is refused, method
        if refused:
            assert resp.body == b"Writes are disabled for this account."
    for method in ("GET", "HEAD"):
        assert Request.blank("/v1/AUTH_a/c/o", method=method).get_response(app).status_int == 201


def test_read_only_allow_deletes_and_copy_destination():
    app, _ = _read_only(True, allow_deletes=True)
    assert Request.blank("/v1/AUTH_a/c/o", method="DELETE").get_response(app).status_int == 201
    app, backend = _read_only(False, "true")
    backend.accounts["AUTH_b"] = {}
    req = Request.blank("/v1/AUTH_b/c/o", method="COPY", headers={"Destination-Account": "AUTH_a"})
    assert req.get_response(app).status_int == 405


@pytest.mark.parametrize(("value", "stored"), [("true", "true"), ("False", "false"), ("", "")])
def test_reseller_sets_the_account_flag_even_when_read_only(value, stored):
    app, backend = _read_only(True)
    req = Request.blank("/v1/AUTH_a", method="POST", headers={"X-Account-Read-Only": value})
    req.environ["swiftlite.reseller_request"] = True
    assert req.get_response(app).status_int == 201
    assert backend.writes[-1][2]["X-Account-Sysmeta-Read-Only"] == stored


@pytest.mark.parametrize("value", ["maybe", "\u0663", "tru e", "1" * 50])
def test_reseller_flag_not_a_boolean_is_400(value):
    app, backend = _read_only(False)
    req = Request.blank("/v1/AUTH_a", method="POST", headers={"X-Account-Read-Only": value})
    req.environ["swiftlite.reseller_request"] = True
    assert req.get_response(app).status_int == 400
    assert not backend.writes


def test_owner_may_not_set_the_account_flag():
    app, backend = _read_only(False)
    req = Request.blank("/v1/AUTH_a", method="POST", headers={"X-Account-Read-Only": "false"})
    req.environ["swiftlite.owner"] = True
    assert req.get_response(app).status_int == 403
    assert not backend.writes


def test_read_only_info_only_when_on():
    read_only.filter_factory({}, read_only="false")
    assert "read_only" not in registered()
    read_only.filter_factory({}, read_only="true")
    assert registered()["read_only"] == {}


def test_read_only_copy_with_destination_account_not_utf8_goes_to_the_copy_filter():
    app, backend = _read_only(False, "true")
    req = Request.blank("/v1/AUTH_b/c/o", method="COPY")
    req.environ["HTTP_DESTINATION_ACCOUNT"] = "\xff\xfe"
    assert req.get_response(app).status_int == 201  # passed on; copy answers 412 itself
    assert backend.writes[-1][0] == "COPY"


def test_api_path_splits_once_per_path_and_again_when_it_changes() -> None:
    # Some fifteen filters ask for a GET's path; each split cost about 4 us.
    from swiftlite.middleware import pathinfo

    environ = {"PATH_INFO": "/v1/AUTH_test/c/o"}
    first = pathinfo.api_path(environ)
    assert first is not None
    assert pathinfo.api_path(environ) is first
    environ["PATH_INFO"] = "/v1/AUTH_test/c/other"  # a filter rewrote the path
    moved = pathinfo.api_path(environ)
    assert moved is not None
    assert moved.obj == "other"
    environ["PATH_INFO"] = "/v1/AUTH_test/c/\x00x"
    assert pathinfo.api_path(environ) is None  # NUL: not an API path for a filter
    reserved = pathinfo.api_path(environ, allow_reserved=True)  # the same path, allowed
    assert reserved is not None
    assert reserved.obj == "\x00x"
    assert pathinfo.api_path(environ) is None
