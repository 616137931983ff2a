"""hashes: invalidation log, lazy recompute, hashes.json format, REPLICATE payload."""

from __future__ import annotations

import json
import os
import shutil

from objtest_helpers import ts

from swiftlite.common import fs, green
from swiftlite.obj import hashes, layout
from swiftlite.obj.diskfile import DiskConfig, DiskFileManager


def put(mgr, dev_path, obj, body=b"x", timestamp=None):
    df = mgr.get(dev_path, 5, "a", "c", obj)
    with df.writer(len(body)) as w:
        w.write(body)
        w.commit(
            {
                "name": df.name,
                "X-Timestamp": (timestamp or ts()).internal,
                "Content-Length": str(len(body)),
                "ETag": w.etag,
            }
        )
    return df


def test_write_invalidates_its_suffix(dev_path) -> None:
    df = put(DiskFileManager(DiskConfig()), dev_path, "o")
    log = os.path.join(df.part_dir, layout.INVALIDATIONS_FILE)
    with open(log) as fh:
        assert fh.read().split() == [df.suffix]


def test_get_hashes_folds_log_and_writes_versioned_json(dev_path) -> None:
    df = put(DiskFileManager(DiskConfig()), dev_path, "o")
    got = hashes.get_hashes(df.part_dir)
    assert set(got) == {df.suffix}
    assert len(got[df.suffix]) == 32
    with open(os.path.join(df.part_dir, layout.HASHES_FILE)) as fh:
        doc = json.load(fh)
    assert doc["version"] == 1
    assert doc["hashes"] == got
    assert os.path.getsize(os.path.join(df.part_dir, layout.INVALIDATIONS_FILE)) == 0


def test_hash_changes_when_suffix_changes_and_only_then(dev_path) -> None:
    mgr = DiskFileManager(DiskConfig())
    df = put(mgr, dev_path, "o", timestamp=ts(-5))
    first = hashes.get_hashes(df.part_dir)
    assert hashes.get_hashes(df.part_dir) == first
    put(mgr, dev_path, "o", b"y", ts(-1))
    second = hashes.get_hashes(df.part_dir)
    assert second[df.suffix] != first[df.suffix]


def test_stale_hashes_without_log_are_kept_until_recalculate_asked(dev_path) -> None:
    mgr = DiskFileManager(DiskConfig())
    df = put(mgr, dev_path, "o", timestamp=ts(-5))
    first = hashes.get_hashes(df.part_dir)
    put(mgr, dev_path, "o", timestamp=ts(-1))
    os.truncate(os.path.join(df.part_dir, layout.INVALIDATIONS_FILE), 0)  # lost invalidation
    assert hashes.get_hashes(df.part_dir) == first
    assert hashes.get_hashes(df.part_dir, recalculate=[df.suffix]) != first


def test_unreadable_hashes_file_means_full_rehash(dev_path) -> None:
    df = put(DiskFileManager(DiskConfig()), dev_path, "o")
    good = hashes.get_hashes(df.part_dir)
    with open(os.path.join(df.part_dir, layout.HASHES_FILE), "w") as fh:
        fh.write('{"version": 99}')
    assert hashes.get_hashes(df.part_dir) == good


def test_old_tombstone_is_reclaimed_and_suffix_dropped(dev_path) -> None:
    mgr = DiskFileManager(DiskConfig())
    df = mgr.get(dev_path, 5, "a", "c", "gone")
    old = ts(-1000)
    df.delete(old)
    assert os.path.exists(os.path.join(df.hash_dir, old.internal + ".ts"))
    got = hashes.get_hashes(df.part_dir, reclaim_age=100)
    assert df.suffix not in got
    assert not os.path.exists(os.path.dirname(df.hash_dir))


def test_missing_partition_has_no_hashes_and_is_not_created(dev_path) -> None:
    part_dir = layout.partition_dir(dev_path, 99)
    assert hashes.get_hashes(part_dir) == {}
    assert not os.path.exists(part_dir)


def test_partition_removed_while_waiting_for_its_lock_has_no_hashes(dev_path) -> None:
    """A once-run replicator waits on the lock while the daemon removes the empty handoff.

    It used to win the lock on the unlinked lock file and then list a directory that was gone
    (FileNotFoundError, a traceback and a failed pass); now the partition simply has no hashes.
    """
    df = put(DiskFileManager(DiskConfig()), dev_path, "o")
    part_dir = df.part_dir
    hashes.get_hashes(part_dir)
    os.remove(os.path.join(part_dir, layout.HASHES_FILE))  # the waiter must list the dir
    with fs.flock(os.path.join(part_dir, layout.PARTITION_LOCK)):
        waiter = green.spawn(hashes.get_hashes, part_dir)
        green.sleep(0)  # the waiter opens the lock file, finds it held, and sleeps
        assert not waiter.dead
        shutil.rmtree(part_dir)  # what the daemon's remove_partition_if_empty ends with
    assert waiter.wait() == {}
    assert not os.path.exists(part_dir)


def test_hash_suffix_is_order_independent_of_listing(dev_path, tmp_path) -> None:
    mgr = DiskFileManager(DiskConfig())
    t = ts(-3)
    a = put(mgr, dev_path, "o1", timestamp=t)
    suffix_path = os.path.dirname(a.hash_dir)
    value = hashes.hash_suffix(suffix_path, 604800)
    assert value == hashes.hash_suffix(suffix_path, 604800)
    assert hashes.hash_suffix(str(tmp_path / "nowhere"), 604800) is None


def test_replicate_returns_json_hashes(app, dev_path) -> None:
    from objtest_helpers import put as http_put
    from webob import Request

    assert http_put(app).status_int == 201
    resp = Request.blank("/sda/7", method="REPLICATE").get_response(app)
    assert resp.status_int == 200
    body = json.loads(resp.body)
    assert len(body) == 1
    assert all(len(v) == 32 for v in body.values())
    suffix = next(iter(body))
    resp = Request.blank(f"/sda/7/{suffix}-abc", method="REPLICATE").get_response(app)
    assert json.loads(resp.body) == body


def test_replicate_bad_path_is_400_and_unknown_device_507(app) -> None:
    from webob import Request

    assert Request.blank("/sda/x", method="REPLICATE").get_response(app).status_int == 400
    assert Request.blank("/sdz/1", method="REPLICATE").get_response(app).status_int == 507
