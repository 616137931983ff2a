"""The pending journal: append under a lock, drain in one batch, survive torn lines."""

from __future__ import annotations

import errno
import multiprocessing
import os

import pytest

from swiftlite.common import errors
from swiftlite.db import pending


def test_append_then_drain_returns_records_in_order(tmp_path):
    path = str(tmp_path / "x.pending")
    for i in range(5):
        pending.append(path, [f"name-{i}", i])
    seen = []
    assert pending.drain(path, seen.extend) == 5
    assert seen == [[f"name-{i}", i] for i in range(5)]
    assert os.path.getsize(path) == 0


def test_drain_absent_journal_merges_nothing(tmp_path):
    calls = []
    assert pending.drain(str(tmp_path / "none.pending"), calls.append) == 0
    assert calls == []
    assert not (tmp_path / "none.pending").exists()


def test_encode_line_is_versioned_json_array(tmp_path):
    line = pending.encode(["é", 1])
    assert line == '[1,"é",1]\n'.encode()


def test_drain_torn_line_skips_it_and_keeps_the_next_record(tmp_path):
    path = str(tmp_path / "x.pending")
    pending.append(path, ["before", 1])
    with open(path, "ab") as fh:
        fh.write(b'[1,"torn-by-a-cra')  # a writer died mid-line
    pending.append(path, ["after", 2])
    seen = []
    assert pending.drain(path, seen.extend) == 2
    assert seen == [["before", 1], ["after", 2]]


def test_decode_unknown_version_is_skipped():
    records, bad = pending.decode(b'[1,"ok"]\n[2,"future"]\n{"not":"array"}\n')
    assert records == [["ok"]]
    assert bad == 2


def test_drain_merge_failure_keeps_the_journal(tmp_path):
    path = str(tmp_path / "x.pending")
    pending.append(path, ["kept", 1])

    def explode(records):
        raise RuntimeError("disk trouble")

    with pytest.raises(RuntimeError):
        pending.drain(path, explode)
    seen = []
    pending.drain(path, seen.extend)
    assert seen == [["kept", 1]]


def test_append_many_returns_growing_size(tmp_path):
    path = str(tmp_path / "x.pending")
    first = pending.append_many(path, [["a", 1], ["b", 2]])
    second = pending.append(path, ["c", 3])
    assert 0 < first < second == os.path.getsize(path)


def _writer(path: str, worker: int, count: int) -> None:
    for i in range(count):
        pending.append(path, [f"w{worker}-{i}", worker])


def test_append_from_many_processes_loses_no_record(tmp_path):
    path = str(tmp_path / "x.pending")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 300)) for w in range(4)]
    for p in procs:
        p.start()
    drained: list[list] = []
    while any(p.is_alive() for p in procs):
        pending.drain(path, drained.extend)  # drains race the appends
    for p in procs:
        p.join()
        assert p.exitcode == 0
    pending.drain(path, drained.extend)
    names = [r[0] for r in drained]
    assert len(names) == 1200
    assert set(names) == {f"w{w}-{i}" for w in range(4) for i in range(300)}


def test_append_on_a_full_disk_is_disk_full_and_leaves_no_torn_line(tmp_path, monkeypatch):
    path = str(tmp_path / "x.pending")
    before = pending.append(path, ["kept", 1])
    real_pwrite = os.pwrite

    def half_then_full(fd, data, offset):
        if len(data) > 4:
            return real_pwrite(fd, bytes(data[:4]), offset)  # a short write, then ENOSPC
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", half_then_full)
    with pytest.raises(errors.DiskFull):
        pending.append(path, ["refused", 2])
    monkeypatch.undo()
    assert os.path.getsize(path) == before
    pending.append(path, ["next", 3])
    seen = []
    pending.drain(path, seen.extend)
    assert seen == [["kept", 1], ["next", 3]]
