"""The expiry queue on disk: what the object server records and what the expirer finds due."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from objtest_helpers import put, request, ts

from swiftlite.common import errors, hashing
from swiftlite.obj import expiry_queue, layout

NAME_HASH = "0123456789abcdef0123456789abcdef"


def test_put_with_delete_at_records_a_queue_entry(app, dev_path) -> None:
    when = int(time.time()) + 100
    assert put(app, "o", headers={"X-Delete-At": str(when)}).status_int == 201
    name_hash = hashing.hash_path("a", "c", "o")
    path = layout.expiry_entry_path(dev_path, when, name_hash)
    assert path == os.path.join(
        dev_path,
        "expiring",
        f"{when - when % 3600:010d}",
        f"{when:010d}-{name_hash}.json",
    )
    assert expiry_queue.read_entry(path) == expiry_queue.Entry("a", "c", "o", when)


def test_put_with_delete_after_records_the_absolute_time(app, dev_path) -> None:
    before = int(time.time())
    assert put(app, "o", headers={"X-Delete-After": "60"}).status_int == 201
    (path,) = expiry_queue.due(dev_path, before + 3600 * 2)
    assert before + 60 <= expiry_queue.read_entry(path).delete_at <= int(time.time()) + 60


def test_put_without_delete_at_records_nothing(app, dev_path) -> None:
    assert put(app, "o").status_int == 201
    assert not os.path.exists(os.path.join(dev_path, "expiring"))


def test_post_with_delete_at_records_a_second_entry(app, dev_path) -> None:
    first = int(time.time()) + 100
    put(app, "o", timestamp=ts(-1), headers={"X-Delete-At": str(first)})
    second = first + 7200
    headers = {"X-Timestamp": ts().internal, "X-Delete-At": str(second)}
    assert request(app, "POST", "o", headers=headers).status_int == 202
    due = [expiry_queue.read_entry(p).delete_at for p in expiry_queue.due(dev_path, second)]
    assert due == [first, second]  # the stale one fails with 412 later, harmlessly


def test_rejected_put_records_nothing(app, dev_path) -> None:
    headers = {"X-Delete-At": str(int(time.time()) + 100), "ETag": "0" * 32}
    assert put(app, "o", body=b"abc", headers=headers).status_int == 422
    assert list(expiry_queue.due(dev_path, time.time() + 10**6)) == []


def test_read_entry_refuses_foreign_files(tmp_path) -> None:
    bad = tmp_path / "e.json"
    for content in (b"\xff", b"[]", b'{"version": 9}', b'{"version": 1, "account": "a"}'):
        bad.write_bytes(content)
        with pytest.raises(errors.Corrupt):
            expiry_queue.read_entry(str(bad))


def test_entry_round_trips_unicode_names(tmp_path) -> None:
    entry = expiry_queue.Entry("AUTH_\u00e9", "c\u2603", "o/\U0001f600", 1700000000)
    path = expiry_queue.record(str(tmp_path), NAME_HASH, entry)
    assert expiry_queue.read_entry(path) == entry
    assert expiry_queue.exists(str(tmp_path), NAME_HASH, 1700000000)


def test_due_skips_unknown_names_and_removes_empty_past_buckets(tmp_path) -> None:
    dev = str(tmp_path)
    path = expiry_queue.record(dev, NAME_HASH, expiry_queue.Entry("a", "c", "o", 7300))
    bucket = os.path.dirname(path)
    open(os.path.join(bucket, "junk"), "w").close()
    os.makedirs(os.path.join(dev, "expiring", "notabucket"))
    os.makedirs(os.path.join(dev, "expiring", f"{3600:010d}"))  # empty and past
    assert list(expiry_queue.due(dev, 8000)) == [path]
    assert not os.path.exists(os.path.join(dev, "expiring", f"{3600:010d}"))
    expiry_queue.remove(path)
    assert not os.path.exists(path)


times = st.lists(st.integers(min_value=0, max_value=5 * 3600), min_size=0, max_size=12)


@settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delete_ats=times, now=st.integers(min_value=0, max_value=6 * 3600))
def test_due_yields_exactly_the_past_entries_oldest_first(tmp_path_factory, delete_ats, now):
    dev = str(tmp_path_factory.mktemp("dev"))
    for i, when in enumerate(delete_ats):
        name_hash = f"{i:032x}"
        expiry_queue.record(dev, name_hash, expiry_queue.Entry("a", "c", f"o{i}", when))
    found = [expiry_queue.read_entry(p) for p in expiry_queue.due(dev, now)]
    # ties go by name hash, which here grows with i
    expected = sorted((w, i) for i, w in enumerate(delete_ats) if w <= now)
    assert [(e.delete_at, e.obj) for e in found] == [(w, f"o{i}") for w, i in expected]
