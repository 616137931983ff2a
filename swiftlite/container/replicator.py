"""ContainerReplicator: ``swiftlite-container-replicator CONF [once]``.

The shared machinery is ``db/replicator.py``; this module names the kind and adds the
container's rule for removal: a deleted container database goes only once its account has
been told (its reported totals match), so no account keeps listing a container nobody holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.common import daemon
from swiftlite.container.broker import ContainerBroker, needs_report
from swiftlite.db import layout
from swiftlite.db.broker import DatabaseBroker
from swiftlite.db.replicator import DbReplicator, DbReplicatorOptions


@dataclass(frozen=True)
class ContainerReplicatorOptions(DbReplicatorOptions):
    bind_port: int = 6201
    rsync_module: str = "rsync://{replication_ip}:{rsync_port}/container"


class ContainerReplicator(DbReplicator):
    name = "container-replicator"
    recon_kind = "container"
    section = "container-replicator"
    kind = layout.CONTAINER
    broker_cls = ContainerBroker

    def ready_to_remove(self, broker: DatabaseBroker) -> bool:
        return not needs_report(broker.get_info())


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-replicator CONF [once]``."""
    return daemon.main(
        "swiftlite-container-replicator",
        ContainerReplicator.section,
        ContainerReplicatorOptions,
        ContainerReplicator,
        argv,
    )
