"""DiskFile: publish, read, merge POSTs, tombstones, expiry, cleanup and quarantine."""

from __future__ import annotations

import errno
import os

import pytest
from objtest_helpers import md5, ts

from swiftlite.common import errors, fs
from swiftlite.obj import layout, metadata
from swiftlite.obj.diskfile import DiskConfig, DiskFileManager, ExpiredObject, merge


@pytest.fixture
def df(dev_path):
    return DiskFileManager(DiskConfig(disk_chunk_size=4)).get(dev_path, 3, "a", "c", "o")


def write(df, body=b"some content", timestamp=None, **extra):
    timestamp = timestamp or ts()
    with df.writer(len(body)) as w:
        w.write(body)
        meta = {
            "name": df.name,
            "X-Timestamp": timestamp.internal,
            "Content-Type": "text/plain",
            "Content-Length": str(w.bytes_written),
            "ETag": w.etag,
            **extra,
        }
        w.commit(meta)
    return timestamp


def test_commit_publishes_data_under_hash_dir(df, dev_path) -> None:
    t = write(df)
    assert os.listdir(df.hash_dir) == [t.internal + ".data"]
    assert df.hash_dir.startswith(os.path.join(dev_path, "objects", "3", df.suffix))
    assert os.listdir(os.path.join(dev_path, "tmp")) == []
    with df.open() as opened:
        assert b"".join(opened.read_range(0, opened.content_length)) == b"some content"
        assert opened.etag == md5(b"some content")


def test_writer_left_without_commit_leaves_nothing(df, dev_path) -> None:
    with df.writer(100) as w:
        w.write(b"partial")
        tmp = w.tmp_path
        assert os.path.exists(tmp)
    assert not os.path.exists(tmp)
    assert not os.path.exists(df.hash_dir)
    with pytest.raises(errors.NotFound):
        df.open()


def test_error_mid_write_removes_temp_file(df, dev_path) -> None:
    def interrupted():
        with df.writer(10) as w:
            w.write(b"abc")
            raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        interrupted()
    assert os.listdir(os.path.join(dev_path, "tmp")) == []


def test_newer_write_cleans_older_data(df) -> None:
    write(df, b"one", ts(-2))
    t2 = write(df, b"two", ts(-1))
    assert os.listdir(df.hash_dir) == [t2.internal + ".data"]


def test_obsolete_files_are_unlinked_through_run_blocking_and_only_then(dev_path) -> None:
    """An unlink frees blocks in the journal: on a server's hub it would stall every request,
    so cleanup hands it to the runner; a write that replaces nothing makes no hand-off."""
    calls = []

    def runner(func, *args):
        calls.append(func.__name__)
        return func(*args)

    df = DiskFileManager(DiskConfig(), run_blocking=runner).get(dev_path, 1, "a", "c", "o")
    write(df, b"one", ts(-2))
    assert "_unlink_all" not in calls  # a first write: nothing to remove
    del calls[:]
    t2 = ts(-1)
    df.delete(t2)
    assert calls.count("_unlink_all") == 1
    assert os.listdir(df.hash_dir) == [t2.internal + ".ts"]


def test_meta_replaces_user_metadata_but_keeps_sysmeta(df) -> None:
    t1 = write(df, **{"X-Object-Meta-A": "1", "X-Object-Sysmeta-S": "s", "Content-Encoding": "gz"})
    t2 = ts(1)
    df.write_metadata({"name": df.name, "X-Timestamp": t2.internal, "X-Object-Meta-B": "2"})
    with df.open() as opened:
        meta = opened.metadata
        assert meta["X-Object-Meta-B"] == "2"
        assert "X-Object-Meta-A" not in meta
        assert "Content-Encoding" not in meta
        assert meta["X-Object-Sysmeta-S"] == "s"
        assert meta["ETag"] == md5(b"some content")
        assert (opened.data_timestamp, opened.timestamp) == (t1, t2)
        assert meta["X-Timestamp"] == t2.internal


def test_merge_without_meta_is_the_data_metadata() -> None:
    assert merge({"ETag": "x", "X-Object-Meta-A": "1"}, None) == {
        "ETag": "x",
        "X-Object-Meta-A": "1",
    }


