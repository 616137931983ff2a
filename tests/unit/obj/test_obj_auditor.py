"""Object auditor: rotten files are quarantined (never deleted) and their suffix invalidated;
good files pass; reads are paced; expiring objects keep their queue entry."""

from __future__ import annotations

import logging
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from objtest_helpers import PART, put, request, ts

from swiftlite.common import hashing, recon_cache
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import expiry_queue, layout, metadata
from swiftlite.obj.auditor import ObjectAuditor, ObjectAuditorOptions
from swiftlite.obj.ratelimit import RateLimiter


def auditor(devices, **overrides) -> ObjectAuditor:
    settings_ = {
        "devices": devices,
        "mount_check": False,
        "files_per_second": 0,
        "bytes_per_second": 0,
        **overrides,
    }
    logger = logging.getLogger("test.auditor")
    return ObjectAuditor(ObjectAuditorOptions(**settings_), logger)


def data_path(dev_path: str, obj: str = "o") -> str:
    name_hash = hashing.hash_path("a", "c", obj)
    hash_dir = layout.hash_dir(dev_path, PART, name_hash)
    (name,) = [n for n in os.listdir(hash_dir) if n.endswith(".data")]
    return os.path.join(hash_dir, name)


def invalidated(dev_path: str) -> list[str]:
    path = os.path.join(layout.partition_dir(dev_path, PART), layout.INVALIDATIONS_FILE)
    with open(path) as fh:
        return fh.read().split()


def truncate_invalidations(dev_path: str) -> None:
    os.truncate(os.path.join(layout.partition_dir(dev_path, PART), layout.INVALIDATIONS_FILE), 0)


def test_audit_good_objects_counts_files_and_bytes(app, devices) -> None:
    put(app, "o1", b"x" * 1000)
    put(app, "o2", b"y" * 24)
    summary = auditor(devices).run_once()
    assert summary["files_checked"] == 2
    assert summary["bytes_checked"] == 1024
    assert summary["quarantined"] == 0
    assert summary["errors"] == 0


def test_audit_flipped_byte_is_quarantined_and_suffix_invalidated(app, devices, dev_path) -> None:
    put(app, "o", b"hello world")
    path = data_path(dev_path)
    truncate_invalidations(dev_path)
    with open(path, "r+b") as fh:
        fh.write(b"j")
    summary = auditor(devices).run_once()
    assert summary["quarantined"] == 1
    assert not os.path.exists(path)
    name_hash = hashing.hash_path("a", "c", "o")
    moved = os.path.join(dev_path, "quarantined", "objects", name_hash, os.path.basename(path))
    with open(moved, "rb") as fh:
        assert fh.read(11) == b"jello world"  # kept as found, for forensics
    assert invalidated(dev_path) == [name_hash[-3:]]
    assert request(app, "GET", "o").status_int == 404


def test_audit_truncated_file_is_quarantined(app, devices, dev_path) -> None:
    put(app, "o", b"hello world")
    path = data_path(dev_path)
    os.truncate(path, 5)
    assert auditor(devices).run_once()["quarantined"] == 1
    assert not os.path.exists(path)


def test_audit_bad_metadata_checksum_is_quarantined(app, devices, dev_path) -> None:
    put(app, "o", b"hello world")
    path = data_path(dev_path)
    raw = bytearray(os.getxattr(path, metadata.XATTR_KEY))
    raw[-2] ^= 0x01
    os.setxattr(path, metadata.XATTR_KEY, bytes(raw))
    assert auditor(devices).run_once()["quarantined"] == 1
    assert not os.path.exists(path)


def test_audit_file_in_the_wrong_hash_dir_is_quarantined(app, devices, dev_path) -> None:
    put(app, "o", b"hello")
    path = data_path(dev_path)
    wrong = "f" * 29 + os.path.basename(os.path.dirname(os.path.dirname(path)))
    target = os.path.join(os.path.dirname(os.path.dirname(path)), wrong)
    os.makedirs(target)
    os.rename(path, os.path.join(target, os.path.basename(path)))
    summary = auditor(devices).run_once()
    assert summary["quarantined"] == 1
    assert os.path.isdir(os.path.join(dev_path, "quarantined", "objects", wrong))


