"""bench.curves end to end on swiftlite's side (a real aio), and its pure parts."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from bench import curves, fill

REPO = pathlib.Path(__file__).resolve().parents[3]


def test_row_names_are_unique_and_spread_over_the_key_space() -> None:
    names = [fill.row_name(n) for n in range(10_000)]
    assert len(set(names)) == len(names)
    # consecutive rows land far apart in sort order (inserts go all over the index)
    ranks = {name: i for i, name in enumerate(sorted(names))}
    assert abs(ranks[names[0]] - ranks[names[1]]) > 100


def test_put_names_sort_after_every_row_name() -> None:
    # the end page's marker assumes the PUT run's names ("p<size>-<k>") come last
    assert max(fill.row_name(n) for n in range(100_000)) < "p00001000-0"


def test_link_replicas_gives_every_primary_the_same_files(tmp_path: pathlib.Path) -> None:
    hash_dir = tmp_path / "d1" / "objects" / "7" / "abc" / "f00abc"
    hash_dir.mkdir(parents=True)
    (hash_dir / "1.data").write_bytes(b"body")
    invalidated: list[str] = []
    fill.link_replicas(str(tmp_path), "d1", ["d2", "d3"], str(hash_dir), invalidated.append)
    for dev in ("d2", "d3"):
        copy = tmp_path / dev / "objects" / "7" / "abc" / "f00abc" / "1.data"
        assert copy.read_bytes() == b"body"
        assert copy.stat().st_ino == (hash_dir / "1.data").stat().st_ino
    assert invalidated == [str(tmp_path / d / "objects" / "7" / "abc") for d in ("d2", "d3")]


def test_linked_replicas_hash_alike_after_an_earlier_pass_cached_their_hashes(
    tmp_path: pathlib.Path,
) -> None:
    # The second size's fill linked new files into partitions whose hashes the first size's
    # pass had cached, and only the first primary's write invalidated its suffix: the next
    # pass saw the other primaries differ and tried 2,317 rsyncs at 10^5 objects.
    from swiftlite.obj import hashes

    ts = f"{time.time():.5f}"

    def write(suffix: str, name_hash: str) -> None:
        hash_dir = tmp_path / "d1" / "objects" / "7" / suffix / name_hash
        hash_dir.mkdir(parents=True)
        (hash_dir / f"{ts}.data").write_bytes(b"body")
        hashes.invalidate(str(tmp_path / "d1" / "objects" / "7"), suffix)  # the writer's own
        fill.link_replicas(str(tmp_path), "d1", ["d2"], str(hash_dir), curves._invalidate)

    parts = [str(tmp_path / d / "objects" / "7") for d in ("d1", "d2")]
    write("abc", "0" * 29 + "abc")
    first = [hashes.get_hashes(p) for p in parts]  # the first pass caches them
    assert first[0] == first[1]
    assert first[0]
    write("abd", "0" * 29 + "abd")
    second = [hashes.get_hashes(p) for p in parts]
    assert second[0] == second[1]
    assert set(second[1]) == {"abc", "abd"}


@pytest.mark.parametrize("text", ["", "10,5", "0,10", "x"])
def test_sizes_must_be_positive_and_growing(text: str) -> None:
    with pytest.raises((argparse.ArgumentTypeError, ValueError)):
        curves.parse_sizes(text)


def test_quick_defaults_are_tiny() -> None:
    args = curves.parse_args(["--quick"])
    assert max(args.sizes) <= 10_000
    assert max(args.objects) <= 1_000


def test_quick_swiftlite_run_writes_both_curves(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "curves.json"
    argv = [sys.executable, "-m", "bench.curves", "--quick", "--only", "swiftlite"]
    argv += ["--sizes", "1000,3000", "--objects", "300", "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "SWIFTLITE_CONF"}
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["meta"]["sizes"] == [1000, 3000]
    system = report["systems"]["swiftlite"]
    assert "error" not in system
    rows = system["rows"]
    assert [p["rows"] for p in rows] == [1000, 3000]
    for point in rows:
        assert point["put_ops_per_s"] > 0
        assert point["put_errors"] == 0
        assert set(point["list_ms"]) == {"start", "middle", "end"}
        assert all(ms > 0 for ms in point["list_ms"].values())
    # the broker fill and the PUT runs both landed: rows + 100 PUTs per size so far
    assert [p["object_count"] for p in rows] == [1100, 3200]
    (passes,) = system["passes"]
    assert passes["objects"] == 300
    assert passes["replicator_s"] > 0
    assert passes["auditor_s"] > 0
    assert passes["replicator_rsyncs"] == 0  # every replica was in place: nothing to repair
    assert "container rows" in proc.stdout
    assert len(report["plots"]) == 2  # matplotlib is in the test extras
    for png in report["plots"]:
        assert pathlib.Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_says_when_a_pass_was_not_clean() -> None:
    # Swift's 10^5 pass tried 2,070 rsyncs and the table still printed it as a clean pass
    point = {
        "objects": 100000,
        "replicator_s": 89.6,
        "replicator_cpu_s": 46.2,
        "auditor_s": 112.7,
        "auditor_cpu_s": 90.4,
    }
    report = {
        "systems": {
            "swift": {"rows": [], "passes": [{**point, "replicator_rsyncs": 2070}]},
            "swiftlite": {"rows": [], "passes": [{**point, "replicator_rsyncs": 0}]},
        }
    }
    lines = curves.table(report).splitlines()
    assert [line for line in lines if "not clean" in line] == [
        next(line for line in lines if line.startswith("swift "))
    ]
    assert "2070 rsyncs" in next(line for line in lines if line.startswith("swift "))
