"""Account replication end to end: real account servers, a real ring, a real rsync daemon."""

from __future__ import annotations

import time

import pytest

from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout
from tests.unit.db.replication_cluster import DbCluster, needs_rsync

pytestmark = [pytest.mark.needs_rsync, needs_rsync]

T0 = int(time.time()) - 3600


def ts(offset):
    return Timestamp(T0 + offset)


@pytest.fixture
def cluster(tmp_path):
    c = DbCluster(tmp_path / "cluster", layout.ACCOUNT).start()
    yield c
    c.stop()


def make(cluster, node, part, account, containers):
    broker = cluster.broker(node, part, account)
    broker.initialize(ts(0))
    for name, when in containers:
        broker.put_container(name, ts(when), "0", 1, 10, ts(when))
    broker.merge_pending()
    return broker


def test_replicate_account_rows_reach_missing_and_stale_replicas(cluster):
    part, primaries, _ = cluster.placement("AUTH_a")
    make(cluster, primaries[0], part, "AUTH_a", [("c1", 1), ("c2", 2)])
    make(cluster, primaries[1], part, "AUTH_a", [("c3", 3)])

    stats = cluster.replicator(primaries[0]).run_once()

    assert stats["rsync"] == 1
    assert stats["diff"] == 1
    assert stats["failure"] == 0
    missing = cluster.broker(primaries[2], part, "AUTH_a")
    assert [r[0] for r in missing.get_container_rows()] == ["c1", "c2"]
    stale = cluster.broker(primaries[1], part, "AUTH_a")
    assert [r[0] for r in stale.get_container_rows()] == ["c1", "c2", "c3"]
    assert stale.get_info()["container_count"] == 3


def test_replicate_deleted_status_reaches_replica_that_missed_the_delete(cluster):
    part, primaries, _ = cluster.placement("AUTH_d")
    for node in primaries:
        make(cluster, node, part, "AUTH_d", [("c1", 1)])
    deleted = cluster.broker(primaries[1], part, "AUTH_d")
    deleted.delete_db(ts(5))

    cluster.replicator(primaries[1]).run_once()

    for node in primaries:
        assert cluster.broker(node, part, "AUTH_d").is_status_deleted()


def test_replicate_reaped_account_past_reclaim_age_is_removed(cluster):
    part, primaries, _ = cluster.placement("AUTH_r")
    broker = cluster.broker(primaries[0], part, "AUTH_r")
    broker.initialize(Timestamp(1000))
    broker.put_container("c", Timestamp(1001), Timestamp(1002), 0, 0, Timestamp(1002))
    broker.delete_db(Timestamp(1003))

    stats = cluster.replicator(primaries[0], reclaim_age=60).run_once()

    assert stats["remove"] == 1
    assert not broker.exists()


def test_replicate_deleted_account_still_listing_containers_is_kept(cluster):
    part, primaries, _ = cluster.placement("AUTH_k")
    broker = make(cluster, primaries[0], part, "AUTH_k", [("c", 1)])
    broker.delete_db(Timestamp(time.time() - 7200))

    stats = cluster.replicator(primaries[0], reclaim_age=60).run_once()

    assert stats["remove"] == 0
    assert broker.exists()
