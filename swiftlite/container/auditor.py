"""ContainerAuditor: ``swiftlite-container-auditor CONF [once]``.

Checks every container database on this server's devices and quarantines a bad one (the shared
walk, checks and quarantine are in ``db/auditor.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.common import daemon
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout
from swiftlite.db.auditor import DbAuditor, DbAuditorOptions


@dataclass(frozen=True)
class ContainerAuditorOptions(DbAuditorOptions):
    # Swift's name and default for the pace (databases a second; 0 = unlimited).
    containers_per_second: float = 200.0


class ContainerAuditor(DbAuditor):
    name = "container-auditor"
    recon_kind = "container"
    section = "container-auditor"
    kind = layout.CONTAINER
    broker_cls = ContainerBroker
    options: ContainerAuditorOptions

    @property
    def per_second(self) -> float:
        return self.options.containers_per_second


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-auditor CONF [once]``."""
    return daemon.main(
        "swiftlite-container-auditor",
        ContainerAuditor.section,
        ContainerAuditorOptions,
        ContainerAuditor,
        argv,
    )
