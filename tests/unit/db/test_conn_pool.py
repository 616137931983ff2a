"""ConnPool: connections a server keeps between requests, and when it must not hand one back."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common import errors, green
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker
from swiftlite.db.conn_pool import ConnPool, ident_of
from swiftlite.db.listing import ListingParams


@pytest.fixture
def device(tmp_path):
    path = tmp_path / "sda"
    path.mkdir()
    return str(path)


def _make(device, container="cont", rows=0):
    b = ContainerBroker.at(device, 3, "acct", container)
    b.initialize(Timestamp(1000))
    if rows:
        b.merge_items(
            [(f"o{i:04d}", Timestamp(1001).internal, 1, "t/p", "e", 0, 0) for i in range(rows)]
        )
    b.close()
    return b.db_file


def _broker(path, pool):
    return ContainerBroker(path, "acct", "cont", pool=pool)


def _count(path, pool=None):
    with ContainerBroker(path, "acct", "cont", pool=pool) as b:
        return b.get_info()["object_count"]


def test_a_closed_connection_is_handed_to_the_next_broker_of_that_file(device):
    """Fails if every request still opens (and parses the schema of) its own connection."""
    path = _make(device)
    pool = ConnPool()
    with _broker(path, pool) as b:
        b.get_info()
        first = b.conn
    assert len(pool) == 1
    with _broker(path, pool) as b:
        b.get_info()
        assert b.conn is first
    assert (pool.hits, pool.misses) == (1, 1)


def test_a_kept_connection_sees_what_another_connection_wrote(device):
    """Fails if a kept connection answers from a page cache another writer made stale."""
    path = _make(device, rows=3)
    pool = ConnPool()
    assert _count(path, pool) == 3
    with ContainerBroker(path, "acct", "cont") as other:  # another process's connection
        other.merge_items([("new", Timestamp(1002).internal, 1, "t/p", "e", 0, 0)])
    assert _count(path, pool) == 4
    assert pool.hits == 1


def test_a_database_renamed_over_is_opened_afresh_not_read_through_the_old_file(device, tmp_path):
    """Fails if a kept connection to the replaced inode answers for the new file (replication
    installs a whole-file copy by rename)."""
    path = _make(device, rows=2)
    pool = ConnPool()
    assert _count(path, pool) == 2
    copy = str(tmp_path / "copy.db")
    shutil.copyfile(path, copy)
    with ContainerBroker(copy, "acct", "cont") as c:
        c.merge_items([("x", Timestamp(1002).internal, 1, "t/p", "e", 0, 0)])
    os.rename(copy, path)
    assert _count(path, pool) == 3
    assert pool.hits == 0
    assert len(pool) == 1  # the old file's connection was closed when the path was taken


def test_a_removed_database_is_not_found_though_a_connection_to_it_was_kept(device):
    """Fails if the pool answers for a database that is gone (deleted and reclaimed)."""
    path = _make(device)
    pool = ConnPool()
    _count(path, pool)
    ContainerBroker(path, "acct", "cont").remove()
    with pytest.raises(errors.NotFound), _broker(path, pool) as b:
        b.get_info()
    new = _make(device, rows=1)  # a new container at the same path
    assert new == path
    assert _count(path, pool) == 1


def test_a_kept_connection_holds_no_lock_after_a_partial_listing(device):
    """Fails if a statement left unfinished by a short page keeps a SHARED lock, which would
    keep every writer of that database waiting while the connection sits in the pool."""
    path = _make(device, rows=50)
    pool = ConnPool()
    with _broker(path, pool) as b:
        assert len(b.list_objects(ListingParams(limit=3))) == 3
        assert len(b.list_objects(ListingParams(limit=2, delimiter="-"))) == 2
    assert len(pool) == 1
    raw = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        raw.execute("BEGIN EXCLUSIVE")  # refused with "database is locked" under a SHARED lock
        raw.execute("ROLLBACK")
    finally:
        raw.close()


def test_a_connection_is_not_kept_after_an_exception_or_inside_a_transaction(device):
    """Fails if a connection a traceback may still hold a cursor of, or one mid-transaction,
    goes back to the pool."""
    path = _make(device)
    pool = ConnPool()

    def failing_request():
        with _broker(path, pool) as b:
            b.get_info()
            raise RuntimeError("request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    assert len(pool) == 0
    b = _broker(path, pool)
    b.conn.execute("BEGIN")
    b.close()
    assert len(pool) == 0


def test_the_pool_keeps_at_most_size_connections_and_closes_idle_ones(device):
    """Fails if the pool grows with the number of databases, or keeps files open forever."""
    paths = [_make(device, f"c{i}") for i in range(5)]
    pool = ConnPool(size=3)
    for p in paths:
        with ContainerBroker(p, "acct", "x", pool=pool) as b:
            b.get_info(merge=False)
    assert len(pool) == 3
    assert pool.take(paths[0], ident_of(paths[0])) is None  # the oldest were closed
    idle = ConnPool(idle=0.0)
    with ContainerBroker(paths[0], "acct", "x", pool=idle) as b:
        b.get_info(merge=False)
    assert len(idle) == 0


def test_a_forked_worker_does_not_use_its_parents_connections(device):
    """Fails if a worker forked after the pool filled reuses a connection made before the
    fork (SQLite forbids carrying a connection across fork)."""
    path = _make(device)
    pool = ConnPool()
    _count(path, pool)
    pool._pid = -1  # as seen from a child: the pool was filled by another process
    assert pool.take(path, ident_of(path)) is None
    assert len(pool) == 0


_ops = st.lists(
    st.sampled_from(["write_pooled", "write_other", "replace", "read"]), min_size=1, max_size=12
)


@settings(max_examples=30, deadline=None)
@given(ops=_ops)
def test_reads_through_the_pool_match_reads_without_it(tmp_path_factory, ops):
    """Invariant: whatever writes and file replacements come in between, a broker using the
    pool reads exactly what a broker that opens its own connection reads."""
    device = str(tmp_path_factory.mktemp("dev"))
    path = _make(device)
    pool = ConnPool()
    for n, op in enumerate(ops):
        row = [(f"n{n}", Timestamp(2000 + n).internal, n, "t/p", "e", 0, 0)]
        if op == "write_pooled":
            with _broker(path, pool) as b:
                b.merge_items(row)
        elif op == "write_other":
            with ContainerBroker(path, "acct", "cont") as b:
                b.merge_items(row)
        elif op == "replace":
            copy = path + ".copy"
            shutil.copyfile(path, copy)
            with ContainerBroker(copy, "acct", "cont") as b:
                b.merge_items(row)
            os.rename(copy, path)
        with _broker(path, pool) as pooled, ContainerBroker(path, "acct", "cont") as fresh:
            assert pooled.get_info() == fresh.get_info()
            every = ListingParams(limit=100)
            assert pooled.list_objects(every) == fresh.list_objects(every)
    pool.clear()


def test_a_quiet_server_closes_its_idle_connections_without_another_request(device):
    """Fails if kept connections stay open until the next request: a server that went quiet
    would hold removed databases' space and keep its devices from being unmounted."""
    path = _make(device)
    pool = ConnPool(idle=0.05)
    _count(path, pool)
    assert len(pool) == 1
    green.sleep(0.3)  # the hub runs the pool's sweeper meanwhile
    assert len(pool) == 0
    assert pool._sweeper is None  # and it stops once nothing is kept
