"""Repeated runs: the order the systems run in, and one section per system from its repeats.

This VM's neighbours change how much a CPU second buys from one minute to the next: the same
pure-Python loop took 0.21 to 0.41 s of CPU time in six runs two seconds apart (README,
"Repeated runs"). One run of each system, one after the other, then compares two moments of the
host as much as two systems. ``--repeat N`` runs each system N times in the order ABBA... (the
first system leads in even rounds, the second in odd ones), so a drift that is steady over the
run weighs on both alike, and each figure of the report is the median of a system's repeats.
"""

from __future__ import annotations

import copy
import statistics
from collections.abc import Sequence
from typing import Any

#: the figures of each repeat kept under ``systems.<name>.repeats`` (the rest are in the median)
KEPT = ("ops_per_s", "mb_per_s", "cpu_ms_per_op", "p99_ms")
#: counts add up over the repeats (an error in one repeat must not vanish in a median)
SUMMED = ("errors", "transport_errors", "requests")
#: peaks are the highest of the repeats
HIGHEST = ("peak_rss_mb", "max_ms")


def order(names: Sequence[str], repeat: int) -> list[str]:
    """The run order: ``names`` in turn, reversed in every odd round (A B B A A B ...)."""
    runs: list[str] = []
    for round_ in range(repeat):
        runs.extend(names if round_ % 2 == 0 else reversed(names))
    return runs


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def merge_workload(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One workload's figures from its runs: medians, summed counts, highest peaks."""
    figures = copy.deepcopy(runs[0])
    for key, value in runs[0].items():
        values = [r[key] for r in runs if _number(r.get(key))]
        if not _number(value) or len(values) != len(runs):
            continue
        if key in SUMMED:
            figures[key] = sum(values)
        elif key in HIGHEST:
            figures[key] = max(values)
        else:
            figures[key] = round(statistics.median(values), 4)
    statuses: dict[str, int] = {}
    for r in runs:
        for code, count in r.get("statuses", {}).items():
            statuses[code] = statuses.get(code, 0) + count
    if statuses:
        figures["statuses"] = statuses
    return figures


def merge(sections: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One system's section from its repeats: a failed repeat makes the whole section its
    failure; otherwise every figure of a workload is the median over the repeats that ran
    it (so one figure's median and another's may come from different repeats), counts and
    statuses are summed, peaks are the highest, and ``repeats`` keeps each repeat's main
    figures."""
    if not sections:
        raise ValueError("no runs to merge")
    for section in sections:
        if "error" in section:
            return section
    if len(sections) == 1:
        return sections[0]
    merged = copy.deepcopy(sections[0])
    names = sorted({name for s in sections for name in s.get("workloads", {})})
    merged["workloads"] = {
        name: merge_workload([s["workloads"][name] for s in sections if name in s["workloads"]])
        for name in names
    }
    peaks = [s["peak_rss_mb"] for s in sections if _number(s.get("peak_rss_mb"))]
    if peaks:
        merged["peak_rss_mb"] = max(peaks)
    merged["repeats"] = [
        {
            name: {k: wl[k] for k in KEPT if k in wl}
            for name, wl in sorted(s.get("workloads", {}).items())
        }
        for s in sections
    ]
    return merged
