"""Large objects with real clients: the `swift` CLI's DLO and SLO uploads, rclone's chunks."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.functional.rawhttp import LogWatch
from tests.support.cluster import Auth, Cluster

SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))
RCLONE = shutil.which("rclone")
MIB = 1024 * 1024


def _run_swift(cluster: Cluster, *args: str, cwd: pathlib.Path | None = None):
    cmd = [SWIFT, "-A", cluster.auth_url, "-U", "test:tester", "-K", "testing", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _swift(cluster: Cluster, *args: str, cwd: pathlib.Path | None = None) -> str:
    done = _run_swift(cluster, *args, cwd=cwd)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _listing(cluster: Cluster, auth: Auth, container: str) -> list[dict]:
    status, _, body = cluster.request(
        "GET", f"{auth.path}/{container}?format=json", {"X-Auth-Token": auth.token}
    )
    assert status in (200, 204, 404), status
    return json.loads(body) if status == 200 else []


def _lose_object(cluster: Cluster, account: str, container: str, obj: str) -> None:
    """Remove an object's files from every disk, as a failed disk would (listings keep it)."""
    from swiftlite.common.hashing import hash_path, suffix_of

    with cluster.own_conf():
        name_hash = hash_path(account, container, obj)
        part = cluster.ring("object").get_part(account, container, obj)
    found = cluster.object_dirs(account, container, obj)
    assert found
    for ip, device in found:
        where = pathlib.Path(cluster.device_path(ip, device), "objects", str(part))
        shutil.rmtree(where / suffix_of(name_hash) / name_hash)
    assert cluster.object_dirs(account, container, obj) == {}


def _md5_file(path: pathlib.Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("lo") / "big.bin"
    path.write_bytes(os.urandom(20 * MIB))
    return path


@pytest.mark.parametrize("kind", ["dlo", "slo"])
def test_swift_cli_segmented_upload_downloads_byte_identical_and_delete_leaves_no_segments(
    cluster: Cluster, tester: Auth, big_file: pathlib.Path, tmp_path: pathlib.Path, kind: str
) -> None:
    container = f"lo-{kind}"
    extra = ["--use-slo"] if kind == "slo" else ["--use-dlo"]  # SLO is the CLI's default
    _swift(cluster, "upload", "-S", str(4 * MIB), *extra, container, "big.bin", cwd=big_file.parent)
    segments = _listing(cluster, tester, f"{container}_segments")
    assert len(segments) == 5
    if kind == "slo":  # a metadata POST leaves an SLO an SLO (a DLO's needs X-Object-Manifest)
        _swift(cluster, "post", "-m", "color:blue", container, "big.bin")
    out = tmp_path / "out.bin"
    _swift(cluster, "download", container, "big.bin", "-o", str(out))
    assert _md5_file(out) == _md5_file(big_file)
    stat = _swift(cluster, "stat", container, "big.bin")
    assert "Content Length: 20971520" in stat
    if kind == "dlo":
        assert f"Manifest: {container}_segments/big.bin/" in stat
    else:
        assert "X-Static-Large-Object: True" in stat
        assert "Meta Color: blue" in stat
    rows = {r["name"]: r for r in _listing(cluster, tester, container)}
    assert rows["big.bin"]["bytes"] == 20 * MIB or kind == "dlo"
    if kind == "slo":  # XML rows are read again as JSON by slo, with the caller's auth
        token = {"X-Auth-Token": tester.token}
        status, _, xml = cluster.request("GET", f"{tester.path}/{container}?format=xml", token)
        assert (status, b"<bytes>20971520</bytes>" in xml) == (200, True)
    _swift(cluster, "delete", container, "big.bin")
    assert _listing(cluster, tester, f"{container}_segments") == []
    assert _listing(cluster, tester, container) == []


@pytest.mark.parametrize("kind", ["dlo", "slo"])
def test_swift_cli_download_with_a_missing_segment_fails_loudly(
    cluster: Cluster, tester: Auth, tmp_path: pathlib.Path, kind: str
) -> None:
    container = f"lo-broken-{kind}"
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(3 * MIB + 5))
    extra = ["--use-slo"] if kind == "slo" else ["--use-dlo"]  # SLO is the CLI's default
    _swift(cluster, "upload", "-S", str(MIB), *extra, container, "f.bin", cwd=tmp_path)
    segments = sorted(r["name"] for r in _listing(cluster, tester, f"{container}_segments"))
    assert len(segments) == 4
    if kind == "slo":
        _swift(cluster, "delete", f"{container}_segments", segments[2])
    else:  # a DLO is what its listing says: lose the data, keep the listing row
        _lose_object(cluster, "AUTH_test", f"{container}_segments", segments[2])
    out = tmp_path / "out.bin"
    done = _run_swift(cluster, "download", container, "f.bin", "-o", str(out))
    assert done.returncode != 0, done.stdout
    assert not out.exists() or out.stat().st_size < src.stat().st_size


