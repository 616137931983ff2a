"""Tier shares, and the balance and dispersion of a replica-to-partition-to-device table.

*Shares* (``compute_targets``) say how many replicas of each partition every tier (the ring,
regions, zones, servers ``ip:port``, devices; see ``Tiers``) should hold: *weighted* (by weight
alone, at most one per device), *wanted* (spread as widely as the devices allow, by weight within
those bounds), and *target*, which moves from weighted towards wanted by as much as ``overload``
permits: no device is pushed more than ``overload`` above its weighted share.

*Balance* of a device is how far its partition-replica count is from its weight-only share, in
percent: ``100 * (parts - ideal) / ideal`` with ``ideal = parts * replicas * weight / total
weight``. A device of weight 0 that still holds partitions shows ``MAX_BALANCE``. The ring's
balance is the worst device's absolute value.

*Dispersion* is the percentage of partition-replicas *at risk*: for each partition, the largest
number of replicas by which any tier (region, zone, server, device) exceeds the most that tier
would hold if replicas were spread as widely as the weights and devices allow (its "max", at
least 1). Zero means every partition is as spread out as the geometry permits. Replicas left on
a device of weight 0 show in its balance, not here.

This module only computes shares and measures; it never changes a table.
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from swiftlite.ring.devices import NO_DEV, Device
from swiftlite.ring.errors import RingBuilderError

MAX_BALANCE = 999.99
_EPS = 1e-9


class Tiers:
    """The failure-domain tree of the present devices.

    Tier 0 is the root; every other tier has a level 1..4 (region, zone, server, device) and a
    key: ``(r,)``, ``(r, z)``, ``(r, z, "ip:port")``, ``(r, z, "ip:port", dev_id)``. ``path[d]``
    is the tuple of the four tier ids above and including device ``d``. Devices of weight 0 are
    in the tree (their replicas still count) but are not *active*.
    """

    def __init__(self, devs: Sequence[Device]) -> None:
        keys: set[tuple] = set()
        for dev in devs:
            srv = dev.server
            keys.update(
                [
                    (dev.region,),
                    (dev.region, dev.zone),
                    (dev.region, dev.zone, srv),
                    (dev.region, dev.zone, srv, dev.id),
                ]
            )
        ordered = [(), *sorted(keys, key=lambda k: (len(k), k))]
        self.keys: list[tuple] = ordered
        self.index: dict[tuple, int] = {k: i for i, k in enumerate(ordered)}
        n = len(ordered)
        self.level: list[int] = [len(k) for k in ordered]
        self.parent: list[int] = [-1] + [self.index[k[:-1]] for k in ordered[1:]]
        self.children: list[list[int]] = [[] for _ in range(n)]
        for t in range(1, n):
            self.children[self.parent[t]].append(t)
        self.dev_of: list[int] = [k[3] if len(k) == 4 else -1 for k in ordered]
        self.weight: list[float] = [0.0] * n
        self.active: list[int] = [0] * n  # active devices under each tier
        self.path: dict[int, tuple[int, int, int, int]] = {}
        for dev in devs:
            key = (dev.region, dev.zone, dev.server, dev.id)
            path = tuple(self.index[key[: i + 1]] for i in range(4))
            self.path[dev.id] = path  # type: ignore[assignment]
            if dev.weight > 0:
                for t in (0, *path):
                    self.weight[t] += dev.weight
                    self.active[t] += 1
        self.devs = {dev.id: dev for dev in devs}
        self.active_devs = sorted(d for d, dev in self.devs.items() if dev.weight > 0)

    def at_level(self, level: int) -> list[int]:
        return [t for t, lvl in enumerate(self.level) if lvl == level]

    def name(self, t: int) -> str:
        """``r1z2-10.0.0.1:6200/d5``-style label of a tier, for reports."""
        key = self.keys[t]
        out = ""
        if len(key) > 0:
            out += f"r{key[0]}"
        if len(key) > 1:
            out += f"z{key[1]}"
        if len(key) > 2:
            out += f"-{key[2]}"
        if len(key) > 3:
            out += f"/{self.devs[key[3]].device}"
        return out or "(ring)"


@dataclasses.dataclass
class Targets:
    """Replicas per partition that each tier should hold (all indexed by tier id)."""

    weighted: list[float]
    wanted: list[float]
    target: list[float]
    required_overload: float
    overload_used: float

    def cap(self, t: int) -> int:
        return math.ceil(self.target[t] - _EPS)

    def wanted_cap(self, t: int) -> int:
        return math.ceil(self.wanted[t] - _EPS)


def _fill(total: float, weights: list[float], lo: list[float], hi: list[float]) -> list[float]:
    """Split ``total`` in proportion to ``weights``, each share clamped to ``[lo, hi]``."""
    n = len(weights)
    if total <= sum(lo) + _EPS:
        return list(lo)
    if total >= sum(hi) - _EPS:
        return list(hi)
    top = max(h / w for h, w in zip(hi, weights, strict=True) if w > 0)
    low_l, high_l = 0.0, top
    for _ in range(100):
        mid = (low_l + high_l) / 2
        s = sum(min(hi[i], max(lo[i], mid * weights[i])) for i in range(n))
        if s < total:
            low_l = mid
        else:
            high_l = mid
    return [min(hi[i], max(lo[i], high_l * weights[i])) for i in range(n)]


def _int_bounds(k: int, caps: list[int]) -> tuple[list[int], list[int]]:
    """Fewest and most replicas per child when ``k`` replicas spread as widely as possible."""
    k = min(k, sum(caps))
    if k <= 0:
        return [0] * len(caps), [0] * len(caps)
    level = 1
    while sum(min(c, level) for c in caps) < k:
        level += 1
    hi = [min(c, level) for c in caps]
    if sum(hi) == k:
        return hi, hi
    return [min(c, level - 1) for c in caps], hi


def _spread_bounds(x: float, caps: list[int]) -> tuple[list[float], list[float]]:
    base = math.floor(x + _EPS)
    frac = x - base if x - base > _EPS else 0.0
    lo0, hi0 = _int_bounds(base, caps)
    if not frac:
        return [float(v) for v in lo0], [float(v) for v in hi0]
    lo1, hi1 = _int_bounds(base + 1, caps)
    lo = [(1 - frac) * a + frac * b for a, b in zip(lo0, lo1, strict=True)]
    hi = [(1 - frac) * a + frac * b for a, b in zip(hi0, hi1, strict=True)]
    return lo, hi


def compute_targets(tiers: Tiers, replicas: int, overload: float) -> Targets:
    """Weighted, most-dispersed and target shares of every tier (see the module docstring)."""
    n = len(tiers.keys)
    devs = tiers.active_devs
    if len(devs) < replicas:
        raise RingBuilderError(
            f"{replicas} replicas need at least {replicas} devices with weight > 0; "
            f"there are {len(devs)}"
        )
    weighted = [0.0] * n
    dev_share = _fill(
        float(replicas), [tiers.devs[d].weight for d in devs], [0.0] * len(devs), [1.0] * len(devs)
    )
    for d, share in zip(devs, dev_share, strict=True):
        for t in (0, *tiers.path[d]):
            weighted[t] += share
    wanted = [0.0] * n
    wanted[0] = float(replicas)
    for t in range(n):  # parents come before children (ordered by key length)
        kids = [c for c in tiers.children[t] if tiers.active[c]]
        if not kids:
            continue
        lo, hi = _spread_bounds(wanted[t], [tiers.active[c] for c in kids])
        shares = _fill(wanted[t], [tiers.weight[c] for c in kids], lo, hi)
        for c, share in zip(kids, shares, strict=True):
            wanted[c] = share
    required = 0.0
    for d in devs:
        t = tiers.path[d][3]
        if wanted[t] > weighted[t] + _EPS:
            required = max(required, wanted[t] / weighted[t] - 1.0)
    use = 1.0 if required <= overload or required <= _EPS else overload / required
    target = [w + use * (x - w) for w, x in zip(weighted, wanted, strict=True)]
    return Targets(weighted, wanted, target, required, min(overload, required))


def device_counts(table: Iterable[array]) -> Counter[int]:
    """Partition-replicas per device id."""
    counts: Counter[int] = Counter()
    for row in table:
        counts.update(row)
    counts.pop(NO_DEV, None)
    return counts


def device_balance(
    devs: Iterable[Device], counts: Mapping[int, int], parts: int, replicas: int
) -> dict[int, float]:
    """Balance (percent) of every device, as defined in the module docstring."""
    devs = list(devs)
    total = sum(dev.weight for dev in devs)
    out: dict[int, float] = {}
    for dev in devs:
        have = counts.get(dev.id, 0)
        if dev.weight <= 0 or total <= 0:
            out[dev.id] = MAX_BALANCE if have else 0.0
            continue
        ideal = parts * replicas * dev.weight / total
        out[dev.id] = min(MAX_BALANCE, 100.0 * (have - ideal) / ideal)
    return out


def balance(devs: Iterable[Device], counts: Mapping[int, int], parts: int, replicas: int) -> float:
    """The worst device's absolute balance."""
    per_dev = device_balance(devs, counts, parts, replicas)
    return max((abs(v) for v in per_dev.values()), default=0.0)