def test_merge_keeps_the_slo_marker_of_the_data_over_any_meta() -> None:
    data = {"ETag": "x", "X-Static-Large-Object": "True", "X-Object-Meta-A": "1"}
    merged = merge(data, {"X-Timestamp": "2", "X-Object-Meta-B": "2"})
    assert merged == {
        "ETag": "x",
        "X-Static-Large-Object": "True",
        "X-Timestamp": "2",
        "X-Object-Meta-B": "2",
    }
    assert merge(data, {"X-Static-Large-Object": "False"})["X-Static-Large-Object"] == "True"
    plain = merge({"ETag": "x"}, {"X-Object-Meta-B": "2"})
    assert "X-Static-Large-Object" not in plain


def test_delete_writes_tombstone_and_open_says_deleted(df) -> None:
    write(df, timestamp=ts(-1))
    t = ts()
    df.delete(t)
    assert os.listdir(df.hash_dir) == [t.internal + ".ts"]
    with pytest.raises(errors.Deleted) as info:
        df.open()
    assert info.value.timestamp == t
    assert df.probe().state == "deleted"


def test_expired_object_is_not_opened(df) -> None:
    write(df, **{"X-Delete-At": "1000"})
    with pytest.raises(ExpiredObject) as info:
        df.open()
    assert info.value.metadata["X-Delete-At"] == "1000"
    probe = df.probe()
    assert probe.state == "expired"
    assert probe.metadata["X-Delete-At"] == "1000"


def test_probe_missing_and_live(df) -> None:
    assert df.probe().state == "missing"
    t = write(df)
    probe = df.probe()
    assert (probe.state, probe.timestamp, probe.meta_timestamp) == ("live", t, t)


