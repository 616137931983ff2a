"""Container replication end to end: real container servers, a real ring, a real rsync daemon.

Databases are written straight into a node's device with ``ContainerBroker`` (as a server would
have), then one node's replicator runs a pass and the tests look at every replica's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from swiftlite.common import recon_cache
from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout
from tests.unit.db.replication_cluster import DbCluster, needs_rsync

pytestmark = [pytest.mark.needs_rsync, needs_rsync]

ACCOUNT = "AUTH_test"
# Recent enough that no row is older than reclaim_age (old tombstones are reclaimed, not sent).
T0 = int(time.time()) - 3600


def ts(offset):
    return Timestamp(T0 + offset)


@pytest.fixture
def cluster(tmp_path):
    c = DbCluster(tmp_path / "cluster", layout.CONTAINER).start()
    yield c
    c.stop()


@pytest.fixture
def name():
    return "photos"


def make_db(cluster, node, part, container, rows=()):
    broker = cluster.broker(node, part, ACCOUNT, container)
    broker.initialize(ts(0))
    for obj, when in rows:
        broker.put_object(obj, ts(when), 3, "text/plain", "e" * 32)
    broker.merge_pending()
    broker.close()
    return broker


def state(cluster, node, part, container):
    """(hash, live rows) of a replica, or None when it has no database."""
    broker = cluster.broker(node, part, ACCOUNT, container)
    if not broker.exists():
        return None
    try:
        return broker.get_info()["hash"], broker.get_object_rows()
    finally:
        broker.close()


def test_replicate_missing_replicas_receive_whole_db_by_rsync(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    source = make_db(cluster, primaries[0], part, name, [("a", 1), ("b", 2)])
    meta = cluster.broker(primaries[0], part, ACCOUNT, name)
    meta.update_metadata({"X-Container-Meta-Color": ("blue", ts(3))})
    meta.close()

    stats = cluster.replicator(primaries[0]).run_once()

    assert stats["rsync"] == 2
    assert stats["success"] == stats["attempted"] == 1
    expected = state(cluster, primaries[0], part, name)
    for node in primaries[1:]:
        assert state(cluster, node, part, name) == expected
        copy = cluster.broker(node, part, ACCOUNT, name)
        assert copy.user_metadata() == {"X-Container-Meta-Color": "blue"}
        assert copy.get_info()["id"] != source.get_info()["id"]
        assert copy.get_info()["reported_object_count"] == 0
        copy.close()
    tmp = layout.tmp_dir(primaries[1].device_path)
    assert not [n for n in os.listdir(tmp) if n.startswith("repl-")]


def test_replicate_diverged_rows_converge_then_next_pass_changes_nothing(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    for i, node in enumerate(primaries):
        make_db(cluster, node, part, name, [(f"only-{i}", 1 + i), ("shared", 10 + i)])

    first = [cluster.replicator(node).run_once() for node in primaries]

    assert sum(s["diff"] for s in first) >= 3
    states = [state(cluster, node, part, name) for node in primaries]
    assert states[0] == states[1] == states[2]
    names = {row[0]: row[1] for row in states[0][1]}
    assert names == {
        "only-0": ts(1).internal,
        "only-1": ts(2).internal,
        "only-2": ts(3).internal,
        "shared": ts(12).internal,  # the newest put wins everywhere
    }
    second = [cluster.replicator(node).run_once() for node in primaries]
    assert sum(s["diff"] + s["rsync"] + s["remote_merge"] for s in second) == 0
    assert all(s["failure"] == 0 for s in second)


def test_replicate_deletion_rows_reach_every_replica(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    for node in primaries:
        make_db(cluster, node, part, name, [("gone", 1), ("kept", 1)])
    broker = cluster.broker(primaries[1], part, ACCOUNT, name)
    broker.delete_object("gone", ts(5))
    broker.merge_pending()
    broker.close()

    cluster.replicator(primaries[1]).run_once()

    for node in primaries:
        live = [row[0] for row in state(cluster, node, part, name)[1] if not row[5]]
        assert live == ["kept"]


def test_replicate_handoff_pushes_to_every_primary_then_removes_itself(cluster, name):
    part, primaries, others = cluster.placement(ACCOUNT, name)
    handoff = others[0]
    held = make_db(cluster, handoff, part, name, [("x", 1)])

    stats = cluster.replicator(handoff).run_once()

    assert stats["remove"] == 1
    assert not os.path.exists(held.db_file)
    assert not os.path.exists(os.path.dirname(held.db_dir))  # empty suffix dir pruned
    for node in primaries:
        assert [row[0] for row in state(cluster, node, part, name)[1]] == ["x"]


def test_replicate_handoff_kept_while_a_primary_is_down(cluster, name):
    part, primaries, others = cluster.placement(ACCOUNT, name)
    handoff = others[0]
    held = make_db(cluster, handoff, part, name, [("x", 1)])
    cluster.stop_server(primaries[2])
    try:
        stats = cluster.replicator(handoff, conn_timeout=0.2).run_once()
    finally:
        cluster.serve(primaries[2])

    assert stats["failure"] == 1
    assert stats["remove"] == 0
    assert os.path.exists(held.db_file)
    assert state(cluster, primaries[0], part, name) is not None


def test_replicate_unmounted_primary_is_replaced_by_a_handoff_node(cluster, name):
    part, primaries, others = cluster.placement(ACCOUNT, name)
    make_db(cluster, primaries[0], part, name, [("x", 1)])
    gone = primaries[2].device_path
    os.rename(gone, gone + ".away")  # the server now answers 507 for this device
    try:
        stats = cluster.replicator(primaries[0]).run_once()
        on_handoff = state(cluster, others[0], part, name)
    finally:
        os.rename(gone + ".away", gone)

    assert stats["failure"] == 1  # a replica is not where it belongs
    assert on_handoff is not None
    assert state(cluster, primaries[1], part, name) is not None


def test_replicate_far_behind_peer_gets_a_copy_merged_in(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    make_db(cluster, primaries[0], part, name, [(f"o{i:02d}", 1 + i) for i in range(30)])
    make_db(cluster, primaries[1], part, name, [("theirs", 100)])
    make_db(cluster, primaries[2], part, name, [(f"o{i:02d}", 1 + i) for i in range(30)])

    stats = cluster.replicator(primaries[0], per_diff=5).run_once()

    assert stats["remote_merge"] == 1
    rows = [row[0] for row in state(cluster, primaries[1], part, name)[1]]
    assert rows == sorted([f"o{i:02d}" for i in range(30)] + ["theirs"])


def test_replicate_capped_diffs_fail_then_finish_next_pass(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    make_db(cluster, primaries[0], part, name, [(f"o{i:02d}", 1 + i) for i in range(12)])
    for node in primaries[1:]:
        make_db(cluster, node, part, name, [(f"o{i:02d}", 1 + i) for i in range(7)])

    first = cluster.replicator(primaries[0], per_diff=3, max_diffs=2).run_once()
    second = cluster.replicator(primaries[0], per_diff=3, max_diffs=2).run_once()

    assert first["diff_capped"] == 2
    assert first["failure"] == 1
    assert second["failure"] == 0
    expected = state(cluster, primaries[0], part, name)
    assert state(cluster, primaries[1], part, name) == expected


def test_replicate_deleted_reported_db_past_reclaim_age_is_removed(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    broker = cluster.broker(primaries[0], part, ACCOUNT, name)
    broker.initialize(Timestamp(1000))
    broker.delete_object("old", Timestamp(1001))
    broker.delete_db(Timestamp(1002))
    unreported = cluster.replicator(primaries[0], reclaim_age=60).run_once()
    assert unreported["remove"] == 0
    assert unreported["reclaimed"] == 1
    info = broker.get_info()
    broker.reported(info["put_timestamp"], info["delete_timestamp"], 0, 0)
    broker.close()

    stats = cluster.replicator(primaries[0], reclaim_age=60).run_once()

    assert stats["remove"] == 1
    assert not broker.exists()


def test_replicate_corrupt_db_is_quarantined_and_counted(cluster, name):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    broker = make_db(cluster, primaries[0], part, name)
    with open(broker.db_file, "wb") as fh:
        fh.write(b"this is not a database" * 100)

    stats = cluster.replicator(primaries[0]).run_once()

    assert stats["quarantined"] == 1
    assert stats["failure"] == 1
    loc = layout.parse_db_path(broker.db_file)
    assert os.path.isdir(layout.quarantine_dir(loc.device_path, layout.CONTAINER, loc.name_hash))


def test_replicator_main_once_runs_a_pass_and_records_recon(cluster, name, tmp_path):
    part, primaries, _ = cluster.placement(ACCOUNT, name)
    make_db(cluster, primaries[0], part, name, [("x", 1)])
    node = primaries[0]
    conf = tmp_path / "container-server.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"devices = {node.root}\nmount_check = false\nswift_dir = {cluster.swift_dir}\n"
        f"bind_ip = 127.0.0.1\nbind_port = {node.port}\nrecon_cache_path = {tmp_path}\n"
        "[container-replicator]\n"
        "rsync_module = rsync://{replication_ip}:{rsync_port}/db{replication_port}\n"
        f"rsync_port = {cluster.rsync_port}\ndatabases_per_second = 0\n"
    )
    code = "from swiftlite.container.replicator import main; raise SystemExit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, str(conf), "once"], capture_output=True, timeout=60
    )

    assert done.returncode == 0, done.stderr.decode()
    summary = recon_cache.read(recon_cache.cache_path(str(tmp_path), "container"))
    assert summary["container-replicator"]["failure"] == 0
    assert summary["container-replicator"]["attempted"] >= 1
    assert state(cluster, primaries[1], part, name) == state(cluster, node, part, name)
