"""formpost: signed forms become one scoped PUT per file; Swift's answers for every outcome."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware import formpost, signature
from swiftlite.middleware.subrequest import AUTHORIZE, OVERRIDE
from swiftlite.proxy.info import INFOCACHE, account_key, container_key
from tests.support.sharing import multipart

KEY = "form-key"
BOUNDARY = "----formBOUNDARY"


class Store:
    """Downstream: asks the hook like the proxy, stores PUT bodies."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        assert environ.get(OVERRIDE)
        denied = environ[AUTHORIZE](req)
        if denied is not None:
            return denied(environ, start_response)
        body = b""
        try:
            while chunk := environ["wsgi.input"].read(7):
                body += chunk
        except ValueError:
            return Response(status=499)(environ, start_response)
        self.objects[req.path_info] = (body, dict(req.headers))
        resp = Response(status=201)
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp(environ, start_response)


def signed_fields(
    path: str = "/v1/AUTH_t/c/up_",
    redirect: str = "",
    size: int = 100,
    count: int = 2,
    expires: int | None = None,
    digest: str = "sha256",
    key: str = KEY,
) -> dict[str, str]:
    expires = expires or int(time.time()) + 60
    message = signature.formpost_message(path, redirect, size, count, expires)
    sig = signature.encode_signature(signature.hmac_hex(key, message, digest), digest)
    fields = {
        "max_file_size": str(size),
        "max_file_count": str(count),
        "expires": str(expires),
        "signature": sig,
    }
    if redirect:
        fields["redirect"] = redirect
    return fields


def post(
    fields: dict[str, str],
    files: list[tuple[str, bytes]],
    path: str = "/v1/AUTH_t/c/up_",
    account_meta: dict[str, str] | None = None,
):
    store = Store()
    app = formpost.FormPostMiddleware(store, formpost.FormPostOptions())
    infocache = {
        account_key("AUTH_t"): {"status": 204, "meta": account_meta or {}, "sysmeta": {}},
        container_key("AUTH_t", "c"): {"status": 204, "meta": {"Temp-Url-Key": KEY}, "sysmeta": {}},
    }
    req = Request.blank(path, method="POST", environ={INFOCACHE: infocache})
    req.content_type = f"multipart/form-data; boundary={BOUNDARY}"
    req.body = multipart(fields, files, BOUNDARY)
    return req.get_response(app), store


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_two_files_are_stored_under_the_prefix_and_redirected(digest):
    fields = signed_fields(redirect="https://app.example/done", digest=digest)
    resp, store = post(fields, [("a.txt", b"alpha"), ("b.txt", b"beta\r\n--x")])
    assert resp.status_int == 303
    assert resp.headers["Location"] == "https://app.example/done?status=201&message="
    assert store.objects["/v1/AUTH_t/c/up_a.txt"][0] == b"alpha"
    assert store.objects["/v1/AUTH_t/c/up_b.txt"][0] == b"beta\r\n--x"
    assert store.objects["/v1/AUTH_t/c/up_a.txt"][1]["Content-Type"] == "text/plain"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_without_redirect_the_body_is_the_status_line():
    resp, _store = post(signed_fields(), [("a.txt", b"alpha")])
    assert (resp.status_int, resp.body) == (201, b"201 Created")


def test_bad_signature_is_401_and_nothing_stored():
    fields = signed_fields(key="wrong")
    resp, store = post(fields, [("a.txt", b"alpha")])
    assert (resp.status_int, resp.body) == (401, b"FormPost: Invalid Signature")
    assert store.objects == {}


def test_signature_for_another_path_is_401():
    resp, store = post(signed_fields(path="/v1/AUTH_t/c/other_"), [("a.txt", b"x")])
    assert resp.status_int == 401
    assert store.objects == {}


def test_expired_form_is_401():
    resp, _store = post(signed_fields(expires=int(time.time()) - 1), [("a.txt", b"x")])
    assert (resp.status_int, resp.body) == (401, b"FormPost: Form Expired")


def test_too_many_files_redirects_with_400_after_the_allowed_ones():
    fields = signed_fields(count=1, redirect="http://x/r?a=1")
    resp, store = post(fields, [("a", b"1"), ("b", b"2")])
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(resp.headers["Location"]).query)
    assert query == {"a": ["1"], "status": ["400"], "message": ["max file count exceeded"]}
    assert list(store.objects) == ["/v1/AUTH_t/c/up_a"]


def test_file_over_max_file_size_is_400_and_not_stored():
    resp, store = post(signed_fields(size=4), [("a.txt", b"too large")])
    assert (resp.status_int, resp.body) == (400, b"FormPost: max_file_size exceeded")
    assert store.objects == {}


