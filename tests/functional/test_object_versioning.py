"""Object versioning (X-Versions-Enabled) over HTTP on a real cluster."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

from tests.support.cluster import Auth, Cluster
from tests.support.wait import wait_until

MARKER = "application/x-deleted;swift_versions_deleted=1"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture
def versioned(cluster: Cluster, tester: Auth) -> str:
    base = f"{tester.path}/{_name('ov')}"
    assert cluster.request("PUT", base, _h(tester, X_Versions_Enabled="true"))[0] == 201
    return base


def _put(cluster: Cluster, auth: Auth, path: str, body: bytes) -> str:
    status, headers, _ = cluster.request("PUT", path, _h(auth), body)
    assert status == 201
    assert headers["etag"] == hashlib.md5(body).hexdigest()
    return headers["x-object-version-id"]


def _versions(cluster: Cluster, auth: Auth, base: str, query: str = "") -> list[dict]:
    status, _, body = cluster.request("GET", f"{base}?versions&format=json{query}", _h(auth))
    assert status == 200, status
    return json.loads(body)


def test_enable_answers_header_and_hides_versions_container(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    _, headers, _ = cluster.request("HEAD", versioned, _h(tester))
    assert headers["x-versions-enabled"] == "True"
    names = [c["name"] for c in cluster.json(tester.path, tester.token)]  # type: ignore[union-attr]
    assert versioned.rsplit("/", 1)[1] in names
    assert not any(n.startswith("\x00") for n in names)


def test_three_writes_a_delete_and_every_version_by_id(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    obj = f"{versioned}/doc"
    ids = [_put(cluster, tester, obj, body) for body in (b"one", b"two!", b"three")]
    assert len(set(ids)) == 3
    status, headers, body = cluster.request("GET", obj, _h(tester))
    assert (status, body) == (200, b"three")
    assert headers["x-object-version-id"] == ids[2]
    assert headers["content-location"].endswith(f"/doc?version-id={ids[2]}")
    status, headers, body = cluster.request("GET", f"{obj}?symlink=get", _h(tester))
    container = versioned.rsplit("/", 1)[1]
    assert (status, body, headers["x-object-version-id"]) == (200, b"", ids[2])
    assert headers["x-symlink-target"] == f"{container}/doc?version-id={ids[2]}"
    for vid, want in zip(ids, (b"one", b"two!", b"three"), strict=True):
        status, headers, body = cluster.request("GET", f"{obj}?version-id={vid}", _h(tester))
        assert (status, body, headers["x-object-version-id"]) == (200, want, vid)
    status, headers, _ = cluster.request("DELETE", obj, _h(tester))
    assert status == 204
    marker_id = headers["x-object-version-id"]
    assert cluster.request("GET", obj, _h(tester))[0] == 404
    status, headers, _ = cluster.request("HEAD", f"{obj}?version-id={marker_id}", _h(tester))
    assert status == 404
    assert headers["content-type"] == MARKER
    assert cluster.request("GET", f"{obj}?version-id={ids[0]}", _h(tester))[2] == b"one"
    rows = _versions(cluster, tester, versioned)
    assert [(r["version_id"], r["is_latest"]) for r in rows] == [
        (marker_id, True),
        (ids[2], False),
        (ids[1], False),
        (ids[0], False),
    ]
    assert [r["bytes"] for r in rows] == [0, 5, 4, 3]
    assert rows[0]["content_type"] == MARKER


def test_listing_shows_current_version_bytes_and_etag(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    _put(cluster, tester, f"{versioned}/a", b"first")
    vid = _put(cluster, tester, f"{versioned}/a", b"second!")
    rows = cluster.json(versioned, tester.token)
    assert isinstance(rows, list)
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["bytes"]) == ("a", 7)
    assert row["hash"] == hashlib.md5(b"second!").hexdigest()
    assert row["symlink_path"].endswith(f"/a?version-id={vid}")
    _, headers, _ = cluster.request("HEAD", versioned, _h(tester))
    assert headers["x-container-object-count"] == "1"
    assert headers["x-container-bytes-used"] == str(5 + 7)


def test_versions_listing_in_every_format(cluster: Cluster, tester: Auth, versioned: str) -> None:
    first = _put(cluster, tester, f"{versioned}/x", b"1")
    second = _put(cluster, tester, f"{versioned}/x", b"22")
    _put(cluster, tester, f"{versioned}/y", b"333")
    status, headers, plain = cluster.request("GET", f"{versioned}?versions", _h(tester))
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert plain.split() == [b"x", b"x", b"y"]
    _, headers, xml = cluster.request("GET", f"{versioned}?versions&format=xml", _h(tester))
    assert headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml)  # noqa: S314 - our own cluster's output
    got = [(o.findtext("name"), o.findtext("version_id"), o.findtext("is_latest")) for o in root]
    assert got[:2] == [("x", second, "True"), ("x", first, "False")]
    assert got[2][0] == "y"
    rows = _versions(cluster, tester, versioned)
    assert [r["name"] for r in rows] == ["x", "x", "y"]


def test_versions_listing_pages_with_marker_and_version_marker(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    ids = [_put(cluster, tester, f"{versioned}/p", body) for body in (b"a", b"b", b"c")]
    _put(cluster, tester, f"{versioned}/q", b"d")
    page = _versions(cluster, tester, versioned, "&limit=2")
    assert [r["version_id"] for r in page] == [ids[2], ids[1]]
    rest = _versions(cluster, tester, versioned, f"&marker=p&version_marker={ids[1]}")
    assert (rest[0]["name"], rest[0]["version_id"]) == ("p", ids[0])
    assert [r["name"] for r in rest] == ["p", "q"]
    after_p = _versions(cluster, tester, versioned, "&marker=p")
    assert [r["name"] for r in after_p] == ["q"]
    only_q = _versions(cluster, tester, versioned, "&prefix=q")
    assert [r["name"] for r in only_q] == ["q"]
    status, _, _ = cluster.request("GET", f"{versioned}?versions&version_marker=1", _h(tester))
    assert status == 400


def test_restore_a_version_makes_it_current(cluster: Cluster, tester: Auth, versioned: str) -> None:
    obj = f"{versioned}/r"
    ids = [_put(cluster, tester, obj, body) for body in (b"old", b"new")]
    status, headers, _ = cluster.request("PUT", f"{obj}?version-id={ids[0]}", _h(tester), b"")
    assert status == 201
    assert headers["x-object-version-id"] == ids[0]
    status, headers, body = cluster.request("GET", obj, _h(tester))
    assert (status, body, headers["x-object-version-id"]) == (200, b"old", ids[0])
    rows = _versions(cluster, tester, versioned)
    assert [(r["version_id"], r["is_latest"]) for r in rows] == [(ids[1], False), (ids[0], True)]
    # a client-side restore (read a version, write it back) makes a new version
    old = cluster.request("GET", f"{obj}?version-id={ids[1]}", _h(tester))[2]
    third = _put(cluster, tester, obj, old)
    assert cluster.request("GET", obj, _h(tester))[2] == b"new"
    assert len(_versions(cluster, tester, versioned)) == 3
    assert third not in ids


def test_delete_by_version_id(cluster: Cluster, tester: Auth, versioned: str) -> None:
    obj = f"{versioned}/d"
    ids = [_put(cluster, tester, obj, body) for body in (b"1", b"2")]
    status, headers, _ = cluster.request("DELETE", f"{obj}?version-id={ids[0]}", _h(tester))
    assert status == 204
    assert headers["x-object-current-version-id"] == ids[1]
    assert cluster.request("GET", f"{obj}?version-id={ids[0]}", _h(tester))[0] == 404
    assert cluster.request("GET", obj, _h(tester))[2] == b"2"
    status, headers, _ = cluster.request("DELETE", f"{obj}?version-id={ids[1]}", _h(tester))
    assert (status, headers["x-object-current-version-id"]) == (204, "null")
    assert cluster.request("GET", obj, _h(tester))[0] == 404
    assert _versions(cluster, tester, versioned) == []


def test_null_version_written_before_enabling_is_kept(cluster: Cluster, tester: Auth) -> None:
    base = f"{tester.path}/{_name('late')}"
    cluster.request("PUT", base, _h(tester))
    cluster.request("PUT", f"{base}/o", _h(tester), b"before")
    cluster.request("POST", base, _h(tester, X_Versions_Enabled="true"))
    status, headers, _ = cluster.request("HEAD", f"{base}/o", _h(tester))
    assert (status, headers.get("x-object-version-id")) == (200, "null")
    assert cluster.request("GET", f"{base}/o?version-id=null", _h(tester))[2] == b"before"
    rows = _versions(cluster, tester, base)
    assert [(r["version_id"], r["is_latest"]) for r in rows] == [("null", True)]
    vid = _put(cluster, tester, f"{base}/o", b"after")
    rows = _versions(cluster, tester, base)
    assert [r["is_latest"] for r in rows] == [True, False]
    assert rows[0]["version_id"] == vid
    assert cluster.request("GET", f"{base}/o?version-id={rows[1]['version_id']}", _h(tester))[
        2
    ] == (b"before")
    assert cluster.request("GET", f"{base}/o?version-id=null", _h(tester))[0] == 404


def test_disabling_keeps_versions_and_writes_null(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    obj = f"{versioned}/k"
    vid = _put(cluster, tester, obj, b"kept")
    cluster.request("POST", versioned, _h(tester, X_Versions_Enabled="false"))
    _, headers, _ = cluster.request("HEAD", versioned, _h(tester))
    assert headers["x-versions-enabled"] == "False"
    status, headers, _ = cluster.request("PUT", obj, _h(tester), b"plain")
    assert status == 201
    assert "x-object-version-id" not in headers
    assert cluster.request("GET", f"{obj}?version-id={vid}", _h(tester))[2] == b"kept"
    rows = _versions(cluster, tester, versioned)
    assert [(r["version_id"], r["is_latest"]) for r in rows] == [("null", True), (vid, False)]


def test_container_with_versions_cannot_be_deleted(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    obj = f"{versioned}/z"
    vid = _put(cluster, tester, obj, b"v")
    cluster.request("DELETE", obj, _h(tester))
    cluster.request("POST", versioned, _h(tester, X_Versions_Enabled="false"))
    assert cluster.request("DELETE", versioned, _h(tester))[0] == 409
    for row in _versions(cluster, tester, versioned):
        path = f"{obj}?version-id={row['version_id']}"
        assert cluster.request("DELETE", path, _h(tester))[0] == 204
    assert vid
    assert cluster.request("DELETE", versioned, _h(tester))[0] == 204
    assert cluster.request("HEAD", versioned, _h(tester))[0] == 404


def test_version_id_errors(cluster: Cluster, tester: Auth, versioned: str) -> None:
    obj = f"{versioned}/e"
    _put(cluster, tester, obj, b"e")
    assert cluster.request("POST", f"{obj}?version-id=1", _h(tester))[0] == 400
    assert cluster.request("GET", f"{obj}?version-id=nonsense", _h(tester))[0] == 400
    plain = f"{tester.path}/{_name('plain')}"
    cluster.request("PUT", plain, _h(tester))
    assert cluster.request("GET", f"{plain}/o?version-id=1", _h(tester))[0] == 400
    assert cluster.request("PUT", f"{obj}?version-id=1700000000.00000", _h(tester), b"")[0] == 404
    assert cluster.request("PUT", f"{obj}?version-id=1700000000.00000", _h(tester), b"x")[0] == 400


def test_post_to_versioned_object_updates_current_version(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    obj = f"{versioned}/m"
    _put(cluster, tester, obj, b"m")
    status, _, _ = cluster.request("POST", obj, _h(tester, X_Object_Meta_Color="red"))
    assert status == 202
    _, headers, _ = cluster.request("HEAD", obj, _h(tester))
    assert headers["x-object-meta-color"] == "red"


def test_reader_without_access_cannot_read_versions(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    vid = _put(cluster, tester, f"{versioned}/s", b"secret")
    tester3 = cluster.auth("test:tester3", "testing3")
    assert cluster.request("GET", f"{versioned}/s", _h(tester3))[0] == 403
    assert cluster.request("GET", f"{versioned}/s?version-id={vid}", _h(tester3))[0] == 403
    assert cluster.request("DELETE", f"{versioned}/s?version-id={vid}", _h(tester3))[0] == 403
    assert cluster.request("PUT", f"{versioned}/s", _h(tester3), b"x")[0] == 403
    cluster.request("POST", versioned, _h(tester, X_Container_Read="test:tester3"))
    assert cluster.request("GET", f"{versioned}/s?version-id={vid}", _h(tester3))[2] == b"secret"
    assert cluster.request("GET", f"{versioned}/s", _h(tester3))[2] == b"secret"
    assert cluster.request("GET", f"{versioned}?versions", _h(tester3))[0] == 200


def test_symlink_in_versioned_container_is_versioned_as_a_link(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    container = versioned.rsplit("/", 1)[1]
    _put(cluster, tester, f"{versioned}/target", b"pointed at")
    status, headers, _ = cluster.request(
        "PUT", f"{versioned}/link", _h(tester, X_Symlink_Target=f"{container}/target"), b""
    )
    assert status == 201
    link_version = headers["x-object-version-id"]
    assert cluster.request("GET", f"{versioned}/link", _h(tester))[2] == b"pointed at"
    _put(cluster, tester, f"{versioned}/link", b"now plain")
    assert cluster.request("GET", f"{versioned}/link", _h(tester))[2] == b"now plain"
    old = cluster.request("GET", f"{versioned}/link?version-id={link_version}", _h(tester))
    assert (old[0], old[2]) == (200, b"pointed at")


def test_legacy_container_cannot_enable_object_versioning(cluster: Cluster, tester: Auth) -> None:
    base = f"{tester.path}/{_name('legacy')}"
    cluster.request("PUT", base, _h(tester, X_Versions_Location=_name("arch")))
    assert cluster.request("POST", base, _h(tester, X_Versions_Enabled="true"))[0] == 400


def test_info_lists_object_versioning(cluster: Cluster) -> None:
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["object_versioning"] == {}
    assert "symlink" in info  # object versioning is built on links


def test_copy_into_versioned_container_is_a_new_version(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    plain = f"{tester.path}/{_name('src')}"
    cluster.request("PUT", plain, _h(tester))
    cluster.request("PUT", f"{plain}/s", _h(tester, X_Object_Meta_Kind="src"), b"copied body")
    _put(cluster, tester, f"{versioned}/c", b"before")
    status, headers, _ = cluster.request(
        "PUT", f"{versioned}/c", _h(tester, X_Copy_From=f"{plain.rsplit('/', 1)[1]}/s"), b""
    )
    assert status == 201
    assert headers["x-copied-from"].endswith("/s")
    status, headers, body = cluster.request("GET", f"{versioned}/c", _h(tester))
    assert (status, body, headers["x-object-meta-kind"]) == (200, b"copied body", "src")
    rows = _versions(cluster, tester, versioned)
    assert [r["bytes"] for r in rows] == [11, 6]


def test_copy_of_a_version_restores_it(cluster: Cluster, tester: Auth, versioned: str) -> None:
    obj = f"{versioned}/cv"
    ids = [_put(cluster, tester, obj, body) for body in (b"first", b"second")]
    container = versioned.rsplit("/", 1)[1]
    status, _, _ = cluster.request(
        "COPY", f"{obj}?version-id={ids[0]}", _h(tester, Destination=f"{container}/cv")
    )
    assert status == 201
    assert cluster.request("GET", obj, _h(tester))[2] == b"first"
    assert len(_versions(cluster, tester, versioned)) == 3


def test_copy_out_of_versioned_container_copies_data_not_link(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    _put(cluster, tester, f"{versioned}/out", b"the data")
    plain = f"{tester.path}/{_name('dst')}"
    cluster.request("PUT", plain, _h(tester))
    container = versioned.rsplit("/", 1)[1]
    status = cluster.request(
        "PUT", f"{plain}/copy", _h(tester, X_Copy_From=f"{container}/out"), b""
    )[0]
    assert status == 201
    status, headers, body = cluster.request("GET", f"{plain}/copy?symlink=get", _h(tester))
    assert (status, body) == (200, b"the data")
    assert "x-symlink-target" not in headers


def test_account_listing_counts_versions_bytes(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    _put(cluster, tester, f"{versioned}/b", b"12345")
    _put(cluster, tester, f"{versioned}/b", b"123")
    name = versioned.rsplit("/", 1)[1]

    def row() -> dict | None:
        rows = cluster.json(f"{tester.path}", tester.token)
        assert isinstance(rows, list)
        found = next(r for r in rows if r["name"] == name)
        # containers report their totals to the account in the background
        return found if (found["count"], found["bytes"]) == (1, 8) else None

    assert wait_until(row, timeout=30, what="account totals with the versions' bytes")
    rows = cluster.json(f"{tester.path}", tester.token)
    assert isinstance(rows, list)
    assert not any(r["name"].startswith("\x00") for r in rows)
    _, _, plain = cluster.request("GET", f"{tester.path}?prefix={name}", _h(tester))
    assert plain.split() == [name.encode()]


def test_versions_listing_with_delimiter_rolls_up_subdirs(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    for name in ("d/a", "d/a", "d/b", "e"):
        _put(cluster, tester, f"{versioned}/{name}", name.encode())
    rows = _versions(cluster, tester, versioned, "&delimiter=/")
    assert [r.get("subdir") or r["name"] for r in rows] == ["d/", "e"]
    inside = _versions(cluster, tester, versioned, "&prefix=d/")
    assert [(r["name"], r["is_latest"]) for r in inside] == [
        ("d/a", True),
        ("d/a", False),
        ("d/b", True),
    ]
    assert cluster.request("GET", f"{versioned}?versions&delimiter=1", _h(tester))[0] == 400


def test_versioned_slo_keeps_each_manifest_as_a_version(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    segs = f"{tester.path}/{_name('segs')}"
    assert cluster.request("PUT", segs, _h(tester))[0] == 201
    parts = {"s1": b"one-", "s2": b"two", "s3": b"3rd"}
    for name, data in parts.items():
        assert cluster.request("PUT", f"{segs}/{name}", _h(tester), data)[0] == 201
    seg_container = segs.rsplit("/", 1)[1]

    def manifest(*names: str) -> bytes:
        return json.dumps(
            [
                {
                    "path": f"/{seg_container}/{n}",
                    "etag": hashlib.md5(parts[n]).hexdigest(),
                    "size_bytes": len(parts[n]),
                }
                for n in names
            ]
        ).encode()

    obj = f"{versioned}/big"
    ids = []
    for names in (("s1", "s2"), ("s3",)):
        status, headers, _ = cluster.request(
            "PUT", f"{obj}?multipart-manifest=put", _h(tester), manifest(*names)
        )
        assert status == 201
        ids.append(headers["x-object-version-id"])
    status, headers, body = cluster.request("GET", obj, _h(tester))
    assert (status, body, headers["x-static-large-object"]) == (200, b"3rd", "True")
    status, headers, body = cluster.request("GET", f"{obj}?version-id={ids[0]}", _h(tester))
    assert (status, body, headers["x-object-version-id"]) == (200, b"one-two", ids[0])
    status, headers, _ = cluster.request("HEAD", f"{obj}?version-id={ids[0]}", _h(tester))
    assert (status, headers["content-length"]) == (200, "7")
    query = f"version-id={ids[0]}&multipart-manifest=get"
    status, _, body = cluster.request("GET", f"{obj}?{query}", _h(tester))
    assert status == 200
    assert [s["name"].rsplit("/", 1)[1] for s in json.loads(body)] == ["s1", "s2"]
    rows = _versions(cluster, tester, versioned)
    assert [(r["version_id"], r["is_latest"]) for r in rows] == [(ids[1], True), (ids[0], False)]
    assert [r["bytes"] for r in rows] == [3, 7]
    assert cluster.request("PUT", f"{obj}?version-id={ids[0]}", _h(tester), b"")[0] == 201
    assert cluster.request("GET", obj, _h(tester))[2] == b"one-two"
    assert cluster.request("DELETE", obj, _h(tester))[0] == 204
    assert cluster.request("GET", f"{obj}?version-id={ids[1]}", _h(tester))[2] == b"3rd"
    segments = cluster.json(segs, tester.token)
    assert isinstance(segments, list)
    assert [s["name"] for s in segments] == ["s1", "s2", "s3"]


@pytest.mark.parametrize("name", ["dir/sub obj", "caf\u00e9%25x?y"])
def test_url_encoded_names_are_versioned(
    cluster: Cluster, tester: Auth, versioned: str, name: str
) -> None:
    quoted = urllib.parse.quote(name)
    obj = f"{versioned}/{quoted}"
    ids = [_put(cluster, tester, obj, body) for body in (b"one", b"two")]
    rows = _versions(cluster, tester, versioned)
    assert [(r["name"], r["version_id"]) for r in rows] == [(name, ids[1]), (name, ids[0])]
    listed = cluster.json(versioned, tester.token)
    assert isinstance(listed, list)
    assert [r["name"] for r in listed] == [name]
    _, headers, _ = cluster.request("GET", obj, _h(tester))
    assert headers["content-location"] == f"{obj}?version-id={ids[1]}"
    status, headers, body = cluster.request("GET", f"{obj}?version-id={ids[0]}", _h(tester))
    assert (status, body, headers["x-object-version-id"]) == (200, b"one", ids[0])
    assert cluster.request("DELETE", obj, _h(tester))[0] == 204
    assert cluster.request("GET", obj, _h(tester))[0] == 404
    assert cluster.request("PUT", f"{obj}?version-id={ids[0]}", _h(tester), b"")[0] == 201
    assert cluster.request("GET", obj, _h(tester))[2] == b"one"


def test_link_into_a_versioned_container_follows_the_current_version(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    container = versioned.rsplit("/", 1)[1]
    _put(cluster, tester, f"{versioned}/t", b"first")
    plain = f"{tester.path}/{_name('links')}"
    assert cluster.request("PUT", plain, _h(tester))[0] == 201
    etag = hashlib.md5(b"first").hexdigest()
    for name, extra in (("dyn", {}), ("static", {"X-Symlink-Target-Etag": etag})):
        headers = {**_h(tester, X_Symlink_Target=f"{container}/t"), **extra}
        assert cluster.request("PUT", f"{plain}/{name}", headers, b"")[0] == 201
    assert cluster.request("GET", f"{plain}/dyn", _h(tester))[2] == b"first"
    assert cluster.request("GET", f"{plain}/static", _h(tester))[2] == b"first"
    _put(cluster, tester, f"{versioned}/t", b"second")
    status, _, body = cluster.request("GET", f"{plain}/dyn", _h(tester))
    assert (status, body) == (200, b"second")
    assert cluster.request("GET", f"{plain}/static", _h(tester))[0] == 409
    cluster.request("DELETE", f"{versioned}/t", _h(tester))
    assert cluster.request("GET", f"{plain}/dyn", _h(tester))[0] == 404


def test_delete_while_disabled_writes_no_marker_and_keeps_versions(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    obj = f"{versioned}/off"
    ids = [_put(cluster, tester, obj, body) for body in (b"a", b"bb")]
    cluster.request("POST", versioned, _h(tester, X_Versions_Enabled="false"))
    status, headers, _ = cluster.request("DELETE", obj, _h(tester))
    assert status == 204
    assert "x-object-version-id" not in headers
    assert cluster.request("GET", obj, _h(tester))[0] == 404
    rows = _versions(cluster, tester, versioned)
    assert [r["version_id"] for r in rows] == [ids[1], ids[0]]
    assert MARKER not in [r["content_type"] for r in rows]
    assert cluster.request("GET", f"{obj}?version-id={ids[0]}", _h(tester))[2] == b"a"


def test_version_that_is_a_link_cannot_widen_a_readers_access(
    cluster: Cluster, tester: Auth, versioned: str
) -> None:
    cluster.request("POST", versioned, _h(tester, X_Container_Read="test:tester3"))
    secret = f"{tester.path}/{_name('secret')}"
    assert cluster.request("PUT", secret, _h(tester))[0] == 201
    assert cluster.request("PUT", f"{secret}/x", _h(tester), b"secret")[0] == 201
    link = {**_h(tester), "X-Symlink-Target": f"{secret.rsplit('/', 1)[1]}/x"}
    status, headers, _ = cluster.request("PUT", f"{versioned}/l", link, b"")
    assert status == 201
    link_version = headers["x-object-version-id"]
    tester3 = cluster.auth("test:tester3", "testing3")
    assert cluster.request("GET", f"{versioned}/l", _h(tester3))[0] == 403
    _put(cluster, tester, f"{versioned}/l", b"plain")
    assert cluster.request("GET", f"{versioned}/l", _h(tester3))[2] == b"plain"
    by_id = f"{versioned}/l?version-id={link_version}"
    assert cluster.request("GET", by_id, _h(tester3))[0] == 403
    assert cluster.request("HEAD", by_id, _h(tester3))[0] == 403
    assert cluster.request("GET", by_id, _h(tester))[2] == b"secret"
    status, _, body = cluster.request("GET", f"{by_id}&symlink=get", _h(tester3))
    assert (status, body) == (200, b"")
