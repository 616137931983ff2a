"""GroupSync: writers share syncfs calls, none returns before a sync that began after it asked."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest
from objtest_helpers import ts

from swiftlite.common import errors, green
from swiftlite.obj import groupsync
from swiftlite.obj.diskfile import DiskConfig, DiskFileManager
from swiftlite.obj.groupsync import GroupSync

pytestmark = pytest.mark.skipif(not groupsync.available(), reason="no syncfs(2) here")


class _Gated:
    """A syncfs stand-in that blocks each call until released, recording the calls."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.started = threading.Semaphore(0)
        self.gate = threading.Semaphore(0)
        self.fail_first = fail_first

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.started.release()
        assert self.gate.acquire(timeout=10)
        if self.fail_first and self.calls == 1:
            raise OSError(5, "Input/output error")


def _wait_for(predicate) -> None:
    for _ in range(1000):
        if predicate():
            return
        threading.Event().wait(0.01)
    raise AssertionError("condition never held")


def test_concurrent_writers_share_syncs_and_each_waits_for_a_later_one(tmp_path, monkeypatch):
    gated = _Gated()
    monkeypatch.setattr(groupsync, "syncfs", gated)
    group = GroupSync(str(tmp_path))
    first = threading.Thread(target=group.sync)
    first.start()
    assert gated.started.acquire(timeout=5)  # sync 1 runs; everyone asking now needs sync 2
    others = [threading.Thread(target=group.sync) for _ in range(8)]
    for thread in others:
        thread.start()
    _wait_for(lambda: len(group._cond._waiters) >= 9)  # type: ignore[attr-defined]
    gated.gate.release()  # sync 1 ends: only the first writer may return
    first.join(10)
    assert not first.is_alive()
    assert all(t.is_alive() for t in others)
    assert gated.started.acquire(timeout=5)  # sync 2 began after all eight asked
    gated.gate.release()
    for thread in others:
        thread.join(10)
    assert not any(t.is_alive() for t in others)
    assert group.syncs == 2  # nine writers, two syncs


@pytest.mark.parametrize("how", ["sync", "wait"])  # a plain thread, a green thread
def test_a_failed_sync_fails_the_writers_of_its_round_only(tmp_path, monkeypatch, how):
    gated = _Gated(fail_first=True)
    monkeypatch.setattr(groupsync, "syncfs", gated)
    group = GroupSync(str(tmp_path))
    ask = getattr(group, how)
    gated.gate.release()
    gated.gate.release()
    with pytest.raises(OSError, match="Input/output"):
        ask()
    ask()  # the next round is clean
    assert gated.calls == 2


def test_green_waiters_share_a_round_and_hold_no_thread(tmp_path, monkeypatch):
    gated = _Gated()
    monkeypatch.setattr(groupsync, "syncfs", gated)
    group = GroupSync(str(tmp_path))
    pool = green.GreenPool()
    returned = []

    def writer(k: int) -> None:
        group.wait()
        returned.append(k)

    for k in range(10):
        pool.spawn(writer, k)
    green.sleep(0)  # every writer has asked (those after sync 1 began need sync 2)
    threads_before = threading.active_count()
    assert gated.started.acquire(timeout=5)
    assert returned == []  # nobody returns while the round runs
    gated.gate.release()
    gated.gate.release()
    pool.waitall()
    assert sorted(returned) == list(range(10))
    assert group.syncs in (1, 2)  # ten writers, at most two rounds
    assert threading.active_count() == threads_before  # only the syncer, started before


def test_writes_committed_with_group_sync_are_in_place(dev_path):
    manager = DiskFileManager(DiskConfig(), group_sync=True)
    for name in ("o1", "o2"):
        df = manager.get(dev_path, 5, "a", "c", name)
        with df.writer(4) as w:
            w.write(b"data")
            meta = {"name": df.name, "X-Timestamp": ts().internal, "ETag": w.etag}
            w.commit({**meta, "Content-Length": "4"})
        with df.open() as opened:
            assert b"".join(opened.read_range(0, 4)) == b"data"
    assert os.listdir(os.path.join(dev_path, "tmp")) == []
    assert manager.group_syncs is not None
    assert sum(g.syncs for g in manager.group_syncs.values()) == 4  # two per write, alone


def test_a_tombstone_takes_one_sync_after_its_rename_and_data_takes_two(dev_path, monkeypatch):
    """A tombstone has no bytes and is read by its name alone, so only the sync that makes
    its name durable runs, and it must come after the rename (else the 204 is unsynced)."""
    manager = DiskFileManager(DiskConfig(), group_sync=True)
    df = manager.get(dev_path, 5, "a", "c", "o")
    seen: list[list[str]] = []
    real_sync = GroupSync.sync

    def sync(self):
        seen.append(sorted(os.listdir(df.hash_dir)) if os.path.isdir(df.hash_dir) else [])
        real_sync(self)

    monkeypatch.setattr(GroupSync, "sync", sync)
    t1 = ts(-1)
    with df.writer(4) as w:
        w.write(b"data")
        w.commit(
            {"name": df.name, "X-Timestamp": t1.internal, "ETag": w.etag, "Content-Length": "4"}
        )
    assert seen == [[], [t1.internal + ".data"]]  # before the rename, and after it
    t2 = ts()
    df.delete(t2)
    assert seen[2:] == [[t1.internal + ".data", t2.internal + ".ts"]]  # one, after the rename
    with pytest.raises(errors.Deleted):
        df.open()


def test_the_syncer_holds_no_fd_on_the_device_between_rounds(tmp_path):
    # A held fd would make the device's file system impossible to unmount (EBUSY).
    group = GroupSync(str(tmp_path))
    group.sync()
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the fd listdir itself used
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
    assert str(tmp_path) not in held
