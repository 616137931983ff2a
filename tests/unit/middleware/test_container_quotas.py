"""container_quotas: the 413 at exactly the quota, 400 for quota values that are not numbers."""

from __future__ import annotations

import pytest
from webob import Request, Response

from swiftlite.middleware.container_quotas import ContainerQuotasMiddleware, ContainerQuotasOptions
from tests.unit.middleware.guard_backend import InfoProxy

HOSTILE = ["-1", "+5", " 5", "5 ", "1.5", "\u0663", "\u00b2", "0x10", "1" * 20, "abc", "5\x00"]


def _filter(
    bytes_used: int = 90, count: int = 9, **meta: str
) -> tuple[ContainerQuotasMiddleware, InfoProxy]:
    backend = InfoProxy()
    headers = {"X-Container-Bytes-Used": str(bytes_used), "X-Container-Object-Count": str(count)}
    headers.update({f"X-Container-Meta-{k.replace('_', '-')}": v for k, v in meta.items()})
    backend.containers[("AUTH_a", "c")] = headers
    return ContainerQuotasMiddleware(backend, ContainerQuotasOptions()), backend


def _put(app, size: int, **environ):
    req = Request.blank("/v1/AUTH_a/c/o", method="PUT", body=b"x" * size)
    req.environ.update(environ)
    return req.get_response(app)


@pytest.mark.parametrize(("size", "status"), [(10, 201), (11, 413)])
def test_put_bytes_quota_is_met_at_the_byte_and_413_past_it(size, status):
    app, backend = _filter(bytes_used=90, Quota_Bytes="100")
    resp = _put(app, size)
    assert resp.status_int == status
    if status == 413:
        assert resp.body == b"Upload exceeds quota."
        assert not backend.writes  # the upload never reached the proxy... as a write
    else:
        assert backend.writes[-1][0] == "PUT"


@pytest.mark.parametrize(("count", "status"), [(9, 201), (10, 413)])
def test_put_count_quota_is_met_at_the_count_and_413_past_it(count, status):
    app, _ = _filter(count=count, Quota_Count="10")
    assert _put(app, 1).status_int == status


@pytest.mark.parametrize(("used", "status"), [(100, 201), (101, 413)])
def test_put_chunked_is_allowed_while_usage_is_within_quota(used, status):
    app, _ = _filter(bytes_used=used, Quota_Bytes="100")
    req = Request.blank("/v1/AUTH_a/c/o", method="PUT")
    req.environ.pop("CONTENT_LENGTH", None)
    req.headers["Transfer-Encoding"] = "chunked"
    assert req.get_response(app).status_int == status


def test_stored_quota_that_is_not_a_number_is_no_quota():
    app, _ = _filter(bytes_used=1000, Quota_Bytes="lots", Quota_Count="-1")
    assert _put(app, 10).status_int == 201


def test_over_quota_put_by_a_caller_not_allowed_to_write_gets_the_denial_first():
    app, _ = _filter(bytes_used=100, Quota_Bytes="100")

    def deny(req):
        return Response(status=403)

    assert _put(app, 1, **{"swiftlite.authorize": deny}).status_int == 403

    def allow(req):
        return None

    resp = _put(app, 1, **{"swiftlite.authorize": allow})
    assert resp.status_int == 413
    assert resp.body == b"Upload exceeds quota."


def test_over_quota_refusal_spares_the_heads_of_lower_filters():
    app, _backend = _filter(bytes_used=100, Quota_Bytes="100")
    calls = []

    def allow(req):
        calls.append(req.method)
        return None

    req = Request.blank("/v1/AUTH_a/c/o", method="PUT", body=b"x")
    req.environ["swiftlite.authorize"] = allow
    app(req.environ, lambda *a: None)
    hook = req.environ["swiftlite.authorize"]
    head = Request.blank("/v1/AUTH_a/c/seg", method="HEAD")
    assert hook(head) is None  # a segment check passes
    assert hook(Request.blank("/v1/AUTH_a/c/o", method="PUT")).status_int == 413


def test_missing_container_passes_for_the_proxy_404():
    app, _backend = _filter(Quota_Bytes="0")
    req = Request.blank("/v1/AUTH_a/other/o", method="PUT", body=b"x")
    assert req.get_response(app).status_int == 201  # the fake answers; the proxy would 404


@pytest.mark.parametrize("header", ["X-Container-Meta-Quota-Bytes", "X-Container-Meta-Quota-Count"])
@pytest.mark.parametrize("value", HOSTILE)
def test_container_write_with_quota_not_a_number_is_400(header, value):
    app, backend = _filter()
    for method in ("PUT", "POST"):
        req = Request.blank("/v1/AUTH_a/c", method=method)
        req.headers[header] = value
        resp = req.get_response(app)
        assert resp.status_int == 400
        kind = "bytes" if header.endswith("Bytes") else "count"
        assert resp.body == f"Invalid {kind} quota.".encode()
    assert not backend.seen


@pytest.mark.parametrize("value", ["0", "100", "9223372036854775807", ""])
def test_container_write_with_valid_quota_passes(value):
    app, backend = _filter()
    req = Request.blank(
        "/v1/AUTH_a/c", method="POST", headers={"X-Container-Meta-Quota-Bytes": value}
    )
    assert req.get_response(app).status_int == 201
    assert backend.seen[-1][2]["X-Container-Meta-Quota-Bytes"] == value


@pytest.mark.parametrize("length", ["-1", "\u0663", "1e3", "99999999999999999999999"])
def test_put_with_bad_content_length_is_left_to_the_proxy(length):
    app, backend = _filter(Quota_Bytes="0")
    req = Request.blank("/v1/AUTH_a/c/o", method="PUT")
    req.environ["CONTENT_LENGTH"] = length
    assert req.get_response(app).status_int == 201  # passed on: the proxy answers 400
    assert not [s for s in backend.seen if s[0] == "HEAD"]


def test_object_post_and_get_are_not_checked():
    app, _backend = _filter(bytes_used=100, Quota_Bytes="1")
    for method in ("POST", "GET", "DELETE"):
        assert Request.blank("/v1/AUTH_a/c/o", method=method).get_response(app).status_int == 201
