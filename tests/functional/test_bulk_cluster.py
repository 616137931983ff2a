"""Bulk delete and archive extraction against a real cluster, with real clients."""

from __future__ import annotations

import http.client
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from swiftlite.middleware import proxy_access_line
from tests.support.archive import tar_bytes
from tests.support.cluster import Auth, Cluster

SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))
RCLONE = shutil.which("rclone")
TAR = shutil.which("tar")


# -- helpers ---------------------------------------------------------------------------------
def _token(auth: Auth) -> dict[str, str]:
    return {"X-Auth-Token": auth.token}


def _bulk(
    cluster: Cluster,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[int, dict]:
    """A bulk request; its HTTP status and the JSON report (heartbeat spaces stripped)."""
    status, _, text = cluster.request(method, path, {"Accept": "application/json", **headers}, body)
    return status, json.loads(text.strip())


def _listing(cluster: Cluster, auth: Auth, container: str) -> list[dict]:
    status, _, body = cluster.request("GET", f"{auth.path}/{container}?format=json", _token(auth))
    assert status in (200, 204, 404), status
    return json.loads(body) if status == 200 else []


def _containers(cluster: Cluster, auth: Auth) -> set[str]:
    status, _, body = cluster.request("GET", f"{auth.path}?format=json", _token(auth))
    return {row["name"] for row in json.loads(body)} if status == 200 else set()


def _put_many(cluster: Cluster, auth: Auth, container: str, names: list[str]) -> None:
    """PUT small objects over a few kept-alive connections at once."""
    local = threading.local()

    def put(name: str) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(*cluster.proxy, timeout=60)
        conn.request(
            "PUT", urllib.parse.quote(f"{auth.path}/{container}/{name}"), b"x", _token(auth)
        )
        resp = conn.getresponse()
        resp.read()
        return resp.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, names))
    assert statuses == [201] * len(names)


def _access_log(cluster: Cluster) -> pathlib.Path:
    return pathlib.Path(cluster.plan.log_dir, "proxy-server.log")


def _access_lines(log: pathlib.Path, start: int) -> list[list[str]]:
    """Access-log lines written since byte ``start``, as unquoted fields: method, path,
    status, bytes in, bytes out, request time, trans id, source (Swift's proxy-access
    line, ``proxy_access_line.FIELDS``)."""
    with log.open("rb") as fh:
        fh.seek(start)
        text = fh.read().decode("utf-8", "replace")
    rows = []
    for line in text.splitlines():
        try:
            got = proxy_access_line.parse_line(line.split(" INFO ", 1)[1])
        except (IndexError, ValueError):
            continue  # not an access line
        rows.append([got[name] for name in _ACCESS_FIELDS])
    return rows


_ACCESS_FIELDS = (
    "request_method",
    "request_path",
    "status_int",
    "bytes_recvd",
    "bytes_sent",
    "request_time",
    "transaction_id",
    "source",
)


def _all_created(count: int) -> dict:
    """The JSON report of an extraction that created ``count`` files and failed none."""
    return {
        "Number Files Created": count,
        "Response Status": "201 Created",
        "Response Body": "",
        "Errors": [],
    }


# -- /info -----------------------------------------------------------------------------------
def test_info_advertises_bulk_delete_and_bulk_upload(cluster: Cluster) -> None:
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert info["bulk_upload"] == {
        "max_containers_per_extraction": 10000,
        "max_failed_extractions": 1000,
    }


