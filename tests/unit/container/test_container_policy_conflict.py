"""Container replicas that disagree about the storage policy settle on the oldest one, and
the rows written under the losing policy show up as misplaced."""

from __future__ import annotations

import pytest

from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.container.broker import ContainerBroker, needs_report
from swiftlite.db.listing import ListingParams

Z = Timestamp(0).internal


def info(policy, put, delete=0, changed=None, count=0):
    return {
        "storage_policy_index": policy,
        "put_timestamp": Timestamp(put).internal,
        "delete_timestamp": Timestamp(delete).internal if delete else Z,
        "status_changed_at": Timestamp(changed if changed is not None else put).internal,
        "object_count": count,
    }


@pytest.mark.parametrize(
    ("ours", "theirs", "wins"),
    [
        (info(1, 200), info(0, 100), True),  # the older live container
        (info(0, 100), info(1, 200), False),
        (info(1, 100, delete=150, changed=150), info(0, 300), True),  # live beats deleted
        (info(0, 300), info(1, 100, delete=150, changed=150), False),
        (info(0, 400, delete=300, changed=400), info(1, 500, delete=300, changed=500), True),
        (info(0, 400, delete=300, changed=400), info(1, 100), False),  # recreated beats plain
        (info(1, 100), info(0, 100), True),  # a tie: the lower index
        (info(0, 100), info(1, 100), False),
    ],
)
def test_prefers_follows_swifts_rule(ours, theirs, wins):
    assert misplaced.prefers(ours, theirs) is wins
    assert (
        misplaced.best_policy([ours, theirs]) == (theirs if wins else ours)["storage_policy_index"]
    )


def test_queue_names_round_trip():
    name = misplaced.queue_name(1, "AUTH_a", "c", "dir/o")
    assert name == "1:/AUTH_a/c/dir/o"
    assert misplaced.parse_queue_name(name) == (1, "AUTH_a", "c", "dir/o")
    for bad in ("x:/a/c/o", "1/a/c/o", "1:/a/c", "1:/a//o"):
        assert misplaced.parse_queue_name(bad) is None
    assert misplaced.queue_container(Timestamp(7300.5)) == "7200"


def _broker(tmp_path, name, policy, created):
    dev = tmp_path / name
    dev.mkdir()
    broker = ContainerBroker.at(str(dev), 0, "a", "c")
    broker.initialize(Timestamp(created), storage_policy_index=policy)
    return broker


def test_replicas_exchanging_state_agree_on_the_oldest_policy(tmp_path):
    older = _broker(tmp_path, "n1", 0, 100)
    newer = _broker(tmp_path, "n2", 1, 200)
    newer.put_object("written-on-the-newer-side", Timestamp(250), 3, "text/plain", "e" * 32, 0, 1)
    older.put_object("written-on-the-older-side", Timestamp(260), 3, "text/plain", "e" * 32, 0, 0)
    for broker in (older, newer):  # both told their account already
        info = broker.get_info()
        broker.reported(info["put_timestamp"], info["delete_timestamp"], 1, 3)
        assert not needs_report(broker.get_info())
    # one sync exchange: the receiver merges the sender's state, the sender the answer
    newer.merge_peer_state(older.replication_info())
    older.merge_peer_state(newer.replication_info())
    for broker in (older, newer):
        got = broker.get_info()
        assert got["storage_policy_index"] == 0
        assert got["status_changed_at"] == Timestamp(100).internal
    assert needs_report(newer.get_info())  # its account must hear of the new policy
    assert [r[0] for r in newer.misplaced_rows()] == ["written-on-the-newer-side"]
    assert older.misplaced_rows() == []
    # a second exchange changes nothing
    older.merge_peer_state(newer.replication_info())
    assert older.get_info()["storage_policy_index"] == 0
    older.close()
    newer.close()


def _put(broker, name, stamp, size, policy):
    broker.put_object(name, stamp, size, "text/plain", "e" * 32, 0, policy)


def _names(broker):
    return [row[0] for row in broker.list_objects(ListingParams(limit=100))]


def test_listing_shows_only_rows_of_the_containers_policy(tmp_path):
    # Swift's container GET lists the rows of the container's policy only: an object still
    # waiting for the reconciler is not listed (its GET would not find it) until it is moved.
    broker = _broker(tmp_path, "n1", 0, 100)
    _put(broker, "gold-row", Timestamp(250), 3, 0)
    _put(broker, "silver-row", Timestamp(260), 3, 1)
    _put(broker, "silver-dir/x", Timestamp(270), 3, 1)
    assert _names(broker) == ["gold-row"]
    folded = broker.list_objects(ListingParams(limit=100, delimiter="/"))
    assert [getattr(r, "name", None) or r[0] for r in folded] == ["gold-row"]
    assert [r[0] for r in broker.misplaced_rows()] == ["silver-dir/x", "silver-row"]
    # the reconciler's copy in the right policy (offset 1) replaces the row: now it is listed
    _put(broker, "silver-row", Timestamp(260, 1), 3, 0)
    assert _names(broker) == ["gold-row", "silver-row"]
    broker.close()


def _counts(broker):
    info = broker.get_info()
    return (
        (info["object_count"], info["bytes_used"]),
        (info["misplaced_object_count"], info["misplaced_bytes_used"]),
    )


def test_container_totals_are_its_policys_and_misplaced_rows_are_counted_apart(tmp_path):
    # Swift counts per policy (policy_stat): HEAD and the account see the container's policy
    # only; a container holding misplaced rows is still not empty.
    broker = _broker(tmp_path, "n1", 0, 100)
    _put(broker, "gold", Timestamp(250), 3, 0)
    _put(broker, "silver-a", Timestamp(260), 5, 1)
    _put(broker, "silver-b", Timestamp(261), 7, 1)
    assert _counts(broker) == ((1, 3), (2, 12))
    assert not broker.empty()
    _put(broker, "silver-a", Timestamp(260, 1), 5, 0)  # moved
    assert _counts(broker) == ((2, 8), (1, 7))
    broker.delete_object("silver-b", Timestamp(262), 1)  # deleted where it was
    assert _counts(broker) == ((2, 8), (0, 0))
    _put(broker, "silver-c", Timestamp(263), 11, 1)
    # a replica created earlier with policy 1 wins: the counts swap sides
    peer = _broker(tmp_path, "n2", 1, 50)
    broker.merge_peer_state(peer.replication_info())
    assert broker.get_info()["storage_policy_index"] == 1
    assert _counts(broker) == ((1, 11), (2, 8))
    peer.close()
    broker.close()


def test_a_database_made_before_misplaced_counts_gets_them_on_open(tmp_path):
    import sqlite3

    broker = _broker(tmp_path, "n1", 0, 100)
    _put(broker, "gold", Timestamp(250), 3, 0)
    _put(broker, "silver", Timestamp(260), 5, 1)
    broker.merge_pending()
    broker.close()
    conn = sqlite3.connect(broker.db_file)  # the layout of the release before
    conn.executescript(
        "DROP TRIGGER misplaced_insert; DROP TRIGGER misplaced_delete; DROP TABLE misplaced_stat;"
    )
    conn.close()
    again = ContainerBroker(broker.db_file, "a", "c")
    assert _counts(again) == ((1, 3), (1, 5))
    _put(again, "silver", Timestamp(260, 1), 5, 0)
    assert _counts(again) == ((2, 8), (0, 0))  # and its triggers keep them from then on
    again.close()
