"""ContainerReplicator: ``swiftlite-container-replicator CONF [once]``.

The shared machinery is ``db/replicator.py``; this module names the kind and adds the
container's rule for removal: a deleted container database goes only once its account has
been told (its reported totals match), so no account keeps listing a container nobody holds.

After replicating a database (which also settles a policy conflict between its replicas,
``ContainerBroker.merge_peer_state``) it queues the rows written under another policy than
the container's for the container reconciler (``reconciler.enqueue``, up to
``misplaced_per_pass`` rows a database and pass; queueing again is harmless).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from swiftlite.common import daemon
from swiftlite.common.http.client import device_status, direct_request
from swiftlite.container import misplaced, reconciler
from swiftlite.container.broker import ContainerBroker, needs_report
from swiftlite.db import layout
from swiftlite.db.broker import DatabaseBroker
from swiftlite.db.replicator import DbReplicator, DbReplicatorOptions
from swiftlite.ring.node import Node


@dataclass(frozen=True)
class ContainerReplicatorOptions(DbReplicatorOptions):
    bind_port: int = 6201
    rsync_module: str = "rsync://{replication_ip}:{rsync_port}/container"
    misplaced_per_pass: int = 1000


class ContainerReplicator(DbReplicator):
    name = "container-replicator"
    recon_kind = "container"
    section = "container-replicator"
    kind = layout.CONTAINER
    broker_cls = ContainerBroker

    def ready_to_remove(self, broker: DatabaseBroker) -> bool:
        return not needs_report(broker.get_info())

    def _replicate(self, broker: DatabaseBroker, dev: Node) -> bool:
        done = super()._replicate(broker, dev)
        if isinstance(broker, ContainerBroker) and os.path.exists(broker.db_file):
            self._queue_misplaced(broker)
        return done

    def _queue_misplaced(self, broker: ContainerBroker) -> None:
        info = broker.get_info()
        if info["account"] == misplaced.MISPLACED_ACCOUNT:
            return
        rows = broker.misplaced_rows(self.options.misplaced_per_pass)  # type: ignore[attr-defined]
        if rows:
            queued = reconciler.enqueue(
                self.ring, rows, info["account"], info["container"], self._send
            )
            self.stats["misplaced"] = self.stats.get("misplaced", 0) + queued

    def _send(self, node: Node, method: str, path: str, headers: dict) -> int | None:
        def failed(exc: Exception) -> None:
            self.logger.warning(
                "%s: queueing at %s:%s failed: %s", self.name, node.ip, node.port, exc
            )

        return device_status(direct_request, node, method, path, headers, self.options, failed)


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-replicator CONF [once]``."""
    return daemon.main(
        "swiftlite-container-replicator",
        ContainerReplicator.section,
        ContainerReplicatorOptions,
        ContainerReplicator,
        argv,
    )
