"""AccountBroker: container rows merged order-free, totals, deletion marking, listings."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.account.broker import AccountBroker, combine, normalize
from swiftlite.common.timestamp import Timestamp
from swiftlite.db.listing import ListingParams, Subdir


def ts(n):
    return Timestamp(n).internal


@pytest.fixture
def broker(tmp_path):
    (tmp_path / "sda").mkdir()
    b = AccountBroker.at(str(tmp_path / "sda"), 0, "acct")
    b.initialize(Timestamp(1000))
    yield b
    b.close()


def test_put_container_updates_totals_after_merge(broker):
    broker.put_container("c1", ts(1001), ts(0), 3, 30, ts(1002))
    broker.put_container("c2", ts(1001), ts(0), 1, 5, ts(1002))
    info = broker.get_info()
    assert (info["container_count"], info["object_count"], info["bytes_used"]) == (2, 4, 35)


def test_newer_stats_replace_older_ones_whatever_the_arrival_order(broker):
    broker.put_container("c", ts(1001), ts(0), 9, 90, ts(1010))
    broker.put_container("c", ts(1001), ts(0), 2, 20, ts(1005))  # late, older report
    info = broker.get_info()
    assert (info["object_count"], info["bytes_used"]) == (9, 90)


def test_deleted_container_row_leaves_totals_and_listing(broker):
    broker.put_container("c", ts(1001), ts(0), 0, 0, ts(1001))
    broker.put_container("c", ts(1001), ts(1005), 0, 0, ts(1005))
    info = broker.get_info()
    assert info["container_count"] == 0
    assert broker.list_containers(ListingParams(limit=10)) == []
    assert broker.get_container_rows()[0][-1] == 1  # kept as a deleted row


def test_deleted_then_recreated_container_is_listed(broker):
    broker.put_container("c", ts(1001), ts(1005), 0, 0, ts(1005))
    broker.put_container("c", ts(1007), ts(1005), 0, 0, ts(1007))
    assert [r[0] for r in broker.list_containers(ListingParams(limit=10))] == ["c"]


record_st = st.tuples(
    st.sampled_from(["a", "b", "c/x"]),
    st.integers(1000, 1003).map(ts),
    st.sampled_from([0, 1001, 1004]).map(ts),
    st.integers(0, 3),
    st.integers(0, 30),
    st.integers(1000, 1005).map(ts),
    st.integers(0, 1),
)


@settings(deadline=None, max_examples=100)
@given(a=record_st, b=record_st, c=record_st)
def test_combine_is_commutative_associative_and_idempotent(a, b, c):
    a, b, c = (normalize(("same", *rec[1:])) for rec in (a, b, c))
    assert combine(a, b) == combine(b, a)
    assert combine(combine(a, b), c) == combine(a, combine(b, c))
    assert combine(a, a) == a


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    dev = tmp_path_factory.mktemp("dev")
    out = []
    for part in range(2):
        b = AccountBroker.at(str(dev), part, "acct")
        b.initialize(Timestamp(1000))
        out.append(b)
    yield out
    for b in out:
        b.close()


@settings(deadline=None, max_examples=60)
@given(records=st.lists(record_st, min_size=1, max_size=10), seed=st.integers(0, 99))
def test_merge_any_order_or_twice_gives_same_rows_and_hash(pair, records, seed):
    results = []
    for variant, b in enumerate(pair):
        b._write(lambda conn: conn.execute("DELETE FROM container"))
        batch = list(records) * (variant + 1)
        random.Random(seed + variant).shuffle(batch)
        for i in range(0, len(batch), 3):
            b.merge_items(batch[i : i + 3])
        info = b.get_info()
        results.append(
            (b.get_container_rows(), info["container_count"], info["object_count"], info["hash"])
        )
    assert results[0] == results[1]


def test_listing_rows_and_subdirs(broker):
    for name in ["b", "a/1", "a/2"]:
        broker.put_container(name, ts(1001), ts(0), 1, 2, ts(1001))
    rows = broker.list_containers(ListingParams(limit=10, delimiter="/"))
    assert rows == [Subdir("a/"), ("b", 1, 2, ts(1001), 0)]


def test_delete_db_marks_status_and_keeps_rows(broker):
    broker.put_container("c", ts(1001), ts(0), 1, 2, ts(1001))
    broker.delete_db(Timestamp(2000))
    assert broker.is_status_deleted()
    assert broker.is_deleted()
    assert [r[0] for r in broker.list_containers(ListingParams(limit=10))] == ["c"]


def test_reclaim_removes_old_deleted_container_rows(broker):
    broker.put_container("gone", ts(1001), ts(1002), 0, 0, ts(1002))
    broker.put_container("recent", ts(1001), ts(8000), 0, 0, ts(8000))
    broker.put_container("live", ts(1001), ts(0), 0, 0, ts(1001))
    assert broker.reclaim(Timestamp(5000)) == 1
    assert [r[0] for r in broker.get_container_rows()] == ["live", "recent"]
