"""The Swift API over raw HTTP against a real cluster: verbs, statuses, headers, ACLs."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from tests.support.cluster import Auth, Cluster


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


def test_info_lists_limits_without_auth(cluster: Cluster) -> None:
    status, _, body = cluster.request("GET", "/info")
    assert status == 200
    info = json.loads(body)
    assert info["swift"]["max_file_size"] == 5368709122
    assert info["swift"]["container_listing_limit"] == 10000


def test_healthcheck_answers_ok(cluster: Cluster) -> None:
    status, _, body = cluster.request("GET", "/healthcheck")
    assert (status, body) == (200, b"OK")


def test_auth_bad_key_is_401(cluster: Cluster) -> None:
    status, _, _ = cluster.request(
        "GET", "/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "wrong"}
    )
    assert status == 401


def test_no_token_is_401_and_every_response_has_trans_id(cluster: Cluster, tester: Auth) -> None:
    status, headers, _ = cluster.request("GET", tester.path)
    assert status == 401
    assert headers["x-trans-id"].startswith("tx")


def test_object_lifecycle_statuses_and_headers(cluster: Cluster, tester: Auth) -> None:
    c = _name("life")
    base = f"{tester.path}/{c}"
    assert cluster.request("PUT", base, _h(tester))[0] == 201
    assert cluster.request("PUT", base, _h(tester))[0] == 202
    body = b"hello swiftlite" * 100
    etag = hashlib.md5(body).hexdigest()
    status, headers, _ = cluster.request(
        "PUT", f"{base}/o.txt", _h(tester, X_Object_Meta_Color="blue"), body
    )
    assert status == 201
    assert headers["etag"] == etag
    status, headers, data = cluster.request("GET", f"{base}/o.txt", _h(tester))
    assert (status, data) == (200, body)
    assert headers["content-type"].startswith("text/plain")  # guessed from the name
    assert headers["x-object-meta-color"] == "blue"
    assert "last-modified" in headers
    assert "x-timestamp" in headers
    assert not any(k.startswith("x-backend-") for k in headers)
    status, headers, data = cluster.request("HEAD", f"{base}/o.txt", _h(tester))
    assert (status, data, headers["content-length"]) == (200, b"", str(len(body)))
    assert cluster.request("POST", f"{base}/o.txt", _h(tester, X_Object_Meta_Size="L"))[0] == 202
    _, headers, _ = cluster.request("HEAD", f"{base}/o.txt", _h(tester))
    assert headers["x-object-meta-size"] == "L"
    assert "x-object-meta-color" not in headers  # POST replaces user metadata
    assert cluster.request("DELETE", base, _h(tester))[0] == 409  # not empty
    assert cluster.request("DELETE", f"{base}/o.txt", _h(tester))[0] == 204
    assert cluster.request("GET", f"{base}/o.txt", _h(tester))[0] == 404
    assert cluster.request("DELETE", f"{base}/o.txt", _h(tester))[0] == 404
    assert cluster.request("DELETE", base, _h(tester))[0] == 204
    assert cluster.request("HEAD", base, _h(tester))[0] == 404


def test_put_into_missing_container_is_404(cluster: Cluster, tester: Auth) -> None:
    status, _, _ = cluster.request("PUT", f"{tester.path}/{_name('nope')}/o", _h(tester), b"x")
    assert status == 404


def test_etag_mismatch_is_422_and_nothing_stored(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('etag')}"
    cluster.request("PUT", c, _h(tester))
    status, _, _ = cluster.request("PUT", f"{c}/o", _h(tester, ETag="0" * 32), b"data")
    assert status == 422
    assert cluster.request("GET", f"{c}/o", _h(tester))[0] == 404
    assert cluster.request("GET", c, _h(tester))[0] == 204


def test_listing_formats_and_paging(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('list')}"
    cluster.request("PUT", c, _h(tester))
    names = ["a/1", "a/2", "b", "c/x/y", "\u00e9"]
    for n in names:
        assert cluster.request("PUT", f"{c}/{n}", _h(tester), n.encode())[0] == 201
    status, _, body = cluster.request("GET", c, _h(tester))
    assert status == 200
    assert body.decode().splitlines() == names
    rows = cluster.json(c, tester.token)
    assert [r["name"] for r in rows] == names  # type: ignore[index,union-attr]
    assert rows[0]["bytes"] == 3
    assert rows[0]["hash"] == hashlib.md5(b"a/1").hexdigest()
    _, _, body = cluster.request("GET", f"{c}?delimiter=/", _h(tester))
    assert body.decode().splitlines() == ["a/", "b", "c/", "\u00e9"]
    _, _, body = cluster.request("GET", f"{c}?limit=2&marker=a/1", _h(tester))
    assert body.decode().splitlines() == ["a/2", "b"]
    _, _, body = cluster.request("GET", f"{c}?prefix=a/&reverse=true", _h(tester))
    assert body.decode().splitlines() == ["a/2", "a/1"]
    status, _, _ = cluster.request("GET", f"{c}?limit=10001", _h(tester))
    assert status == 412
    _, headers, body = cluster.request("GET", f"{c}?format=xml", _h(tester))
    assert headers["content-type"].startswith("application/xml")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_range_and_conditional_requests(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('range')}"
    cluster.request("PUT", c, _h(tester))
    body = bytes(range(256)) * 40
    etag = hashlib.md5(body).hexdigest()
    cluster.request("PUT", f"{c}/o", _h(tester), body)
    status, headers, data = cluster.request("GET", f"{c}/o", _h(tester, Range="bytes=10-19"))
    assert (status, data) == (206, body[10:20])
    assert headers["content-range"] == f"bytes 10-19/{len(body)}"
    status, headers, data = cluster.request("GET", f"{c}/o", _h(tester, Range="bytes=0-1,-2"))
    assert status == 206
    assert headers["content-type"].startswith("multipart/byteranges")
    assert body[:2] in data
    assert body[-2:] in data
    assert cluster.request("GET", f"{c}/o", _h(tester, Range="bytes=99999-"))[0] == 416
    assert cluster.request("GET", f"{c}/o", _h(tester, If_None_Match=etag))[0] == 304
    assert cluster.request("GET", f"{c}/o", _h(tester, If_Match="nope"))[0] == 412
    assert cluster.request("PUT", f"{c}/o", _h(tester, If_None_Match="*"), b"x")[0] == 412


def test_server_side_copy_across_containers(cluster: Cluster, tester: Auth) -> None:
    a, b = f"{tester.path}/{_name('cpa')}", f"{tester.path}/{_name('cpb')}"
    cluster.request("PUT", a, _h(tester))
    cluster.request("PUT", b, _h(tester))
    cluster.request("PUT", f"{a}/src", _h(tester, X_Object_Meta_K="v"), b"copy me")
    status, _, _ = cluster.request(
        "COPY", f"{a}/src", _h(tester, Destination=f"{b.split('/', 3)[3]}/dst")
    )
    assert status == 201
    status, headers, data = cluster.request("GET", f"{b}/dst", _h(tester))
    assert (status, data, headers["x-object-meta-k"]) == (200, b"copy me", "v")
    status, _, _ = cluster.request(
        "PUT", f"{b}/dst2", _h(tester, X_Copy_From=f"{a.split('/', 3)[3]}/src", Content_Length="0")
    )
    assert status == 201
    assert cluster.request("GET", f"{b}/dst2", _h(tester))[2] == b"copy me"


@pytest.fixture(scope="module")
def acl_container(cluster: Cluster, tester: Auth):
    c = f"{tester.path}/{_name('acl')}"
    assert cluster.request("PUT", c, _h(tester))[0] == 201
    assert cluster.request("PUT", f"{c}/o", _h(tester), b"secret")[0] == 201
    return c


def test_non_admin_user_is_denied_without_acl(cluster: Cluster, acl_container: str) -> None:
    tester3 = cluster.auth("test:tester3", "testing3")
    assert cluster.request("GET", f"{acl_container}/o", _h(tester3))[0] == 403


def test_read_acl_grants_user_and_anonymous_referrer(
    cluster: Cluster, tester: Auth, acl_container: str
) -> None:
    tester3 = cluster.auth("test:tester3", "testing3")
    assert (
        cluster.request("POST", acl_container, _h(tester3, X_Container_Read="test:tester3"))[0]
        == 403
    )
    status, _, _ = cluster.request(
        "POST", acl_container, _h(tester, X_Container_Read="test:tester3")
    )
    assert status == 204
    assert cluster.request("GET", f"{acl_container}/o", _h(tester3))[2] == b"secret"
    assert cluster.request("PUT", f"{acl_container}/o2", _h(tester3), b"x")[0] == 403
    assert cluster.request("GET", f"{acl_container}/o")[0] == 401  # anonymous
    cluster.request("POST", acl_container, _h(tester, X_Container_Read=".r:*"))
    assert cluster.request("GET", f"{acl_container}/o")[2] == b"secret"
    assert cluster.request("GET", acl_container)[0] in (401, 403)  # no .rlistings
    cluster.request("POST", acl_container, _h(tester, X_Container_Read=".r:*,.rlistings"))
    assert cluster.request("GET", acl_container)[0] == 200


def test_write_acl_lets_user_put(cluster: Cluster, tester: Auth, acl_container: str) -> None:
    tester3 = cluster.auth("test:tester3", "testing3")
    cluster.request("POST", acl_container, _h(tester, X_Container_Write="test:tester3"))
    assert cluster.request("PUT", f"{acl_container}/w", _h(tester3), b"w")[0] == 201


def test_other_account_admin_is_denied(cluster: Cluster, acl_container: str) -> None:
    tester2 = cluster.auth("test2:tester2", "testing2")
    assert cluster.request("DELETE", f"{acl_container}/o", _h(tester2))[0] == 403


def test_account_acl_read_only_lets_listing_not_writing(cluster: Cluster, tester: Auth) -> None:
    tester3 = cluster.auth("test:tester3", "testing3")
    acl = json.dumps({"read-only": ["test:tester3"]})
    assert cluster.request("POST", tester.path, _h(tester, X_Account_Access_Control=acl))[0] == 204
    assert cluster.request("GET", tester.path, _h(tester3))[0] in (200, 204)
    assert cluster.request("PUT", f"{tester.path}/{_name('ro')}", _h(tester3))[0] == 403
    cluster.request("POST", tester.path, _h(tester, X_Account_Access_Control="{}"))


def test_reseller_admin_reaches_any_account(cluster: Cluster, tester: Auth) -> None:
    admin = cluster.auth("admin:admin", "admin")
    assert cluster.request("HEAD", tester.path, _h(admin))[0] in (200, 204)
