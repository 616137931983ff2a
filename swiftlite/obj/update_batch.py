"""Container updates coalesced per container replica: one request carries many object rows.

An object server under load sends one listing update per object write to a container replica,
and every update costs a request to make, parse, log and journal on both sides (about a fifth
of a small PUT's CPU). ``UpdateBatcher.send`` queues the update under its key (container
replica, partition, account, container). The first writer for a key sends at once; updates
that arrive while that request is in flight wait for it to end and then go together in one
``UPDATE /<dev>/<part>/<a>/<c>`` whose JSON body lists the rows (the container server merges
them in one journal append). So an idle server adds no delay, and a busy one sends one request
per round trip instead of one per object.

A batch of one goes as the classic ``PUT|DELETE /<dev>/<part>/<a>/<c>/<o>`` (what Swift's
container servers understand). Every writer waits for its own update's outcome, so "201 means
the listing was told" holds as before; the caller turns failed targets into async_pending
records, which the object-updater replays one object at a time.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftlite.common import green
from swiftlite.common.errors import BadName
from swiftlite.common.names import wsgi_to_str
from swiftlite.obj import updates

UPDATE_CONTENT_TYPE = "application/json"
MAX_BATCH = 1000  # rows per UPDATE request; more wait for the next round

BatchKey = tuple[str, str, str, str, str]  # host, device, partition, account, container


@dataclass
class _Update:
    op: str
    path: str  # /<a>/<c>/<o>
    headers: Mapping[str, str]
    row: list[Any]
    done: Any = field(default_factory=green.Event)  # sent True (2xx) or False


def row_of(op: str, name: str, headers: Mapping[str, str]) -> list[Any]:
    """The container row an update's headers describe: name, created_at, size, type, etag,
    deleted (the order of the container server's UPDATE body)."""
    if op == "PUT":
        content_type = headers["X-Content-Type"]
        with contextlib.suppress(BadName):  # header values are WSGI strings; rows carry text
            content_type = wsgi_to_str(content_type)
        return [
            name,
            headers["X-Timestamp"],
            int(headers["X-Size"]),
            content_type,
            headers["X-Etag"],
            0,
        ]
    return [name, headers["X-Timestamp"], 0, "", "", 1]


class UpdateBatcher:
    """Per object-server process; see the module docstring."""

    def __init__(
        self,
        request: updates.Requester,
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

    def send(
        self, op: str, path: str, headers: Mapping[str, str], plan: updates.UpdatePlan
    ) -> list[updates.Target]:
        """Tell every target of ``plan`` about one object write; the targets that failed.

        ``path`` is ``/<a>/<c>/<o>`` (real str) and ``headers`` the classic update's headers
        (``updates.put_headers`` / ``delete_headers``).
        """
        _, account, container, obj = path.split("/", 3)
        row = row_of(op, obj, headers)
        waiting = []
        for target in plan.targets:
            key = (target.host, target.device, plan.partition, account, container)
            update = _Update(op, path, headers, row)
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = [update]
                green.spawn_n(self._drain, key, target, plan.partition)
            else:
                queue.append(update)
            waiting.append((target, update))
        return [target for target, update in waiting if not update.done.wait()]

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
            one = batch[0]
            plan = updates.UpdatePlan(partition, (target,))
            failed = updates.send(
                one.op,
                one.path,
                one.headers,
                plan,
                self.conn_timeout,
                self.node_timeout,
                request=self.request,
                logger=self.logger,
            )
            return not failed
        _host, device, _part, account, container = key
        full = f"/{device}/{partition}/{account}/{container}"
        body = json.dumps([u.row for u in batch]).encode("utf-8")
        headers = {
            "Content-Type": UPDATE_CONTENT_TYPE,
            "X-Timestamp": max(u.row[1] for u in batch),
        }
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
