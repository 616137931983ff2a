"""Object server PUT: statuses, durability of what is stored, early refusals."""

from __future__ import annotations

import io
import os

import pytest
from objtest_helpers import (
    DEVICE,
    limit_object_name,
    limit_user_meta,
    make_server,
    md5,
    path,
    put,
    request,
    ts,
)
from webob import Request

from swiftlite.common import green
from swiftlite.common.constraints import Constraints


def stored_files(devices):
    out = []
    for _root, _dirs, files in os.walk(os.path.join(devices, DEVICE, "objects")):
        out += [f for f in files if f.endswith((".data", ".meta", ".ts"))]
    return out


def tmp_files(devices):
    tmp = os.path.join(devices, DEVICE, "tmp")
    return os.listdir(tmp) if os.path.isdir(tmp) else []


class ExplodingInput:
    """A body that must not be read (the request is refused before 100-continue)."""

    def read(self, *args):
        raise AssertionError("body read before the request was accepted")


def test_put_new_object_is_201_with_etag(app) -> None:
    resp = put(app, body=b"hello world")
    assert resp.status_int == 201
    assert resp.headers["ETag"] == md5(b"hello world")
    got = request(app, "GET")
    assert got.body == b"hello world"


def test_put_chunked_without_length_is_201(app) -> None:
    body = b"x" * 200_000
    req = Request.blank(path(), method="PUT")
    req.environ["wsgi.input"] = io.BytesIO(body)
    req.environ.pop("CONTENT_LENGTH", None)
    req.headers.update(
        {"Transfer-Encoding": "chunked", "X-Timestamp": ts().internal, "Content-Type": "a/b"}
    )
    assert req.get_response(app).status_int == 201
    head = request(app, "HEAD")
    assert head.headers["Content-Length"] == str(len(body))
    assert head.headers["ETag"] == md5(body)


def test_put_without_length_or_chunked_is_411(app) -> None:
    req = Request.blank(path(), method="PUT", headers={"X-Timestamp": ts().internal})
    req.environ.pop("CONTENT_LENGTH", None)
    req.headers["Content-Type"] = "a/b"
    assert req.get_response(app).status_int == 411


def test_put_missing_timestamp_is_400(app) -> None:
    resp = request(app, "PUT", body=b"x", headers={"Content-Type": "a/b"})
    assert resp.status_int == 400
    assert b"Missing timestamp" in resp.body


def test_put_bad_timestamp_is_400(app) -> None:
    resp = put(app, headers={"X-Timestamp": "yesterday"})
    assert resp.status_int == 400


def test_put_etag_mismatch_is_422_and_stores_nothing(app, devices) -> None:
    resp = put(app, body=b"abc", headers={"ETag": md5(b"abd")})
    assert resp.status_int == 422
    assert stored_files(devices) == []
    assert tmp_files(devices) == []
    assert request(app, "GET").status_int == 404


def test_put_quoted_matching_etag_is_201(app) -> None:
    assert put(app, body=b"abc", headers={"ETag": f'"{md5(b"abc").upper()}"'}).status_int == 201


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_put_older_or_same_timestamp_is_409(app, delta) -> None:
    t = ts()
    put(app, body=b"new", timestamp=t)
    resp = put(app, body=b"old", timestamp=ts(delta) if delta else t)
    assert resp.status_int == 409
    assert resp.headers["X-Backend-Timestamp"] == t.internal
    assert request(app, "GET").body == b"new"


def test_put_older_than_tombstone_is_409(app) -> None:
    t = ts()
    request(app, "DELETE", headers={"X-Timestamp": t.internal})
    resp = put(app, timestamp=ts(-1))
    assert resp.status_int == 409
    assert resp.headers["X-Backend-Timestamp"] == t.internal


def test_put_if_none_match_star_on_existing_is_412(app) -> None:
    assert put(app, timestamp=ts(-1), headers={"If-None-Match": "*"}).status_int == 201
    resp = put(app, headers={"If-None-Match": "*"})
    assert resp.status_int == 412


def test_put_if_none_match_star_after_delete_is_201(app) -> None:
    put(app, timestamp=ts(-2))
    request(app, "DELETE", headers={"X-Timestamp": ts(-1).internal})
    assert put(app, headers={"If-None-Match": "*"}).status_int == 201


def test_put_if_none_match_etag_of_existing_is_412(app) -> None:
    put(app, body=b"abc", timestamp=ts(-1))
    assert put(app, body=b"zzz", headers={"If-None-Match": md5(b"abc")}).status_int == 412
    assert put(app, body=b"zzz", headers={"If-None-Match": '"other"'}).status_int == 201


def test_put_refusals_do_not_read_the_body(app) -> None:
    t = ts()
    put(app, timestamp=t)
    for headers in (
        {"X-Timestamp": ts(-1).internal},  # 409
        {"X-Timestamp": ts(1).internal, "If-None-Match": "*"},  # 412
        {"X-Timestamp": ts(1).internal, "Content-Length": str(10**12)},  # 413
    ):
        req = Request.blank(path(), method="PUT")
        req.environ["wsgi.input"] = ExplodingInput()
        req.environ["CONTENT_LENGTH"] = "5"
        req.headers.update({"Content-Type": "a/b", **headers})
        assert req.get_response(app).status_int in (409, 412, 413)


