"""Legacy versioning (X-Versions-Location / X-History-Location) over HTTP on a real cluster."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import uuid

import pytest

from tests.support.cluster import Auth, Cluster

MARKER = "application/x-deleted;swift_versions_deleted=1"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


def _pair(cluster: Cluster, auth: Auth, header: str) -> tuple[str, str]:
    """(versioned container path, archive container path), the first versioned by ``header``."""
    archive = _name("archive")
    base = f"{auth.path}/{_name('vw')}"
    assert cluster.request("PUT", f"{auth.path}/{archive}", _h(auth))[0] == 201
    assert cluster.request("PUT", base, {**_h(auth), header: archive})[0] == 201
    return base, f"{auth.path}/{archive}"


def _archive(cluster: Cluster, auth: Auth, archive: str) -> list[dict]:
    return cluster.json(archive, auth.token)  # type: ignore[return-value]


def _get(cluster: Cluster, auth: Auth, path: str) -> tuple[int, bytes]:
    status, _, body = cluster.request("GET", path, _h(auth))
    return status, body


def test_container_answers_versions_location(cluster: Cluster, tester: Auth) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    _, headers, _ = cluster.request("HEAD", base, _h(tester))
    assert headers["x-versions-location"] == archive.rsplit("/", 1)[1]
    assert "x-history-location" not in headers
    assert not any(k.startswith("x-container-sysmeta") for k in headers)


def test_stack_mode_three_overwrites_then_deletes_pop_each(cluster: Cluster, tester: Auth) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    for body in (b"v1", b"v2", b"v3"):
        assert cluster.request("PUT", f"{base}/obj", _h(tester), body)[0] == 201
    rows = _archive(cluster, tester, archive)
    assert [r["name"].split("/")[0] for r in rows] == ["003obj", "003obj"]
    assert [r["bytes"] for r in rows] == [2, 2]
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v3")
    assert cluster.request("DELETE", f"{base}/obj", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v2")
    assert cluster.request("DELETE", f"{base}/obj", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v1")
    assert _archive(cluster, tester, archive) == []
    assert cluster.request("DELETE", f"{base}/obj", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/obj")[0] == 404


def test_history_mode_keeps_every_version_and_delete_markers(
    cluster: Cluster, tester: Auth
) -> None:
    base, archive = _pair(cluster, tester, "X-History-Location")
    _, headers, _ = cluster.request("HEAD", base, _h(tester))
    assert headers["x-history-location"] == archive.rsplit("/", 1)[1]
    for body in (b"v1", b"v2", b"v3"):
        assert cluster.request("PUT", f"{base}/obj", _h(tester), body)[0] == 201
    assert cluster.request("DELETE", f"{base}/obj", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/obj")[0] == 404
    rows = _archive(cluster, tester, archive)
    types = [r["content_type"] for r in rows]
    assert len(rows) == 4
    assert types[-1] == MARKER
    bodies = [_get(cluster, tester, f"{archive}/{r['name']}")[1] for r in rows[:3]]
    assert bodies == [b"v1", b"v2", b"v3"]
    # a second DELETE of nothing archives nothing more but still writes a marker
    cluster.request("DELETE", f"{base}/obj", _h(tester))
    assert _get(cluster, tester, f"{base}/obj")[0] == 404
    types = [r["content_type"] for r in _archive(cluster, tester, archive)]
    assert types[3:] == [MARKER, MARKER]
    assert len(types) == 5


def test_both_locations_at_once_is_400(cluster: Cluster, tester: Auth) -> None:
    headers = {**_h(tester), "X-Versions-Location": "a", "X-History-Location": "b"}
    assert cluster.request("PUT", f"{tester.path}/{_name('both')}", headers)[0] == 400


@pytest.mark.parametrize("mode", ["Versions", "History"])
def test_remove_location_stops_versioning(cluster: Cluster, tester: Auth, mode: str) -> None:
    base, archive = _pair(cluster, tester, f"X-{mode}-Location")
    cluster.request("POST", base, {**_h(tester), f"X-Remove-{mode}-Location": "x"})
    _, headers, _ = cluster.request("HEAD", base, _h(tester))
    assert "x-versions-location" not in headers
    assert "x-history-location" not in headers
    cluster.request("PUT", f"{base}/obj", _h(tester), b"v1")
    cluster.request("PUT", f"{base}/obj", _h(tester), b"v2")
    cluster.request("DELETE", f"{base}/obj", _h(tester))
    assert _archive(cluster, tester, archive) == []


def test_missing_archive_is_412_and_object_unchanged(cluster: Cluster, tester: Auth) -> None:
    base = f"{tester.path}/{_name('vw')}"
    cluster.request("PUT", base, _h(tester, X_Versions_Location=_name("nowhere")))
    assert cluster.request("PUT", f"{base}/obj", _h(tester), b"v1")[0] == 201
    assert cluster.request("PUT", f"{base}/obj", _h(tester), b"v2")[0] == 412
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v1")


def test_writer_without_archive_access_is_403_and_nothing_written(
    cluster: Cluster, tester: Auth
) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    cluster.request("POST", base, _h(tester, X_Container_Write="test:tester3"))
    cluster.request("POST", base, _h(tester, X_Container_Read="test:tester3"))
    assert cluster.request("PUT", f"{base}/obj", _h(tester), b"v1")[0] == 201
    tester3 = cluster.auth("test:tester3", "testing3")
    assert cluster.request("PUT", f"{base}/obj", _h(tester3), b"v2")[0] == 403
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v1")
    assert _archive(cluster, tester, archive) == []
    cluster.request("POST", archive, _h(tester, X_Container_Write="test:tester3"))
    assert cluster.request("PUT", f"{base}/obj", _h(tester3), b"v2")[0] == 201
    assert len(_archive(cluster, tester, archive)) == 1
    cluster.request("POST", archive, _h(tester, X_Remove_Container_Write="x"))
    assert cluster.request("DELETE", f"{base}/obj", _h(tester3))[0] == 403
    assert _get(cluster, tester, f"{base}/obj") == (200, b"v2")


@pytest.mark.parametrize("obj", ["dir/sub obj", "caf\u00e9%25x"])
def test_url_encoded_names_are_versioned(cluster: Cluster, tester: Auth, obj: str) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    cluster.request("PUT", f"{base}/{obj}", _h(tester), b"one")
    cluster.request("PUT", f"{base}/{obj}", _h(tester), b"two")
    rows = _archive(cluster, tester, archive)
    name = urllib.parse.unquote(obj)
    assert len(rows) == 1
    assert rows[0]["name"].startswith(f"{len(name.encode()):03x}{name}/")
    assert cluster.request("DELETE", f"{base}/{obj}", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/{obj}") == (200, b"one")


def test_link_is_versioned_as_a_link(cluster: Cluster, tester: Auth) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    container = base.rsplit("/", 1)[1]
    cluster.request("PUT", f"{base}/target", _h(tester), b"target")
    cluster.request("PUT", f"{base}/link", _h(tester, X_Symlink_Target=f"{container}/target"), b"")
    cluster.request("PUT", f"{base}/link", _h(tester), b"plain now")
    rows = _archive(cluster, tester, archive)
    assert rows[0]["bytes"] == 0
    assert cluster.request("DELETE", f"{base}/link", _h(tester))[0] == 204
    _, headers, _ = cluster.request("GET", f"{base}/link?symlink=get", _h(tester))
    assert headers.get("x-symlink-target") == f"{container}/target"
    assert _get(cluster, tester, f"{base}/link") == (200, b"target")


def test_info_lists_versioned_writes(cluster: Cluster) -> None:
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["versioned_writes"] == {
        "allowed_flags": ["x-versions-location", "x-history-location"]
    }


def _segments(cluster: Cluster, auth: Auth, parts: dict[str, bytes]) -> str:
    """A fresh segments container holding ``parts`` (name -> body); its path."""
    segs = f"{auth.path}/{_name('segs')}"
    assert cluster.request("PUT", segs, _h(auth))[0] == 201
    for name, data in parts.items():
        assert cluster.request("PUT", f"{segs}/{name}", _h(auth), data)[0] == 201
    return segs


def _slo_body(segs: str, parts: dict[str, bytes]) -> bytes:
    container = segs.rsplit("/", 1)[1]
    return json.dumps(
        [
            {"path": f"/{container}/{n}", "etag": hashlib.md5(d).hexdigest(), "size_bytes": len(d)}
            for n, d in parts.items()
        ]
    ).encode()


def test_slo_manifest_is_versioned_not_its_segments(cluster: Cluster, tester: Auth) -> None:
    base, archive = _pair(cluster, tester, "X-Versions-Location")
    parts = {"s1": b"one-", "s2": b"two", "s3": b"3rd"}
    segs = _segments(cluster, tester, parts)
    first = {k: parts[k] for k in ("s1", "s2")}
    put = f"{base}/big?multipart-manifest=put"
    assert cluster.request("PUT", put, _h(tester), _slo_body(segs, first))[0] == 201
    assert cluster.request("PUT", put, _h(tester), _slo_body(segs, {"s3": b"3rd"}))[0] == 201
    assert _get(cluster, tester, f"{base}/big") == (200, b"3rd")
    rows = _archive(cluster, tester, archive)
    assert [r["name"].split("/")[0] for r in rows] == ["003big"]
    old = f"{archive}/{rows[0]['name']}"
    assert _get(cluster, tester, old) == (200, b"one-two")
    status, headers, body = cluster.request("GET", f"{old}?multipart-manifest=get", _h(tester))
    assert status == 200
    assert headers["x-static-large-object"] == "True"
    assert [s["name"].rsplit("/", 1)[1] for s in json.loads(body)] == ["s1", "s2"]
    assert [r["name"] for r in _archive(cluster, tester, segs)] == ["s1", "s2", "s3"]
    assert cluster.request("DELETE", f"{base}/big", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/big") == (200, b"one-two")
    assert _archive(cluster, tester, archive) == []
    assert [r["name"] for r in _archive(cluster, tester, segs)] == ["s1", "s2", "s3"]


def test_dlo_manifest_is_versioned_not_its_segments(cluster: Cluster, tester: Auth) -> None:
    base, archive = _pair(cluster, tester, "X-History-Location")
    segs = _segments(cluster, tester, {"a/1": b"old-", "a/2": b"dlo", "b/1": b"new dlo"})
    container = segs.rsplit("/", 1)[1]
    for prefix in ("a/", "b/"):
        headers = _h(tester, X_Object_Manifest=f"{container}/{prefix}")
        assert cluster.request("PUT", f"{base}/d", headers, b"")[0] == 201
    assert _get(cluster, tester, f"{base}/d") == (200, b"new dlo")
    rows = _archive(cluster, tester, archive)
    assert len(rows) == 1
    old = f"{archive}/{rows[0]['name']}"
    status, headers, body = cluster.request("GET", old, _h(tester))
    assert (status, body, headers["x-object-manifest"]) == (200, b"old-dlo", f"{container}/a/")
    assert cluster.request("DELETE", f"{base}/d", _h(tester))[0] == 204
    assert _get(cluster, tester, f"{base}/d")[0] == 404
    assert len(_archive(cluster, tester, archive)) == 3
    assert len(_archive(cluster, tester, segs)) == 3
