"""GroupSync: writers share syncfs calls, none returns before a sync that began after it asked."""

from __future__ import annotations

import os
import threading

import pytest
from objtest_helpers import ts

from swiftlite.obj import groupsync
from swiftlite.obj.diskfile import DiskConfig, DiskFileManager
from swiftlite.obj.groupsync import GroupSync

pytestmark = pytest.mark.skipif(not groupsync.available(), reason="no syncfs(2) here")


def test_concurrent_writers_share_syncs_and_each_waits_for_a_later_one(tmp_path, monkeypatch):
    fd = os.open(tmp_path, os.O_RDONLY)
    log: list[tuple[str, int]] = []
    started = threading.Event()
    gate = threading.Event()
    real = groupsync.syncfs

    def slow_syncfs(fd: int) -> None:
        log.append(("begin", len(log)))
        started.set()
        gate.wait(5)
        real(fd)

    monkeypatch.setattr(groupsync, "syncfs", slow_syncfs)
    group = GroupSync()
    first = threading.Thread(target=group.sync, args=(fd,))
    first.start()
    started.wait(5)  # sync 1 runs; everyone asking now needs sync 2
    others = [threading.Thread(target=group.sync, args=(fd,)) for _ in range(8)]
    for thread in others:
        thread.start()
    for _ in range(500):  # until all eight wait on the condition (deque of waiter locks)
        if len(group._cond._waiters) == 8:  # type: ignore[attr-defined]
            break
        threading.Event().wait(0.01)
    gate.set()
    for thread in [first, *others]:
        thread.join(10)
    os.close(fd)
    assert not any(t.is_alive() for t in [first, *others])
    assert group.syncs == 2  # nine writers, two syncs


def test_a_failed_sync_fails_the_writers_of_its_round_only(tmp_path, monkeypatch):
    fd = os.open(tmp_path, os.O_RDONLY)
    calls = []

    def failing_once(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(groupsync, "syncfs", failing_once)
    group = GroupSync()
    with pytest.raises(OSError, match="Input/output"):
        group.sync(fd)
    group.sync(fd)  # the next round is clean
    os.close(fd)
    assert len(calls) == 2


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
