"""AccountReplicator: ``swiftlite-account-replicator CONF [once]``.

The shared machinery is ``db/replicator.py``; accounts add only their status to what peers
exchange (a DELETED status spreads to replicas that missed the DELETE, see
``AccountBroker``). A deleted account is removed once the reaper has emptied it and
``reclaim_age`` has passed since the DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.account.broker import AccountBroker
from swiftlite.common import daemon
from swiftlite.db import layout
from swiftlite.db.replicator import DbReplicator, DbReplicatorOptions


@dataclass(frozen=True)
class AccountReplicatorOptions(DbReplicatorOptions):
    bind_port: int = 6202
    rsync_module: str = "rsync://{replication_ip}:{rsync_port}/account"


class AccountReplicator(DbReplicator):
    name = "account-replicator"
    recon_kind = "account"
    section = "account-replicator"
    kind = layout.ACCOUNT
    broker_cls = AccountBroker


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-account-replicator CONF [once]``."""
    return daemon.main(
        "swiftlite-account-replicator",
        AccountReplicator.section,
        AccountReplicatorOptions,
        AccountReplicator,
        argv,
    )
