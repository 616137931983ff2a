"""REPLICATE on the container and account servers (the receiving side, ``db/rpc.py``)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time

import pytest
from webob import Request

from swiftlite.account.broker import AccountBroker
from swiftlite.account.server import AccountServer, AccountServerOptions
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker
from swiftlite.container.server import ContainerServer, ContainerServerOptions
from swiftlite.db import layout

T0 = int(time.time()) - 3600
PART = 5


def ts(offset):
    return Timestamp(T0 + offset)


@pytest.fixture
def devices(tmp_path):
    (tmp_path / "sda").mkdir()
    return tmp_path


@pytest.fixture
def app(devices):
    options = ContainerServerOptions(
        devices=str(devices), mount_check=False, account_update_interval=0, log_requests=False
    )
    return ContainerServer(options, logger=logging.getLogger("test.rpc"))


def replicate(app, name_hash, body, device="sda"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = Request.blank(f"/{device}/{PART}/{name_hash}", method="REPLICATE", body=data)
    return req.get_response(app)


def local(devices, name="c", rows=()):
    broker = ContainerBroker.at(str(devices / "sda"), PART, "a", name)
    broker.initialize(ts(0))
    for obj, when in rows:
        broker.put_object(obj, ts(when), 1, "t", "e")
    broker.merge_pending()
    return broker


def sender(tmp_path, name="c", rows=()):
    """A database on another device, standing for the replica that sends."""
    (tmp_path / "other").mkdir(exist_ok=True)
    broker = ContainerBroker.at(str(tmp_path / "other"), PART, "a", name)
    broker.initialize(ts(0))
    for obj, when in rows:
        broker.put_object(obj, ts(when), 1, "t", "e")
    broker.merge_pending()
    return broker


def upload(devices, src, name="repl-" + "a" * 32 + ".db"):
    """Place a snapshot of ``src`` where rsync would have put it."""
    tmp = devices / "sda" / "tmp"
    tmp.mkdir(exist_ok=True)
    src.snapshot(str(tmp / name))
    return name


def test_sync_without_database_is_404_and_prepares_tmp(app, devices, tmp_path):
    src = sender(tmp_path)
    resp = replicate(app, layout.db_hash("a", "c"), {"op": "sync", **src.replication_info()})
    assert resp.status_int == 404
    assert (devices / "sda" / "tmp").is_dir()


def test_sync_answers_state_and_point_and_merges_sender_metadata(app, devices, tmp_path):
    ours = local(devices, rows=[("x", 1)])
    src = sender(tmp_path, rows=[("y", 2)])
    src.update_metadata({"X-Container-Meta-K": ("v", ts(3))})

    resp = replicate(app, layout.db_hash("a", "c"), {"op": "sync", **src.replication_info()})

    assert resp.status_int == 200
    answer = resp.json
    assert answer["id"] == ours.get_info()["id"]
    assert answer["point"] == -1
    assert answer["max_row"] == ours.get_max_row()
    assert ours.user_metadata() == {"X-Container-Meta-K": "v"}


def test_sync_same_hash_moves_incoming_point_to_sender_max_row(app, devices, tmp_path):
    local(devices, rows=[("x", 1)])
    src = sender(tmp_path, rows=[("x", 1)])
    info = src.replication_info()

    resp = replicate(app, layout.db_hash("a", "c"), {"op": "sync", **info})

    assert resp.json["point"] == info["max_row"]


def test_merge_items_applies_rows_and_sync_point(app, devices, tmp_path):
    ours = local(devices)
    src = sender(tmp_path, rows=[("x", 1), ("y", 2)])
    rows = src.get_records_since(-1, 10)
    body = {
        "op": "merge_items",
        "source": src.get_info()["id"],
        "point": rows[-1][0],
        "records": [r[1:] for r in rows],
    }

    resp = replicate(app, layout.db_hash("a", "c"), body)

    assert resp.status_int == 204
    assert [r[0] for r in ours.get_object_rows()] == ["x", "y"]
    assert ours.get_sync(src.get_info()["id"]) == rows[-1][0]


def test_merge_items_malformed_record_is_400_and_changes_nothing(app, devices):
    ours = local(devices, rows=[("x", 1)])
    body = {"op": "merge_items", "source": "s", "point": 3, "records": [["y", "not a time"]]}
    resp = replicate(app, layout.db_hash("a", "c"), body)
    assert resp.status_int == 400
    assert [r[0] for r in ours.get_object_rows()] == ["x"]
    assert ours.get_sync("s") == -1


def test_merge_syncs_records_incoming_points(app, devices):
    ours = local(devices)
    body = {"op": "merge_syncs", "syncs": [{"remote_id": "r1", "sync_point": 9}]}
    assert replicate(app, layout.db_hash("a", "c"), body).status_int == 204
    assert ours.get_sync("r1") == 9


def test_complete_rsync_installs_copy_with_new_id_and_sender_point(app, devices, tmp_path):
    src = sender(tmp_path, rows=[("x", 1), ("y", 2)])
    name = upload(devices, src)

    resp = replicate(app, layout.db_hash("a", "c"), {"op": "complete_rsync", "tmp": name})

    assert resp.status_int == 204
    installed = ContainerBroker.at(str(devices / "sda"), PART, "a", "c")
    assert [r[0] for r in installed.get_object_rows()] == ["x", "y"]
    assert installed.get_info()["id"] != src.get_info()["id"]
    assert installed.get_sync(src.get_info()["id"]) == src.get_max_row()
    assert not [n for n in os.listdir(devices / "sda" / "tmp") if n.startswith("repl-")]


def test_complete_rsync_onto_existing_database_merges_instead(app, devices, tmp_path):
    ours = local(devices, rows=[("mine", 1)])
    name = upload(devices, sender(tmp_path, rows=[("theirs", 2)]))

    resp = replicate(app, layout.db_hash("a", "c"), {"op": "complete_rsync", "tmp": name})

    assert resp.status_int == 204
    assert [r[0] for r in ours.get_object_rows()] == ["mine", "theirs"]


def test_rsync_then_merge_folds_copy_rows_state_and_points(app, devices, tmp_path):
    ours = local(devices, rows=[("mine", 1)])
    src = sender(tmp_path, rows=[("theirs", 2)])
    src.merge_syncs([{"remote_id": "third", "sync_point": 4}])
    src.update_put_timestamp(ts(7))
    name = upload(devices, src)

    resp = replicate(app, layout.db_hash("a", "c"), {"op": "rsync_then_merge", "tmp": name})

    assert resp.status_int == 204
    assert [r[0] for r in ours.get_object_rows()] == ["mine", "theirs"]
    assert ours.get_info()["put_timestamp"] == ts(7).internal
    assert ours.get_sync("third") == 4
    assert ours.get_sync(src.get_info()["id"]) == src.get_max_row()


def test_complete_rsync_of_another_database_is_400_and_upload_removed(app, devices, tmp_path):
    name = upload(devices, sender(tmp_path, name="other"))
    resp = replicate(app, layout.db_hash("a", "c"), {"op": "complete_rsync", "tmp": name})
    assert resp.status_int == 400
    assert not (devices / "sda" / "tmp" / name).exists()
    assert not ContainerBroker.at(str(devices / "sda"), PART, "a", "c").exists()


def test_complete_rsync_missing_upload_is_404(app, devices):
    name = "repl-" + "b" * 32 + ".db"
    resp = replicate(app, layout.db_hash("a", "c"), {"op": "complete_rsync", "tmp": name})
    assert resp.status_int == 404


@pytest.mark.parametrize("name", ["../../containers/x.db", "repl-zz.db", "/etc/passwd", 7])
def test_complete_rsync_bad_upload_name_is_400(app, devices, name):
    resp = replicate(app, layout.db_hash("a", "c"), {"op": "complete_rsync", "tmp": name})
    assert resp.status_int == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sda/5/nothex", {"op": "sync"}),
        ("/sda/x/" + "a" * 32, {"op": "sync"}),
        ("/sda/5/" + "a" * 32, {"op": "explode"}),
        ("/sda/5/" + "a" * 32, [1, 2]),
    ],
)
def test_replicate_bad_path_op_or_body_is_400(app, path, body):
    req = Request.blank(path, method="REPLICATE", body=json.dumps(body).encode())
    assert req.get_response(app).status_int == 400


def test_replicate_unmounted_device_is_507(app, devices):
    shutil.rmtree(devices / "sda")
    assert replicate(app, "a" * 32, {"op": "sync"}).status_int == 507


def test_account_server_sync_spreads_deleted_status(tmp_path):
    (tmp_path / "sda").mkdir()
    (tmp_path / "sdb").mkdir()
    options = AccountServerOptions(devices=str(tmp_path), mount_check=False, log_requests=False)
    app = AccountServer(options, logger=logging.getLogger("test.rpc"))
    ours = AccountBroker.at(str(tmp_path / "sda"), PART, "AUTH_x")
    ours.initialize(ts(0))
    theirs = AccountBroker.at(str(tmp_path / "sdb"), PART, "AUTH_x")
    theirs.initialize(ts(0))
    theirs.delete_db(ts(3))

    resp = replicate(app, layout.db_hash("AUTH_x"), {"op": "sync", **theirs.replication_info()})

    assert resp.status_int == 200
    assert resp.json["status"] == "DELETED"
    assert ours.is_status_deleted()
