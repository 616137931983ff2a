"""Temp URLs made by the real ``swift tempurl`` CLI, used with curl against the real cluster."""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import time
import urllib.parse

import pytest

from swiftlite.middleware import proxy_access_line
from tests.support.cluster import Cluster
from tests.support.sharing import SWIFT, curl, login, swift, unique

TEMP_KEY = "functional-temp-key"


@pytest.fixture(scope="module")
def site(cluster: Cluster):
    """A container with one object, and the account's Temp-URL-Key set with the CLI."""
    auth = login(cluster)
    container = unique("tu")
    swift(cluster, "post", "-m", f"Temp-URL-Key:{TEMP_KEY}")
    swift(cluster, "post", container)
    path = f"{auth.path}/{container}"
    status, _, _ = cluster.request(
        "PUT", f"{path}/o", {"X-Auth-Token": auth.token}, b"hello temp url"
    )
    assert status == 201
    status, _, _ = cluster.request("PUT", f"{path}/pre-1", {"X-Auth-Token": auth.token}, b"p1")
    assert status == 201
    return auth, path


def tempurl(*args: str) -> str:
    """The path and query ``swift tempurl`` prints."""
    done = subprocess.run([SWIFT, "tempurl", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_cli_get_and_put_urls_work_with_curl_for_every_digest(cluster, site, tmp_path, digest):
    auth, path = site
    get_url = tempurl("--digest", digest, "GET", "60", f"{path}/o", TEMP_KEY)
    status, body = curl(cluster, "GET", get_url)
    assert (status, body) == (200, b"hello temp url")

    name = f"put-{digest}"
    put_url = tempurl("--digest", digest, "PUT", "60", f"{path}/{name}", TEMP_KEY)
    upload = tmp_path / "up.txt"
    upload.write_bytes(b"uploaded with " + digest.encode())
    status, _ = curl(cluster, "PUT", put_url, "-T", str(upload))
    assert status == 201
    status, _, stored = cluster.request("GET", f"{path}/{name}", {"X-Auth-Token": auth.token})
    assert (status, stored) == (200, b"uploaded with " + digest.encode())
    # HEAD is allowed with the PUT signature, as Swift
    assert curl(cluster, "HEAD", put_url)[0] == 200


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_prefix_and_ip_range_urls_put_and_get_for_every_digest(cluster, site, tmp_path, digest):
    _auth, path = site
    upload = tmp_path / "up.bin"
    upload.write_bytes(b"prefixed " + digest.encode())
    for variant in (["--prefix-based"], ["--ip-range", "127.0.0.0/8"]):
        target = f"{path}/pre-{digest}-{variant[0].strip('-')}"
        signed_path = f"{path}/pre-" if variant == ["--prefix-based"] else target
        put_url = tempurl("--digest", digest, *variant, "PUT", "60", signed_path, TEMP_KEY)
        get_url = tempurl("--digest", digest, *variant, "GET", "60", signed_path, TEMP_KEY)
        if variant == ["--prefix-based"]:
            name = target.rsplit("/", 1)[1]
            put_url = put_url.replace("/pre-?", f"/{name}?")
            get_url = get_url.replace("/pre-?", f"/{name}?")
        assert curl(cluster, "PUT", put_url, "-T", str(upload))[0] == 201
        assert curl(cluster, "GET", get_url) == (200, b"prefixed " + digest.encode())


def test_prefix_url_reaches_objects_under_the_prefix_only(cluster, site):
    _auth, path = site
    url = tempurl("--prefix-based", "GET", "60", f"{path}/pre-", TEMP_KEY)
    assert curl(cluster, "GET", url.replace("/pre-?", "/pre-1?")) == (200, b"p1")
    assert curl(cluster, "GET", url.replace("/pre-?", "/o?"))[0] == 401


def test_ip_range_url_works_from_inside_and_is_401_from_outside(cluster, site):
    _auth, path = site
    inside = tempurl("--ip-range", "127.0.0.0/8", "GET", "60", f"{path}/o", TEMP_KEY)
    assert curl(cluster, "GET", inside)[0] == 200
    outside = tempurl("--ip-range", "10.0.0.0/8", "GET", "60", f"{path}/o", TEMP_KEY)
    assert curl(cluster, "GET", outside)[0] == 401


@pytest.mark.parametrize("field", ["path", "method", "expires", "signature", "ip"])
def test_each_tampered_field_is_401(cluster, site, field):
    _auth, path = site
    url = tempurl("--ip-range", "127.0.0.1", "GET", "60", f"{path}/o", TEMP_KEY)
    method = "GET"
    if field == "path":
        url = url.replace("/o?", "/pre-1?")
    elif field == "method":
        method = "DELETE"
    elif field == "expires":
        url = url.replace("temp_url_expires=", "temp_url_expires=9")
    elif field == "signature":
        sig = url.split("temp_url_sig=")[1].split("&")[0]
        changed = ("1" if sig[0] != "1" else "2") + sig[1:]
        url = url.replace(f"temp_url_sig={sig}", f"temp_url_sig={changed}")
    else:
        url = url.replace("127.0.0.1", "127.0.0.0/8")
    status, body = curl(cluster, method, url)
    assert status == 401
    assert body == b"401 Unauthorized: Temp URL invalid\n"


def test_iso8601_expiry_from_the_cli_works_and_content_disposition_is_set(cluster, site):
    _auth, path = site
    url = tempurl("--iso8601", "GET", "60", f"{path}/o", TEMP_KEY)
    assert "temp_url_expires=20" in url
    host, port = cluster.proxy
    done = subprocess.run(
        ["curl", "-sS", "-D", "-", "-o", "/dev/null", f"http://{host}:{port}{url}&inline"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("HTTP/1.1 200")
    assert "content-disposition: inline" in done.stdout.lower()


def test_expired_url_is_401(cluster, site):
    _auth, path = site
    url = tempurl("--absolute", "GET", str(int(time.time()) - 1), f"{path}/o", TEMP_KEY)
    assert curl(cluster, "GET", url)[0] == 401


def test_temp_url_cannot_list_or_set_a_manifest(cluster, site, tmp_path):
    _auth, path = site
    url = tempurl("GET", "60", f"{path}/o", TEMP_KEY)
    container_url = url.replace("/o?", "?")
    assert curl(cluster, "GET", container_url)[0] == 401
    put_url = tempurl("PUT", "60", f"{path}/manifest", TEMP_KEY)
    status, body = curl(
        cluster, "PUT", put_url, "-H", "X-Object-Manifest: other/seg", "--data-binary", ""
    )
    assert status == 400
    assert b"X-Object-Manifest" in body
    copy_url = tempurl("PUT", "60", f"{path}/copy", TEMP_KEY)
    status, _ = curl(
        cluster,
        "PUT",
        copy_url,
        "-H",
        f"X-Copy-From: {path.split('/')[-1]}/o",
        "--data-binary",
        "",
    )
    assert status == 401  # the copy source is another object than the one granted


def test_container_key_is_hidden_from_anonymous_readers_and_shown_to_owner(cluster, site):
    auth, _path = site
    container = unique("tu-key")
    swift(cluster, "post", "-r", ".r:*,.rlistings", "-m", "Temp-URL-Key:ck", container)
    where = f"{auth.path}/{container}"
    _, anonymous, _ = cluster.request("HEAD", where)
    _, owner, _ = cluster.request("HEAD", where, {"X-Auth-Token": auth.token})
    assert "x-container-meta-temp-url-key" not in anonymous
    assert owner["x-container-meta-temp-url-key"] == "ck"
    url = tempurl("GET", "60", f"{where}/missing", "ck")
    assert curl(cluster, "GET", url)[0] == 404  # the container key signs; the object is absent


def test_info_lists_tempurl_methods_digests_and_headers(cluster):
    status, _, body = cluster.request("GET", "/info")
    info = json.loads(body)
    assert status == 200
    assert info["tempurl"]["allowed_digests"] == ["sha1", "sha256", "sha512"]
    assert info["tempurl"]["deprecated_digests"] == ["sha1"]
    assert info["tempurl"]["methods"] == ["GET", "HEAD", "PUT", "POST", "DELETE"]
    assert info["tempurl"]["incoming_remove_headers"] == ["x-timestamp"]
    assert info["tempurl"]["incoming_allow_headers"] == []
    assert info["tempurl"]["outgoing_remove_headers"] == ["x-object-meta-*"]
    assert info["tempurl"]["outgoing_allow_headers"] == ["x-object-meta-public-*"]


def test_temp_url_to_a_dlo_manifest_serves_the_segments(cluster, site):
    auth, path = site
    token = {"X-Auth-Token": auth.token}
    container = path.split("/")[-1]
    for i, data in enumerate((b"seg-a ", b"seg-b")):
        assert cluster.request("PUT", f"{path}/dseg/{i}", token, data)[0] == 201
    headers = {**token, "X-Object-Manifest": f"{container}/dseg/"}
    assert cluster.request("PUT", f"{path}/dlo", headers, b"")[0] == 201
    url = tempurl("GET", "60", f"{path}/dlo", TEMP_KEY)
    assert curl(cluster, "GET", url) == (200, b"seg-a seg-b")


def test_temp_url_to_an_slo_manifest_serves_the_segments(cluster, site):
    auth, path = site
    token = {"X-Auth-Token": auth.token}
    segs = []
    for i, data in enumerate((b"x" * 1024 * 1024, b"tail")):
        status, headers, _ = cluster.request("PUT", f"{path}/sseg/{i}", token, data)
        assert status == 201
        segs.append({"path": f"{path.split('/', 3)[3]}/sseg/{i}", "etag": headers["etag"]})
    manifest = json.dumps(segs).encode()
    status, _, _ = cluster.request("PUT", f"{path}/slo?multipart-manifest=put", token, manifest)
    assert status == 201
    url = tempurl("GET", "60", f"{path}/slo", TEMP_KEY)
    status, body = curl(cluster, "GET", url)
    assert status == 200
    assert body == b"x" * 1024 * 1024 + b"tail"


def test_non_owner_with_write_access_cannot_set_a_temp_url_key(cluster):
    owner = login(cluster)
    container = unique("tu-acl")
    where = f"{owner.path}/{container}"
    swift(cluster, "post", container)
    acl = json.dumps({"read-write": ["test:tester3"]})
    status, _, _ = cluster.request(
        "POST", owner.path, {"X-Auth-Token": owner.token, "X-Account-Access-Control": acl}
    )
    assert status == 204
    try:
        writer = cluster.auth("test:tester3", "testing3")
        headers = {
            "X-Auth-Token": writer.token,
            "X-Container-Meta-Temp-URL-Key": "stolen",
            "X-Container-Meta-Note": "allowed",
        }
        assert cluster.request("POST", where, headers)[0] == 204
        _, got, _ = cluster.request("HEAD", where, {"X-Auth-Token": owner.token})
        assert got["x-container-meta-note"] == "allowed"
        assert "x-container-meta-temp-url-key" not in got
    finally:
        cluster.request(
            "POST", owner.path, {"X-Auth-Token": owner.token, "X-Account-Access-Control": "{}"}
        )


def _get_to_eof(cluster: Cluster, target: str) -> tuple[bytes, str]:
    """GET with ``Connection: close`` and read to EOF: (response, trans id). The server writes
    the access line when the body ends and closes the socket after, so it is in the log now."""
    host, port = cluster.proxy
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    trans = [line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]]
    names = [line.split(":", 1)[0].lower() for line in head.split("\r\n")[1:]]
    return data, trans[names.index("x-trans-id")]


def test_access_log_shows_only_the_start_of_the_signature(cluster, site):
    _auth, path = site
    url = tempurl("--digest", "sha256", "GET", "60", f"{path}/o", TEMP_KEY)
    sig = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["temp_url_sig"][0]
    data, trans_id = _get_to_eof(cluster, url)
    assert data.startswith(b"HTTP/1.1 200")
    assert data.endswith(b"hello temp url")
    log = pathlib.Path(cluster.plan.log_dir, "proxy-server.log").read_text(errors="replace")
    assert sig not in log
    access = [
        proxy_access_line.parse_line(line.split(" INFO ", 1)[1])
        for line in log.splitlines()
        if trans_id in line and " swiftlite.proxy-access INFO " in line
    ]
    client_lines = [got for got in access if got["source"] == "-"]
    assert len(client_lines) == 1, access
    assert f"temp_url_sig={sig[:16]}...&" in client_lines[0]["request_path"]


def test_account_key_is_hidden_from_a_read_only_account_user(cluster, site):
    owner, _path = site
    acl = json.dumps({"read-only": ["test:tester3"]})
    token = {"X-Auth-Token": owner.token}
    assert cluster.request("POST", owner.path, {**token, "X-Account-Access-Control": acl})[0] == 204
    try:
        reader = cluster.auth("test:tester3", "testing3")
        status, seen, _ = cluster.request("HEAD", owner.path, {"X-Auth-Token": reader.token})
        assert status == 204
        assert "x-account-meta-temp-url-key" not in seen
        _, mine, _ = cluster.request("HEAD", owner.path, token)
        assert mine["x-account-meta-temp-url-key"] == TEMP_KEY
    finally:
        cluster.request("POST", owner.path, {**token, "X-Account-Access-Control": "{}"})
