"""ContainerBroker: object rows, totals, order-free merges and listings on real SQLite."""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker, needs_report
from swiftlite.db.listing import ListingParams, Subdir
from tests.unit.db.listing_oracle import oracle


@pytest.fixture
def make_broker(tmp_path):
    made = []

    def make(name="cont"):
        dev = tmp_path / "sda"
        dev.mkdir(exist_ok=True)
        b = ContainerBroker.at(str(dev), 0, "acct", name)
        b.initialize(Timestamp(1000))
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def ts(n):
    return Timestamp(n).internal


def test_put_object_is_journaled_until_a_read_merges_it(make_broker):
    b = make_broker()
    b.put_object("o", Timestamp(1001), 10, "text/plain", "etag")
    assert b.get_object_rows() == []  # still only in the journal
    info = b.get_info()
    assert (info["object_count"], info["bytes_used"]) == (1, 10)
    assert b.get_object_rows() == [("o", ts(1001), 10, "text/plain", "etag", 0, 0)]


def test_journal_over_cap_merges_inline(tmp_path):
    dev = tmp_path / "sda"
    dev.mkdir()
    b = ContainerBroker.at(str(dev), 0, "a", "c", pending_cap=300)
    b.initialize(Timestamp(1000))
    for i in range(10):
        b.put_object(f"o{i}", Timestamp(1001), 1, "t", "e")
    assert len(b.get_object_rows()) >= 5  # merged without any read
    b.close()


def test_newer_put_replaces_and_older_is_ignored(make_broker):
    b = make_broker()
    b.merge_items([("o", ts(1002), 5, "a/b", "e2", 0, 0)])
    b.merge_items([("o", ts(1001), 9, "a/b", "e1", 0, 0)])
    assert b.get_object_rows() == [("o", ts(1002), 5, "a/b", "e2", 0, 0)]
    b.merge_items([("o", ts(1003), 7, "a/b", "e3", 0, 0)])
    assert b.get_info()["bytes_used"] == 7


def test_delete_row_removes_object_from_totals_and_listing(make_broker):
    b = make_broker()
    b.merge_items([("o", ts(1001), 5, "t", "e", 0, 0), ("p", ts(1001), 3, "t", "e", 0, 0)])
    b.delete_object("o", Timestamp(1002))
    info = b.get_info()
    assert (info["object_count"], info["bytes_used"]) == (1, 3)
    assert [r[0] for r in b.list_objects(ListingParams(limit=10))] == ["p"]
    assert ("o", ts(1002), 0, "", "", 1, 0) in b.get_object_rows()


def test_older_put_after_delete_stays_deleted(make_broker):
    b = make_broker()
    b.delete_object("o", Timestamp(1005))
    b.put_object("o", Timestamp(1004), 5, "t", "e")
    assert b.get_info()["object_count"] == 0


def test_rows_are_never_updated_in_place(make_broker):
    b = make_broker()
    b.merge_items([("o", ts(1001), 5, "t", "e", 0, 0)])
    with pytest.raises(sqlite3.DatabaseError, match="never updated"):
        b._write(lambda conn: conn.execute("UPDATE object SET size = 1"))


record_st = st.tuples(
    st.sampled_from(["a", "b", "c/d", "é"]),
    st.integers(1001, 1004).map(ts),
    st.integers(0, 3),
    st.sampled_from(["t1", "t2"]),
    st.sampled_from(["e1", "e2"]),
    st.integers(0, 1),
    st.just(0),
).map(
    lambda r: (
        r[0],
        r[1],
        0 if r[5] else r[2],
        "" if r[5] else r[3],
        "" if r[5] else r[4],
        r[5],
        r[6],
    )
)


@pytest.fixture(scope="module")
def reusable(tmp_path_factory):
    """Three empty brokers reused across hypothesis examples (creating files costs fsyncs)."""
    dev = tmp_path_factory.mktemp("dev")
    brokers = []
    for part in range(3):
        b = ContainerBroker.at(str(dev), part, "a", "c")
        b.initialize(Timestamp(1000))
        brokers.append(b)
    yield brokers
    for b in brokers:
        b.close()