def test_put_body_shorter_than_length_is_499_and_stores_nothing(app, devices) -> None:
    req = Request.blank(path(), method="PUT")
    req.environ["wsgi.input"] = io.BytesIO(b"only ten b")
    req.environ["CONTENT_LENGTH"] = "100"
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    resp = req.get_response(app)
    assert resp.status_int == 499
    assert stored_files(devices) == []
    assert tmp_files(devices) == []


class ResetInput:
    def __init__(self):
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 1:
            raise ConnectionResetError("peer reset")
        return b"x" * 10


def test_put_reset_mid_body_is_499(app, devices) -> None:
    req = Request.blank(path(), method="PUT")
    req.environ["wsgi.input"] = ResetInput()
    req.environ["CONTENT_LENGTH"] = "100"
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 499
    assert stored_files(devices) == []
    assert tmp_files(devices) == []


class StallingInput:
    def read(self, size=-1):
        green.sleep(5)
        return b""


def test_put_client_stall_is_408_and_stores_nothing(devices) -> None:
    app = make_server(devices, client_timeout=0.05)
    req = Request.blank(path(), method="PUT")
    req.environ["wsgi.input"] = StallingInput()
    req.environ["CONTENT_LENGTH"] = "100"
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 408
    assert stored_files(devices) == []
    assert tmp_files(devices) == []


def test_put_chunked_over_max_file_size_is_413(app, devices) -> None:
    app.limits = Constraints(max_file_size=1000)
    req = Request.blank(path(), method="PUT")
    req.environ["wsgi.input"] = io.BytesIO(b"y" * 5000)
    req.environ.pop("CONTENT_LENGTH", None)
    req.headers.update(
        {"Transfer-Encoding": "chunked", "X-Timestamp": ts().internal, "Content-Type": "a/b"}
    )
    assert req.get_response(app).status_int == 413
    assert stored_files(devices) == []
    assert tmp_files(devices) == []


def test_put_without_content_type_is_400(app) -> None:
    resp = request(app, "PUT", body=b"x", headers={"X-Timestamp": ts().internal})
    assert resp.status_int == 400
    assert b"No content type" in resp.body


def test_put_metadata_at_limits_round_trips(app) -> None:
    meta = limit_user_meta()
    obj = limit_object_name()
    assert put(app, obj=obj, headers=meta).status_int == 201
    head = request(app, "HEAD", obj=obj)
    got = {k: v for k, v in head.headers.items() if k.startswith("X-Object-Meta-")}
    assert got == {k.title(): v for k, v in meta.items()}


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (limit_user_meta(count=91, total=91 * 8), b"Too many metadata items"),
        (limit_user_meta(count=90, total=4097), b"Total metadata too large"),
        ({"X-Object-Meta-" + "n" * 129: "v"}, b"Metadata name too long"),
        ({"X-Object-Meta-N": "v" * 257}, b"Metadata value longer than 256"),
    ],
)
def test_put_metadata_over_limits_is_400(app, meta, message) -> None:
    resp = put(app, headers=meta)
    assert resp.status_int == 400
    assert message in resp.body


def test_put_object_name_too_long_is_400(app) -> None:
    assert put(app, obj="o" * 1025).status_int == 400


def test_put_invalid_utf8_name_is_412(app) -> None:
    req = Request.blank(f"/{DEVICE}/7/a/c/%FF", method="PUT", body=b"x")
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 412


def test_put_delete_at_in_past_is_400(app) -> None:
    assert put(app, headers={"X-Delete-At": "1000"}).status_int == 400


def test_put_unmounted_device_is_507(devices) -> None:
    app = make_server(devices, mount_check=True)
    assert put(app).status_int == 507


def test_put_unknown_device_is_507(app) -> None:
    req = Request.blank("/nodev/7/a/c/o", method="PUT", body=b"x")
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 507


def test_put_when_reserve_not_free_is_507(devices) -> None:
    app = make_server(devices, fallocate_reserve=10**18)
    assert put(app).status_int == 507
    assert stored_files(devices) == []


def test_put_bad_path_is_400(app) -> None:
    req = Request.blank(f"/{DEVICE}/notapart/a/c/o", method="PUT", body=b"x")
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 400


def test_put_stores_sysmeta_and_allowed_headers_only(app) -> None:
    extra = {
        "X-Object-Sysmeta-Slo": "yes",
        "Content-Encoding": "gzip",
        "Content-Disposition": "inline",
        "X-Random-Header": "dropped",
    }
    put(app, headers=extra)
    head = request(app, "HEAD")
    assert head.headers["X-Object-Sysmeta-Slo"] == "yes"
    assert head.headers["Content-Encoding"] == "gzip"
    assert head.headers["Content-Disposition"] == "inline"
    assert "X-Random-Header" not in head.headers


def test_unknown_method_is_405_with_allow(app) -> None:
    resp = Request.blank(path(), method="PATCH").get_response(app)
    assert resp.status_int == 405
    assert "REPLICATE" in resp.headers["Allow"]
