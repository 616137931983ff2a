"""The same metadata round trips on a loop-mounted XFS (skipped, with the reason, when the
machine cannot make one); the other object tests cover the machine's own file system."""

from __future__ import annotations

import os

import pytest
from objtest_helpers import (
    DEVICE,
    limit_object_name,
    limit_record,
    limit_user_meta,
    make_server,
    md5,
    put,
    request,
    ts,
    write_file,
)

from swiftlite.obj import metadata

pytestmark = pytest.mark.xfs


@pytest.fixture(scope="module")
def xfs_devices(xfs_dir):
    os.makedirs(os.path.join(xfs_dir, DEVICE), exist_ok=True)
    return xfs_dir


def test_limit_record_round_trips_on_xfs(xfs_devices) -> None:
    meta = limit_record()
    path = os.path.join(xfs_devices, "limit")
    where = write_file(path, meta)
    assert metadata.read_path(path) == (meta, where)
    assert where.kind == "trailer"  # the same layout as on ext4, so replicas can move between them


def test_inline_record_round_trips_on_xfs(xfs_devices) -> None:
    meta = {"name": "/a/c/o", "X-Object-Meta-K": "v" * 2000}
    path = os.path.join(xfs_devices, "inline")
    assert write_file(path, meta).kind == "inline"
    assert metadata.read_path(path)[0] == meta


def test_server_put_get_at_limits_on_xfs(xfs_devices) -> None:
    app = make_server(xfs_devices)
    meta = limit_user_meta()
    obj = limit_object_name()
    body = os.urandom(100_000)
    headers = {**meta, "X-Object-Sysmeta-Big": "\u00ff" * 256}
    assert put(app, obj=obj, body=body, headers=headers).status_int == 201
    resp = request(app, "GET", obj=obj)
    assert resp.status_int == 200
    assert resp.body == body
    assert resp.headers["ETag"] == md5(body)
    got = {
        k: v
        for k, v in resp.headers.items()
        if k.startswith(("X-Object-Meta-", "X-Object-Sysmeta-"))
    }
    assert got == {k.title(): v for k, v in headers.items()}


def test_mount_check_accepts_a_mounted_device(xfs_dir) -> None:
    devices, device = os.path.split(xfs_dir)
    app = make_server(devices, mount_check=True)
    from webob import Request

    req = Request.blank(f"/{device}/1/a/c/o", method="PUT", body=b"on a real mount")
    req.headers.update({"X-Timestamp": ts().internal, "Content-Type": "a/b"})
    assert req.get_response(app).status_int == 201
    assert Request.blank(f"/{device}/1/a/c/o").get_response(app).body == b"on a real mount"
