"""DatabaseBroker behaviour shared by both kinds, exercised through ContainerBroker."""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common import errors, green
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout
from swiftlite.db.broker import APPLICATION_ID, EMPTY_HASH, chexor, merge_metadata


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "sda"
    path.mkdir()
    return str(path)


@pytest.fixture
def broker(device):
    b = ContainerBroker.at(device, 3, "acct", "cont")
    b.initialize(Timestamp(1000))
    yield b
    b.close()


def test_initialize_places_db_by_partition_suffix_and_hash(device, broker):
    name_hash = layout.db_hash("acct", "cont")
    expected = os.path.join(device, "containers", "3", name_hash[-3:], name_hash, name_hash + ".db")
    assert broker.db_file == expected
    assert os.path.isfile(expected)
    assert broker.pending_file == expected[:-3] + ".pending"


def test_initialize_writes_rollback_journal_schema_version_and_application_id(broker):
    raw = sqlite3.connect(broker.db_file)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        raw.close()


def _journal_mode(path):
    raw = sqlite3.connect(path)
    try:
        return raw.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        raw.close()


def _make_wal(path):
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_a_read_leaves_no_sidecar_files_behind(broker):
    """A rollback-journal database is one file between requests: a WAL one would make and
    delete ``-wal`` and ``-shm`` on every open and close (the cost this mode avoids)."""
    broker.put_object("o", Timestamp(1001), 1, "text/plain", "e" * 32, 0, 0)
    assert broker.get_info()["object_count"] == 1
    broker.close()
    names = set(os.listdir(broker.db_dir)) - {os.path.basename(broker.pending_file)}
    assert names == {os.path.basename(broker.db_file)}


def test_a_wal_database_of_an_older_release_is_switched_on_open(device, broker):
    broker.put_object("kept", Timestamp(1001), 1, "text/plain", "e" * 32, 0, 0)
    broker.get_info()
    broker.close()
    _make_wal(broker.db_file)
    again = ContainerBroker.at(device, 3, "acct", "cont")
    try:
        assert again.get_info()["object_count"] == 1  # nothing lost in the switch
    finally:
        again.close()
    assert _journal_mode(broker.db_file) == "delete"
    assert not os.path.exists(broker.db_file + "-wal")


def test_a_wal_database_another_connection_holds_stays_wal_and_readable(device, broker):
    """The switch needs the only connection; with another open it is put off, not an error."""
    broker.put_object("kept", Timestamp(1001), 1, "text/plain", "e" * 32, 0, 0)
    broker.get_info()
    broker.close()
    _make_wal(broker.db_file)
    other = sqlite3.connect(broker.db_file)
    try:
        other.execute("SELECT COUNT(*) FROM object").fetchone()
        again = ContainerBroker.at(device, 3, "acct", "cont")
        try:
            assert again.get_info()["object_count"] == 1
        finally:
            again.close()
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()
    later = ContainerBroker.at(device, 3, "acct", "cont")
    try:
        later.get_info()
    finally:
        later.close()
    assert _journal_mode(broker.db_file) == "delete"


def test_initialize_twice_keeps_first_database(device, broker):
    broker.put_object("o", Timestamp(1001), 1, "t", "e")
    broker.merge_pending()
    again = ContainerBroker.at(device, 3, "acct", "cont")
    assert again.initialize(Timestamp(2000)) is False
    assert again.get_info()["object_count"] == 1
    assert again.get_info()["put_timestamp"] == Timestamp(1000).internal


def test_initialize_leaves_no_temp_files(device, broker):
    assert os.listdir(os.path.join(device, "tmp")) == []


def test_open_foreign_sqlite_file_is_corrupt(tmp_path):
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (x)")
    raw.close()
    with pytest.raises(errors.Corrupt, match="not a swiftlite"):
        ContainerBroker(str(path)).get_info()


