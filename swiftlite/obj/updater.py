"""The object updater: retry the container updates that the object server could not deliver.

Owns the retry pass (console script ``swiftlite-object-updater CONF [once]``, section
``[object-updater]``). It walks ``<dev>/async_pending/<sfx>/`` (and every policy's
``async_pending-N/``, whose updates name policy N to the container) on every local device.
Records are named ``<hash>-<timestamp>``; when one object has several, only the newest is sent (the
container keeps the newest row anyway) and the older ones are unlinked. Each record
(``updates.read_async_pending``) is resent with ``updates.send`` to its container replicas,
looked up again in the current container ring (``<swift_dir>/container.ring.gz``, read once
per pass) so that updates follow a rebalance: while the replicas a record names are all still
primaries of the same partition it goes to them (a narrowed record names only those still
missing it); once any is stale it goes to every current primary (``replay_plan``). Without a
usable container ring the record's own targets are used. Then:

- every target answers 2xx: the record is unlinked (and its suffix dir, once empty);
- some do: the record is rewritten naming only the targets that still failed;
- none do: it stays for the next pass.

A record that cannot be parsed, or names no valid update, is moved to
``quarantined/async_pending/``. Records are sent by ``concurrency`` greenthreads, paced at
``objects_per_second``. Summary: successes, failures, unlinked (superseded records),
quarantined.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from swiftlite.common import daemon, errors, fs, green, recon_cache
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.client import Requester, direct_request
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import layout, updates
from swiftlite.obj.ratelimit import RateLimiter
from swiftlite.ring import Ring, RingError


@dataclass(frozen=True)
class ObjectUpdaterOptions(DeviceOptions):
    """``[object-updater]`` options (Swift's names and defaults)."""

    recon_cache_path: str = recon_cache.DEFAULT_RECON_DIR
    interval: float = 300.0
    concurrency: int = 8
    objects_per_second: float = 50.0
    conn_timeout: float = 0.5
    node_timeout: float = 10.0


@dataclass
class UpdateStats:
    successes: int = 0
    failures: int = 0
    unlinked: int = 0
    quarantined: int = 0
    partial: int = 0

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_record_name(name: str) -> tuple[str, Timestamp] | None:
    """(name hash, timestamp) of an async_pending file name, or None for anything else."""
    name_hash, dash, stamp = name.partition("-")
    if not dash or not layout.is_hash(name_hash):
        return None
    try:
        return name_hash, Timestamp(stamp)
    except ValueError:
        return None


def newest_records(suffix_dir: str) -> tuple[list[tuple[str, Timestamp, str]], list[str]]:
    """(newest record per object as (hash, timestamp, path), superseded paths) in a suffix dir."""
    try:
        names = os.listdir(suffix_dir)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    best: dict[str, tuple[Timestamp, str]] = {}
    superseded = []
    for name in sorted(names):
        parsed = parse_record_name(name)
        if parsed is None:
            continue
        name_hash, stamp = parsed
        path = os.path.join(suffix_dir, name)
        held = best.get(name_hash)
        if held is None or held[0] < stamp:
            if held is not None:
                superseded.append(held[1])
            best[name_hash] = (stamp, path)
        else:
            superseded.append(path)
    newest = [(h, stamp, path) for h, (stamp, path) in sorted(best.items())]
    return newest, superseded


def ring_plan(ring: Ring, account: str, container: str) -> updates.UpdatePlan:
    """The container's current primaries, in replica order, as update targets."""
    part, nodes = ring.get_nodes(account, container)
    targets = []
    for node in nodes:
        targets.append(updates.Target(node.host, node.device))
    return updates.UpdatePlan(str(part), tuple(targets))


def _target_key(target: updates.Target) -> tuple[str, int, str] | None:
    try:
        ip, port = target.ip_port
    except ValueError:
        return None
    return ip, port, target.device


def replay_plan(
    pending: updates.AsyncPending, current: updates.UpdatePlan | None
) -> updates.UpdatePlan:
    """Where to resend a record: its own targets while they are all still current primaries
    of its partition, else every current primary (the ring changed since it was written)."""
    recorded = updates.UpdatePlan(pending.partition, pending.targets)
    if current is None:
        return recorded
    primaries = {_target_key(t) for t in current.targets}
    still_primary = all(
        (key := _target_key(t)) is not None and key in primaries for t in pending.targets
    )
    if pending.partition == current.partition and pending.targets and still_primary:
        return recorded
    return current


class ObjectUpdater(daemon.Daemon):
    name = "object-updater"
    recon_kind = "object"

    def __init__(
        self,
        options: ObjectUpdaterOptions,
        logger: logging.Logger | None = None,
        request: Requester = direct_request,
    ) -> None:
        super().__init__(options, logger)
        self.options: ObjectUpdaterOptions = options
        self.request = request
        self.pace = RateLimiter(options.objects_per_second)
        self.container_ring: Ring | None = None

    def load_container_ring(self) -> Ring | None:
        """The container ring as it is now, or None (records keep their own targets)."""
        path = os.path.join(self.options.swift_dir, "container.ring.gz")
        try:
            return Ring(path)
        except RingError as exc:
            self.logger.warning(
                "object-updater: using recorded targets, no container ring: %s", exc
            )
            return None

    def run_once(self) -> dict[str, Any]:
        stats = UpdateStats()
        self.container_ring = self.load_container_ring()
        pool = green.GreenPool(max(1, self.options.concurrency))
        for _, dev_path in fs.local_devices(self.options.devices, self.options.mount_check):
            for policy, root in layout.policy_dirs(dev_path, layout.ASYNC_PENDING):
                for name_hash, stamp, path in self._records(root, stats):
                    self.pace.wait()
                    update = functools.partial(
                        self.update, dev_path, name_hash, stamp, path, stats, policy
                    )
                    pool.spawn_n(self._update_safely, path, stats, update)
        pool.waitall()
        return stats.summary()

    def _records(self, root: str, stats: UpdateStats) -> Iterator[tuple[str, Timestamp, str]]:
        """The newest records under one ``async_pending[-N]`` dir (superseded ones unlinked)."""
        for suffix in fs.sorted_names(root):
            if not layout.is_suffix(suffix):
                continue
            suffix_dir = os.path.join(root, suffix)
            newest, superseded = newest_records(suffix_dir)
            for path in superseded:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    stats.unlinked += 1
            yield from newest
            if not newest:
                with contextlib.suppress(OSError):
                    os.rmdir(suffix_dir)

    def _update_safely(self, path: str, stats: UpdateStats, update: Callable[[], None]) -> None:
        try:
            update()
        except Exception:
            self.logger.exception("object-updater: cannot process %s", path)
            stats.failures += 1

    def update(
        self,
        dev_path: str,
        name_hash: str,
        stamp: Timestamp,
        path: str,
        stats: UpdateStats,
        policy: int = 0,
    ) -> None:
        """Resend one record of a policy (its dir's; the update names it to the container);
        unlink, narrow or keep it by how its targets answered."""
        try:
            pending = updates.read_async_pending(path)
            update = replace(pending.listing_update(), policy=policy)
        except FileNotFoundError:
            return
        except errors.Corrupt as exc:
            self._quarantine(dev_path, path, exc, stats, policy)
            return
        current = None
        if self.container_ring is not None:
            current = ring_plan(self.container_ring, pending.account, pending.container)
        plan = replay_plan(pending, current)
        failed = updates.send(
            update,
            plan,
            self.options.conn_timeout,
            self.options.node_timeout,
            request=self.request,
            logger=self.logger,
        )
        if not failed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(path))
            stats.successes += 1
            return
        stats.failures += 1
        if len(failed) < len(plan.targets):
            stats.partial += 1
            narrowed = replace(pending, partition=plan.partition, targets=tuple(failed))
            updates.write_async_pending(dev_path, name_hash, stamp, narrowed, policy)

    def _quarantine(
        self, dev_path: str, path: str, exc: Exception, stats: UpdateStats, policy: int = 0
    ) -> None:
        target_dir = layout.quarantine_async_dir(dev_path, policy)
        os.makedirs(target_dir, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, os.path.join(target_dir, os.path.basename(path)))
            stats.quarantined += 1
        self.logger.error("object-updater: quarantined %s: %s", path, exc)


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-object-updater CONF [once]``."""
    return daemon.main(
        "swiftlite-object-updater", "object-updater", ObjectUpdaterOptions, ObjectUpdater, argv
    )
