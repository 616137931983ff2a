"""Symlinks over HTTP against a real cluster: chains, loops, static links, ACLs, listings."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import uuid

import pytest

from tests.support.cluster import Auth, Cluster


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture
def box(cluster: Cluster, tester: Auth) -> str:
    """A fresh container holding ``target`` (body b"target body")."""
    base = f"{tester.path}/{_name('sym')}"
    assert cluster.request("PUT", base, _h(tester))[0] == 201
    assert cluster.request("PUT", f"{base}/target", _h(tester), b"target body")[0] == 201
    return base


def _link(cluster: Cluster, auth: Auth, path: str, target: str, **extra: str) -> int:
    headers = _h(auth, X_Symlink_Target=target, **extra)
    return cluster.request("PUT", path, headers, b"")[0]


def test_get_link_returns_target_body_and_content_location(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    assert _link(cluster, tester, f"{box}/link", f"{container}/target") == 201
    status, headers, body = cluster.request("GET", f"{box}/link", _h(tester))
    assert (status, body) == (200, b"target body")
    assert headers["content-location"] == f"{box}/target"
    status, headers, _ = cluster.request("HEAD", f"{box}/link", _h(tester))
    assert (status, headers["content-length"]) == (200, "11")


def test_symlink_get_returns_the_link_itself(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/link", f"{container}/target")
    status, headers, body = cluster.request("GET", f"{box}/link?symlink=get", _h(tester))
    assert (status, body) == (200, b"")
    assert headers["x-symlink-target"] == f"{container}/target"
    assert not any(k.startswith("x-object-sysmeta") for k in headers)


def test_chain_of_two_links_is_followed(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    assert _link(cluster, tester, f"{box}/one", f"{container}/target") == 201
    assert _link(cluster, tester, f"{box}/two", f"{container}/one") == 201
    status, headers, body = cluster.request("GET", f"{box}/two", _h(tester))
    assert (status, body) == (200, b"target body")
    assert headers["content-location"] == f"{box}/target"


def test_chain_longer_than_symloop_max_is_409(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/l1", f"{container}/target")
    _link(cluster, tester, f"{box}/l2", f"{container}/l1")
    _link(cluster, tester, f"{box}/l3", f"{container}/l2")
    status, _, body = cluster.request("GET", f"{box}/l3", _h(tester))
    assert status == 409
    assert b"maximum allowed is 2" in body


def test_link_loop_is_409(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/a", f"{container}/b")
    _link(cluster, tester, f"{box}/b", f"{container}/a")
    assert cluster.request("GET", f"{box}/a", _h(tester))[0] == 409
    assert cluster.request("HEAD", f"{box}/b", _h(tester))[0] == 409


def test_dangling_link_is_404(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    assert _link(cluster, tester, f"{box}/dangling", f"{container}/nothing") == 201
    assert cluster.request("GET", f"{box}/dangling", _h(tester))[0] == 404


def test_link_put_with_body_is_400(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    headers = _h(tester, X_Symlink_Target=f"{container}/target")
    assert cluster.request("PUT", f"{box}/bad", headers, b"x")[0] == 400


def test_link_target_malformed_is_412_and_self_is_400(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    assert _link(cluster, tester, f"{box}/bad", "no-slash") == 412
    assert _link(cluster, tester, f"{box}/bad", f"/{container}/target") == 412
    assert _link(cluster, tester, f"{box}/self", f"{container}/self") == 400


def test_static_link_put_checks_etag_and_returns_bytes(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    etag = hashlib.md5(b"target body").hexdigest()
    status, headers, _ = cluster.request(
        "PUT",
        f"{box}/static",
        _h(tester, X_Symlink_Target=f"{container}/target", X_Symlink_Target_Etag=etag),
        b"",
    )
    assert status == 201
    assert headers["x-symlink-target-bytes"] == "11"
    status, headers, _ = cluster.request("HEAD", f"{box}/static?symlink=get", _h(tester))
    assert (headers["x-symlink-target-etag"], headers["x-symlink-target-bytes"]) == (etag, "11")
    assert cluster.request("GET", f"{box}/static", _h(tester))[2] == b"target body"


def test_static_link_wrong_etag_or_missing_target_is_409(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    wrong = _link(
        cluster, tester, f"{box}/s1", f"{container}/target", X_Symlink_Target_Etag="0" * 32
    )
    missing = _link(
        cluster, tester, f"{box}/s2", f"{container}/absent", X_Symlink_Target_Etag="0" * 32
    )
    assert (wrong, missing) == (409, 409)


def test_static_link_whose_target_changed_is_409(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    etag = hashlib.md5(b"target body").hexdigest()
    assert (
        _link(cluster, tester, f"{box}/static", f"{container}/target", X_Symlink_Target_Etag=etag)
        == 201
    )
    assert cluster.request("PUT", f"{box}/target", _h(tester), b"changed")[0] == 201
    status, _, body = cluster.request("GET", f"{box}/static", _h(tester))
    assert status == 409
    assert b"does not match" in body


def test_post_to_link_is_307_to_target(cluster: Cluster, tester: Auth, box: str) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/link", f"{container}/target")
    status, headers, _ = cluster.request("POST", f"{box}/link", _h(tester, X_Object_Meta_A="b"))
    assert status == 307
    assert headers["location"].endswith(f"{box}/target")
    status, _, _ = cluster.request("POST", f"{box}/target", _h(tester, X_Object_Meta_A="b"))
    assert status == 202


def test_post_setting_symlink_target_is_400(cluster: Cluster, tester: Auth, box: str) -> None:
    status = cluster.request("POST", f"{box}/target", _h(tester, X_Symlink_Target="c/o"), None)[0]
    assert status == 400


def test_listing_shows_symlink_path_and_static_fields(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    etag = hashlib.md5(b"target body").hexdigest()
    _link(cluster, tester, f"{box}/dyn", f"{container}/target")
    _link(cluster, tester, f"{box}/stat", f"{container}/target", X_Symlink_Target_Etag=etag)
    rows = {r["name"]: r for r in cluster.json(box, tester.token)}  # type: ignore[union-attr]
    assert rows["dyn"]["symlink_path"] == f"{box}/target"
    assert rows["dyn"]["hash"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert "symlink_etag" not in rows["dyn"]
    assert (rows["stat"]["symlink_etag"], rows["stat"]["symlink_bytes"]) == (etag, 11)
    assert "symlink_path" not in rows["target"]
    _, _, xml = cluster.request("GET", f"{box}?format=xml", _h(tester))
    assert b"<symlink_path>" in xml
    assert b"symlink_target=" not in xml
    _, _, plain = cluster.request("GET", box, _h(tester))
    assert plain.split() == [b"dyn", b"stat", b"target"]


def test_link_across_accounts_needs_read_acl_on_target(cluster: Cluster, tester: Auth) -> None:
    tester2 = cluster.auth("test2:tester2", "testing2")
    other = f"{tester2.path}/{_name('far')}"
    assert cluster.request("PUT", other, _h(tester2))[0] == 201
    assert cluster.request("PUT", f"{other}/secret", _h(tester2), b"far away")[0] == 201
    mine = f"{tester.path}/{_name('near')}"
    assert cluster.request("PUT", mine, _h(tester))[0] == 201
    target_account = tester2.path.split("/")[2]
    far_container = other.rsplit("/", 1)[1]
    status = _link(
        cluster,
        tester,
        f"{mine}/link",
        f"{far_container}/secret",
        X_Symlink_Target_Account=target_account,
    )
    assert status == 201
    assert cluster.request("GET", f"{mine}/link", _h(tester))[0] == 403
    cluster.request("POST", other, _h(tester2, X_Container_Read="test:tester"))
    status, headers, body = cluster.request("GET", f"{mine}/link", _h(tester))
    assert (status, body) == (200, b"far away")
    assert headers["content-location"] == f"{other}/secret"


def test_link_cannot_widen_access_within_an_account(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    tester3 = cluster.auth("test:tester3", "testing3")
    shared = f"{tester.path}/{_name('shared')}"
    assert cluster.request("PUT", shared, _h(tester, X_Container_Read="test:tester3"))[0] == 201
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{shared}/link", f"{container}/target")
    assert cluster.request("GET", f"{shared}/link?symlink=get", _h(tester3))[0] == 200
    assert cluster.request("GET", f"{shared}/link", _h(tester3))[0] == 403


def test_info_lists_symlink_with_symloop_max(cluster: Cluster) -> None:
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["symlink"] == {"symloop_max": 2}


def test_range_and_conditionals_apply_to_the_target(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/link", f"{container}/target")
    status, _, body = cluster.request("GET", f"{box}/link", _h(tester, Range="bytes=0-5"))
    assert (status, body) == (206, b"target")
    etag = hashlib.md5(b"target body").hexdigest()
    assert cluster.request("GET", f"{box}/link", _h(tester, If_None_Match=etag))[0] == 304
    assert cluster.request("GET", f"{box}/link", _h(tester, If_Match=etag))[0] == 200


def test_copy_of_link_copies_target_unless_symlink_get(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    _link(cluster, tester, f"{box}/link", f"{container}/target")
    dest = _h(tester, Destination=f"{container}/data-copy")
    assert cluster.request("COPY", f"{box}/link", dest)[0] == 201
    status, headers, body = cluster.request("GET", f"{box}/data-copy?symlink=get", _h(tester))
    assert (status, body) == (200, b"target body")
    assert "x-symlink-target" not in headers
    dest = _h(tester, Destination=f"{container}/link-copy")
    assert cluster.request("COPY", f"{box}/link?symlink=get", dest)[0] == 201
    status, headers, body = cluster.request("GET", f"{box}/link-copy?symlink=get", _h(tester))
    assert (status, body) == (200, b"")
    assert headers["x-symlink-target"] == f"{container}/target"
    assert cluster.request("GET", f"{box}/link-copy", _h(tester))[2] == b"target body"
    etag = hashlib.md5(b"target body").hexdigest()
    _link(cluster, tester, f"{box}/static", f"{container}/target", X_Symlink_Target_Etag=etag)
    dest = _h(tester, Destination=f"{container}/static-copy")
    assert cluster.request("COPY", f"{box}/static?symlink=get", dest)[0] == 201
    _, headers, _ = cluster.request("HEAD", f"{box}/static-copy?symlink=get", _h(tester))
    assert (headers["x-symlink-target-etag"], headers["x-symlink-target-bytes"]) == (etag, "11")


def _slo(cluster: Cluster, auth: Auth, path: str, segments: dict[str, bytes]) -> int:
    """PUT an SLO at ``path`` made of ``segments`` (segment path -> its body, already stored)."""
    manifest = [
        {"path": seg, "etag": hashlib.md5(data).hexdigest(), "size_bytes": len(data)}
        for seg, data in segments.items()
    ]
    body = json.dumps(manifest).encode()
    return cluster.request("PUT", f"{path}?multipart-manifest=put", _h(auth), body)[0]


def test_link_to_an_slo_reads_the_assembled_object(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    parts = {f"/{container}/seg1": b"first-", f"/{container}/seg2": b"second"}
    for seg, data in parts.items():
        assert cluster.request("PUT", f"{tester.path}{seg}", _h(tester), data)[0] == 201
    assert _slo(cluster, tester, f"{box}/big", parts) == 201
    assert _link(cluster, tester, f"{box}/to-big", f"{container}/big") == 201
    status, headers, body = cluster.request("GET", f"{box}/to-big", _h(tester))
    assert (status, body) == (200, b"first-second")
    assert headers["x-static-large-object"] == "True"
    status, headers, _ = cluster.request("HEAD", f"{box}/to-big", _h(tester))
    assert (status, headers["content-length"]) == (200, "12")
    status, _, body = cluster.request("GET", f"{box}/to-big", _h(tester, Range="bytes=4-7"))
    assert (status, body) == (206, b"t-se")


def test_link_to_a_non_ascii_name_quotes_content_location_once(
    cluster: Cluster, tester: Auth, box: str
) -> None:
    container = box.rsplit("/", 1)[1]
    target = urllib.parse.quote("t\u00e4rget \u00fc")
    assert cluster.request("PUT", f"{box}/{target}", _h(tester), b"umlaut")[0] == 201
    assert _link(cluster, tester, f"{box}/link", f"{container}/{target}") == 201
    status, headers, body = cluster.request("GET", f"{box}/link", _h(tester))
    assert (status, body) == (200, b"umlaut")
    assert headers["content-location"] == f"{box}/{target}"
