"""AccountAuditor: ``swiftlite-account-auditor CONF [once]``.

Checks every account database on this server's devices and quarantines a bad one (the walk,
checks, quarantine and the daemon's name and section are in ``db/auditor.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.account.broker import AccountBroker
from swiftlite.db import layout
from swiftlite.db.auditor import DbAuditor, DbAuditorOptions


@dataclass(frozen=True)
class AccountAuditorOptions(DbAuditorOptions):
    # Swift's name and default for the pace (databases a second; 0 = unlimited).
    accounts_per_second: float = 200.0


class AccountAuditor(DbAuditor):
    kind = layout.ACCOUNT
    broker_cls = AccountBroker


def main(argv: list[str] | None = None) -> int:
    return AccountAuditor.main(AccountAuditorOptions, argv)
