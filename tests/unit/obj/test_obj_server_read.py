"""Object server GET and HEAD: headers, ranges, conditionals, 404s, streaming."""

from __future__ import annotations

import email.parser
import time

import pytest
from objtest_helpers import make_server, md5, put, request, ts

from swiftlite.obj.diskfile import ObjectBody

BODY = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def stored(app):
    t = ts(-10)
    headers = {
        "Content-Type": "text/plain",
        "X-Object-Meta-Color": "blue",
        "X-Object-Sysmeta-Owner": "mw",
        "Content-Encoding": "gzip",
        "Content-Disposition": "attachment",
        "X-Delete-At": str(int(time.time()) + 3600),
    }
    assert put(app, body=BODY, timestamp=t, headers=headers).status_int == 201
    return t


def test_get_returns_body_and_object_headers(app, stored) -> None:
    resp = request(app, "GET")
    assert resp.status_int == 200
    assert resp.body == BODY
    h = resp.headers
    assert h["Content-Type"] == "text/plain"  # no charset added
    assert h["Content-Length"] == str(len(BODY))
    assert h["ETag"] == md5(BODY)
    assert h["X-Timestamp"] == stored.normal
    assert h["X-Backend-Timestamp"] == stored.internal
    assert h["Last-Modified"] == stored.http_date
    assert h["Accept-Ranges"] == "bytes"
    assert h["X-Object-Meta-Color"] == "blue"
    assert h["X-Object-Sysmeta-Owner"] == "mw"
    assert h["Content-Encoding"] == "gzip"
    assert h["Content-Disposition"] == "attachment"
    assert int(h["X-Delete-At"]) > time.time()


def test_head_has_length_but_no_body(app, stored) -> None:
    resp = request(app, "HEAD", headers={"Range": "bytes=0-1"})
    assert resp.status_int == 200
    assert resp.headers["Content-Length"] == str(len(BODY))
    assert resp.body == b""


def test_get_single_range_is_206(app, stored) -> None:
    resp = request(app, "GET", headers={"Range": "bytes=10-19"})
    assert resp.status_int == 206
    assert resp.body == BODY[10:20]
    assert resp.headers["Content-Range"] == f"bytes 10-19/{len(BODY)}"
    assert resp.headers["Content-Length"] == "10"


def test_get_suffix_range_is_last_bytes(app, stored) -> None:
    resp = request(app, "GET", headers={"Range": "bytes=-5"})
    assert resp.status_int == 206
    assert resp.body == BODY[-5:]


def test_get_multiple_ranges_is_multipart_byteranges(app, stored) -> None:
    resp = request(app, "GET", headers={"Range": "bytes=0-2,100-104,-3"})
    assert resp.status_int == 206
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("multipart/byteranges;boundary=")
    assert int(resp.headers["Content-Length"]) == len(resp.body)
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + resp.body
    )
    parts = msg.get_payload()
    assert [p.get_payload(decode=True) for p in parts] == [BODY[0:3], BODY[100:105], BODY[-3:]]
    assert parts[1]["Content-Range"] == f"bytes 100-104/{len(BODY)}"
    assert parts[0]["Content-Type"] == "text/plain"


def test_get_unsatisfiable_range_is_416(app, stored) -> None:
    resp = request(app, "GET", headers={"Range": f"bytes={len(BODY)}-"})
    assert resp.status_int == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(BODY)}"


def test_get_invalid_range_is_ignored(app, stored) -> None:
    resp = request(app, "GET", headers={"Range": "bytes=9-1"})
    assert resp.status_int == 200
    assert resp.body == BODY


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-Match": "nope"}, 412),
        ({"If-Match": md5(BODY)}, 200),
        ({"If-Match": "*"}, 200),
        ({"If-None-Match": md5(BODY)}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": "nope"}, 200),
        ({"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}, 304),
        ({"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 200),
        ({"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 412),
        ({"If-Unmodified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}, 200),
    ],
)
def test_get_and_head_conditionals(app, stored, headers, status) -> None:
    for method in ("GET", "HEAD"):
        resp = request(app, method, headers=headers)
        assert resp.status_int == status, (method, headers)
        if status in (304, 412):
            assert resp.body == b""
            assert resp.headers["ETag"] == md5(BODY)


def test_get_if_modified_since_exact_last_modified_is_304(app, stored) -> None:
    resp = request(app, "GET", headers={"If-Modified-Since": stored.http_date})
    assert resp.status_int == 304


def test_get_missing_is_404_without_backend_timestamp(app) -> None:
    resp = request(app, "GET")
    assert resp.status_int == 404
    assert "X-Backend-Timestamp" not in resp.headers


def test_get_missing_with_if_match_star_is_412(app) -> None:
    assert request(app, "GET", headers={"If-Match": "*"}).status_int == 412
    assert request(app, "GET", headers={"If-Match": "abc"}).status_int == 404


def test_get_deleted_is_404_with_backend_timestamp(app, stored) -> None:
    t = ts()
    assert request(app, "DELETE", headers={"X-Timestamp": t.internal}).status_int == 204
    for method in ("GET", "HEAD"):
        resp = request(app, method)
        assert resp.status_int == 404
        assert resp.headers["X-Backend-Timestamp"] == t.internal


def test_get_expired_is_404(app, monkeypatch) -> None:
    t = ts(-5)
    put(app, timestamp=t, headers={"X-Delete-At": str(int(time.time()) + 2)})
    assert request(app, "GET").status_int == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10)
    resp = request(app, "GET")
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Timestamp"] == t.internal


def test_get_streams_in_disk_chunks(devices) -> None:
    app = make_server(devices, disk_chunk_size=1024)
    put(app, body=BODY)
    from objtest_helpers import path
    from webob import Request

    resp = Request.blank(path()).get_response(app)
    assert isinstance(resp.app_iter, ObjectBody)
    chunks = list(resp.app_iter)
    resp.app_iter.close()
    assert [len(c) for c in chunks] == [1024] * 10
    assert b"".join(chunks) == BODY


def test_get_bad_path_is_400(app) -> None:
    from webob import Request

    assert Request.blank("/sda/7/a/c").get_response(app).status_int == 400
