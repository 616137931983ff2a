from __future__ import annotations

import os

import pytest

from swiftlite.common import fs
from swiftlite.common.errors import Timeout


def test_write_file_durable_replaces_atomically(tmp_path) -> None:
    target = tmp_path / "f"
    fs.write_file_durable(str(target), b"one")
    fs.write_file_durable(str(target), b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temp file left behind


def test_flock_second_holder_times_out(tmp_path) -> None:
    path = str(tmp_path / "lock")
    with fs.flock(path), pytest.raises(Timeout), fs.flock(path, timeout=0.05):
        pass


def test_flock_released_after_block(tmp_path) -> None:
    path = str(tmp_path / "lock")
    with fs.flock(path):
        pass
    with fs.flock(path, timeout=0.01) as fd:
        assert fd >= 0


def test_check_device_rejects_path_tricks(tmp_path) -> None:
    from swiftlite.common.errors import DeviceUnavailable

    for bad in ("..", "a/b", ""):
        with pytest.raises(DeviceUnavailable):
            fs.check_device(str(tmp_path), bad, mount_check=False)


def test_disk_usage_reports_sizes(tmp_path) -> None:
    usage = fs.disk_usage(str(tmp_path))
    assert usage["size"] >= usage["avail"] > 0
    assert os.path.isdir(tmp_path)


def test_local_devices_lists_device_dirs_by_name_and_tells_of_the_rest(tmp_path) -> None:
    (tmp_path / "sdb").mkdir()
    (tmp_path / "sda").mkdir()
    (tmp_path / "stray-file").write_bytes(b"")
    skipped: list[str] = []
    found = fs.local_devices(str(tmp_path), False, lambda name, exc: skipped.append(name))
    assert found == [("sda", str(tmp_path / "sda")), ("sdb", str(tmp_path / "sdb"))]
    assert skipped == ["stray-file"]
    # with mount_check nothing under tmp_path is a mount point
    assert fs.local_devices(str(tmp_path), True) == []
    assert fs.local_devices(str(tmp_path / "missing"), False) == []


def test_flock_won_on_a_file_unlinked_meanwhile_locks_the_file_now_at_the_path(tmp_path) -> None:
    """A waiter that wins the lock on an unlinked file held nothing a later locker would see."""
    from swiftlite.common import green

    path = str(tmp_path / "lock")
    seen = []

    def wait_then_hold() -> None:
        with fs.flock(path) as fd:
            seen.append(os.fstat(fd).st_ino)

    with fs.flock(path):
        waiter = green.spawn(wait_then_hold)
        green.sleep(0)  # the waiter opens the old file and sleeps on its lock
        assert not waiter.dead
        os.unlink(path)
        with open(path, "wb"):
            pass
        current = os.stat(path).st_ino
    waiter.wait()
    assert seen == [current]


def test_flock_in_a_directory_that_has_gone_raises_file_not_found(tmp_path) -> None:
    with pytest.raises(FileNotFoundError), fs.flock(str(tmp_path / "gone" / "lock")):
        pass