def _tier_maps(tiers: Tiers, level: int) -> list[int]:
    tier_of = [-1] * (NO_DEV + 1)
    for d, path in tiers.path.items():
        tier_of[d] = path[level - 1]
    return tier_of


def dispersion(tiers: Tiers, targets: Targets, table: list[array], replicas: int) -> float:
    """Percentage of partition-replicas at risk (see the module docstring)."""
    parts = len(table[0]) if table else 0
    if not parts:
        return 0.0
    maxes = [max(1, targets.wanted_cap(t)) for t in range(len(tiers.keys))]
    levels = [
        _tier_maps(tiers, lvl)
        for lvl in (1, 2, 3, 4)
        if any(maxes[t] < replicas for t in tiers.at_level(lvl))
    ]
    at_risk = 0
    for devs in zip(*table, strict=True):
        worst = 0
        for tier_of in levels:
            ts = [tier_of[d] for d in devs]
            if len(set(ts)) == replicas:
                break  # distinct here means distinct in every tier below too
            for t, n in Counter(ts).items():
                worst = max(worst, n - maxes[t])
        at_risk += worst
    return 100.0 * at_risk / (parts * replicas)


@dataclasses.dataclass
class TierRow:
    """One line of the dispersion report."""

    tier: str
    parts: int  # partition-replicas in the tier
    max_replicas: int  # most replicas of one partition the tier should hold
    at_risk: int  # partitions holding more than max_replicas here
    histogram: list[int]  # partitions with 0, 1, ... replicas in the tier

    @property
    def percent_at_risk(self) -> float:
        total = sum(self.histogram)
        return 100.0 * self.at_risk / total if total else 0.0


def tier_report(tiers: Tiers, targets: Targets, table: list[array], replicas: int) -> list[TierRow]:
    """Per-tier replica histograms, for ``swiftlite-ring-builder <file> dispersion``."""
    parts = len(table[0]) if table else 0
    n = len(tiers.keys)
    hist = [[0] * (replicas + 1) for _ in range(n)]
    for level in (1, 2, 3, 4):
        tier_of = _tier_maps(tiers, level)
        for devs in zip(*table, strict=True):
            ts = [tier_of[d] for d in devs]
            if len(set(ts)) == replicas:
                for t in ts:
                    hist[t][1] += 1
            else:
                for t, k in Counter(ts).items():
                    if t >= 0:
                        hist[t][k] += 1
    rows = []
    for t in range(1, n):
        h = hist[t]
        h[0] = parts - sum(h[1:])
        limit = max(1, targets.wanted_cap(t))
        rows.append(
            TierRow(
                tier=tiers.name(t),
                parts=sum(k * c for k, c in enumerate(h)),
                max_replicas=limit,
                at_risk=sum(c for k, c in enumerate(h) if k > limit),
                histogram=h,
            )
        )
    return rows
