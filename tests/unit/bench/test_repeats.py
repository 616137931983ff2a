"""``--repeat``: the A B B A run order and one section per system from its repeats."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import repeats


def _section(ops: float, p99: float, errors: int = 0, peak: float = 100.0) -> dict[str, object]:
    workload = {
        "ops_per_s": ops,
        "p99_ms": p99,
        "cpu_ms_per_op": 1000.0 / ops,
        "errors": errors,
        "requests": 1000,
        "statuses": {"201": 1000 - errors, "503": errors} if errors else {"201": 1000},
        "peak_rss_mb": peak,
        "engine": "wrk",
    }
    return {"peak_rss_mb": peak, "version": "x", "workloads": {"put": workload}}


def test_order_alternates_which_system_leads() -> None:
    names = ["swift", "swiftlite"]
    assert repeats.order(names, 1) == names
    assert repeats.order(names, 2) == ["swift", "swiftlite", "swiftlite", "swift"]
    assert repeats.order(names, 3)[4:] == names
    assert repeats.order(["swiftlite"], 3) == ["swiftlite"] * 3


def test_each_system_runs_as_often_as_the_other_leads_half_the_rounds() -> None:
    runs = repeats.order(["a", "b"], 4)
    assert runs.count("a") == runs.count("b") == 4
    leads = [runs[i] for i in range(0, len(runs), 2)]
    assert leads.count("a") == leads.count("b") == 2


def test_figures_are_medians_of_the_repeats() -> None:
    merged = repeats.merge([_section(100, 50), _section(300, 10), _section(200, 30)])
    put = merged["workloads"]["put"]
    assert put["ops_per_s"] == 200
    assert put["p99_ms"] == 30
    assert put["engine"] == "wrk"
    assert [r["put"]["ops_per_s"] for r in merged["repeats"]] == [100, 300, 200]


def test_an_error_in_one_repeat_is_not_lost_in_a_median() -> None:
    merged = repeats.merge([_section(100, 5), _section(100, 5, errors=3), _section(100, 5)])
    put = merged["workloads"]["put"]
    assert put["errors"] == 3
    assert put["requests"] == 3000
    assert put["statuses"] == {"201": 2997, "503": 3}


def test_peaks_are_the_highest_of_the_repeats() -> None:
    merged = repeats.merge([_section(1, 1, peak=90), _section(1, 1, peak=140), _section(1, 1)])
    assert merged["peak_rss_mb"] == 140
    assert merged["workloads"]["put"]["peak_rss_mb"] == 140


def test_a_failed_repeat_makes_the_section_a_failure() -> None:
    failed = {"error": "RuntimeError('no start')", "workloads": {}}
    assert repeats.merge([_section(1, 1), failed]) is failed


def test_one_run_is_returned_unchanged() -> None:
    only = _section(5, 5)
    assert repeats.merge([only]) is only
    with pytest.raises(ValueError, match="no runs"):
        repeats.merge([])


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.floats(1, 1e5), st.floats(0.1, 1e4)), min_size=2, max_size=6))
def test_every_median_lies_within_its_repeats(figures: list[tuple[float, float]]) -> None:
    merged = repeats.merge([_section(ops, p99) for ops, p99 in figures])
    put = merged["workloads"]["put"]
    for key, values in (
        ("ops_per_s", [f[0] for f in figures]),
        ("p99_ms", [f[1] for f in figures]),
    ):
        assert min(values) - 1e-3 <= put[key] <= max(values) + 1e-3


def test_repeat_below_one_is_refused() -> None:
    from bench.__main__ import parse_args

    assert parse_args([]).repeat == 1
    assert parse_args(["--repeat", "3"]).repeat == 3
    with pytest.raises(SystemExit):
        parse_args(["--repeat", "0"])


def test_the_table_says_its_figures_are_medians_and_of_which_runs() -> None:
    from bench import report

    systems = {"swift": _section(100, 9), "swiftlite": _section(300, 3)}
    meta = {"repeat": 2, "run_order": ["swift", "swiftlite", "swiftlite", "swift"]}
    text = report.table(report.build(meta, {}, systems))
    assert "the median of 2 runs per system (swift swiftlite swiftlite swift)" in text
    assert "median" not in report.table(report.build({"repeat": 1}, {}, systems))
