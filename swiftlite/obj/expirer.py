"""The object expirer: delete objects whose X-Delete-At has passed, from the local queue.

Owns the expiry pass (console script ``swiftlite-object-expirer CONF [once]``, section
``[object-expirer]`` of object-server.conf). It reads the due entries of every local device's
expiry queue (``expiry_queue.due``; no cluster scan, no hidden account) and, for each, sends
to every primary object node of the object (its policy's object ring: ``object.ring.gz``, or
``object-N.ring.gz`` for an entry of policy N), all at once::

    DELETE /<dev>/<part>/<a>/<c>/<o>
    X-Timestamp: <delete_at, internal form>     the tombstone is as old as the expiry
    X-If-Delete-At: <delete_at>                  412 if a later write changed or removed it
    X-Container-Host/-Device/-Partition          container replica i for object node i
    X-Backend-Storage-Policy-Index: <N>          the entry's policy

so each object server writes the tombstone and updates its container listing as for a client
DELETE. 2xx, 404 (already gone), 409 (a newer write) and 412 (X-Delete-At changed) all mean
that primary is settled; once every primary is, the entry is removed. Otherwise (a primary
down or failing) it stays for the next pass: no handoff stands in, because a handoff's 404
would say nothing about the primary's copy. An entry that still is not settled once its
delete-at time is more than ``reclaim_age`` old is removed anyway (as Swift's expirer gives
up on a task after ``reclaim_age``), so a primary that never comes back cannot keep it
queued forever. Every replica's device queues the object, so up to three expirers try it;
the conditional DELETE makes the repeats harmless. Summary: entries finished, objects expired
(some node deleted it), failures, and entries reclaimed (given up on).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swiftlite.common import daemon, errors, fs, green, logs, recon_cache, reserved, update_targets
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.client import Requester, device_status, direct_request
from swiftlite.common.policies import INDEX_HEADER, ring_name
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import expiry_queue
from swiftlite.obj.ratelimit import RateLimiter
from swiftlite.ring import Ring, RingError
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet

DONE_STATUSES = frozenset({404, 409, 412})


@dataclass(frozen=True)
class ObjectExpirerOptions(DeviceOptions):
    """``[object-expirer]`` options (Swift's names where Swift has them)."""

    recon_cache_path: str = recon_cache.DEFAULT_RECON_DIR
    interval: float = 300.0
    concurrency: int = 1
    tasks_per_second: float = 50.0
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    reclaim_age: int = 604800


@dataclass
class ExpiryStats:
    entries: int = 0
    finished: int = 0
    expired: int = 0
    failures: int = 0
    bad_entries: int = 0
    reclaimed: int = 0

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def is_done(status: int) -> bool:
    return 200 <= status < 300 or status in DONE_STATUSES


def _log_name(entry: expiry_queue.Entry) -> str:
    """The entry's object path for a log line: a client's name, escaped (no line breaks)."""
    return logs.escape(f"/{entry.account}/{entry.container}/{entry.obj}")


class ObjectExpirer(daemon.Daemon):
    name = "object-expirer"
    recon_kind = "object"

    def __init__(
        self,
        options: ObjectExpirerOptions,
        logger: logging.Logger | None = None,
        request: Requester = direct_request,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(options, logger)
        self.options: ObjectExpirerOptions = options
        self.request = request
        self.clock = clock
        self.pace = RateLimiter(options.tasks_per_second)
        self.rings = RingSet(options.swift_dir)

    def ring(self, kind: str) -> Ring:
        return self.rings.get(kind)

    def run_once(self) -> dict[str, Any]:
        stats = ExpiryStats()
        try:
            self.ring("object")
        except RingError as exc:
            self.logger.error("object-expirer: no usable object ring: %s", exc)
            stats.failures += 1
            return stats.summary()
        now = self.clock()
        pool = green.GreenPool(max(1, self.options.concurrency))
        for _, dev_path in fs.local_devices(self.options.devices, self.options.mount_check):
            for path in expiry_queue.due(dev_path, now):
                self.pace.wait()
                pool.spawn_n(self._expire_safely, path, stats)
        pool.waitall()
        return stats.summary()

    def _expire_safely(self, path: str, stats: ExpiryStats) -> None:
        try:
            self.expire(path, stats)
        except Exception:
            self.logger.exception("object-expirer: cannot process %s", path)
            stats.failures += 1

    def expire(self, path: str, stats: ExpiryStats) -> None:
        """Delete the object of one due entry everywhere; drop the entry when that is done."""
        try:
            entry = expiry_queue.read_entry(path)
        except FileNotFoundError:
            return
        except errors.Corrupt as exc:
            self.logger.error("object-expirer: dropping unreadable entry %s: %s", path, exc)
            stats.bad_entries += 1
            expiry_queue.remove(path)
            return
        stats.entries += 1
        statuses = self.delete_everywhere(entry)
        if all(s is not None and is_done(s) for s in statuses):
            expiry_queue.remove(path)
            stats.finished += 1
            if any(s is not None and (200 <= s < 300 or s == 404) for s in statuses):
                stats.expired += 1
        elif entry.delete_at < self.clock() - self.options.reclaim_age:
            expiry_queue.remove(path)
            stats.reclaimed += 1
            self.logger.warning(
                "object-expirer: giving up on %s, due at %s, older than reclaim_age: %s",
                _log_name(entry),
                entry.delete_at,
                statuses,
            )
        else:
            stats.failures += 1
            self.logger.warning(
                "object-expirer: %s not deleted everywhere yet: %s",
                _log_name(entry),
                statuses,
            )

    def delete_everywhere(self, entry: expiry_queue.Entry) -> list[int | None]:
        """The status from each primary, in ring order (None: no answer)."""
        ring = self.ring(ring_name(entry.policy))
        part, primaries = ring.get_nodes(entry.account, entry.container, entry.obj)
        cpart, cnodes = self._container_nodes(entry)
        headers = {
            "X-Timestamp": Timestamp(entry.delete_at).internal,
            "X-If-Delete-At": str(entry.delete_at),
            "X-Trans-Id": f"tx-expirer-{entry.delete_at}-{os.urandom(4).hex()}",
            # an object server queued this name, so it may be a reserved (versioned) one
            reserved.ALLOW_HEADER: "true",
            INDEX_HEADER: str(entry.policy),
        }
        path = f"/{part}/{entry.account}/{entry.container}/{entry.obj}"
        pile = green.GreenPile(max(1, len(primaries)))
        for index, node in enumerate(primaries):
            node_headers = {
                **headers,
                **update_targets.for_request(index, cnodes, cpart, "Container"),
            }
            pile.spawn(self._delete, node, path, node_headers)
        return list(pile)

    def _container_nodes(self, entry: expiry_queue.Entry) -> tuple[int | None, list[Node]]:
        try:
            return self.ring("container").get_nodes(entry.account, entry.container)
        except RingError as exc:
            self.logger.warning("object-expirer: no container ring, listings not updated: %s", exc)
            return None, []

    def _delete(self, node: Node, path: str, headers: dict[str, str]) -> int | None:
        def failed(exc: Exception) -> None:
            self.logger.warning(
                "object-expirer: DELETE %s:%s/%s%s failed: %s",
                node.ip,
                node.port,
                node.device,
                path,
                exc,
            )

        return device_status(self.request, node, "DELETE", path, headers, self.options, failed)


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-object-expirer CONF [once]``."""
    return daemon.main(
        "swiftlite-object-expirer", "object-expirer", ObjectExpirerOptions, ObjectExpirer, argv
    )
