"""Object server POST and DELETE: metadata replacement, tombstones, timestamps, X-If-Delete-At."""

from __future__ import annotations

import os
import time

import pytest
from objtest_helpers import put, request, ts

from swiftlite.common import hashing
from swiftlite.obj import layout


def hash_dir_files(dev_path, obj="o"):
    h = hashing.hash_path("a", "c", obj)
    d = layout.hash_dir(dev_path, 7, h)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_post_replaces_user_metadata_and_is_202(app, dev_path) -> None:
    put(
        app,
        timestamp=ts(-5),
        headers={"X-Object-Meta-A": "1", "X-Object-Meta-B": "2", "X-Object-Sysmeta-S": "kept"},
    )
    t = ts()
    resp = request(app, "POST", headers={"X-Timestamp": t.internal, "X-Object-Meta-C": "3"})
    assert resp.status_int == 202
    head = request(app, "HEAD")
    meta = {k: v for k, v in head.headers.items() if k.startswith("X-Object-Meta-")}
    assert meta == {"X-Object-Meta-C": "3"}
    assert head.headers["X-Object-Sysmeta-S"] == "kept"
    assert head.headers["X-Timestamp"] == t.normal
    assert head.headers["Last-Modified"] == t.http_date
    assert [f.rsplit(".", 1)[1] for f in hash_dir_files(dev_path)] == ["data", "meta"]


def test_post_does_not_store_sysmeta(app) -> None:
    put(app, timestamp=ts(-5))
    request(app, "POST", headers={"X-Timestamp": ts().internal, "X-Object-Sysmeta-X": "no"})
    assert "X-Object-Sysmeta-X" not in request(app, "HEAD").headers


def test_post_can_change_content_type(app) -> None:
    put(app, timestamp=ts(-5), headers={"Content-Type": "text/plain"})
    request(app, "POST", headers={"X-Timestamp": ts().internal, "Content-Type": "image/png"})
    assert request(app, "GET").headers["Content-Type"] == "image/png"


def test_post_missing_object_is_404(app) -> None:
    assert request(app, "POST", headers={"X-Timestamp": ts().internal}).status_int == 404


def test_post_deleted_object_is_404_with_backend_timestamp(app) -> None:
    put(app, timestamp=ts(-5))
    t = ts(-1)
    request(app, "DELETE", headers={"X-Timestamp": t.internal})
    resp = request(app, "POST", headers={"X-Timestamp": ts().internal})
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Timestamp"] == t.internal


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_post_not_newer_than_data_or_meta_is_409(app, delta) -> None:
    t_data = ts(-10)
    put(app, timestamp=t_data)
    t_meta = ts(-5)
    assert request(app, "POST", headers={"X-Timestamp": t_meta.internal}).status_int == 202
    stale = t_meta if delta == 0 else ts(-6)
    resp = request(app, "POST", headers={"X-Timestamp": stale.internal})
    assert resp.status_int == 409
    assert resp.headers["X-Backend-Timestamp"] == t_meta.internal


def test_post_missing_timestamp_is_400(app) -> None:
    put(app)
    assert request(app, "POST").status_int == 400


def test_post_over_metadata_limit_is_400(app) -> None:
    put(app, timestamp=ts(-1))
    resp = request(
        app, "POST", headers={"X-Timestamp": ts().internal, "X-Object-Meta-A": "v" * 257}
    )
    assert resp.status_int == 400


def test_post_without_delete_at_removes_expiry(app) -> None:
    put(app, timestamp=ts(-5), headers={"X-Delete-At": str(int(time.time()) + 100)})
    request(app, "POST", headers={"X-Timestamp": ts().internal})
    assert "X-Delete-At" not in request(app, "HEAD").headers


def test_post_sets_delete_at(app) -> None:
    put(app, timestamp=ts(-5))
    when = str(int(time.time()) + 100)
    request(app, "POST", headers={"X-Timestamp": ts().internal, "X-Delete-At": when})
    assert request(app, "HEAD").headers["X-Delete-At"] == when


def test_delete_existing_is_204_and_leaves_only_tombstone(app, dev_path) -> None:
    put(app, timestamp=ts(-5))
    request(app, "POST", headers={"X-Timestamp": ts(-3).internal})
    t = ts()
    resp = request(app, "DELETE", headers={"X-Timestamp": t.internal})
    assert resp.status_int == 204
    assert resp.headers["X-Backend-Timestamp"] == t.internal
    assert hash_dir_files(dev_path) == [t.internal + ".ts"]


def test_delete_twice_is_404_but_newer_tombstone_written(app, dev_path) -> None:
    put(app, timestamp=ts(-5))
    request(app, "DELETE", headers={"X-Timestamp": ts(-2).internal})
    t = ts()
    resp = request(app, "DELETE", headers={"X-Timestamp": t.internal})
    assert resp.status_int == 404
    assert hash_dir_files(dev_path) == [t.internal + ".ts"]


def test_delete_missing_is_404_and_writes_tombstone(app, dev_path) -> None:
    t = ts()
    resp = request(app, "DELETE", headers={"X-Timestamp": t.internal})
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Timestamp"] == t.internal
    assert hash_dir_files(dev_path) == [t.internal + ".ts"]


def test_delete_older_than_data_is_409_and_keeps_data(app, dev_path) -> None:
    t = ts()
    put(app, timestamp=t)
    resp = request(app, "DELETE", headers={"X-Timestamp": ts(-1).internal})
    assert resp.status_int == 409
    assert resp.headers["X-Backend-Timestamp"] == t.internal
    assert hash_dir_files(dev_path) == [t.internal + ".data"]


def test_delete_missing_timestamp_is_400(app) -> None:
    assert request(app, "DELETE").status_int == 400


def test_delete_if_delete_at_mismatch_is_412(app, dev_path) -> None:
    when = int(time.time()) + 100
    put(app, timestamp=ts(-5), headers={"X-Delete-At": str(when)})
    resp = request(
        app, "DELETE", headers={"X-Timestamp": ts().internal, "X-If-Delete-At": str(when + 1)}
    )
    assert resp.status_int == 412
    assert hash_dir_files(dev_path)[0].endswith(".data")
    resp = request(
        app, "DELETE", headers={"X-Timestamp": ts().internal, "X-If-Delete-At": str(when)}
    )
    assert resp.status_int == 204


def test_delete_if_delete_at_on_missing_is_404_and_writes_nothing(app, dev_path) -> None:
    resp = request(app, "DELETE", headers={"X-Timestamp": ts().internal, "X-If-Delete-At": "5"})
    assert resp.status_int == 404
    assert hash_dir_files(dev_path) == []


def test_delete_bad_if_delete_at_is_400(app) -> None:
    put(app, timestamp=ts(-1))
    resp = request(app, "DELETE", headers={"X-Timestamp": ts().internal, "X-If-Delete-At": "soon"})
    assert resp.status_int == 400


def test_delete_expired_object_is_404_with_tombstone(app, dev_path, monkeypatch) -> None:
    put(app, timestamp=ts(-5), headers={"X-Delete-At": str(int(time.time()) + 1)})
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 10)
    t = ts(10)
    resp = request(app, "DELETE", headers={"X-Timestamp": t.internal})
    assert resp.status_int == 404
    assert hash_dir_files(dev_path) == [t.internal + ".ts"]
