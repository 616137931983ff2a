"""swiftlite-container-info / swiftlite-account-info on real database files."""

from __future__ import annotations

import pytest

from swiftlite.account.broker import AccountBroker
from swiftlite.cli.db_info import account_main, container_main
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker


@pytest.fixture
def container_db(tmp_path):
    (tmp_path / "sda").mkdir()
    broker = ContainerBroker.at(str(tmp_path / "sda"), 5, "acct", "cont")
    broker.initialize(Timestamp(1700000000), storage_policy_index=2)
    broker.put_object("o", Timestamp(1700000001), 42, "text/plain", "e", storage_policy_index=2)
    # written under policy 0 (a split): misplaced, counted apart from the container's own
    broker.put_object("elsewhere", Timestamp(1700000001), 7, "text/plain", "e")
    broker.merge_pending()
    broker.put_object("queued", Timestamp(1700000002), 1, "text/plain", "e", storage_policy_index=2)
    broker.update_metadata({"X-Container-Meta-Color": ("blue", Timestamp(1700000003))})
    broker.close()
    return broker.db_file


def test_container_info_prints_names_counts_metadata_and_pending(container_db, capsys):
    assert container_main([container_db]) == 0
    out = capsys.readouterr().out
    assert "Account: acct" in out
    assert "Container: cont" in out
    assert "Object count: 1" in out  # the queued update is reported, not merged
    assert "Bytes used: 42" in out
    assert "Misplaced object count: 1" in out
    assert "Misplaced bytes used: 7" in out
    assert "Storage policy index: 2" in out
    assert "Pending journal: " in out
    assert "0 bytes" not in out.split("Pending journal: ")[1].split("\n")[0]
    assert "X-Container-Meta-Color: 'blue'" in out
    assert "Put timestamp: 1700000000.00000 (2023-11-14T22:13:20.000000)" in out


def test_container_info_skips_ring_when_absent(container_db, tmp_path, capsys):
    assert container_main([container_db, "--swift-dir", str(tmp_path)]) == 0
    assert "Ring: no ring at" in capsys.readouterr().out


def test_container_info_prints_ring_placement(container_db, tmp_path, capsys):
    from swiftlite.ring.builder import RingBuilder

    builder = RingBuilder(3, 1, 0)
    builder.add_dev(
        {"region": 1, "zone": 1, "ip": "10.1.2.3", "port": 6201, "device": "d9", "weight": 1}
    )
    builder.rebalance(seed=1)
    builder.write_ring(str(tmp_path / "container.ring.gz"))
    assert container_main([container_db, "--swift-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Ring: partition " in out
    assert "10.1.2.3:6201/d9" in out


def test_account_info_shows_status(tmp_path, capsys):
    (tmp_path / "sda").mkdir()
    broker = AccountBroker.at(str(tmp_path / "sda"), 1, "acct")
    broker.initialize(Timestamp(1700000000))
    broker.delete_db(Timestamp(1700000100))
    broker.close()
    assert account_main([broker.db_file]) == 0
    out = capsys.readouterr().out
    assert "Status: DELETED" in out
    assert "Deleted: yes" in out


def test_missing_file_exits_1(tmp_path, capsys):
    assert container_main([str(tmp_path / "none.db")]) == 1
    assert "no such database" in capsys.readouterr().err


def test_wrong_kind_of_database_exits_1(container_db, capsys):
    assert account_main([container_db]) == 1
    assert "not a readable account database" in capsys.readouterr().err
