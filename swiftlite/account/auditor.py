"""AccountAuditor: ``swiftlite-account-auditor CONF [once]``.

Checks every account database on this server's devices and quarantines a bad one (the shared
walk, checks and quarantine are in ``db/auditor.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.account.broker import AccountBroker
from swiftlite.common import daemon
from swiftlite.db import layout
from swiftlite.db.auditor import DbAuditor, DbAuditorOptions


@dataclass(frozen=True)
class AccountAuditorOptions(DbAuditorOptions):
    # Swift's name and default for the pace (databases a second; 0 = unlimited).
    accounts_per_second: float = 200.0


class AccountAuditor(DbAuditor):
    name = "account-auditor"
    recon_kind = "account"
    section = "account-auditor"
    kind = layout.ACCOUNT
    broker_cls = AccountBroker
    options: AccountAuditorOptions

    @property
    def per_second(self) -> float:
        return self.options.accounts_per_second


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-account-auditor CONF [once]``."""
    return daemon.main(
        "swiftlite-account-auditor",
        AccountAuditor.section,
        AccountAuditorOptions,
        AccountAuditor,
        argv,
    )
