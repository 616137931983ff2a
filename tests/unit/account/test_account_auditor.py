"""The account auditor: a bad account database goes to quarantined/accounts, a good one stays."""

from __future__ import annotations

import logging
import os

from swiftlite.account.auditor import AccountAuditor, AccountAuditorOptions
from swiftlite.account.broker import AccountBroker
from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout


def make(device, account):
    broker = AccountBroker.at(device, 2, account)
    broker.initialize(Timestamp(1000))
    for i in range(40):
        broker.put_container(f"c{i}", Timestamp(1001 + i), "0", i, i * 10, Timestamp(1001 + i))
    broker.merge_pending()
    broker.close()
    return broker


def test_audit_bad_account_database_is_quarantined(tmp_path):
    device = tmp_path / "node" / "sda"
    device.mkdir(parents=True)
    good = make(str(device), "AUTH_good")
    bad = make(str(device), "AUTH_bad")
    with open(bad.db_file, "r+b") as fh:
        fh.seek(4096)
        fh.write(b"\x00\xff" * 8)
    options = AccountAuditorOptions(
        devices=str(tmp_path / "node"), mount_check=False, accounts_per_second=0
    )

    stats = AccountAuditor(options, logger=logging.getLogger("test.aauditor")).run_once()

    assert stats == {"passes": 1, "failures": 1, "quarantined": 1}
    loc = layout.parse_db_path(bad.db_file)
    assert os.path.isdir(layout.quarantine_dir(loc.device_path, layout.ACCOUNT, loc.name_hash))
    assert good.exists()