# -- bulk delete -----------------------------------------------------------------------------
def test_swift_delete_of_2000_objects_is_one_bulk_request_and_leaves_nothing(
    cluster: Cluster, tester: Auth
) -> None:
    names = [f"obj-{i:05d}" for i in range(2000)]
    assert cluster.request("PUT", f"{tester.path}/bulk-2k", _token(tester))[0] == 201
    _put_many(cluster, tester, "bulk-2k", names)
    log = _access_log(cluster)
    start = log.stat().st_size
    cmd = [SWIFT, "-A", cluster.auth_url, "-U", "test:tester", "-K", "testing", "delete"]
    # swiftclient splits each page of max_deletes_per_request names among its object
    # threads, one bulk request each; with one thread, a page is one request
    done = subprocess.run(
        [*cmd, "--object-threads", "1", "bulk-2k"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert cluster.request("HEAD", f"{tester.path}/bulk-2k", _token(tester))[0] == 404
    rows = _access_lines(log, start)
    bulk_posts = [r for r in rows if r[0] == "POST" and "bulk-delete" in r[1]]
    assert len(bulk_posts) == 1, bulk_posts
    assert bulk_posts[0][2] == "200"
    assert int(bulk_posts[0][3]) == sum(len(f"/bulk-2k/{n}\n") for n in names)  # bytes in
    item_deletes = [r for r in rows if r[0] == "DELETE" and r[7] == "BD"]
    assert len(item_deletes) == 2000
    assert {r[2] for r in item_deletes} == {"204"}
    client_object_deletes = [r for r in rows if r[0] == "DELETE" and "/bulk-2k/" in r[1]]
    assert client_object_deletes == [r for r in client_object_deletes if r[7] == "BD"]


def test_bulk_delete_authorizes_each_item_and_reports_the_forbidden_one(
    cluster: Cluster, tester: Auth
) -> None:
    other = cluster.auth("test:tester3", "testing3")
    grant = {**_token(tester), "X-Container-Write": "test:tester3"}
    assert cluster.request("PUT", f"{tester.path}/bd-open", grant)[0] == 201
    assert cluster.request("PUT", f"{tester.path}/bd-closed", _token(tester))[0] == 201
    for container in ("bd-open", "bd-closed"):
        path = f"{tester.path}/{container}/o"
        assert cluster.request("PUT", path, _token(tester), b"data")[0] == 201
    body = b"/bd-open/o\n/bd-closed/o\n/bd-open/missing\n"
    status, report = _bulk(cluster, "DELETE", f"{tester.path}?bulk-delete", _token(other), body)
    assert status == 200
    assert report["Number Deleted"] == 1
    assert report["Number Not Found"] == 1
    assert report["Errors"] == [["/bd-closed/o", "403 Forbidden"]]
    assert report["Response Status"] == "400 Bad Request"
    assert [r["name"] for r in _listing(cluster, tester, "bd-open")] == []
    assert [r["name"] for r in _listing(cluster, tester, "bd-closed")] == ["o"]


def test_bulk_delete_removes_containers_after_their_objects(cluster: Cluster, tester: Auth) -> None:
    assert cluster.request("PUT", f"{tester.path}/bd-both", _token(tester))[0] == 201
    assert cluster.request("PUT", f"{tester.path}/bd-both/\u00e9 1", _token(tester), b"1")[0] == 201
    body = "/bd-both\n" + urllib.parse.quote("/bd-both/\u00e9 1") + "\n"
    headers = {**_token(tester), "Content-Type": "text/plain"}
    status, report = _bulk(cluster, "POST", f"{tester.path}?bulk-delete", headers, body.encode())
    assert (status, report["Number Deleted"], report["Errors"]) == (200, 2, [])
    assert "bd-both" not in _containers(cluster, tester)


def test_bulk_answers_in_plain_text_and_xml_as_accept_asks(cluster: Cluster, tester: Auth) -> None:
    path = f"{tester.path}?bulk-delete"
    plain = {**_token(tester), "Accept": "text/plain"}
    status, headers, body = cluster.request("POST", path, plain, b"/bd-none/o\n")
    assert (status, headers["content-type"]) == (200, "text/plain")
    assert body.strip().split(b"\n") == [
        b"Number Deleted: 0",
        b"Number Not Found: 1",
        b"Response Body: ",
        b"Response Status: 200 OK",
        b"Errors:",
    ]
    xml = {**_token(tester), "Accept": "application/xml"}
    status, headers, body = cluster.request("DELETE", path, xml, b"/bd-none/o\n")
    assert (status, headers["content-type"]) == (200, "application/xml")
    assert body.startswith(b"<delete>\n")
    assert b"<number_not_found>1</number_not_found>" in body


def test_hostile_delete_lists_are_reported_never_5xx(cluster: Cluster, tester: Auth) -> None:
    path = f"{tester.path}?bulk-delete"

    def report(body: bytes) -> dict:
        status, answer = _bulk(cluster, "POST", path, _token(tester), body)
        assert status == 200
        assert not answer["Response Status"].startswith("5"), answer
        assert all(not e[1].startswith("5") for e in answer["Errors"]), answer
        return answer

    not_utf8 = report(b"/c/\xff\xfe\n/c/%C0%AF\n")
    assert not_utf8["Errors"] == [
        ["/c/%FF%FE", "412 Precondition Failed"],
        ["/c/%C0%AF", "412 Precondition Failed"],
    ]
    # a long name within the line limit is the proxy's to judge: nothing by that name
    assert report(b"/c/" + b"n" * 2000 + b"\n")["Number Not Found"] == 1
    too_long = report(b"/c/" + b"n" * 6000 + b"\n")
    assert (too_long["Response Status"], too_long["Response Body"]) == (
        "400 Bad Request",
        "Invalid File Name",
    )
    too_many = report(b"/c/o\n" * 10001)
    assert too_many["Response Status"] == "413 Request Entity Too Large"
    assert too_many["Response Body"] == "Maximum Bulk Deletes: 10000 per request"
    empty = report(b"")
    assert empty["Response Body"] == "Invalid bulk delete."
    # a dot-dot item names a container ".." of the same account, never another account
    other = cluster.auth("test2:tester2", "testing2")
    assert cluster.request("PUT", f"{other.path}/bd-other", _token(other))[0] == 201
    assert cluster.request("PUT", f"{other.path}/bd-other/o", _token(other), b"k")[0] == 201
    escape = report(f"/../{other.path.split('/')[2]}/bd-other/o\n".encode())
    assert escape["Number Deleted"] == 0
    assert cluster.request("HEAD", f"{other.path}/bd-other/o", _token(other))[0] == 200
    assert b"Traceback" not in _access_log(cluster).read_bytes()


# -- extract archive -------------------------------------------------------------------------
def test_tar_gz_of_a_three_level_tree_is_extracted_with_utf8_names_and_xattr_metadata(
    cluster: Cluster, tester: Auth
) -> None:
    files = {
        "ea-tree/top.txt": b"top\n",
        "ea-tree/\u00e9t\u00e9/mid.txt": b"mid\n",
        "ea-tree/\u00e9t\u00e9/d\u00e9\u00e9p/\u2603 snow.txt": b"deep\n",
    }
    pax = {
        "ea-tree/top.txt": {
            "SCHILY.xattr.user.meta.color": "bl\u00fce",
            "SCHILY.xattr.user.mime_type": "text/x-top",
        },
        "ea-tree/\u00e9t\u00e9/d\u00e9\u00e9p/\u2603 snow.txt": {
            "SCHILY.xattr.user.meta.depth": "3",
        },
    }
    body = tar_bytes([(n, d, pax.get(n, {})) for n, d in files.items()], "w:gz")
    status, report = _bulk(
        cluster, "PUT", f"{tester.path}?extract-archive=tar.gz", _token(tester), body
    )
    assert status == 200
    assert report == _all_created(3)
    rows = {r["name"]: r for r in _listing(cluster, tester, "ea-tree")}
    assert set(rows) == {name.split("/", 1)[1] for name in files}
    for name, data in files.items():
        status, headers, got = cluster.request("GET", f"{tester.path}/{name}", _token(tester))
        assert (status, got) == (200, data)
    _, headers, _ = cluster.request("HEAD", f"{tester.path}/ea-tree/top.txt", _token(tester))
    assert headers["x-object-meta-color"].encode("latin-1").decode() == "bl\u00fce"
    assert headers["content-type"] == "text/x-top"
    deep = "ea-tree/\u00e9t\u00e9/d\u00e9\u00e9p/\u2603 snow.txt"
    _, headers, _ = cluster.request("HEAD", f"{tester.path}/{deep}", _token(tester))
    assert headers["x-object-meta-depth"] == "3"


@pytest.mark.skipif(TAR is None, reason="GNU tar is not installed (Debian package tar)")
def test_gnu_tar_with_xattrs_of_a_real_tree_is_extracted_with_its_metadata(
    cluster: Cluster, tester: Auth, tmp_path: pathlib.Path
) -> None:
    # what a user's `tar --xattrs -czf` of a directory sends: directory entries, mtime/atime
    # pax records, and the user.* xattrs as SCHILY.xattr records
    root = tmp_path / "ea-gnu"
    files = {
        "top.txt": b"top\n",
        "\u00e9t\u00e9/mid.txt": b"mid\n",
        "\u00e9t\u00e9/d\u00e9\u00e9p/\u2603 snow.txt": b"deep\n",
    }
    (root / "\u00e9t\u00e9" / "d\u00e9\u00e9p").mkdir(parents=True)
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    deep = root / "\u00e9t\u00e9" / "d\u00e9\u00e9p" / "\u2603 snow.txt"
    try:
        os.setxattr(root / "top.txt", "user.meta.color", "bl\u00fce".encode())
        os.setxattr(deep, "user.mime_type", b"text/x-snow")
    except OSError as exc:
        pytest.skip(f"no user xattrs under {tmp_path}: {exc}")
    archive = tmp_path / "tree.tar.gz"
    subprocess.run(
        [str(TAR), "--xattrs", "--xattrs-include=user.*", "-czf", str(archive), "ea-gnu"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    path = f"{tester.path}?extract-archive=tar.gz"
    status, report = _bulk(cluster, "PUT", path, _token(tester), archive.read_bytes())
    assert status == 200
    assert report == _all_created(3)
    assert {r["name"] for r in _listing(cluster, tester, "ea-gnu")} == set(files)
    for rel, data in files.items():
        status, _, got = cluster.request("GET", f"{tester.path}/ea-gnu/{rel}", _token(tester))
        assert (status, got) == (200, data)
    _, headers, _ = cluster.request("HEAD", f"{tester.path}/ea-gnu/top.txt", _token(tester))
    assert headers["x-object-meta-color"].encode("latin-1").decode() == "bl\u00fce"
    rel = "\u00e9t\u00e9/d\u00e9\u00e9p/\u2603 snow.txt"
    _, headers, _ = cluster.request("HEAD", f"{tester.path}/ea-gnu/{rel}", _token(tester))
    assert headers["content-type"] == "text/x-snow"


def test_traversal_entries_are_refused_per_item_and_the_others_created(
    cluster: Cluster, tester: Auth
) -> None:
    assert cluster.request("PUT", f"{tester.path}/ea-trav", _token(tester))[0] == 201
    members = [
        ("good.txt", b"good", {}),
        ("../escape.txt", b"x", {}),
        ("/etc/passwd", b"x", {}),
        ("sub/../../../up.txt", b"x", {}),
        ("sub/fine.txt", b"fine", {}),
    ]
    before = _containers(cluster, tester)
    status, report = _bulk(
        cluster,
        "PUT",
        f"{tester.path}/ea-trav?extract-archive=tar",
        _token(tester),
        tar_bytes(members, "w"),
    )
    assert status == 200
    assert report["Number Files Created"] == 2
    assert report["Response Status"] == "400 Bad Request"
    assert sorted(e[0] for e in report["Errors"]) == sorted(
        ["ea-trav/../escape.txt", "ea-trav//etc/passwd", "ea-trav/sub/../../../up.txt"]
    )
    assert {e[1] for e in report["Errors"]} == {"400 Bad Request"}
    assert [r["name"] for r in _listing(cluster, tester, "ea-trav")] == ["good.txt", "sub/fine.txt"]
    assert _containers(cluster, tester) == before


def test_extract_streams_a_chunked_body(cluster: Cluster, tester: Auth) -> None:
    body = tar_bytes([("ea-chunked/a", b"a" * 70000, {}), ("ea-chunked/b", b"b", {})], "w:bz2")
    conn = cluster.conn()
    try:
        pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        conn.request(
            "PUT",
            f"{tester.path}?extract-archive=tar.bz2",
            iter(pieces),
            {**_token(tester), "Accept": "application/json"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        report = json.loads(resp.read().strip())
    finally:
        conn.close()
    assert (resp.status, report["Number Files Created"]) == (200, 2)
    rows = {r["name"]: r["bytes"] for r in _listing(cluster, tester, "ea-chunked")}
    assert rows == {"a": 70000, "b": 1}


def test_hostile_archives_are_400_invalid_tar_file_never_5xx(
    cluster: Cluster, tester: Auth
) -> None:
    whole = tar_bytes(
        [("ea-trunc/a", b"a" * 100, {}), ("ea-trunc/b", os.urandom(200000), {})], "w:gz"
    )
    cases = [
        ("tar", b"not a tar archive" * 100),
        ("tar.gz", b"\x1f\x8b\x08\x00" + os.urandom(3000)),
        ("tar.bz2", b"BZh9" + os.urandom(500)),
        ("tar.gz", whole[: len(whole) // 2]),
        ("tar", b"\0" * 512 + os.urandom(4096)),
    ]
    for kind, body in cases:
        status, report = _bulk(
            cluster, "PUT", f"{tester.path}?extract-archive={kind}", _token(tester), body
        )
        assert status == 200
        assert report["Response Status"] == "400 Bad Request", (kind, report)
        assert report["Response Body"].startswith("Invalid Tar File"), report
    assert [r["name"] for r in _listing(cluster, tester, "ea-trunc")] == ["a"]
    status, _, text = cluster.request(
        "PUT", f"{tester.path}?extract-archive=zip", _token(tester), b"x"
    )
    assert (status, text) == (400, b"Unsupported archive format")
    assert b"Traceback" not in _access_log(cluster).read_bytes()


def test_hostile_member_names_are_items_and_the_good_file_is_created(
    cluster: Cluster, tester: Auth
) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in ("ea-names/\udcff\udcfe.txt", "ea-names/" + "n" * 2000, "ea-names/ok"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    status, report = _bulk(
        cluster, "PUT", f"{tester.path}?extract-archive=tar", _token(tester), out.getvalue()
    )
    assert status == 200
    assert report["Number Files Created"] == 1
    assert sorted(e[1] for e in report["Errors"]) == ["400 Bad Request", "412 Precondition Failed"]
    assert report["Errors"][0][0] == "ea-names/%FF%FE.txt"
    assert [r["name"] for r in _listing(cluster, tester, "ea-names")] == ["ok"]


def test_extract_without_a_token_is_401_and_creates_nothing(cluster: Cluster, tester: Auth) -> None:
    body = tar_bytes([("ea-anon/a", b"a", {})], "w")
    status, report = _bulk(cluster, "PUT", f"{tester.path}?extract-archive=tar", {}, body)
    assert (status, report["Response Status"]) == (200, "401 Unauthorized")
    assert "ea-anon" not in _containers(cluster, tester)


# -- rclone ----------------------------------------------------------------------------------
@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_purge_of_a_chunked_file_leaves_no_segments(
    cluster: Cluster, tester: Auth, tmp_path: pathlib.Path
) -> None:
    env = {
        **os.environ,
        "RCLONE_CONFIG_SL_TYPE": "swift",
        "RCLONE_CONFIG_SL_USER": "test:tester",
        "RCLONE_CONFIG_SL_KEY": "testing",
        "RCLONE_CONFIG_SL_AUTH": cluster.auth_url,
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
    }
    src = tmp_path / "src"
    src.mkdir()
    (src / "chunked.bin").write_bytes(os.urandom(11 * 1024 * 1024))

    def rclone(*args: str) -> None:
        done = subprocess.run(
            [str(RCLONE), "--swift-chunk-size", "5M", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"rclone {args}: {done.stderr}"

    rclone("copy", str(src), "sl:rc-purge")
    assert len(_listing(cluster, tester, "rc-purge_segments")) == 3
    log = _access_log(cluster)
    start = log.stat().st_size
    rclone("purge", "sl:rc-purge")
    bulk = [r for r in _access_lines(log, start) if "bulk-delete" in r[1]]
    assert bulk, "rclone did not use bulk delete"
    assert {r[2] for r in bulk} == {"200"}
    assert "rc-purge" not in _containers(cluster, tester)
    assert _listing(cluster, tester, "rc-purge_segments") == []