def test_audit_old_tombstone_invalidates_its_suffix_for_reclaim(app, devices, dev_path) -> None:
    old = Timestamp(time.time() - 5000)
    assert request(app, "DELETE", "o", headers={"X-Timestamp": old.internal}).status_int == 404
    truncate_invalidations(dev_path)
    summary = auditor(devices, reclaim_age=1000).run_once()
    assert summary["suffixes_invalidated"] == 1
    assert invalidated(dev_path) == [hashing.hash_path("a", "c", "o")[-3:]]
    truncate_invalidations(dev_path)
    assert auditor(devices).run_once()["suffixes_invalidated"] == 0  # young: nothing to do


def test_audit_restores_a_missing_expiry_entry(app, devices, dev_path) -> None:
    when = int(time.time()) + 3600
    put(app, "o", headers={"X-Delete-At": str(when)})
    name_hash = hashing.hash_path("a", "c", "o")
    entry = layout.expiry_entry_path(dev_path, when, name_hash)
    os.unlink(entry)  # e.g. this replica arrived by rsync
    summary = auditor(devices).run_once()
    assert summary["expiry_entries_restored"] == 1
    assert expiry_queue.read_entry(entry) == expiry_queue.Entry("a", "c", "o", when)
    assert auditor(devices).run_once()["expiry_entries_restored"] == 0


def test_audit_follows_the_meta_files_delete_at(app, devices, dev_path) -> None:
    put(app, "o", timestamp=ts(-2))
    later = int(time.time()) + 7200
    headers = {"X-Timestamp": ts().internal, "X-Delete-At": str(later)}
    assert request(app, "POST", "o", headers=headers).status_int == 202
    name_hash = hashing.hash_path("a", "c", "o")
    os.unlink(layout.expiry_entry_path(dev_path, later, name_hash))
    assert auditor(devices).run_once()["expiry_entries_restored"] == 1
    assert expiry_queue.exists(dev_path, name_hash, later)


def test_audit_skips_unmounted_devices_with_mount_check(app, devices) -> None:
    put(app, "o")
    summary = auditor(devices, mount_check=True).run_once()
    assert summary["devices"] == 0
    assert summary["files_checked"] == 0


def test_run_pass_records_auditor_summary(app, devices, tmp_path) -> None:
    put(app, "o")
    auditor(devices, recon_cache_path=str(tmp_path / "recon")).run_pass()
    stored = recon_cache.read(recon_cache.cache_path(str(tmp_path / "recon"), "object"))
    assert stored["object-auditor"]["files_checked"] == 1


def test_audit_is_paced_by_files_per_second(app, devices) -> None:
    for i in range(5):
        put(app, f"o{i}")
    daemon = auditor(devices, files_per_second=10)
    slept: list[float] = []
    daemon.files_pace = RateLimiter(10, burst=0, clock=lambda: 0.0, sleep=slept.append)
    daemon.run_once()
    assert len(slept) == 5
    assert sum(slept) == pytest.approx(0.1 + 0.2 + 0.3 + 0.4 + 0.5)


def _fake_time():
    now = [0.0]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    return now, slept, sleep


@settings(deadline=None, max_examples=60)
@given(
    rate=st.floats(min_value=0.5, max_value=1e6),
    units=st.lists(st.integers(min_value=1, max_value=10000), min_size=1, max_size=40),
    burst=st.floats(min_value=0, max_value=2),
)
def test_ratelimiter_never_runs_faster_than_its_rate(rate, units, burst) -> None:
    now, _, sleep = _fake_time()
    limiter = RateLimiter(rate, burst=burst, clock=lambda: now[0], sleep=sleep)
    for amount in units:
        limiter.wait(amount)
    # after the calls, the time spent covers the units beyond the burst allowance
    assert now[0] >= sum(units) / rate - burst - 1e-6


def test_ratelimiter_zero_rate_never_sleeps() -> None:
    now, slept, sleep = _fake_time()
    limiter = RateLimiter(0, clock=lambda: now[0], sleep=sleep)
    for _ in range(100):
        limiter.wait(1000)
    assert slept == []


def test_audit_of_a_quarantine_target_collision_keeps_both(app, devices, dev_path) -> None:
    put(app, "o", b"abc")
    path = data_path(dev_path)
    name_hash = hashing.hash_path("a", "c", "o")
    existing = os.path.join(dev_path, "quarantined", "objects", name_hash)
    os.makedirs(existing)
    with open(os.path.join(existing, os.path.basename(path)), "wb") as fh:
        fh.write(b"earlier")
    os.truncate(path, 1)
    assert auditor(devices).run_once()["quarantined"] == 1
    assert len(os.listdir(existing)) == 2
