"""tempurl: signature checks, the Grant it installs, header cleaning, Content-Disposition."""

from __future__ import annotations

import time
from typing import Any

import pytest
from swiftclient.utils import generate_temp_url
from webob import Request, Response

from swiftlite.middleware import tempurl
from swiftlite.middleware.subrequest import AUTHORIZE, OVERRIDE, make_subrequest
from swiftlite.proxy.info import INFOCACHE, account_key, container_key

ACCT_KEY = "acct-secret"
CONT_KEY = "cont-secret"


class Downstream:
    """Stands for tempauth + proxy: asks the installed hook like the proxy does."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append(dict(environ))
        req = Request(environ)
        hook = environ.get(AUTHORIZE)
        if hook is not None:
            denied = hook(req)
            if denied is not None:
                return denied(environ, start_response)
        elif not environ.get(OVERRIDE):
            return Response(status=401, body=b"needs a token")(environ, start_response)
        resp = Response(status=200, body=b"data")
        resp.headers["X-Object-Meta-Secret"] = "s"
        resp.headers["X-Object-Meta-Public-Color"] = "red"
        return resp(environ, start_response)


def make(now: float | None = None, **options: str) -> tuple[tempurl.TempUrlMiddleware, Downstream]:
    down = Downstream()
    opts = tempurl.TempUrlOptions(**options)
    return tempurl.TempUrlMiddleware(down, opts, clock=(lambda: now) if now else time.time), down


def infocache() -> dict[str, Any]:
    return {
        account_key("AUTH_t"): {"status": 204, "meta": {"Temp-Url-Key": ACCT_KEY}, "sysmeta": {}},
        container_key("AUTH_t", "c"): {
            "status": 204,
            "meta": {"Temp-Url-Key-2": CONT_KEY},
            "sysmeta": {},
        },
        container_key("AUTH_t", "other"): {"status": 204, "meta": {}, "sysmeta": {}},
    }


def call(app: Any, url: str, method: str = "GET", **environ: Any) -> Response:
    env = {INFOCACHE: infocache(), "REMOTE_ADDR": "10.1.2.3", **environ}
    req = Request.blank(url, environ=env, method=method)
    return req.get_response(app)


def signed(method: str, path: str = "/v1/AUTH_t/c/o", key: str = ACCT_KEY, **kw: Any) -> str:
    return generate_temp_url(path, 60, key, method, **kw)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("key", [ACCT_KEY, CONT_KEY])
def test_valid_get_for_every_digest_and_key_scope_is_200(digest, key):
    app, down = make()
    resp = call(app, signed("GET", key=key, digest=digest))
    assert resp.status_int == 200
    assert down.seen[-1]["swiftlite.remote_user"] == ".wsgi.tempurl"
    assert resp.headers["Content-Disposition"] == ("attachment; filename=\"o\"; filename*=UTF-8''o")
    assert "Expires" in resp.headers


@pytest.mark.parametrize(
    ("what", "mutate"),
    [
        ("path", lambda u: u.replace("/c/o?", "/c/p?")),
        ("method", None),
        ("expires", lambda u: u.replace("temp_url_expires=", "temp_url_expires=1")),
        ("sig", lambda u: u.replace("temp_url_sig=", "temp_url_sig=0")),
        ("key", None),
    ],
)
def test_tampered_temp_url_is_401_with_swifts_body(what, mutate):
    app, _down = make()
    url = signed("GET")
    method = "GET"
    if what == "method":
        method = "DELETE"
    elif what == "key":
        url = signed("GET", key="guess")
    else:
        url = mutate(url)
    resp = call(app, url, method)
    assert resp.status_int == 401
    assert resp.body == b"401 Unauthorized: Temp URL invalid\n"


def test_expired_url_is_401_and_iso8601_expiry_is_accepted():
    app, _down = make()
    past = generate_temp_url("/v1/AUTH_t/c/o", int(time.time()) - 5, ACCT_KEY, "GET", absolute=True)
    assert call(app, past).status_int == 401
    iso = signed("GET", iso8601=True)
    assert "temp_url_expires=20" in iso
    assert call(app, iso).status_int == 200


def test_head_is_allowed_with_a_get_or_put_signature_and_has_no_body_when_refused():
    app, _down = make()
    assert call(app, signed("GET"), "HEAD").status_int == 200
    assert call(app, signed("PUT"), "HEAD").status_int == 200
    refused = call(app, signed("DELETE"), "HEAD")
    assert refused.status_int == 401
    assert refused.body == b""


def test_prefix_url_covers_objects_under_the_prefix_only():
    app, _down = make()
    url = signed("GET", path="/v1/AUTH_t/c/pre", prefix=True)
    assert call(app, url.replace("/c/pre?", "/c/pre/deep/x?")).status_int == 200
    assert call(app, url.replace("/c/pre?", "/c/other?")).status_int == 401


def test_ip_range_allows_only_clients_inside_it():
    app, _down = make()
    url = signed("GET", ip_range="10.1.2.0/24")
    assert call(app, url).status_int == 200
    assert call(app, url, REMOTE_ADDR="10.9.9.9").status_int == 401
    # the range is signed: widening it breaks the signature
    assert call(app, url.replace("10.1.2.0/24", "10.0.0.0/8")).status_int == 401


def test_container_listing_or_account_path_is_401():
    app, _down = make()
    url = signed("GET")
    assert call(app, url.replace("/c/o?", "/c?")).status_int == 401
    assert call(app, url.replace("/v1/AUTH_t/c/o?", "/v1/AUTH_t?")).status_int == 401


def test_method_not_in_options_is_401():
    app, _down = make(methods="GET HEAD")
    assert call(app, signed("PUT"), "PUT").status_int == 401


def test_disallowed_digest_is_401():
    app, _down = make(allowed_digests="sha256 sha512")
    assert call(app, signed("GET", digest="sha1")).status_int == 401


@pytest.mark.parametrize("header", ["X-Object-Manifest", "X-Symlink-Target"])
def test_put_with_pointer_header_is_400(header):
    app, _down = make()
    resp = call(app, signed("PUT"), "PUT", **{"HTTP_" + header.upper().replace("-", "_"): "c/x"})
    assert resp.status_int == 400


def test_incoming_and_outgoing_headers_are_cleaned():
    app, down = make()
    resp = call(app, signed("GET"), HTTP_X_TIMESTAMP="1")
    assert "HTTP_X_TIMESTAMP" not in down.seen[-1]
    assert "X-Object-Meta-Secret" not in resp.headers
    assert resp.headers["X-Object-Meta-Public-Color"] == "red"


def test_filename_and_inline_set_content_disposition():
    app, _down = make()
    resp = call(app, signed("GET") + "&filename=My%20File.pdf")
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"My File.pdf\"; filename*=UTF-8''My%20File.pdf"
    )
    assert call(app, signed("GET") + "&inline").headers["Content-Disposition"] == "inline"


def test_query_keeps_only_temp_url_parameters():
    app, down = make()
    call(app, signed("GET") + "&multipart-manifest=get&format=json")
    query = down.seen[-1]["QUERY_STRING"]
    assert "temp_url_sig=" in query
    assert "format" not in query
    assert "multipart" not in query


def test_request_without_temp_url_passes_through_untouched():
    app, down = make()
    resp = call(app, "/v1/AUTH_t/c/o")
    assert resp.status_int == 401  # downstream: no token, no override
    assert AUTHORIZE not in down.seen[-1]


def test_grant_allows_exactly_the_signed_object_and_method():
    app, down = make()
    call(app, signed("PUT"), "PUT")
    grant = down.seen[-1][AUTHORIZE]
    env = down.seen[-1]

    def ask(method: str, path: str, source: str | None = None) -> int | None:
        if source is None:
            req = Request.blank(path, method=method)
        else:
            req = make_subrequest(env, method, path, source=source)
        denied = grant(req)
        return None if denied is None else denied.status_int

    assert ask("PUT", "/v1/AUTH_t/c/o") is None
    assert ask("GET", "/v1/AUTH_t/c/o") == 401
    # the copy filter acts in the client's name: its source read is not the signed method
    # on the signed object, and only the signed PUT goes through
    assert ask("GET", "/v1/AUTH_t/c/other", source="SSC") == 401
    assert ask("GET", "/v1/AUTH_t/c/o", source="SSC") == 401
    assert ask("PUT", "/v1/AUTH_t/c/o", source="SSC") is None
    assert ask("PUT", "/v1/AUTH_t/c/o2") == 401
    assert ask("GET", "/v1/AUTH_t/c") == 401
    # a filter's subrequest (an SLO segment) reads within the account key's scope
    assert ask("GET", "/v1/AUTH_t/segments/s1", source="SLO") is None
    assert ask("DELETE", "/v1/AUTH_t/segments/s1", source="SLO") == 401
    assert ask("GET", "/v1/AUTH_other/c/o", source="SLO") == 401


def test_container_key_grant_keeps_subrequests_in_the_container():
    app, down = make()
    call(app, signed("GET", key=CONT_KEY))
    env = down.seen[-1]
    grant = env[AUTHORIZE]
    inside = make_subrequest(env, "GET", "/v1/AUTH_t/c/seg", source="DLO")
    outside = make_subrequest(env, "GET", "/v1/AUTH_t/other/seg", source="DLO")
    assert grant(inside) is None
    assert grant(outside).status_int == 401


def test_no_keys_set_is_401():
    app, _down = make()
    env = {INFOCACHE: {k: {"status": 204, "meta": {}, "sysmeta": {}} for k in infocache()}}
    req = Request.blank(signed("GET"), environ=env)
    assert req.get_response(app).status_int == 401


def test_filter_factory_registers_swifts_info():
    from swiftlite.common.registry import registered

    tempurl.filter_factory({}, allowed_digests="sha512 sha256 md5")
    info = registered()["tempurl"]
    assert info["allowed_digests"] == ["sha256", "sha512"]
    assert info["methods"] == ["GET", "HEAD", "PUT", "POST", "DELETE"]
    assert info["outgoing_allow_headers"] == ["x-object-meta-public-*"]


def test_far_future_expiry_does_not_break_the_expires_header():
    app, _down = make()
    url = generate_temp_url("/v1/AUTH_t/c/o", 10**15, ACCT_KEY, "GET", absolute=True)
    resp = call(app, url)
    assert resp.status_int == 200
    assert resp.headers["Expires"] == "Fri, 31 Dec 9999 23:59:59 GMT"


def test_invalid_answer_names_the_account_realm():
    app, _down = make()
    resp = call(app, signed("GET", key="nope"))
    assert resp.headers["Www-Authenticate"] == 'Swift realm="AUTH_t"'


@pytest.mark.parametrize(
    "query",
    [
        "temp_url_sig=%E2%82%AC&temp_url_expires=9999999999",
        "temp_url_sig=sha256:%E2%82%AC&temp_url_expires=9999999999",
        "temp_url_sig=" + "a" * 40 + "&temp_url_expires=99999999999999999999999",
        "temp_url_sig=" + "a" * 40 + "&temp_url_expires=9999999999&temp_url_ip_range=%00",
        "temp_url_sig=&temp_url_expires=",
        "temp_url_sig=" + "a" * 64 + "&temp_url_expires=%C2%B2",
        "temp_url_sig=" + "a" * 64 + "&temp_url_expires=" + "9" * 5000,
        "temp_url_sig=" + "a" * 64 + "&temp_url_expires=%FF%FE",
        "temp_url_sig=" + "a" * 64 + "&temp_url_expires=1%0D%0AX-Evil:%201",
        "temp_url_sig=" + "a" * 64 + "&temp_url_expires=9999999999&temp_url_prefix=%FF%0A",
        "temp_url_expires=9999999999",
    ],
)
def test_garbage_query_is_401_not_an_error(query):
    app, _down = make()
    assert call(app, "/v1/AUTH_t/c/o?" + query).status_int == 401


def test_info_marks_sha1_deprecated_only_when_it_is_allowed():
    assert tempurl.TempUrlOptions().info()["deprecated_digests"] == ["sha1"]
    info = tempurl.TempUrlOptions(allowed_digests="sha512 sha256").info()
    assert info["allowed_digests"] == ["sha256", "sha512"]
    assert "deprecated_digests" not in info
