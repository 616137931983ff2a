"""The broker side of replication: row batches, peer merges, snapshots, copies and removal."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.account.broker import AccountBroker
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout
from swiftlite.db.replicator import rsync_host

T0 = int(time.time()) - 3600


def ts(offset):
    return Timestamp(T0 + offset)


def container(device, part=1, name="c"):
    broker = ContainerBroker.at(device, part, "a", name)
    broker.initialize(ts(0))
    return broker


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "sda"
    path.mkdir()
    return str(path)


@pytest.fixture
def other(tmp_path):
    path = tmp_path / "sdb"
    path.mkdir()
    return str(path)


def push(src, dst, batch):
    """Send every row of ``src`` to ``dst`` the way the replicator does."""
    point = -1
    source_id = src.get_info()["id"]
    while rows := src.get_records_since(point, batch):
        point = rows[-1][0]
        dst.merge_peer_items([r[1:] for r in rows], source_id, point)
    return point


ops = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(1, 20),
        st.booleans(),
    ),
    max_size=12,
)


@settings(deadline=None, max_examples=30)
@given(ops, ops, st.integers(1, 5), st.integers(1, 5))
def test_push_both_ways_any_histories_and_batches_converge(left_ops, right_ops, b1, b2):
    with tempfile.TemporaryDirectory() as root:
        left = container(os.path.join(root, "sda"))
        right = container(os.path.join(root, "sdb"))
        for broker, history in ((left, left_ops), (right, right_ops)):
            for name, when, deleted in history:
                if deleted:
                    broker.delete_object(name, ts(when))
                else:
                    broker.put_object(name, ts(when), when, "t", f"{when:032x}")
            broker.merge_pending()
        push(left, right, b1)
        push(right, left, b2)
        assert left.get_object_rows() == right.get_object_rows()
        assert left.get_info()["hash"] == right.get_info()["hash"]
        assert left.get_info()["object_count"] == right.get_info()["object_count"]
        left.close()
        right.close()


def test_merge_peer_items_records_incoming_sync_point(device, other):
    src = container(device)
    src.put_object("o", ts(1), 1, "t", "e")
    src.merge_pending()
    dst = container(other)
    point = push(src, dst, 10)
    assert dst.get_sync(src.get_info()["id"]) == point == src.get_max_row()


def test_merge_peer_state_newest_timestamps_and_metadata_win(device, other):
    ours = container(device)
    ours.update_metadata({"X-Container-Meta-A": ("old", ts(1)), "X-Container-Meta-B": ("b", ts(9))})
    theirs = container(other)
    theirs.update_put_timestamp(ts(5))
    theirs.update_metadata(
        {"X-Container-Meta-A": ("new", ts(2)), "X-Container-Meta-B": ("x", ts(3))}
    )

    ours.merge_peer_state(theirs.replication_info())

    info = ours.get_info()
    assert info["put_timestamp"] == ts(5).internal
    assert ours.user_metadata() == {"X-Container-Meta-A": "new", "X-Container-Meta-B": "b"}


def test_merge_peer_state_revived_container_takes_creation_after_the_delete(device, other):
    ours = container(device)  # created at ts(0)
    ours.delete_db(ts(2))
    theirs = ContainerBroker.at(other, 1, "a", "c")
    theirs.initialize(ts(5))  # created again after our delete

    ours.merge_peer_state(theirs.replication_info())

    info = ours.get_info()
    assert info["created_at"] == ts(5).internal
    assert not ours.is_deleted()


def test_account_deleted_status_spreads_by_peer_state(device, other):
    ours = AccountBroker.at(device, 1, "AUTH_a")
    ours.initialize(ts(0))
    theirs = AccountBroker.at(other, 1, "AUTH_a")
    theirs.initialize(ts(0))
    theirs.delete_db(ts(4))

    ours.merge_peer_state(theirs.replication_info())

    assert ours.is_status_deleted()
    assert ours.get_info()["delete_timestamp"] == ts(4).internal


def test_snapshot_holds_wal_and_journal_rows_in_one_file(device, tmp_path):
    broker = container(device)
    broker.put_object("merged", ts(1), 1, "t", "e")
    broker.merge_pending()
    broker.put_object("journaled", ts(2), 1, "t", "e")  # still in <hash>.pending
    dest = str(tmp_path / "snap.db")

    max_row = broker.snapshot(dest)

    assert not os.path.exists(dest + "-wal")
    raw = sqlite3.connect(dest)
    try:
        names = [r[0] for r in raw.execute("SELECT name FROM object ORDER BY name")]
    finally:
        raw.close()
    assert names == ["journaled", "merged"]
    assert max_row == broker.get_max_row()


def test_become_copy_of_takes_new_id_and_forgets_outgoing_points(device):
    broker = container(device)
    old_id = broker.get_info()["id"]
    broker.merge_syncs([{"remote_id": "peer", "sync_point": 7}], incoming=False)
    broker.reported(ts(0).internal, "0", 3, 3)

    broker.become_copy_of(old_id, 12)

    info = broker.get_info()
    assert info["id"] != old_id
    assert broker.get_sync(old_id) == 12
    assert broker.get_syncs(incoming=False) == []
    assert info["reported_object_count"] == 0


def test_remove_refuses_when_rows_arrived_after_the_sync(device):
    broker = container(device)
    synced = broker.get_max_row()
    broker.put_object("late", ts(3), 1, "t", "e")

    assert broker.remove(unchanged_since=synced) is False
    assert broker.exists()


def test_remove_deletes_database_and_empty_parents(device):
    broker = container(device)
    part_dir = os.path.join(device, "containers", "1")

    assert broker.remove(unchanged_since=broker.get_max_row()) is True
    assert not os.path.exists(broker.db_dir)
    assert not os.path.exists(part_dir)
    assert os.path.isdir(os.path.join(device, layout.data_dir(layout.CONTAINER)))


def test_rsync_host_brackets_ipv6():
    assert rsync_host("::1") == "[::1]"
    assert rsync_host("127.0.0.2") == "127.0.0.2"