def emptied(b):
    b.merge_pending()
    b._write(lambda conn: conn.execute("DELETE FROM object"))
    return b


@settings(deadline=None, max_examples=60)
@given(records=st.lists(record_st, min_size=1, max_size=12), seed=st.integers(0, 1000))
def test_merge_any_order_or_twice_gives_same_rows(reusable, records, seed):
    results = []
    for variant, b in enumerate(reusable):
        emptied(b)
        batch = list(records)
        random.Random(seed + variant).shuffle(batch)
        if variant == 2:
            batch = batch + batch  # applied twice
        for i in range(0, len(batch), 3):  # in several transactions
            b.merge_items(batch[i : i + 3])
        info = b.get_info()
        results.append(
            (b.get_object_rows(), info["object_count"], info["bytes_used"], info["hash"])
        )
    assert results[0] == results[1] == results[2]


def test_hash_matches_between_replicas_with_same_rows(make_broker):
    one, two = make_broker("c1"), make_broker("c2")
    rows = [(f"o{i}", ts(1001 + i), i, "t", "e", 0, 0) for i in range(20)]
    one.merge_items(rows)
    two.merge_items(list(reversed(rows)))
    assert one.get_info()["hash"] == two.get_info()["hash"] != "0" * 32


def test_listing_orders_names_by_utf8_bytes(make_broker):
    b = make_broker()
    names = ["z", "é", "\uffff", "\U00010000", "\ue000", "A", "a b"]
    b.merge_items([(n, ts(1001), 1, "t", "e", 0, 0) for n in names])
    got = [r[0] for r in b.list_objects(ListingParams(limit=100))]
    assert got == sorted(names, key=lambda s: s.encode("utf-8"))
    # UTF-16 order would put U+10000 (a surrogate pair) before U+FFFF: SQLite must not.
    assert got.index("\uffff") < got.index("\U00010000")


ALPHABET = ["a", "b", "/", "é", "\U0001f600", "0"]
names_st = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=4), max_size=25)
small = st.text(alphabet=ALPHABET, max_size=2)


@settings(deadline=None, max_examples=150)
@given(
    names=names_st,
    params=st.builds(
        ListingParams,
        limit=st.integers(0, 8),
        marker=small,
        end_marker=small,
        prefix=small,
        delimiter=st.sampled_from(["", "/", "é", "//", "a/", "é\U0001f600"]),
        path=st.none() | small,
        reverse=st.booleans(),
    ),
)
def test_sqlite_listing_matches_sorted_list_oracle(reusable, names, params):
    b = emptied(reusable[0])
    b.merge_items([(n, ts(1001), 1, "t", "e", 0, 0) for n in names])
    got = [r if isinstance(r, Subdir) else r[0] for r in b.list_objects(params)]
    assert got == oracle(names, params)


def test_listing_rows_carry_listing_fields(make_broker):
    b = make_broker()
    b.put_object("o", Timestamp(1001.5), 12, "image/png", "abc")
    assert b.list_objects(ListingParams(limit=1)) == [("o", ts(1001.5), 12, "image/png", "abc")]


def test_deleted_state_follows_swift_rule(make_broker):
    b = make_broker()
    assert not b.is_deleted()
    b.delete_db(Timestamp(2000))
    assert b.is_deleted()
    b.put_object("o", Timestamp(2001), 1, "t", "e")
    assert not b.is_deleted()  # a container holding objects is not deleted


def test_needs_report_until_reported(make_broker):
    b = make_broker()
    b.put_object("o", Timestamp(1001), 4, "t", "e")
    info = b.get_info()
    assert needs_report(info)
    b.reported(info["put_timestamp"], info["delete_timestamp"], 1, 4)
    assert not needs_report(b.get_info())