def test_info_lists_slo_with_its_limits_and_dlo(cluster: Cluster) -> None:
    status, _, body = cluster.request("GET", "/info")
    assert status == 200
    info = json.loads(body)
    assert info["slo"]["max_manifest_segments"] == 1000
    assert info["slo"]["max_manifest_size"] == 8 * MIB
    assert info["slo"]["min_segment_size"] == 1
    assert "max_get_time" in info["dlo"]


def _rclone_env(cluster: Cluster, tmp_path: pathlib.Path) -> dict[str, str]:
    return {
        **os.environ,
        "RCLONE_CONFIG_SL_TYPE": "swift",
        "RCLONE_CONFIG_SL_USER": "test:tester",
        "RCLONE_CONFIG_SL_KEY": "testing",
        "RCLONE_CONFIG_SL_AUTH": cluster.auth_url,
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
    }


def _rclone(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(RCLONE), "--swift-chunk-size", "5M", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"rclone {args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _chunked_tree(tmp_path: pathlib.Path) -> pathlib.Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "chunked.bin").write_bytes(os.urandom(12 * MIB + 3))
    (src / "small.txt").write_bytes(b"small\n")
    return src


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_chunked_upload_round_trips_byte_identical_and_checks_clean(
    cluster: Cluster, tester: Auth, tmp_path: pathlib.Path
) -> None:
    env = _rclone_env(cluster, tmp_path)
    src = _chunked_tree(tmp_path)
    _rclone(env, "copy", str(src), "sl:rc-lo")
    assert len(_listing(cluster, tester, "rc-lo_segments")) == 3  # 12 MiB in 5 MiB chunks
    rows = {r["name"]: r for r in _listing(cluster, tester, "rc-lo")}
    assert rows["chunked.bin"]["bytes"] == 0  # a DLO manifest; its size is the segments'
    _rclone(env, "check", str(src), "sl:rc-lo")
    back = tmp_path / "back"
    _rclone(env, "copy", "sl:rc-lo", str(back))
    assert _md5_file(back / "chunked.bin") == _md5_file(src / "chunked.bin")


def _has_bulk_delete(cluster: Cluster) -> bool:
    return "bulk_delete" in json.loads(cluster.request("GET", "/info")[2])


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_delete_of_a_chunked_file_leaves_no_segments(
    cluster: Cluster, tester: Auth, tmp_path: pathlib.Path
) -> None:
    if not _has_bulk_delete(cluster):
        pytest.skip("rclone deletes a chunked file's segments with bulk delete (issue 18)")
    env = _rclone_env(cluster, tmp_path)
    _rclone(env, "copy", str(_chunked_tree(tmp_path)), "sl:rc-lo-del")
    assert _listing(cluster, tester, "rc-lo-del_segments")
    _rclone(env, "delete", "sl:rc-lo-del")
    assert _listing(cluster, tester, "rc-lo-del") == []
    assert _listing(cluster, tester, "rc-lo-del_segments") == []


def _put_dlo(cluster: Cluster, auth: Auth, container: str, segs: str, acl: dict[str, str]):
    token = {"X-Auth-Token": auth.token}
    for name, headers in ((container, acl), (segs, {})):
        assert cluster.request("PUT", f"{auth.path}/{name}", {**token, **headers})[0] in (201, 202)
    for i in range(3):
        assert cluster.request("PUT", f"{auth.path}/{segs}/p/{i}", token, b"%d" % i * 10)[0] == 201
    manifest = {**token, "X-Object-Manifest": f"{segs}/p/"}
    assert cluster.request("PUT", f"{auth.path}/{container}/dlo", manifest, b"")[0] == 201


def test_dlo_read_by_a_user_who_cannot_list_the_segment_container_is_403(
    cluster: Cluster, tester: Auth
) -> None:
    _put_dlo(cluster, tester, "lo-acl", "lo-acl-segs", {"X-Container-Read": "test:tester3"})
    reader = cluster.auth("test:tester3", "testing3")
    token = {"X-Auth-Token": reader.token}
    assert cluster.request("GET", f"{tester.path}/lo-acl/dlo", token)[0] == 403
    grant = {"X-Auth-Token": tester.token, "X-Container-Read": "test:tester3"}
    assert cluster.request("POST", f"{tester.path}/lo-acl-segs", grant)[0] == 204
    status, _, body = cluster.request("GET", f"{tester.path}/lo-acl/dlo", token)
    assert (status, body) == (200, b"0" * 10 + b"1" * 10 + b"2" * 10)


def test_dlo_referrer_acl_needs_listings_on_the_segment_container(
    cluster: Cluster, tester: Auth
) -> None:
    public = {"X-Container-Read": ".r:*,.rlistings"}
    _put_dlo(cluster, tester, "lo-ref", "lo-ref-segs", public)
    anonymous = {"Referer": "http://example.com/page"}
    # the segment listing is refused (an anonymous caller hears 401, as from Swift)
    assert cluster.request("GET", f"{tester.path}/lo-ref/dlo", anonymous)[0] == 401
    opened = {"X-Auth-Token": tester.token, **public}
    assert cluster.request("POST", f"{tester.path}/lo-ref-segs", opened)[0] == 204
    status, _, body = cluster.request("GET", f"{tester.path}/lo-ref/dlo", anonymous)
    assert (status, len(body)) == (200, 30)


def _put_segmented(cluster: Cluster, auth: Auth, container: str, kind: str) -> list[bytes]:
    """A large object of three 64 KiB segments under ``<container>/seg/``; their bytes."""
    token = {"X-Auth-Token": auth.token}
    assert cluster.request("PUT", f"{auth.path}/{container}", token)[0] in (201, 202)
    parts = [os.urandom(64 * 1024) for _ in range(3)]
    for i, part in enumerate(parts):
        assert cluster.request("PUT", f"{auth.path}/{container}/seg/{i}", token, part)[0] == 201
    if kind == "dlo":
        manifest = {**token, "X-Object-Manifest": f"{container}/seg/"}
        assert cluster.request("PUT", f"{auth.path}/{container}/big", manifest, b"")[0] == 201
    else:
        body = json.dumps([{"path": f"/{container}/seg/{i}"} for i in range(3)]).encode()
        path = f"{auth.path}/{container}/big?multipart-manifest=put"
        assert cluster.request("PUT", path, token, body)[0] == 201
    return parts


@pytest.mark.parametrize("kind", ["dlo", "slo"])
def test_get_with_a_later_segment_lost_closes_short_of_content_length_and_logs_it(
    cluster: Cluster, tester: Auth, kind: str
) -> None:
    container = f"lo-short-{kind}"
    parts = _put_segmented(cluster, tester, container, kind)
    if kind == "slo":
        token = {"X-Auth-Token": tester.token}
        assert cluster.request("DELETE", f"{tester.path}/{container}/seg/1", token)[0] == 204
    else:  # a DLO is what its listing says: lose the data, keep the listing row
        _lose_object(cluster, "AUTH_test", container, "seg/1")
    watch = LogWatch(cluster)
    watch.start()
    conn = cluster.conn()
    try:
        conn.request(
            "GET", f"{tester.path}/{container}/big", headers={"X-Auth-Token": tester.token}
        )
        resp = conn.getresponse()
        # the answer had started (the first segment was fine): 200 and the whole length promised
        assert (resp.status, resp.getheader("Content-Length")) == (200, str(3 * 64 * 1024))
        with pytest.raises(http.client.IncompleteRead) as short:
            resp.read()
        assert short.value.partial == parts[0]  # the good bytes, then the connection closed
    finally:
        conn.close()
    log = watch.new_text().get("proxy-server.log", "")
    errors = [line for line in log.splitlines() if "while streaming" in line]
    assert len(errors) == 1, log
    assert f"{container}/big" in errors[0]
    assert f"{container}/seg/1" in errors[0]


def test_slo_read_by_a_user_who_cannot_read_the_segment_container_is_409_without_bytes(
    cluster: Cluster, tester: Auth
) -> None:
    token = {"X-Auth-Token": tester.token}
    readable = {**token, "X-Container-Read": "test:tester3"}
    assert cluster.request("PUT", f"{tester.path}/slo-acl", readable)[0] in (201, 202)
    assert cluster.request("PUT", f"{tester.path}/slo-acl-segs", token)[0] in (201, 202)
    for i in range(2):
        path = f"{tester.path}/slo-acl-segs/{i}"
        assert cluster.request("PUT", path, token, b"%d" % i * 10)[0] == 201
    body = json.dumps([{"path": f"/slo-acl-segs/{i}"} for i in range(2)]).encode()
    put = f"{tester.path}/slo-acl/slo?multipart-manifest=put"
    assert cluster.request("PUT", put, token, body)[0] == 201
    reader = {"X-Auth-Token": cluster.auth("test:tester3", "testing3").token}
    status, _, got = cluster.request("GET", f"{tester.path}/slo-acl/slo", reader)
    assert status == 409  # the segments are read as the caller, who may not (as Swift)
    assert b"0" * 10 not in got
    grant = {**token, "X-Container-Read": "test:tester3"}
    assert cluster.request("POST", f"{tester.path}/slo-acl-segs", grant)[0] == 204
    status, _, got = cluster.request("GET", f"{tester.path}/slo-acl/slo", reader)
    assert (status, got) == (200, b"0" * 10 + b"1" * 10)
