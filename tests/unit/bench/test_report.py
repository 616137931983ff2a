"""The report's ratios, targets, table and JSON, and the /proc parsing that feeds it."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import procstats, report


def _system(ops: float, p99: float, rss: float, **extra: dict[str, float]) -> dict[str, object]:
    workloads = {
        wl: {"ops_per_s": ops, "p50_ms": p99 / 2, "p99_ms": p99, "errors": 0, "cpu_ms_per_op": 1.0}
        for wl in ("put", "get", "head", "delete", "list_full", "list_paged")
    }
    workloads.update(extra)
    return {"peak_rss_mb": rss, "workloads": workloads}


def test_ratio_divides_swiftlite_by_swift() -> None:
    assert report.ratio(300.0, 100.0) == 3.0
    assert report.ratio(50.0, 100.0) == 0.5


@pytest.mark.parametrize(("ours", "theirs"), [(None, 1.0), (1.0, None), (1.0, 0.0)])
def test_ratio_missing_or_zero_is_none(ours: float | None, theirs: float | None) -> None:
    assert report.ratio(ours, theirs) is None


@settings(deadline=None, max_examples=50)
@given(st.floats(0.001, 1e6), st.floats(0.001, 1e6))
def test_ratio_times_swift_gives_swiftlite(ours: float, theirs: float) -> None:
    value = report.ratio(ours, theirs)
    assert value is not None
    assert value * theirs == pytest.approx(ours)


def test_ratios_only_for_workloads_both_systems_ran() -> None:
    systems = {
        "swiftlite": _system(200, 10, 100),
        "swift": {"peak_rss_mb": 400, "workloads": {"put": {"ops_per_s": 50, "p99_ms": 40}}},
    }
    r = report.ratios(systems)
    assert set(r) == {"put", "memory"}
    assert r["put"]["ops_per_s"] == 4.0
    assert r["put"]["p99_ms"] == 0.25
    assert r["put"]["p50_ms"] is None  # Swift has no p50 here
    assert "errors" not in r["put"]  # counts get no ratio
    assert r["memory"]["peak_rss_mb"] == 0.25


def test_targets_met_when_fast_enough_with_lower_p99() -> None:
    fast = {"mb_per_s": 600.0}
    slow = {"mb_per_s": 300.0}
    ours = _system(600, 10, 100, large_put=fast, large_get=fast, slo_get=fast, dlo_get=fast)
    theirs = _system(100, 20, 200, large_put=slow, large_get=slow, slo_get=slow, dlo_get=slow)
    for wl in ("mixed", "mixed128", "bulk_delete"):
        ours["workloads"][wl] = {"ops_per_s": 600.0, "p99_ms": 10.0}  # type: ignore[index]
        theirs["workloads"][wl] = {"ops_per_s": 100.0, "p99_ms": 20.0}  # type: ignore[index]
    ours["workloads"]["get"]["cpu_ms_per_op"] = 0.5  # type: ignore[index]
    rows = report.targets(
        {"swiftlite": ours, "swift": theirs},
        {"disk_write_mb_s": 500.0, "disk_write_per_replica_mb_s": 167},
    )
    ran = [row for row in rows if row["met"] is not None]
    assert len(ran) >= 20
    assert all(row["met"] is True for row in ran), [r for r in ran if not r["met"]]


def test_targets_are_issue_22s_ratios() -> None:
    systems = {"swiftlite": _system(350, 10, 100), "swift": _system(100, 20, 200)}
    rows = {row["target"]: row for row in report.targets(systems, {})}
    assert rows["put: ops/s >= 3x Swift"]["met"] is True  # 3.5x
    assert rows["delete: ops/s >= 3x Swift"]["met"] is True
    assert rows["get: ops/s >= 4x Swift"]["met"] is False
    assert rows["get: ops/s >= 4x Swift"]["value"] == 3.5
    assert rows["list_full: req/s >= 5x Swift"]["met"] is False
    assert rows["bulk_delete: objects/s >= 3x Swift"]["met"] is None  # not run
    assert rows["slo_get: MB/s >= 1.5x Swift"]["met"] is None
    assert rows["dlo_get: MB/s >= 1.5x Swift"]["met"] is None


def test_targets_not_met_when_slower_or_bigger() -> None:
    systems = {"swiftlite": _system(150, 30, 300), "swift": _system(100, 20, 200)}
    rows = {row["target"]: row for row in report.targets(systems, {})}
    assert rows["put: ops/s >= 3x Swift"]["met"] is False
    assert rows["put: ops/s >= 3x Swift"]["value"] == 1.5
    assert rows["get: p99 lower than Swift"]["met"] is False
    assert rows["get: server CPU <= 0.8 ms/op"]["met"] is False  # 1.0 ms
    assert rows["put: server CPU <= 5 ms/op"]["met"] is True
    assert rows["memory: peak RSS <= Swift"]["met"] is False
    assert rows["large_put: MB/s >= Swift"]["met"] is None  # not run


def test_bulk_delete_is_reported_in_objects_per_second() -> None:
    systems = {
        "swiftlite": {"workloads": {"bulk_delete": {"ops_per_s": 900.0}}},
        "swift": {"workloads": {"bulk_delete": {"ops_per_s": 300.0}}},
    }
    rep = report.build({"pipeline": "full"}, {}, systems)
    rows = [line.split() for line in report.table(rep).splitlines()]
    assert ["bulk_delete", "objects/s", "900", "300", "3.00"] in rows
    target = {row["target"]: row for row in rep["targets"]}["bulk_delete: objects/s >= 3x Swift"]
    assert (target["value"], target["met"]) == (3.0, True)


def test_large_targets_use_the_disk_ceiling_and_put_divides_it_by_replicas() -> None:
    large = {"large_put": {"mb_per_s": 100.0}, "large_get": {"mb_per_s": 300.0}}
    systems = {"swiftlite": {"workloads": large}, "swift": {"workloads": large}}
    disk = {"disk_write_mb_s": 500.0, "disk_write_per_replica_mb_s": 125.0}
    rows = {row["target"]: row for row in report.targets(systems, disk)}
    put = rows["large_put: MB/s >= 70% of disk ceiling / replicas"]
    assert (put["value"], put["met"]) == (0.8, True)
    get = rows["large_get: MB/s >= 70% of disk ceiling"]
    assert (get["value"], get["met"]) == (0.6, False)


def test_table_shows_both_systems_and_the_ratio() -> None:
    rep = report.build(
        {"quick": True},
        {"disk_write_mb_s": 400.0, "loopback_http": {}},
        {"swiftlite": _system(300, 10, 90), "swift": _system(100, 20, 180)},
    )
    text = report.table(rep)
    put_rows = [line.split() for line in text.splitlines() if line.startswith("put ")]
    assert ["put", "ops/s", "300", "100", "3.00"] in put_rows
    assert "[met    ] put: ops/s >= 3x Swift" in text
    assert "[missed ] get: ops/s >= 4x Swift" in text
    assert "disk_write_mb_s: 400" in text


def test_table_with_one_system_leaves_ratio_blank() -> None:
    rep = report.build({}, {}, {"swift": _system(100, 20, 180)})
    rows = [line.split() for line in report.table(rep).splitlines() if line.startswith("get ")]
    assert ["get", "ops/s", "-", "100", "-"] in rows


def test_write_json_round_trips_and_leaves_no_tmp(tmp_path: pathlib.Path) -> None:
    rep = report.build({"quick": False}, {}, {"swift": _system(1, 2, 3)})
    out = tmp_path / "results" / "compare.json"
    report.write_json(rep, str(out))
    assert json.loads(out.read_text()) == json.loads(json.dumps(rep))
    assert os.listdir(out.parent) == ["compare.json"]


# -- /proc parsing (procstats feeds the report's CPU and memory figures) ------------------------


def test_parse_stat_handles_parentheses_and_spaces_in_comm() -> None:
    fields = ["S", "1", "4242"] + ["0"] * 8 + [str(3 * procstats.CLK_TCK), str(procstats.CLK_TCK)]
    text = "123 (odd ) (name) " + " ".join(fields + ["0"] * 30)
    comm, pgid, cpu = procstats.parse_stat(text)
    assert comm == "odd ) (name"
    assert pgid == 4242
    assert cpu == 4.0


def test_parse_status_kb_reads_the_named_field() -> None:
    text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"
    assert procstats.parse_status_kb(text, "VmHWM") == 2048
    assert procstats.parse_status_kb(text, "VmRSS") == 1024
    assert procstats.parse_status_kb(text, "VmSwap") == 0


def test_group_members_finds_this_process_by_its_group() -> None:
    members = procstats.group_members([os.getpgrp()])
    me = [m for m in members if m.pid == os.getpid()]
    assert me
    assert me[0].rss_kb > 0
    assert me[0].hwm_kb >= me[0].rss_kb


def test_cpu_delta_counts_new_pids_whole_and_ignores_gone_ones() -> None:
    def s(*procs: tuple[int, float]) -> procstats.GroupSample:
        return procstats.GroupSample(
            0.0, tuple(procstats.ProcSample(p, 1, "x", c, 0, 0) for p, c in procs)
        )

    assert procstats.cpu_delta(s((1, 1.0), (2, 5.0)), s((1, 3.5), (3, 0.5))) == 3.0


def test_segmented_gets_are_judged_against_swift_only() -> None:
    systems = {
        "swiftlite": {
            "workloads": {"slo_get": {"mb_per_s": 140.0}, "dlo_get": {"mb_per_s": 160.0}}
        },
        "swift": {"workloads": {"slo_get": {"mb_per_s": 100.0}, "dlo_get": {"mb_per_s": 100.0}}},
    }
    rows = {row["target"]: row for row in report.targets(systems, {"disk_write_mb_s": 500.0})}
    assert rows["slo_get: MB/s >= 1.5x Swift"]["met"] is False
    assert rows["dlo_get: MB/s >= 1.5x Swift"]["met"] is True
    assert not [t for t in rows if t.startswith(("slo_get", "dlo_get")) and "ceiling" in t]


def test_table_names_each_systems_pipeline() -> None:
    systems = {
        "swiftlite": {**_system(300, 10, 90), "pipeline": "catch_errors tempauth proxy-server"},
        "swift": {**_system(100, 20, 180), "pipeline": "catch_errors tempauth proxy-server"},
    }
    text = report.table(report.build({"pipeline": "short"}, {}, systems))
    assert "proxy pipelines (short):" in text
    assert "  swiftlite: catch_errors tempauth proxy-server" in text