def test_no_files_is_400():
    resp, _store = post(signed_fields(), [])
    assert resp.body == b"400 Bad Request\r\nFormPost: No Files To Process"


def test_x_delete_after_field_becomes_the_header_and_garbage_is_400():
    fields = {**signed_fields(), "x_delete_after": "300"}
    _resp, store = post(fields, [("a", b"1")])
    assert store.objects["/v1/AUTH_t/c/up_a"][1]["X-Delete-After"] == "300"
    bad, _ = post({**signed_fields(), "x_delete_at": "soon"}, [("a", b"1")])
    assert bad.status_int == 400


def test_put_hook_allows_that_object_only():
    hook = formpost.ExactPut("/v1/AUTH_t/c/up_a")
    assert hook(Request.blank("/v1/AUTH_t/c/up_a", method="PUT")) is None
    assert hook(Request.blank("/v1/AUTH_t/c/up_b", method="PUT")).status_int == 401
    assert hook(Request.blank("/v1/AUTH_t/c/up_a", method="DELETE")).status_int == 401


def test_non_form_post_passes_through():
    seen = []

    def app(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return Response(status=204)(environ, start_response)

    mw = formpost.FormPostMiddleware(app, formpost.FormPostOptions())
    req = Request.blank("/v1/AUTH_t/c/o", method="POST", headers={"X-Object-Meta-A": "1"})
    assert req.get_response(mw).status_int == 204
    assert seen == ["/v1/AUTH_t/c/o"]


def test_bad_boundary_is_400():
    store = Store()
    app = formpost.FormPostMiddleware(store, formpost.FormPostOptions())
    req = Request.blank("/v1/AUTH_t/c/", method="POST", body=b"garbage")
    req.content_type = "multipart/form-data; boundary=zzz"
    resp = req.get_response(app)
    assert (resp.status_int, resp.body) == (400, b"FormPost: invalid starting boundary")


def test_part_content_type_that_is_not_utf8_goes_on_as_its_bytes():
    store = Store()
    app = formpost.FormPostMiddleware(store, formpost.FormPostOptions())
    infocache = {
        account_key("AUTH_t"): {"status": 204, "meta": {}, "sysmeta": {}},
        container_key("AUTH_t", "c"): {"status": 204, "meta": {"Temp-Url-Key": KEY}, "sysmeta": {}},
    }
    body = multipart(signed_fields(), [("a", b"1")], BOUNDARY)
    body = body.replace(b"Content-Type: text/plain", b"Content-Type: text/\xffplain")
    req = Request.blank("/v1/AUTH_t/c/up_", method="POST", environ={INFOCACHE: infocache})
    req.content_type = f"multipart/form-data; boundary={BOUNDARY}"
    req.body = body
    assert req.get_response(app).status_int == 201
    stored = store.objects["/v1/AUTH_t/c/up_a"][1]["Content-Type"]
    assert stored.encode("latin-1") == b"text/\xffplain"  # a WSGI string: the raw byte


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires", "\u00b2"),
        ("expires", "1e9"),
        ("max_file_size", "\ufffd"),
        ("max_file_count", "9" * 5000),
        ("x_delete_at", "12\u00b2"),
    ],
)
def test_numbers_int_cannot_read_are_4xx_not_an_error(field, value):
    resp, store = post({**signed_fields(), field: value}, [("a", b"1")])
    assert 400 <= resp.status_int < 500
    assert store.objects == {}


def test_account_key_signs_a_form_for_any_of_its_containers():
    meta = {"Temp-Url-Key-2": "account-key"}
    resp, store = post(signed_fields(key="account-key"), [("a", b"1")], account_meta=meta)
    assert resp.status_int == 201
    assert list(store.objects) == ["/v1/AUTH_t/c/up_a"]
    refused, _ = post(signed_fields(key="other-key"), [("a", b"1")], account_meta=meta)
    assert refused.status_int == 401


def test_x_delete_at_field_becomes_the_header():
    at = str(int(time.time()) + 3600)
    _resp, store = post({**signed_fields(), "x_delete_at": at}, [("a", b"1")])
    assert store.objects["/v1/AUTH_t/c/up_a"][1]["X-Delete-At"] == at


def test_filter_factory_publishes_digests_and_sha1_as_deprecated():
    from swiftlite.common.registry import registered

    formpost.filter_factory({})
    info = registered()["formpost"]
    assert info["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert info["deprecated_digests"] == ["sha1"]
