"""Prometheus text exposition (format 0.0.4) of request counters and gauges (pure).

``RequestStats`` holds what the ``metrics`` filter counts per (method, status): a request
count and a latency histogram. ``render`` writes them, with any gauges, as the text format
``prometheus_client.parser`` reads: ``# HELP`` and ``# TYPE`` once per family, label values
escaped (backslash, quote, newline), cumulative ``_bucket`` rows ending at ``le="+Inf"``.
Snapshots are plain JSON-able dicts so worker processes can add theirs up (``merge``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class RequestStats:
    """Counts and latency buckets per ``"METHOD status"`` key, for one process."""

    buckets: tuple[float, ...] = BUCKETS
    # key -> [count, sum_seconds, per-bucket counts (not cumulative)..., overflow]
    rows: dict[str, list[float]] = field(default_factory=dict)

    def observe(self, method: str, status: int, seconds: float) -> None:
        key = f"{method} {status}"
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0.0] * (len(self.buckets) + 3)
        row[0] += 1
        row[1] += seconds
        row[2 + bisect.bisect_left(self.buckets, seconds)] += 1

    def snapshot(self) -> dict[str, Any]:
        return {"buckets": list(self.buckets), "rows": {k: list(v) for k, v in self.rows.items()}}


def merge(snapshots: Iterable[Mapping[str, Any]]) -> RequestStats:
    """One ``RequestStats`` adding up snapshots that share the bucket bounds."""
    total = RequestStats()
    for snap in snapshots:
        if tuple(snap.get("buckets", ())) != total.buckets:
            continue  # written by a version with other buckets: not comparable
        for key, row in snap.get("rows", {}).items():
            mine = total.rows.setdefault(key, [0.0] * len(row))
            if len(mine) == len(row):
                total.rows[key] = [a + b for a, b in zip(mine, row, strict=True)]
    return total


def _label(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _labels(pairs: Mapping[str, object]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f"{k}={_label(v)}" for k, v in pairs.items()) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


@dataclass(frozen=True)
class Gauge:
    """One gauge family: a name, a help line, and its samples (labels, value)."""

    name: str
    help: str
    samples: tuple[tuple[Mapping[str, object], float], ...]


def render(server: str, stats: RequestStats, gauges: Iterable[Gauge] = ()) -> str:
    """The whole ``/metrics`` body."""
    out = [
        "# HELP swiftlite_requests_total Requests answered, by verb and status.",
        "# TYPE swiftlite_requests_total counter",
    ]
    rows = sorted(stats.rows.items())
    for key, row in rows:
        method, status = key.split(" ", 1)
        labels = _labels({"server": server, "method": method, "status": status})
        out.append(f"swiftlite_requests_total{labels} {_number(row[0])}")
    out += [
        "# HELP swiftlite_request_duration_seconds Time until the response headers, by verb"
        " and status.",
        "# TYPE swiftlite_request_duration_seconds histogram",
    ]
    bounds = [*stats.buckets, math.inf]
    for key, row in rows:
        method, status = key.split(" ", 1)
        base = {"server": server, "method": method, "status": status}
        running = 0.0
        for bound, count in zip(bounds, row[2:], strict=False):
            running += count
            labels = _labels({**base, "le": _number(bound)})
            out.append(f"swiftlite_request_duration_seconds_bucket{labels} {_number(running)}")
        out.append(f"swiftlite_request_duration_seconds_sum{_labels(base)} {_number(row[1])}")
        out.append(f"swiftlite_request_duration_seconds_count{_labels(base)} {_number(row[0])}")
    for gauge in gauges:
        out.append(f"# HELP {gauge.name} {gauge.help}")
        out.append(f"# TYPE {gauge.name} gauge")
        for pairs, value in gauge.samples:
            out.append(f"{gauge.name}{_labels({'server': server, **pairs})} {_number(value)}")
    return "\n".join(out) + "\n"
