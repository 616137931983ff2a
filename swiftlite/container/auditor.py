"""ContainerAuditor: ``swiftlite-container-auditor CONF [once]``.

Checks every container database on this server's devices and quarantines a bad one (the walk,
checks, quarantine and the daemon's name and section are in ``db/auditor.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout
from swiftlite.db.auditor import DbAuditor, DbAuditorOptions


@dataclass(frozen=True)
class ContainerAuditorOptions(DbAuditorOptions):
    # Swift's name and default for the pace (databases a second; 0 = unlimited).
    containers_per_second: float = 200.0


class ContainerAuditor(DbAuditor):
    kind = layout.CONTAINER
    broker_cls = ContainerBroker


def main(argv: list[str] | None = None) -> int:
    return ContainerAuditor.main(ContainerAuditorOptions, argv)
