"""Real clients against a real cluster: python-swiftclient's `swift` CLI and rclone."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.support.cluster import Cluster

SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))
RCLONE = shutil.which("rclone")


def _tree(root: pathlib.Path) -> dict[str, str]:
    """relative path -> md5 of every file below root."""
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _make_tree(root: pathlib.Path) -> None:
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "dir/b.bin": os.urandom(70_000),
        "dir/sub/c \u00e9\u00e8.txt": b"unicode name\n",
        "big.bin": os.urandom(3 * 1024 * 1024 + 17),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _swift(cluster: Cluster, *args: str, cwd: pathlib.Path | None = None) -> str:
    cmd = [SWIFT, "-A", cluster.auth_url, "-U", "test:tester", "-K", "testing", *args]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_swift_cli_upload_list_download_delete_round_trip(cluster: Cluster, tmp_path) -> None:
    src = tmp_path / "src"
    _make_tree(src)
    _swift(cluster, "post", "cli-c")
    _swift(cluster, "upload", "cli-c", ".", cwd=src)
    listed = set(_swift(cluster, "list", "cli-c").split("\n")) - {""}
    assert listed == set(_tree(src))
    stat = _swift(cluster, "stat", "cli-c")
    assert f"Objects: {len(listed)}" in stat
    _swift(cluster, "post", "-m", "color:blue", "cli-c")
    assert "Meta Color: blue" in _swift(cluster, "stat", "cli-c")
    dst = tmp_path / "dst"
    dst.mkdir()
    _swift(cluster, "download", "cli-c", cwd=dst)
    assert _tree(dst) == _tree(src)  # objects download to their names below the cwd
    _swift(cluster, "delete", "cli-c")
    out = subprocess.run(
        [SWIFT, "-A", cluster.auth_url, "-U", "test:tester", "-K", "testing", "stat", "cli-c"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "404" in out.stdout + out.stderr or "not found" in (out.stdout + out.stderr).lower()


def test_swift_cli_account_stat_counts_containers(cluster: Cluster) -> None:
    _swift(cluster, "post", "cli-stat")
    stat = _swift(cluster, "stat")
    assert "Account: AUTH_test" in stat
    assert "Containers:" in stat


@pytest.mark.skipif(RCLONE is None, reason="rclone is not installed (Debian package rclone)")
def test_rclone_copy_ls_check_sync_with_deletion(cluster: Cluster, tmp_path) -> None:
    src = tmp_path / "src"
    _make_tree(src)
    env = {
        **os.environ,
        "RCLONE_CONFIG_SL_TYPE": "swift",
        "RCLONE_CONFIG_SL_USER": "test:tester",
        "RCLONE_CONFIG_SL_KEY": "testing",
        "RCLONE_CONFIG_SL_AUTH": cluster.auth_url,
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
    }

    def rclone(*args: str) -> str:
        done = subprocess.run(
            [RCLONE, *args], env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, f"rclone {args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    rclone("copy", str(src), "sl:rc-c")
    listed = {line.split(None, 1)[1] for line in rclone("ls", "sl:rc-c").splitlines()}
    assert listed == set(_tree(src))
    rclone("check", str(src), "sl:rc-c")
    (src / "a.txt").unlink()
    (src / "dir" / "new.txt").write_bytes(b"new file\n")
    rclone("sync", str(src), "sl:rc-c")
    listed = {line.split(None, 1)[1] for line in rclone("ls", "sl:rc-c").splitlines()}
    assert listed == set(_tree(src))
    assert "a.txt" not in listed
    rclone("check", str(src), "sl:rc-c")
    back = tmp_path / "back"
    rclone("copy", "sl:rc-c", str(back))
    assert _tree(back) == _tree(src)
