"""The container auditor: sound databases pass, bad ones move whole to quarantine."""

from __future__ import annotations

import logging
import os
import sqlite3

import pytest

from swiftlite.common import recon_cache
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.auditor import ContainerAuditor, ContainerAuditorOptions
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout


@pytest.fixture
def devices(tmp_path):
    for name in ("sda", "sdb"):
        (tmp_path / "node" / name).mkdir(parents=True)
    return tmp_path / "node"


def make(devices, device, name, rows=50):
    broker = ContainerBroker.at(str(devices / device), 3, "AUTH_a", name)
    broker.initialize(Timestamp(1000))
    for i in range(rows):
        broker.put_object(f"o{i}", Timestamp(1001 + i), 1, "t", "e" * 32)
    broker.merge_pending()
    broker.close()
    return broker


def smash_page(path, page):
    with open(path, "r+b") as fh:
        fh.seek(page * 4096)
        fh.write(b"\xff" * 16)


def auditor(devices, tmp_path, **overrides):
    options = ContainerAuditorOptions(
        devices=str(devices),
        mount_check=False,
        containers_per_second=0,
        recon_cache_path=str(tmp_path),
        **overrides,
    )
    return ContainerAuditor(options, logger=logging.getLogger("test.cauditor"))


def quarantined(broker):
    loc = layout.parse_db_path(broker.db_file)
    return layout.quarantine_dir(loc.device_path, layout.CONTAINER, loc.name_hash)


def test_audit_sound_databases_pass_and_stay(devices, tmp_path):
    good = [make(devices, "sda", "c1"), make(devices, "sdb", "c2")]
    stats = auditor(devices, tmp_path).run_once()
    assert stats == {"passes": 2, "failures": 0, "quarantined": 0}
    assert all(b.exists() for b in good)


def test_audit_damaged_page_quarantines_whole_directory(devices, tmp_path):
    good = make(devices, "sda", "good")
    bad = make(devices, "sdb", "bad")
    smash_page(bad.db_file, 2)

    stats = auditor(devices, tmp_path).run_once()

    assert stats == {"passes": 1, "failures": 1, "quarantined": 1}
    assert not os.path.exists(bad.db_dir)
    target = quarantined(bad)
    assert os.path.isfile(os.path.join(target, os.path.basename(bad.db_file)))
    assert good.exists()


def test_audit_foreign_sqlite_file_is_quarantined(devices, tmp_path):
    broker = make(devices, "sda", "c1", rows=0)
    os.unlink(broker.db_file)
    raw = sqlite3.connect(broker.db_file)
    raw.execute("CREATE TABLE t (x)")
    raw.close()

    stats = auditor(devices, tmp_path).run_once()

    assert stats["quarantined"] == 1
    assert os.path.isdir(quarantined(broker))


def test_audit_full_check_also_finds_damage(devices, tmp_path):
    bad = make(devices, "sda", "bad")
    smash_page(bad.db_file, 3)
    stats = auditor(devices, tmp_path, full_check=True).run_once()
    assert stats["quarantined"] == 1


def test_audit_pass_summary_reaches_recon_cache(devices, tmp_path):
    make(devices, "sda", "c1")
    auditor(devices, tmp_path).run_pass()
    stored = recon_cache.read(recon_cache.cache_path(str(tmp_path), "container"))
    assert stored["container-auditor"]["passes"] == 1
    assert "duration" in stored["container-auditor"]


def test_audit_skips_missing_devices_dir(tmp_path):
    stats = auditor(tmp_path / "absent", tmp_path).run_once()
    assert stats == {"passes": 0, "failures": 0, "quarantined": 0}
