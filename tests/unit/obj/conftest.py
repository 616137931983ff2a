"""Fixtures for object tests: a devices dir with one device, and a server on it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from objtest_helpers import DEVICE, make_server


@pytest.fixture
def devices(tmp_path):
    root = tmp_path / "node"
    (root / DEVICE).mkdir(parents=True)
    return str(root)


@pytest.fixture
def dev_path(devices):
    return f"{devices}/{DEVICE}"


@pytest.fixture
def app(devices):
    return make_server(devices)


def _xfs_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "XFS tests need root to loop-mount a file system"
    if not shutil.which("mkfs.xfs") or not shutil.which("mount"):
        return "XFS tests need mkfs.xfs and mount (xfsprogs)"
    return None


@pytest.fixture(scope="module")
def xfs_dir(tmp_path_factory):
    """A freshly made 300 MiB XFS file system, loop-mounted for this module's tests."""
    reason = _xfs_unavailable()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("xfs")
    image, mount_point = base / "fs.img", base / "mnt"
    mount_point.mkdir()
    with open(image, "wb") as fh:
        fh.truncate(300 * 1024 * 1024)
    made = subprocess.run(["mkfs.xfs", "-q", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"mkfs.xfs failed: {made.stderr.strip()}")
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        image.unlink()
        pytest.skip(f"cannot loop-mount XFS here: {mounted.stderr.strip()}")
    try:
        yield str(mount_point)
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)
        image.unlink(missing_ok=True)
