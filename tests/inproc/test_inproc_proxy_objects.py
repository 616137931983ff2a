"""Object verbs through the proxy against real storage servers: statuses and headers as Swift."""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.parse

import pytest

from tests.support.inproc import InprocCluster
from tests.support.wait import wait_until


def _put(cluster: InprocCluster, path: str, body: bytes = b"data", **headers: str) -> int:
    return cluster.request("PUT", path, headers, body).status


def test_put_then_get_returns_same_bytes_etag_and_meta(cluster, container):
    body = b"hello world" * 1000
    resp = cluster.request("PUT", f"{container}/o", {"X-Object-Meta-Color": "red"}, body)
    assert resp.status == 201
    assert resp.header("etag") == hashlib.md5(body).hexdigest()
    assert resp.header("last-modified")
    got = cluster.request("GET", f"{container}/o")
    assert got.status == 200
    assert got.body == body
    assert got.header("etag") == hashlib.md5(body).hexdigest()
    assert got.header("content-length") == str(len(body))
    assert got.header("x-object-meta-color") == "red"
    assert got.header("x-timestamp")
    assert not [k for k in got.headers if k.startswith("x-backend-")]


def test_put_into_missing_container_is_404(cluster):
    assert _put(cluster, "/v1/AUTH_test/no-such-container/o") == 404


def test_put_with_wrong_etag_is_422_and_stores_nothing(cluster, container):
    resp = cluster.request("PUT", f"{container}/bad", {"ETag": "0" * 32}, b"body")
    assert resp.status == 422
    assert cluster.request("HEAD", f"{container}/bad").status == 404


def test_streamed_put_with_wrong_etag_is_422_and_stores_nothing(cluster, container):
    # over put_whole_max: streamed with 100-continue; the object servers check the ETag
    body = b"x" * 200_000
    resp = cluster.request("PUT", f"{container}/bad-big", {"ETag": "0" * 32}, body)
    assert resp.status == 422
    assert cluster.request("HEAD", f"{container}/bad-big").status == 404


def test_streamed_put_answers_the_etag_the_replicas_stored(cluster, container):
    body = b"y" * 200_000
    resp = cluster.request("PUT", f"{container}/big", {}, body)
    assert resp.status == 201
    assert resp.header("etag") == hashlib.md5(body).hexdigest()


def test_put_with_matching_quoted_etag_is_201(cluster, container):
    etag = hashlib.md5(b"body").hexdigest()
    assert _put(cluster, f"{container}/good", b"body", ETag=f'"{etag}"') == 201


def test_put_empty_body_is_201_though_nodes_skip_100_continue(cluster, container):
    # with nothing to send, object servers answer 201 at once instead of 100 Continue
    resp = cluster.request("PUT", f"{container}/empty", {"Content-Length": "0"}, b"")
    assert resp.status == 201
    assert resp.header("etag") == hashlib.md5(b"").hexdigest()
    got = cluster.request("GET", f"{container}/empty")
    assert (got.status, got.body) == (200, b"")


def test_put_chunked_upload_is_201_and_get_length_matches(cluster, container):
    chunks = [b"a" * 70000, b"b" * 12345, b"c"]
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        conn.putrequest("PUT", f"{container}/chunked")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for chunk in chunks:
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        assert conn.getresponse().status == 201
    finally:
        conn.close()
    got = cluster.request("GET", f"{container}/chunked")
    assert got.body == b"".join(chunks)
    assert got.header("content-length") == str(sum(map(len, chunks)))


def test_put_if_none_match_star_twice_is_201_then_412(cluster, container):
    assert _put(cluster, f"{container}/once", **{"If-None-Match": "*"}) == 201
    assert _put(cluster, f"{container}/once", **{"If-None-Match": "*"}) == 412


def test_put_if_none_match_other_than_star_is_400(cluster, container):
    assert _put(cluster, f"{container}/x", **{"If-None-Match": "abc"}) == 400


def test_put_over_max_file_size_is_413_without_body(cluster, container):
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        conn.putrequest("PUT", f"{container}/huge")
        conn.putheader("Content-Length", str(5368709123))
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_put_without_length_or_chunked_is_411(cluster, container):
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        conn.putrequest("PUT", f"{container}/nolength")
        conn.endheaders()
        assert conn.getresponse().status == 411
    finally:
        conn.close()


def test_put_object_name_over_1024_bytes_is_400(cluster, container):
    assert _put(cluster, f"{container}/{'x' * 1025}") == 400


def test_put_too_many_metadata_items_is_400(cluster, container):
    meta = {f"X-Object-Meta-K{i}": "v" for i in range(91)}
    assert cluster.request("PUT", f"{container}/meta", meta, b"").status == 400


def test_put_without_content_type_guesses_from_name(cluster, container):
    assert _put(cluster, f"{container}/page.html", b"<p>") == 201
    assert cluster.request("HEAD", f"{container}/page.html").header("content-type") == "text/html"
    assert _put(cluster, f"{container}/noext") == 201
    head = cluster.request("HEAD", f"{container}/noext")
    assert head.header("content-type") == "application/octet-stream"


def test_put_detect_content_type_overrides_given_type(cluster, container):
    headers = {"Content-Type": "application/x-foo", "X-Detect-Content-Type": "true"}
    assert cluster.request("PUT", f"{container}/a.txt", headers, b"x").status == 201
    assert cluster.request("HEAD", f"{container}/a.txt").header("content-type") == "text/plain"


def test_client_x_timestamp_is_ignored_so_an_old_stamp_cannot_lose_the_write(cluster, container):
    assert _put(cluster, f"{container}/ts", b"new") == 201
    assert _put(cluster, f"{container}/ts", b"old", **{"X-Timestamp": "1000000000.00000"}) == 201
    assert cluster.request("GET", f"{container}/ts").body == b"old"