def test_corrupt_metadata_is_quarantined_and_not_found(df, dev_path) -> None:
    t = write(df)
    data = os.path.join(df.hash_dir, t.internal + ".data")
    raw = os.getxattr(data, metadata.XATTR_KEY)
    os.setxattr(data, metadata.XATTR_KEY, raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(errors.NotFound, match="quarantined"):
        df.open()
    assert not os.path.exists(data)
    assert os.listdir(layout.quarantine_dir(dev_path, df.name_hash)) == [t.internal + ".data"]


def test_truncated_content_is_quarantined(df, dev_path) -> None:
    t = write(df)
    data = os.path.join(df.hash_dir, t.internal + ".data")
    os.truncate(data, 3)
    with pytest.raises(errors.NotFound, match="quarantined"):
        df.open()
    assert os.path.exists(
        os.path.join(layout.quarantine_dir(dev_path, df.name_hash), t.internal + ".data")
    )


def test_full_read_with_wrong_etag_quarantines(df, dev_path) -> None:
    t = write(df)
    data = os.path.join(df.hash_dir, t.internal + ".data")
    with open(data, "r+b") as fh:
        fh.write(b"S")  # same length, different bytes
    with df.open() as opened:
        assert b"".join(opened.read_all_checked()) == b"Some content"
    assert not os.path.exists(data)


def test_fallocate_reserve_refuses_before_writing(dev_path) -> None:
    free = fs.free_bytes(dev_path)
    mgr = DiskFileManager(DiskConfig(fallocate_reserve=free + (1 << 30)))
    df = mgr.get(dev_path, 1, "a", "c", "o")
    with pytest.raises(errors.DiskFull), df.writer(10):
        pass
    assert os.listdir(os.path.join(dev_path, "tmp")) == []


def test_enospc_while_writing_is_disk_full(df, dev_path, monkeypatch) -> None:
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    with df.writer(10) as w:
        monkeypatch.setattr(os, "write", full)
        with pytest.raises(errors.DiskFull):
            w.write(b"x" * 10)
        monkeypatch.undo()
    assert os.listdir(os.path.join(dev_path, "tmp")) == []


def test_periodic_sync_runs_through_run_blocking(dev_path) -> None:
    calls = []

    def runner(func, *args):
        calls.append(func.__name__)
        return func(*args)

    mgr = DiskFileManager(DiskConfig(mb_per_sync=1), run_blocking=runner)
    df = mgr.get(dev_path, 1, "a", "c", "big")
    body = b"z" * (3 << 20)
    with df.writer(len(body)) as w:
        for i in range(0, len(body), 1 << 19):
            w.write(body[i : i + (1 << 19)])
        w.commit(
            {
                "name": df.name,
                "X-Timestamp": ts().internal,
                "Content-Length": str(len(body)),
                "ETag": w.etag,
            }
        )
    assert calls.count("fdatasync") == 3
    assert calls[-1] == "_publish"


def test_rename_retries_when_hash_dir_vanishes(df, monkeypatch) -> None:
    real_rename = os.rename
    state = {"first": True}

    def flaky(src, dst):
        if state.pop("first", False):
            os.rmdir(os.path.dirname(dst))  # a concurrent rehash removed the empty dir
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    t = write(df)
    assert os.listdir(df.hash_dir) == [t.internal + ".data"]


def _write_big(dev_path, body, chunk, keep_cache_size, calls):
    def runner(func, *args):
        calls.append((func.__name__, args[1:]))
        return func(*args)

    mgr = DiskFileManager(DiskConfig(keep_cache_size=keep_cache_size), run_blocking=runner)
    df = mgr.get(dev_path, 1, "a", "c", "big")
    with df.writer(len(body)) as w:
        for i in range(0, len(body), chunk):
            w.write(body[i : i + chunk])
        meta = {"name": df.name, "X-Timestamp": ts().internal, "ETag": w.etag}
        w.commit({**meta, "Content-Length": str(len(body))})
    return df, w


def test_large_put_frees_the_page_cache_behind_itself(dev_path, monkeypatch) -> None:
    dropped = []
    real = fs.drop_cache
    monkeypatch.setattr(
        fs, "drop_cache", lambda fd, off=0, n=0: (dropped.append((off, n)), real(fd, off, n))
    )
    body = os.urandom(20 << 20)
    df, w = _write_big(dev_path, body, 1 << 20, 1 << 20, [])
    behind = dropped[:-1]
    assert behind, "nothing was dropped while writing"
    assert all(off == 0 and 0 < n <= len(body) - (8 << 20) for off, n in behind)
    assert dropped[-1] == (0, 0)  # the whole file once it is durable
    with df.open() as opened:
        assert b"".join(opened.read_range(0, len(body))) == body
    assert w.etag == md5(body)


def test_small_put_stays_in_the_page_cache(dev_path, monkeypatch) -> None:
    dropped = []
    monkeypatch.setattr(fs, "drop_cache", lambda *args: dropped.append(args))
    _write_big(dev_path, os.urandom(3 << 20), 1 << 20, 5 << 20, [])
    assert dropped == []


def test_big_chunks_are_hashed_and_written_through_run_blocking(dev_path) -> None:
    calls: list = []
    body = os.urandom(3 << 20) + b"tail"
    df, w = _write_big(dev_path, body, 1 << 20, 1 << 30, calls)
    assert [name for name, _ in calls].count("_absorb") == 3  # 1 MiB chunks; the tail inline
    assert w.etag == md5(body)
    with df.open() as opened:
        assert b"".join(opened.read_range(0, len(body))) == body


def test_writer_on_a_vanished_device_is_unavailable_and_recreates_nothing(df, dev_path) -> None:
    os.rename(dev_path, dev_path + ".unmounted")
    with pytest.raises(errors.DeviceUnavailable):
        df.writer(10).__enter__()
    assert not os.path.exists(dev_path)


def test_commit_after_the_device_vanished_is_unavailable_and_recreates_nothing(
    df, dev_path
) -> None:
    meta = {"name": df.name, "X-Timestamp": ts().internal, "Content-Type": "text/plain"}
    with df.writer(4) as w:
        w.write(b"body")
        os.rename(dev_path, dev_path + ".unmounted")  # unmounted while the PUT was in flight
        meta.update({"Content-Length": "4", "ETag": w.etag})
        with pytest.raises(errors.DeviceUnavailable):
            w.commit(meta)
    assert not os.path.exists(dev_path)
