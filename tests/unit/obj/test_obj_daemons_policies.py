"""The object daemons walk every storage policy: policy 1's async_pending-1/, objects-1/ and
expiry entries are handled with policy 1's ring and name it to the servers they call."""

from __future__ import annotations

import logging
import os
import shutil
import time

import pytest
from objdaemon_helpers import Net, quiet_logger
from objtest_helpers import PART, put

from swiftlite.common import hashing, policies
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import expiry_queue, layout, updates
from swiftlite.obj.auditor import ObjectAuditor, ObjectAuditorOptions
from swiftlite.obj.expirer import ObjectExpirer, ObjectExpirerOptions
from swiftlite.obj.updater import ObjectUpdater, ObjectUpdaterOptions
from tests.support.policy_conf import numbered, parse_policies

POLICY_1 = {policies.INDEX_HEADER: "1"}


@pytest.fixture(autouse=True)
def two_policies(monkeypatch):
    pols = parse_policies(numbered(2))
    monkeypatch.setattr(policies, "load", lambda: pols)


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path, nodes=4, containers=True)
    net.make_container()
    shutil.copy(net.swift_dir / "object.ring.gz", net.swift_dir / "object-1.ring.gz")
    return net


def test_updater_sends_policy_1_records_naming_policy_1(net) -> None:
    port = net.object_ports[0]
    cpart, cports = net.container_placement()
    stamp = Timestamp.now()
    update = ListingUpdate("PUT", "a", "c", "o", stamp, 5, "text/plain", "0" * 32, trans_id="tx1")
    headers = update.to_headers()  # no index in it
    targets = tuple(updates.Target(f"127.0.0.1:{p}", net.device(p)) for p in cports)
    record = updates.AsyncPending("PUT", "a", "c", "o", headers, str(cpart), targets)
    name_hash = hashing.hash_path("a", "c", "o")
    path = updates.write_async_pending(net.dev_path(port), name_hash, stamp, record, 1)
    assert "/async_pending-1/" in path
    options = ObjectUpdaterOptions(
        devices=str(net.devices(port)),
        mount_check=False,
        objects_per_second=0,
        recon_cache_path=str(net.root / "recon"),
    )
    summary = ObjectUpdater(options, quiet_logger("updater"), net.request).run_once()
    assert summary["successes"] == 1
    assert not os.path.exists(path)
    sent = [h for p, m, path, h in net.calls if m == "PUT" and path.endswith("/c/o")]
    assert len(sent) == 3
    assert {h[policies.INDEX_HEADER] for h in sent} == {"1"}


def test_expirer_deletes_a_policy_1_object_in_objects_1(net) -> None:
    when = int(time.time()) + 600
    _, primaries = net.placement("o")
    headers = {**POLICY_1, "X-Delete-At": str(when)}
    net.put(primaries, "o", b"soon gone", headers=headers)
    name_hash = hashing.hash_path("a", "c", "o")
    [entry_path] = list(expiry_queue.due(net.dev_path(primaries[0]), when + 1))
    assert expiry_queue.read_entry(entry_path).policy == 1
    options = ObjectExpirerOptions(
        devices=str(net.devices(primaries[0])),
        mount_check=False,
        swift_dir=str(net.swift_dir),
        recon_cache_path=str(net.root / "recon"),
        tasks_per_second=0,
    )
    expirer = ObjectExpirer(options, quiet_logger("expirer"), net.request, clock=lambda: when + 1)
    assert expirer.run_once()["expired"] == 1
    for port in primaries:
        resp = net.object_request(port, "GET", "o", POLICY_1)
        assert resp.status == 404
        part, _ = net.placement("o")
        files = os.listdir(layout.hash_dir(net.dev_path(port), part, name_hash, 1))
        assert [f for f in files if f.endswith(".ts")]


def test_auditor_quarantines_policy_1_files_under_quarantined_objects_1(app, devices, dev_path):
    put(app, "o", b"hello world", headers=POLICY_1)
    name_hash = hashing.hash_path("a", "c", "o")
    hash_dir = layout.hash_dir(dev_path, PART, name_hash, 1)
    [name] = os.listdir(hash_dir)
    with open(os.path.join(hash_dir, name), "r+b") as fh:
        fh.write(b"j")
    put(app, "zero", b"policy zero")
    os.makedirs(os.path.join(dev_path, "objects-7", "1"))  # no such policy: left alone
    options = ObjectAuditorOptions(
        devices=devices, mount_check=False, files_per_second=0, bytes_per_second=0
    )
    summary = ObjectAuditor(options, logging.getLogger("test.auditor")).run_once()
    assert summary["quarantined"] == 1
    assert summary["files_checked"] == 1
    assert summary["policy_files_checked"] == {"0": 1, "1": 0}
    moved = os.path.join(dev_path, "quarantined", "objects-1", name_hash, name)
    assert os.path.exists(moved)
