"""The comparison report: figures of both systems side by side, ratios, targets, JSON.

Owns the report's shape (``build``), the ratio rule (swiftlite / Swift for every figure; a
ratio above 1 is better for throughput and worse for latency, CPU and memory), the targets of
issues 22 and 7 checked against the figures, and the text table. It is pure: it measures nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SYSTEMS = ("swiftlite", "swift")


@dataclass(frozen=True)
class Figure:
    workload: str
    key: str
    label: str
    higher_is_better: bool
    ratio: bool = True  # False for counts (errors), where a ratio means nothing


SMALL = ("put", "get", "head", "delete", "mixed", "mixed128")
S3 = ("s3_put", "s3_get")  # 4 KiB objects through the S3 API (presigned V4 URLs)
MIDDLEWARE = ("tempurl_get", "versioned_put", "bulk_delete")  # need the full pipeline
LISTING = ("list_populate", "list_full", "list_paged")
LARGE = ("large_put", "large_get", "slo_get", "dlo_get")
WORKLOADS = SMALL + S3 + MIDDLEWARE + LISTING + LARGE


def figures_for(workload: str) -> list[Figure]:
    if workload in LARGE:
        rate = Figure(workload, "mb_per_s", "MB/s", True)
    else:
        label = {"bulk_delete": "objects/s"}.get(
            workload, "req/s" if workload in LISTING else "ops/s"
        )
        rate = Figure(workload, "ops_per_s", label, True)
    return [
        rate,
        Figure(workload, "p50_ms", "p50 ms", False),
        Figure(workload, "p99_ms", "p99 ms", False),
        Figure(workload, "cpu_ms_per_op", "server CPU ms/op", False),
        Figure(workload, "peak_rss_mb", "peak RSS MB", False),
        Figure(workload, "errors", "errors", False, ratio=False),
    ]


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """swiftlite / Swift, or None when either is missing or Swift's figure is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def _get(systems: Mapping[str, Any], system: str, workload: str, key: str) -> float | None:
    value = systems.get(system, {}).get("workloads", {}).get(workload, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def ratios(systems: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """{workload: {figure key: swiftlite/Swift}} for every workload both systems ran."""
    out: dict[str, dict[str, float | None]] = {}
    names = set(systems.get("swiftlite", {}).get("workloads", {})) & set(
        systems.get("swift", {}).get("workloads", {})
    )
    for workload in [w for w in WORKLOADS if w in names]:
        out[workload] = {
            f.key: _round(
                ratio(
                    _get(systems, "swiftlite", workload, f.key),
                    _get(systems, "swift", workload, f.key),
                )
            )
            for f in figures_for(workload)
            if f.ratio
        }
    mem = ratio(
        systems.get("swiftlite", {}).get("peak_rss_mb"), systems.get("swift", {}).get("peak_rss_mb")
    )
    if mem is not None:
        out["memory"] = {"peak_rss_mb": _round(mem)}
    return out


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


#: Issue 22's ratio targets (swiftlite / Swift, same run, full pipelines): ops/s (objects/s
#: for the bulk delete, MB/s for the segmented GETs) at least this many times Swift's.
RATIO_TARGETS = {
    "put": 3.0,
    "delete": 3.0,
    "get": 4.0,
    "head": 4.0,
    "mixed": 4.0,
    "mixed128": 4.0,
    "list_full": 5.0,
    "list_paged": 5.0,
    "slo_get": 1.5,
    "dlo_get": 1.5,
    "bulk_delete": 3.0,
}
#: Issue 22's server CPU targets for swiftlite, ms per operation (a 3-replica PUT for put).
CPU_TARGETS = {"get": 0.8, "put": 5.0}
#: The workloads of many requests, where "p99 lower everywhere" is checked.
P99_WORKLOADS = SMALL + S3 + MIDDLEWARE[:2] + ("list_populate", "list_full", "list_paged")


def targets(systems: Mapping[str, Any], ceilings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Issue 22's targets (and issue 7's large-object and memory ones), each with the measured
    value and whether it is met (None: not run)."""
    rows: list[dict[str, Any]] = []
    r = ratios(systems)

    def add(text: str, value: float | None, met: bool | None) -> None:
        rows.append({"target": text, "value": _round(value), "met": met})

    for wl, want in RATIO_TARGETS.items():
        f = figures_for(wl)[0]
        got = r.get(wl, {}).get(f.key)
        add(f"{wl}: {f.label} >= {want:g}x Swift", got, None if got is None else got >= want)
    for wl in P99_WORKLOADS:
        p99 = r.get(wl, {}).get("p99_ms")
        add(f"{wl}: p99 lower than Swift", p99, None if p99 is None else p99 < 1)
    for wl, limit in CPU_TARGETS.items():
        cpu = _get(systems, "swiftlite", wl, "cpu_ms_per_op")
        add(f"{wl}: server CPU <= {limit:g} ms/op", cpu, None if cpu is None else cpu <= limit)
    # A replicated PUT writes each byte once per replica to this one disk, so its ceiling is
    # the disk's divided by the replica count (as the durable small-PUT floor is); a GET
    # reads one replica.
    ceiling = {
        "large_put": ceilings.get("disk_write_per_replica_mb_s"),
        "large_get": ceilings.get("disk_write_mb_s"),
    }
    for wl, disk in ceiling.items():
        mb = r.get(wl, {}).get("mb_per_s")
        add(f"{wl}: MB/s >= Swift", mb, None if mb is None else mb >= 1)
        ours = _get(systems, "swiftlite", wl, "mb_per_s")
        share = ours / disk if ours is not None and disk else None
        what = "disk ceiling / replicas" if wl == "large_put" else "disk ceiling"
        add(f"{wl}: MB/s >= 70% of {what}", share, None if share is None else share >= 0.7)
    mem = r.get("memory", {}).get("peak_rss_mb")
    add("memory: peak RSS <= Swift", mem, None if mem is None else mem <= 1)
    return rows


def build(
    meta: Mapping[str, Any], ceilings: Mapping[str, Any], systems: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "meta": dict(meta),
        "ceilings": dict(ceilings),
        "systems": dict(systems),
        "ratios": ratios(systems),
        "targets": targets(systems, ceilings),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if value < 1 else f"{value:.2f}"
    return str(value)


def table(report: Mapping[str, Any]) -> str:
    """The report as aligned text: one row per figure, both systems and the ratio."""
    systems = report.get("systems", {})
    r = report.get("ratios", {})
    rows: list[tuple[str, ...]] = [("workload", "figure", "swiftlite", "swift", "ratio")]
    for workload in WORKLOADS:
        if not any(workload in systems.get(s, {}).get("workloads", {}) for s in SYSTEMS):
            continue
        for f in figures_for(workload):
            values = [_get(systems, s, workload, f.key) for s in SYSTEMS]
            if f.key == "errors":
                values = [None if v is None else int(v) for v in values]  # type: ignore[misc]
            shown = r.get(workload, {}).get(f.key) if f.ratio else None
            rows.append((workload, f.label, *(_fmt(v) for v in values), _fmt(shown)))
    rows.append(
        (
            "all",
            "peak RSS MB",
            *(_fmt(systems.get(s, {}).get("peak_rss_mb")) for s in SYSTEMS),
            _fmt(r.get("memory", {}).get("peak_rss_mb")),
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines += ["", "ratio = swiftlite / Swift (higher is better for ops/s and MB/s only)"]
    meta = report.get("meta", {})
    if meta.get("repeat", 1) > 1:
        order = " ".join(meta.get("run_order", []))
        lines.append(f"each figure: the median of {meta['repeat']} runs per system ({order})")
    pipe = report.get("meta", {}).get("pipeline")
    lines += ["", f"proxy pipelines ({pipe or 'not recorded'}):"]
    lines += [f"  {s}: {systems[s].get('pipeline', '-')}" for s in SYSTEMS if s in systems]
    lines += ["", "machine ceilings:"]
    lines += [
        f"  {k}: {_fmt(v)}" for k, v in report.get("ceilings", {}).items() if k != "loopback_http"
    ]
    for engine, fig in report.get("ceilings", {}).get("loopback_http", {}).items():
        lines.append(
            f"  load generator {engine}: {_fmt(fig['requests_per_s'])} req/s, "
            f"{_fmt(fig['client_cpu_us_per_req'])} us CPU/req"
        )
    lines += ["", "targets:"]
    for row in report.get("targets", []):
        mark = {True: "met", False: "missed", None: "not run"}[row["met"]]
        lines.append(f"  [{mark:7}] {row['target']} (value {_fmt(row['value'])})")
    return "\n".join(lines)


def write_json(report: Mapping[str, Any], path: str) -> None:
    """Write ``report`` to ``path`` atomically (tmp file + rename), creating its directory."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)
