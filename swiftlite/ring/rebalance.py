"""Partition placement for one rebalance (pure and seeded).

Owns the integer quota of partition-replicas per tier, the per-partition caps, and ``place``,
which turns an old replica-to-partition-to-device table into a new one. The shares it rounds come
from ``swiftlite.ring.metrics`` (``compute_targets``). It reads no files and no clock: the builder
hands it devices, the old table and which partitions may move, plus a seed.

How a rebalance works, in order:

1. Shares. Each device gets ``target`` replicas per partition (a float; all sum to the replica
   count): its weight share, moved towards the most dispersed share by as much as ``overload``
   allows. Quotas are those shares times the partition count, rounded top-down so every tier's
   quota is the sum of its children's. A tier's *cap* is the most replicas of one partition it may
   hold: ``ceil(target)`` (one per device).
2. Replicas on removed devices (and unassigned slots) are placed, always. A partition with no
   replica at all (a first build) is placed whole: each replica goes down the tree to the child
   with the largest *deficit*, ``room - remaining_partitions * replicas_already_here``, i.e. the
   tier furthest behind its expected share of this partition. That keeps every tier within one
   replica of its expected count in every partition, so tight tiers (a zone that must hold a
   replica of every partition) never fall behind, and the quotas come out exact.
3. Dispersion: partitions with more replicas in a tier than its cap move the excess replica.
4. Balance: devices over quota hand exactly their excess to devices under quota, each move going
   straight from the full device to a device with room whose every tier has room and cap. So
   adding one device moves about ``1/(N+1)`` of the partition-replicas, the weight-only ideal.
5. Relay: what is still over quota moves in two hops, ``over -> x`` and ``x -> under``, when no
   single move fits the caps (bounded work; the rest is reported as unbalanced).

A partition that moved in this rebalance does not move again (when ``min_part_hours`` > 0), nor
does one moved within the last ``min_part_hours``; replicas placed in this same rebalance may be
placed again freely, since no data sits there yet.
"""

from __future__ import annotations

import dataclasses
import math
import random
from array import array
from collections import Counter
from collections.abc import Sequence

from swiftlite.ring.devices import NO_DEV, Device
from swiftlite.ring.errors import RingBuilderError
from swiftlite.ring.metrics import Targets, Tiers, compute_targets

# A device within this many partition-replicas of its quota is not worth an extra move of data.
TOLERANCE = 1


def _apportion(total: int, shares: list[float], limits: list[int], current: list[int]) -> list[int]:
    """Integers summing to ``total`` in proportion to ``shares``, each at most its limit.

    Rounding favours children that already hold more, so a second rebalance moves nothing.
    """
    s = sum(shares)
    if s <= 0 or total <= 0:
        return [0] * len(shares)
    ideal = [total * x / s for x in shares]
    out = [min(math.floor(v), lim) for v, lim in zip(ideal, limits, strict=True)]
    left = total - sum(out)
    order = sorted(
        range(len(shares)),
        key=lambda i: (current[i] <= out[i], -(ideal[i] - out[i]), i),
    )
    while left > 0:
        progressed = False
        for i in order:
            if left and out[i] < limits[i]:
                out[i] += 1
                left -= 1
                progressed = True
        if not progressed:
            raise RingBuilderError("cannot place every partition-replica within the tier caps")
    return out


@dataclasses.dataclass
class PlaceResult:
    """What ``place`` hands back to the builder."""

    table: list[array]
    changed: bytearray  # 1 for each partition with any replica on a new device
    moved_replicas: int  # partition-replicas now on a different device than before
    quota: dict[int, int]  # partition-replicas each device should hold
    targets: Targets
    tiers: Tiers
    unbalanced: int  # partition-replicas above some device's quota by more than TOLERANCE


