"""Container updates coalesced per container replica: one request carries many object rows.

An object server under load sends one listing update per object write to a container replica,
and every update costs a request to make, parse, log and journal on both sides (about a fifth
of a small PUT's CPU). ``UpdateBatcher.send`` queues the update under its key (container
replica, partition, account, container, storage policy). The first writer for a key sends at
once; updates that arrive while that request is in flight wait for it to end and then go
together in one ``UPDATE /<dev>/<part>/<a>/<c>`` whose JSON body lists the rows
(``ListingUpdate.to_row``; the container server merges them in one journal append) and whose
``X-Backend-Storage-Policy-Index`` names the policy, as a lone update's does. So an idle server
adds no delay, and a busy one sends one request per round trip instead of one per object.

A batch of one goes as the classic ``PUT|DELETE /<dev>/<part>/<a>/<c>/<o>`` (what Swift's
container servers understand). Every writer waits for its own update's outcome, so "201 means
the listing was told" holds as before; the caller turns failed targets into async_pending
records, which the object-updater replays one object at a time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from swiftlite.common import green
from swiftlite.common.http.client import Requester
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.policies import INDEX_HEADER
from swiftlite.obj import updates

UPDATE_CONTENT_TYPE = "application/json"
MAX_BATCH = 1000  # rows per UPDATE request; more wait for the next round

# host, device, partition, account, container, policy index
BatchKey = tuple[str, str, str, str, str, int | None]


@dataclass
class _Update:
    update: ListingUpdate
    done: Any = field(default_factory=green.Event)  # sent True (2xx) or False


class UpdateBatcher:
    """Per object-server process; see the module docstring."""

    def __init__(
        self,
        request: Requester,
        conn_timeout: float,
        node_timeout: float,
        logger: logging.Logger | None = None,
    ) -> None:
        self.request = request
        self.conn_timeout = conn_timeout
        self.node_timeout = node_timeout
        self.logger = logger
        self._queues: dict[BatchKey, list[_Update]] = {}
        self.requests_sent = 0  # tests and the bench read these
        self.rows_sent = 0

    def send(self, update: ListingUpdate, plan: updates.UpdatePlan) -> list[updates.Target]:
        """Tell every target of ``plan`` about one object write; the targets that failed."""
        waiting = []
        for target in plan.targets:
            key = (
                target.host,
                target.device,
                plan.partition,
                update.account,
                update.container,
                update.policy,
            )
            queued = _Update(update)
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = [queued]
                green.spawn_n(self._drain, key, target, plan.partition)
            else:
                queue.append(queued)
            waiting.append((target, queued))
        return [target for target, queued in waiting if not queued.done.wait()]

    def _drain(self, key: BatchKey, target: updates.Target, partition: str) -> None:
        """Send what is queued under ``key``, round after round, until nothing is left."""
        while True:
            queue = self._queues.get(key, [])
            if not queue:
                self._queues.pop(key, None)
                return
            batch, rest = queue[:MAX_BATCH], queue[MAX_BATCH:]
            self._queues[key] = rest
            try:
                ok = self._send(key, target, partition, batch)
            except Exception:  # never leave a writer waiting
                if self.logger:
                    self.logger.exception("container update batch to %s failed", target.host)
                ok = False
            for update in batch:
                update.done.send(ok)

    def _send(
        self, key: BatchKey, target: updates.Target, partition: str, batch: list[_Update]
    ) -> bool:
        self.requests_sent += 1
        self.rows_sent += len(batch)
        if len(batch) == 1:
            plan = updates.UpdatePlan(partition, (target,))
            failed = updates.send(
                batch[0].update,
                plan,
                self.conn_timeout,
                self.node_timeout,
                request=self.request,
                logger=self.logger,
            )
            return not failed
        _host, device, _part, account, container, policy = key
        full = f"/{device}/{partition}/{account}/{container}"
        body = json.dumps([u.update.to_row() for u in batch]).encode("utf-8")
        headers = {
            "Content-Type": UPDATE_CONTENT_TYPE,
            "X-Timestamp": max(u.update.timestamp for u in batch).internal,
        }
        if policy is not None:
            headers[INDEX_HEADER] = str(policy)
        return updates.send_to(
            target,
            "UPDATE",
            full,
            headers,
            body,
            self.conn_timeout,
            self.node_timeout,
            self.request,
            self.logger,
        )