@pytest.mark.parametrize("stamp", ["99999999999.99999", "-1", "garbage"])
def test_client_x_timestamp_cannot_make_an_object_immortal(cluster, container, stamp):
    assert _put(cluster, f"{container}/imm", b"first", **{"X-Timestamp": stamp}) == 201
    assert _put(cluster, f"{container}/imm", b"second") == 201
    assert cluster.request("GET", f"{container}/imm").body == b"second"


def test_head_missing_object_is_404(cluster, container):
    assert cluster.request("HEAD", f"{container}/missing").status == 404


def test_post_replaces_metadata_and_is_202(cluster, container):
    headers = {"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"}
    assert cluster.request("PUT", f"{container}/p", headers, b"x").status == 201
    resp = cluster.request("POST", f"{container}/p", {"X-Object-Meta-C": "3"})
    assert resp.status == 202
    head = cluster.request("HEAD", f"{container}/p")
    assert head.header("x-object-meta-c") == "3"
    assert head.header("x-object-meta-a") is None


def test_post_to_missing_object_is_404(cluster, container):
    assert cluster.request("POST", f"{container}/nothing", {"X-Object-Meta-C": "3"}).status == 404


def test_delete_twice_is_204_then_404(cluster, container):
    assert _put(cluster, f"{container}/d") == 201
    assert cluster.request("DELETE", f"{container}/d").status == 204
    assert cluster.request("DELETE", f"{container}/d").status == 404
    assert cluster.request("GET", f"{container}/d").status == 404


def test_get_single_range_is_206_with_content_range(cluster, container):
    assert _put(cluster, f"{container}/r", b"0123456789") == 201
    got = cluster.request("GET", f"{container}/r", {"Range": "bytes=2-5"})
    assert got.status == 206
    assert got.body == b"2345"
    assert got.header("content-range") == "bytes 2-5/10"


def test_get_multi_range_is_206_multipart(cluster, container):
    assert _put(cluster, f"{container}/mr", b"0123456789") == 201
    got = cluster.request("GET", f"{container}/mr", {"Range": "bytes=0-1,5-6"})
    assert got.status == 206
    assert got.header("content-type", "").startswith("multipart/byteranges")
    assert b"01" in got.body
    assert b"56" in got.body


def test_get_unsatisfiable_range_is_416(cluster, container):
    assert _put(cluster, f"{container}/r416", b"abc") == 201
    got = cluster.request("GET", f"{container}/r416", {"Range": "bytes=10-"})
    assert got.status == 416
    assert got.header("content-range") == "bytes */3"


def test_get_if_none_match_current_etag_is_304(cluster, container):
    assert _put(cluster, f"{container}/c304", b"abc") == 201
    etag = hashlib.md5(b"abc").hexdigest()
    assert cluster.request("GET", f"{container}/c304", {"If-None-Match": etag}).status == 304


def test_get_if_match_other_etag_is_412(cluster, container):
    assert _put(cluster, f"{container}/c412", b"abc") == 201
    assert cluster.request("GET", f"{container}/c412", {"If-Match": '"nope"'}).status == 412


def test_put_with_delete_after_expires_object(cluster, container):
    # Swift truncates now + after to whole seconds: 2 leaves at least one second to look
    assert _put(cluster, f"{container}/exp", **{"X-Delete-After": "2"}) == 201
    head = cluster.request("HEAD", f"{container}/exp")
    assert head.status == 200
    assert head.header("x-delete-at")
    wait_until(lambda: cluster.request("GET", f"{container}/exp").status == 404, timeout=5)


def test_put_with_non_integer_delete_at_is_400(cluster, container):
    assert _put(cluster, f"{container}/bad-exp", **{"X-Delete-At": "soon"}) == 400


def test_listing_shows_objects_with_etag_and_size(cluster, container):
    for name in ("b", "a", "dir/x"):
        assert _put(cluster, f"{container}/{name}", b"12345") == 201

    def listed() -> list[dict]:
        resp = cluster.request("GET", f"{container}?format=json")
        return json.loads(resp.body) if resp.status == 200 else []

    rows = wait_until(lambda: len(listed()) == 3 and listed())
    assert [r["name"] for r in rows] == ["a", "b", "dir/x"]
    assert rows[0]["bytes"] == 5
    assert rows[0]["hash"] == hashlib.md5(b"12345").hexdigest()
    plain = cluster.request("GET", f"{container}?delimiter=/")
    assert plain.body == b"a\nb\ndir/\n"
    assert cluster.request("GET", f"{container}?prefix=d&format=json").status == 200


def test_listing_limit_over_10000_is_412(cluster, container):
    assert cluster.request("GET", f"{container}?limit=10001").status == 412


def test_unicode_names_and_utf8_metadata_round_trip(cluster, container):
    name = "caf\u00e9/\u65e5\u672c \u8a9e.txt"
    meta = "gr\u00fcn \u2713".encode().decode("latin-1")  # raw UTF-8 bytes on the wire
    conn = http.client.HTTPConnection("127.0.0.1", cluster.port, timeout=30)
    try:
        target = urllib.parse.quote(f"{container}/{name}")
        conn.request("PUT", target, body=b"u", headers={"X-Object-Meta-Word": meta})
        assert conn.getresponse().read() == b""
        conn.request("GET", target)
        resp = conn.getresponse()
        assert resp.read() == b"u"
        assert resp.getheader("X-Object-Meta-Word") == meta
    finally:
        conn.close()
    listing = wait_until(lambda: cluster.request("GET", f"{container}?format=json").body)
    assert json.loads(listing)[0]["name"] == name
