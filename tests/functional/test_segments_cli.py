"""swiftlite-segments against a real cluster: orphans of deleted manifests found and removed."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from tests.support.cluster import Cluster

BIN = pathlib.Path(sys.executable).parent
MIB = 1024 * 1024


def _swift(cluster: Cluster, *args: str, cwd: pathlib.Path) -> str:
    cmd = [str(BIN / "swift"), "-A", cluster.auth_url, "-U", "test:tester", "-K", "testing"]
    done = subprocess.run(
        [*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _segments_tool(cluster: Cluster, *args: str) -> str:
    cmd = [str(BIN / "swiftlite-segments"), "-A", cluster.auth_url, "-U", "test:tester"]
    done = subprocess.run(
        [*cmd, "-K", "testing", "--min-age", "0", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_segments_of_deleted_manifests_are_reported_then_deleted_and_live_ones_kept(
    cluster: Cluster, tmp_path: pathlib.Path
) -> None:
    for name in ("keep-slo", "keep-dlo", "gone-slo", "gone-dlo"):
        (tmp_path / name).write_bytes(os.urandom(2 * MIB + 1))
    seg = ["-S", str(MIB)]
    _swift(cluster, "upload", *seg, "--use-slo", "orph", "keep-slo", "gone-slo", cwd=tmp_path)
    _swift(cluster, "upload", *seg, "--use-dlo", "orph", "keep-dlo", "gone-dlo", cwd=tmp_path)
    _swift(cluster, "delete", "--leave-segments", "orph", "gone-slo", "gone-dlo", cwd=tmp_path)

    report = _segments_tool(cluster).splitlines()
    orphaned = sorted(line.split(" ", 1)[1] for line in report[:-1])
    assert len(orphaned) == 6  # 3 segments each of the two deleted manifests
    assert all(
        name.startswith(("orph_segments/gone-slo/", "orph_segments/gone-dlo/")) for name in orphaned
    )
    assert report[-1] == f"6 orphan segments found, {2 * (2 * MIB + 1)} bytes"

    assert (
        _segments_tool(cluster, "--delete").splitlines()[-1].startswith("6 orphan segments deleted")
    )
    assert _segments_tool(cluster).splitlines() == ["0 orphan segments found, 0 bytes"]
    left = _swift(cluster, "list", "orph_segments", cwd=tmp_path).split()
    assert len(left) == 6
    assert all(name.startswith(("keep-slo/", "keep-dlo/")) for name in left)
    out = tmp_path / "back"
    _swift(cluster, "download", "orph", "keep-dlo", "-o", str(out), cwd=tmp_path)
    assert out.read_bytes() == (tmp_path / "keep-dlo").read_bytes()