class _Placer:
    """Mutable state of one rebalance: the table, room left in every tier, and move rules."""

    def __init__(self, tiers, targets, table, parts, replicas, may_move, one_move) -> None:
        self.tiers = tiers
        self.rows: list[array] = table
        self.parts = parts
        self.replicas = replicas
        self.path = tiers.path
        self.children = tiers.children
        self.dev_of = tiers.dev_of
        self.may_move = may_move  # bytearray: 1 where min_part_hours allows a move
        self.one_move = one_move  # at most one replica of a partition moves per rebalance
        self.orig = [array("H", row) for row in table]
        self.fresh = [bytearray(parts) for _ in range(replicas)]
        self.moved = bytearray(parts)
        n = len(tiers.keys)
        count = [0] * n
        dev_count: Counter[int] = Counter()
        for row in table:
            dev_count.update(row)
        for d, c in dev_count.items():
            if d in self.path:
                for t in (0, *self.path[d]):
                    count[t] += c
        self.count = count
        self.quota = self._quotas(targets)
        self.cap = [0] * n
        for t in range(n):
            if tiers.active[t]:
                cap = max(targets.cap(t), -(-self.quota[t] // parts))
                self.cap[t] = min(cap, tiers.active[t], replicas)
        self.room = [q - c for q, c in zip(self.quota, count, strict=True)]

    def _quotas(self, targets: Targets) -> list[int]:
        tiers, parts = self.tiers, self.parts
        quota = [0] * len(tiers.keys)
        quota[0] = parts * self.replicas
        for t in range(len(tiers.keys)):
            kids = [c for c in tiers.children[t] if tiers.active[c]]
            if not kids or not quota[t]:
                continue
            limits = [min(tiers.active[c], self.replicas) * parts for c in kids]
            got = _apportion(
                quota[t], [targets.target[c] for c in kids], limits, [self.count[c] for c in kids]
            )
            for c, q in zip(kids, got, strict=True):
                quota[c] = q
        return quota

    # -- choosing a device -------------------------------------------------------------------
    def _used(self, p: int, skip: int) -> dict[int, int]:
        used: dict[int, int] = {}
        path = self.path
        for r, row in enumerate(self.rows):
            d = row[p]
            if r != skip and d != NO_DEV:
                for t in path[d]:
                    used[t] = used.get(t, 0) + 1
        return used

    def _greedy(self, used: dict[int, int]) -> int:
        """Walk down taking the child with most room that is under its cap for this partition."""
        room, cap, children = self.room, self.cap, self.children
        t = 0
        for _ in range(4):
            best = -1
            most = 0
            for c in children[t]:
                r = room[c]
                if r > most and used.get(c, 0) < cap[c]:
                    best = c
                    most = r
            if best < 0:
                return -1
            t = best
        return self.dev_of[t]

    def _search(self, t: int, used: dict[int, int]) -> int:
        """Like _greedy but backtracks when a subtree has no device with room and cap."""
        if self.tiers.level[t] == 4:
            return self.dev_of[t]
        room, cap = self.room, self.cap
        kids = [c for c in self.children[t] if room[c] > 0 and used.get(c, 0) < cap[c]]
        kids.sort(key=room.__getitem__, reverse=True)
        for c in kids:
            d = self._search(c, used)
            if d >= 0:
                return d
        return -1

    def _fallback(self, used: dict[int, int]) -> int:
        """Best device when none has room: least excess over caps (top tier first), then room."""
        best_key: tuple | None = None
        best = -1
        room, cap = self.room, self.cap
        for d in self.tiers.active_devs:
            path = self.path[d]
            if used.get(path[3], 0):
                continue
            key = (
                *(max(0, used.get(t, 0) + 1 - cap[t]) for t in path[:3]),
                -room[path[3]],
                -min(room[t] for t in path),
                d,
            )
            if best_key is None or key < best_key:
                best_key, best = key, d
        return best

    def pick(self, used: dict[int, int], *, must_fit: bool) -> int:
        d = self._greedy(used)
        if d < 0:
            d = self._search(0, used)
        if d < 0 and not must_fit:
            d = self._fallback(used)
        return d

    def _take(self, d: int, delta: int) -> None:
        room = self.room
        for t in self.path[d]:
            room[t] -= delta

    # -- the phases -------------------------------------------------------------------------
    def can_move(self, r: int, p: int) -> bool:
        if self.fresh[r][p]:
            return True
        if not self.may_move[p]:
            return False
        return not (self.one_move and self.moved[p])

    def _assign(self, r: int, p: int, d: int) -> None:
        self.rows[r][p] = d
        self._take(d, 1)
        self.moved[p] = 1

    def place_unassigned(self, rng: random.Random) -> None:
        """Place every empty slot: stray ones first, then wholly empty partitions."""
        parts, rows = self.parts, self.rows
        holes = [set(_positions(row, NO_DEV)) for row in rows]
        empty = set.intersection(*holes) if holes else set()
        scattered = [(r, p) for r, hole in enumerate(holes) for p in sorted(hole - empty)]
        rng.shuffle(scattered)
        for r, p in scattered:
            d = self.pick(self._used(p, r), must_fit=False)
            self._assign(r, p, d)
            self.fresh[r][p] = 1
        order = sorted(empty) if len(empty) < parts else list(range(parts))
        rng.shuffle(order)
        self._place_empty(order, rng)

    def _rotations(self) -> list[list[list[int]]]:
        """For each tier, a few rotations of its children: random tie-breaking at no cost."""
        out = []
        for kids in self.children:
            n = len(kids)
            step = max(1, n // 8)
            out.append([kids[i:] + kids[:i] for i in range(0, n, step)] or [[]])
        return out

    def _place_empty(self, order: list[int], rng: random.Random) -> None:
        """Hot path of a first build: whole partitions, each replica to the largest deficit."""
        rows, path, room, cap = self.rows, self.path, self.room, self.cap
        fresh, moved, dev_of, take = self.fresh, self.moved, self.dev_of, self._take
        rots = self._rotations()
        spin = rng.getrandbits
        left = len(order)
        for p in order:
            used: dict[int, int] = {}
            turn = spin(16)
            for r in range(self.replicas):
                t = 0
                for _ in range(4):
                    choices = rots[t]
                    best, most = -1, None
                    for c in choices[turn % len(choices)]:
                        if room[c] <= 0:
                            continue
                        u = used.get(c, 0)
                        if u >= cap[c]:
                            continue
                        key = room[c] - left * u
                        if most is None or key > most:
                            best, most = c, key
                    if best < 0:
                        break
                    t = best
                d = dev_of[t] if best >= 0 else self.pick(used, must_fit=False)
                rows[r][p] = d
                take(d, 1)
                fresh[r][p] = 1
                for tier in path[d]:
                    used[tier] = used.get(tier, 0) + 1
            moved[p] = 1
            left -= 1

    def _excess(self, devs: list[int]) -> tuple[int, ...]:
        """Replicas above cap per level (region, zone, server) for one partition's devices."""
        out = [0, 0, 0]
        cap = self.cap
        for level in range(3):
            seen = Counter(self.path[d][level] for d in devs if d != NO_DEV)
            out[level] = sum(max(0, n - cap[t]) for t, n in seen.items())
        return tuple(out)

    def fix_dispersion(self) -> None:
        """Move one excess replica of each partition that crowds a tier beyond its cap."""
        tiers, cap, reps = self.tiers, self.cap, self.replicas
        checks = []
        for level in (1, 2, 3):
            if any(cap[t] < reps for t in tiers.at_level(level)):
                tier_of = [-1] * (NO_DEV + 1)
                for d, path in self.path.items():
                    tier_of[d] = path[level - 1]
                checks.append(tier_of)
        if not checks:
            return
        bad = []
        for p, devs in enumerate(zip(*self.rows, strict=True)):
            for tier_of in checks:
                ts = [tier_of[d] for d in devs]
                if len(set(ts)) == reps:
                    break
                if any(ts.count(t) > cap[t] for t in ts):
                    bad.append(p)
                    break
        for p in bad:
            self._fix_partition(p)

    def _fix_partition(self, p: int) -> None:
        devs = [row[p] for row in self.rows]
        before = self._excess(devs)
        if before == (0, 0, 0):
            return
        # The replica to move: the one on the fullest device among those in a crowded tier.
        level = next(i for i, v in enumerate(before) if v)
        crowd = Counter(self.path[d][level] for d in devs)
        choices = [
            r
            for r, d in enumerate(devs)
            if crowd[self.path[d][level]] > self.cap[self.path[d][level]] and self.can_move(r, p)
        ]
        if not choices:
            return
        r = min(choices, key=lambda i: (not self.fresh[i][p], self.room[self.path[devs[i]][3]], i))
        src = devs[r]
        self._take(src, -1)
        used = self._used(p, r)
        dest = self.pick(used, must_fit=False)
        trial = list(devs)
        trial[r] = dest
        if dest < 0 or dest == src or self._excess(trial) >= before:
            self._take(src, 1)
            return
        fresh = self.fresh[r][p]
        self._assign(r, p, dest)
        self.fresh[r][p] = fresh

    def fix_balance(self, rng: random.Random) -> int:
        """Move the excess of every over-quota device straight to devices with room."""
        path, room = self.path, self.room
        over = {d for d in path if room[path[d][3]] < 0}
        if not over:
            return 0
        cands: dict[int, list[tuple[int, int]]] = {d: [] for d in over}
        for r, row in enumerate(self.rows):
            for d in over:
                cands[d].extend((r, p) for p in _positions(row, d))
        for d in sorted(over, key=lambda x: (room[path[x][3]], x)):
            todo = cands[d]
            rng.shuffle(todo)
            todo.sort(key=lambda rp: not self.fresh[rp[0]][rp[1]])  # free moves first
            dev_tier = path[d][3]
            for r, p in todo:
                if room[dev_tier] >= 0:
                    break
                if self.can_move(r, p):
                    self._move_for_balance(r, p, d)
        return self.excess()

    def _slack(self, d: int) -> int:
        """How far over quota device ``d`` may stay: none for a device being drained."""
        return TOLERANCE if self.quota[self.path[d][3]] > 0 else 0

    def excess(self) -> int:
        """Partition-replicas beyond quota plus tolerance, summed over devices."""
        room = self.room
        return sum(max(0, -room[p[3]] - self._slack(d)) for d, p in self.path.items())

    def _move_for_balance(self, r: int, p: int, src: int) -> bool:
        self._take(src, -1)
        dest = self.pick(self._used(p, r), must_fit=True)
        room = self.room
        petty = (
            dest >= 0
            and not self.fresh[r][p]
            and room[self.path[src][3]] >= 1 - self._slack(src)
            and room[self.path[dest][3]] <= TOLERANCE
        )
        if dest < 0 or dest == src or petty:  # petty: both ends already within tolerance
            self._take(src, 1)
            return False
        fresh = self.fresh[r][p]
        self._assign(r, p, dest)
        self.fresh[r][p] = fresh
        return True

    def relay(self, rng: random.Random, budget: int = 300_000, free_only: bool = False) -> int:
        """Chains of moves ``over -> ... -> under`` for the excess direct moves could not place.

        A breadth-first search backwards from an under-quota device finds the shortest chain
        whose every move fits the caps; ``budget`` bounds the candidate checks so a hopeless
        geometry costs little time. Returns the partition-replicas still above quota.
        """
        path, room = self.path, self.room
        under = [d for d in self.tiers.active_devs if room[path[d][3]] > 0]
        if not under or not any(room[path[d][3]] < 0 for d in path):
            return self.excess()
        rng.shuffle(under)
        # First re-place only replicas placed in this rebalance (free), then any replica.
        for fresh_only in (True, False)[: 1 if free_only else 2]:
            where = self._holdings(rng, fresh_only)
            for u in under:
                while room[path[u][3]] > 0 and budget > 0:
                    spent, chain = self._find_chain(u, where, budget, fresh_only)
                    budget -= spent
                    if not chain or not self._apply_chain(chain, where):
                        break
        return self.excess()

    def _holdings(self, rng: random.Random, fresh_only: bool) -> dict[int, list[tuple[int, int]]]:
        """Replicas by device, shuffled; only this rebalance's placements if ``fresh_only``."""
        where: dict[int, list[tuple[int, int]]] = {d: [] for d in self.path}
        for r, row in enumerate(self.rows):
            if fresh_only:
                for p in _positions(self.fresh[r], 1):
                    where[row[p]].append((r, p))
            else:
                for p, d in enumerate(row):
                    where[d].append((r, p))
        for held in where.values():
            rng.shuffle(held)
        return where

    def _blocked(self, p: int, r: int) -> set[int]:
        """Tiers that cannot take one more replica of ``p`` (replica ``r`` left out)."""
        cap = self.cap
        return {t for t, n in self._used(p, r).items() if n >= cap[t]}

    def _find_chain(self, u: int, where, budget: int, free: bool):
        """(checks spent, moves nearest ``u`` first) or (spent, None).

        Unless every move is ``free`` (re-placing this rebalance's replicas), a chain costs
        extra movement, so it must end on a device beyond the tolerance (or start at one).
        """
        room, path = self.room, self.path
        via: dict[int, tuple[int, int, int]] = {}  # device -> (replica, partition, next device)
        frontier = [u]
        seen = {u}
        spent = 0
        for _ in range(6):
            nxt = []
            for x, held in where.items():
                if x in seen:
                    continue
                for r, q in held:
                    spent += 1
                    if not self.can_move(r, q):
                        continue
                    blocked = self._blocked(q, r)
                    dest = next((y for y in frontier if blocked.isdisjoint(path[y])), -1)
                    if dest >= 0:
                        via[x] = (r, q, dest)
                        seen.add(x)
                        nxt.append(x)
                        rx = room[path[x][3]]
                        worth = free or rx < -self._slack(x) or room[path[u][3]] > TOLERANCE
                        if rx < 0 and worth:
                            return spent, self._unwind(x, via, u)
                        break
                if spent > budget:
                    return spent, None
            if not nxt:
                return spent, None
            frontier = nxt
        return spent, None

    @staticmethod
    def _unwind(x: int, via, u: int) -> list[tuple[int, int, int, int]]:
        chain = []
        while x != u:
            r, q, dest = via[x]
            chain.append((r, q, x, dest))
            x = dest
        chain.reverse()
        return chain

    def _apply_chain(self, chain, where) -> bool:
        """Apply moves from the under-quota end; stop (state stays valid) if one no longer fits."""
        for r, q, src, dest in chain:
            if not self.can_move(r, q) or not self._blocked(q, r).isdisjoint(self.path[dest]):
                return False
            self._take(src, -1)
            fresh = self.fresh[r][q]
            self._assign(r, q, dest)
            self.fresh[r][q] = fresh
            where[src].remove((r, q))
            where[dest].append((r, q))
        return True

    def result(self, targets: Targets) -> PlaceResult:
        changed = bytearray(self.parts)
        moved_replicas = 0
        for p in _positions(self.moved, 1):
            diff = sum(1 for row, old in zip(self.rows, self.orig, strict=True) if row[p] != old[p])
            if diff:
                changed[p] = 1
                moved_replicas += diff
        quota = {d: self.quota[path[3]] for d, path in self.path.items()}
        unbalanced = self.excess()
        return PlaceResult(
            self.rows, changed, moved_replicas, quota, targets, self.tiers, unbalanced
        )


def _positions(seq: Sequence[int], value: int) -> list[int]:
    """Every index of ``value`` in an array or bytearray, found at C speed."""
    out = []
    i = -1
    try:
        while True:
            i = seq.index(value, i + 1)  # type: ignore[call-arg]
            out.append(i)
    except ValueError:
        return out


def place(
    devs: Sequence[Device],
    table: list[array] | None,
    part_power: int,
    replicas: int,
    may_move: bytearray,
    one_move: bool,
    overload: float,
    seed: int | None,
) -> PlaceResult:
    """One rebalance: return a new table placing every partition-replica on ``devs``.

    ``devs`` are the devices that stay (weight 0 allowed: they are drained as far as
    ``may_move`` permits); replicas on any other device id are placed anew. ``may_move[p]`` is
    1 when partition ``p`` is past ``min_part_hours``; ``one_move`` limits a partition to one
    moved replica per call. The input table is not modified.
    """
    parts = 1 << part_power
    tiers = Tiers(devs)
    targets = compute_targets(tiers, replicas, overload)
    rows = (
        [array("H", row) for row in table]
        if table is not None
        else [array("H", [NO_DEV]) * parts for _ in range(replicas)]
    )
    present = set(tiers.path)
    for row in rows:
        for d in set(row) - present - {NO_DEV}:
            for p in _positions(row, d):
                row[p] = NO_DEV
    placer = _Placer(tiers, targets, rows, parts, replicas, may_move, one_move)
    rng = random.Random(seed)  # noqa: S311 - placement, not secrecy
    placer.place_unassigned(rng)
    for _ in range(3):
        placer.fix_dispersion()
        placer.relay(rng, free_only=True)
        if not placer.fix_balance(rng) or not placer.relay(rng):
            break
    return placer.result(targets)