def test_open_garbage_file_is_corrupt(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(errors.Corrupt):
        ContainerBroker(str(path)).get_info()


def test_missing_database_is_not_found(tmp_path):
    with pytest.raises(errors.NotFound):
        ContainerBroker(str(tmp_path / "absent.db")).get_info()


def test_write_while_another_process_holds_the_lock_times_out_as_domain_error(device, broker):
    holder = sqlite3.connect(broker.db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        slow = ContainerBroker(broker.db_file, timeout=0.1)
        with pytest.raises(errors.Timeout):
            slow.update_put_timestamp(Timestamp(5000))
        slow.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_write_waits_green_for_a_held_lock_then_succeeds(broker):
    holder = sqlite3.connect(broker.db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    def release():
        green.sleep(0.05)
        holder.execute("COMMIT")

    releaser = green.spawn(release)
    broker.update_put_timestamp(Timestamp(5000))  # retries with green sleeps meanwhile
    releaser.wait()
    holder.close()
    assert broker.get_info()["put_timestamp"] == Timestamp(5000).internal


def test_update_metadata_newest_timestamp_wins(broker):
    broker.update_metadata({"X-Container-Meta-Color": ("red", Timestamp(2000))})
    broker.update_metadata({"x-container-meta-color": ("blue", Timestamp(1500))})
    assert broker.metadata == {"X-Container-Meta-Color": ("red", Timestamp(2000).internal)}
    broker.update_metadata({"X-Container-Meta-Color": ("", Timestamp(2500))})
    assert broker.user_metadata() == {}


meta_updates = st.lists(
    st.tuples(
        st.sampled_from(["X-Container-Meta-A", "x-container-meta-a", "X-Container-Meta-B"]),
        st.sampled_from(["", "1", "2"]),
        st.integers(1, 4),
    ),
    max_size=8,
)


@settings(deadline=None, max_examples=100)
@given(updates=meta_updates)
def test_merge_metadata_any_order_gives_same_result(updates):
    results = set()
    for perm in itertools.islice(itertools.permutations(updates), 6):
        merged = {}
        for key, value, ts in perm:
            merged = merge_metadata(merged, {key: (value, Timestamp(ts))})
        results.add(tuple(sorted(merged.items())))
    assert len(results) <= 1


def test_sync_points_only_move_forward(broker):
    broker.merge_syncs([{"remote_id": "peer", "sync_point": 10}])
    broker.merge_syncs([{"remote_id": "peer", "sync_point": 4}])
    assert broker.get_sync("peer") == 10
    assert broker.get_sync("peer", incoming=False) == -1
    broker.merge_syncs([{"remote_id": "peer", "sync_point": 12}], incoming=False)
    assert broker.get_syncs(incoming=False) == [{"remote_id": "peer", "sync_point": 12}]


def test_reclaim_drops_old_deleted_rows_and_metadata_tombstones(broker):
    broker.put_object("live", Timestamp(1001), 1, "t", "e")
    broker.delete_object("old-gone", Timestamp(1002))
    broker.delete_object("new-gone", Timestamp(9000))
    broker.update_metadata(
        {
            "X-Container-Meta-Old": ("", Timestamp(1003)),
            "X-Container-Meta-New": ("", Timestamp(9001)),
        }
    )
    assert broker.reclaim(Timestamp(5000)) == 1
    names = [r[0] for r in broker.get_object_rows()]
    assert names == ["live", "new-gone"]
    assert set(broker.metadata) == {"X-Container-Meta-New"}


def test_quarantine_moves_database_directory(device, broker):
    old_dir = broker.db_dir
    target = broker.quarantine("bad checksum")
    assert not os.path.exists(old_dir)
    assert target == layout.quarantine_dir(device, "container", layout.db_hash("acct", "cont"))
    assert os.path.isfile(os.path.join(target, os.path.basename(broker.db_file)))


def test_chexor_adding_then_removing_restores_hash():
    h = chexor(EMPTY_HASH, "a", "1")
    h = chexor(h, "b", "2")
    assert chexor(chexor(h, "b", "2"), "a", "1") == EMPTY_HASH


def test_items_since_gives_replaced_rows_new_rowids(broker):
    broker.merge_items([("o", Timestamp(1001).internal, 1, "t", "e", 0, 0)])
    first = broker.get_max_row()
    broker.merge_items([("o", Timestamp(1002).internal, 2, "t", "e", 0, 0)])
    rows = broker.get_items_since(first - 1, 10)
    assert [(r["name"], r["size"]) for r in rows] == [("o", 2)]
    assert rows[0]["ROWID"] > first


def test_integrity_check_passes_on_healthy_database(broker):
    broker.integrity_check()


@pytest.fixture
def full_fs_device(tmp_path):
    """A device on a 2 MiB tmpfs of its own (root only), with a container DB and queued
    updates on it; the test fills the file system."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def _fill(directory: str) -> None:
    fd = os.open(os.path.join(directory, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def test_merge_on_a_full_file_system_is_disk_full_not_io_error(full_fs_device):
    b = ContainerBroker.at(full_fs_device, 3, "acct", "cont")
    b.initialize(Timestamp(1000))
    etag = "d41d8cd98f00b204e9800998ecf8427e"
    b.put_object("queued", Timestamp(1001), 1, "text/plain", etag, 0, 0)
    b.close()
    _fill(full_fs_device)
    b = ContainerBroker.at(full_fs_device, 3, "acct", "cont")
    try:
        with pytest.raises(errors.DiskFull):
            b.get_info()  # merges the queued row: SQLite cannot grow its WAL index
    finally:
        b.close()
    os.unlink(os.path.join(full_fs_device, "filler"))
    b = ContainerBroker.at(full_fs_device, 3, "acct", "cont")
    assert b.get_info()["object_count"] == 1  # nothing was lost
    b.close()
