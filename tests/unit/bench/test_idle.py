"""bench.idle end to end on swiftlite's side (a real 4-node aio with its daemons)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from bench import idle, procstats

REPO = pathlib.Path(__file__).resolve().parents[3]


def test_quick_defaults_are_short() -> None:
    args = idle.parse_args(["--quick"])
    assert args.seconds <= 30
    assert args.objects <= 1000
    full = idle.parse_args([])
    assert (full.seconds, full.objects) == (300.0, 10_000)


@pytest.mark.parametrize("flag", ["--seconds", "--interval", "--objects"])
def test_non_positive_settings_are_refused(flag: str) -> None:
    with pytest.raises(SystemExit):
        idle.parse_args([flag, "0"])


def test_role_drops_the_node_prefix() -> None:
    assert idle.role("node3-object-replicator") == "object-replicator"
    assert idle.role("proxy-server") == "proxy-server"
    assert idle.role("memcached") == "memcached"


def test_watch_counts_only_the_watched_groups() -> None:
    # our own group: the CPU it burns while watched shows up; a group id nobody has gives 0
    mine = os.getpgid(0)
    out = idle.watch({"node2-tests": mine}, 0.3, 0.1)
    assert out["processes"] >= 1
    assert out["rss_mb"] > 0
    assert len(out["samples"]) >= 2
    assert set(out["cpu_s_by_role"]) == {"tests"}
    nobody = idle.watch({"nobody": 2**22 + 12345}, 0.1, 0.1)
    assert nobody["processes"] == 0
    assert nobody["cpu_s"] == 0
    assert procstats.sample([2**22 + 12345]).procs == ()


def test_quick_swiftlite_idle_run_reports_cpu_and_rss(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "idle.json"
    argv = [sys.executable, "-m", "bench.idle", "--quick", "--only", "swiftlite"]
    argv += ["--seconds", "6", "--interval", "3", "--objects", "50", "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "SWIFTLITE_CONF"}
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    rep = report["systems"]["swiftlite"]
    assert "error" not in rep
    assert rep["nodes"] == 4
    assert rep["objects"] == 50
    assert rep["seconds"] >= 6
    assert rep["cpu_s_per_min"] > 0
    assert rep["share_of_one_core"] == pytest.approx(rep["cpu_s_per_min"] / 60, abs=1e-3)
    assert rep["rss_mb"] > 0
    assert rep["peak_rss_mb"] >= rep["rss_mb"]
    # proxy workers, memcached, 4 x (3 servers + rsyncd + 10 daemons) at least
    assert rep["processes"] >= 4 * 14 + 2
    assert rep["exited"] == []  # every server and daemon was still running at the end
    roles = rep["cpu_s_by_role"]
    assert {"proxy-server", "object-server", "object-replicator", "account-reaper"} <= set(roles)
    assert len(rep["samples"]) >= 2
    assert "idle cluster" in proc.stdout
