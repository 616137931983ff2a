"""Object updater: async_pending records are resent to real container servers until every
named replica has them; partial successes narrow the record; the newest record wins."""

from __future__ import annotations

import os
import pathlib

import pytest
from objdaemon_helpers import Net, quiet_logger

from swiftlite.common import hashing, recon_cache
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import layout, updates
from swiftlite.obj.updater import ObjectUpdater, ObjectUpdaterOptions, parse_record_name


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path, nodes=3, containers=True)
    net.make_container()
    return net


def updater(net: Net, port: int, **overrides) -> ObjectUpdater:
    settings = {
        "devices": str(net.devices(port)),
        "mount_check": False,
        "objects_per_second": 0,
        "recon_cache_path": str(net.root / "recon"),
        **overrides,
    }
    return ObjectUpdater(ObjectUpdaterOptions(**settings), quiet_logger("updater"), net.request)


def pending(
    net: Net, op: str, stamp: Timestamp, obj: str = "o", ports=None
) -> updates.AsyncPending:
    cpart, cports = net.container_placement()
    if op == "PUT":
        headers = ListingUpdate(
            "PUT", "a", "c", obj, stamp, 5, "text/plain", "0" * 32, trans_id="tx1"
        ).to_headers()
    else:
        headers = ListingUpdate("DELETE", "a", "c", obj, stamp, trans_id="tx2").to_headers()
    targets = tuple(updates.Target(f"127.0.0.1:{p}", net.device(p)) for p in (ports or cports))
    return updates.AsyncPending(op, "a", "c", obj, headers, str(cpart), targets)


def write(net: Net, port: int, record: updates.AsyncPending, stamp: Timestamp) -> str:
    name_hash = hashing.hash_path("a", "c", record.obj)
    return updates.write_async_pending(net.dev_path(port), name_hash, stamp, record)


def names(net: Net, port: int) -> list[str]:
    return [row["name"] for row in net.listing(port)]


def test_update_reaching_every_replica_unlinks_the_record(net) -> None:
    port = net.object_ports[0]
    stamp = Timestamp.now()
    path = write(net, port, pending(net, "PUT", stamp), stamp)
    summary = updater(net, port).run_once()
    assert not os.path.exists(path)
    assert not os.path.exists(os.path.dirname(path))  # the emptied suffix dir goes too
    for cport in net.container_ports:
        (row,) = net.listing(cport)
        assert (row["name"], row["bytes"], row["hash"]) == ("o", 5, "0" * 32)
    assert summary == {"successes": 1, "failures": 0, "unlinked": 0, "quarantined": 0, "partial": 0}


def test_update_partial_failure_keeps_only_the_failed_targets(net) -> None:
    port = net.object_ports[0]
    stamp = Timestamp.now()
    path = write(net, port, pending(net, "PUT", stamp), stamp)
    _, cports = net.container_placement()
    net.down.add(cports[1])
    summary = updater(net, port).run_once()
    assert (summary["failures"], summary["partial"]) == (1, 1)
    left = updates.read_async_pending(path)
    assert left.targets == (updates.Target(f"127.0.0.1:{cports[1]}", net.device(cports[1])),)
    assert names(net, cports[0]) == ["o"]
    net.down.clear()
    net.calls.clear()
    assert updater(net, port).run_once()["successes"] == 1
    assert [c[0] for c in net.calls] == [cports[1]]  # only the replica that missed it
    assert names(net, cports[1]) == ["o"]
    assert not os.path.exists(path)


def test_update_with_every_target_down_keeps_the_record_unchanged(net) -> None:
    port = net.object_ports[0]
    stamp = Timestamp.now()
    path = write(net, port, pending(net, "PUT", stamp), stamp)
    before = pathlib.Path(path).read_bytes()
    net.down.update(net.container_ports)
    summary = updater(net, port).run_once()
    assert summary["failures"] == 1
    assert pathlib.Path(path).read_bytes() == before


def test_update_newest_record_per_object_wins(net) -> None:
    port = net.object_ports[0]
    put_at = Timestamp.now()
    deleted_at = Timestamp(put_at.seconds + 1)
    older = write(net, port, pending(net, "PUT", put_at), put_at)
    newer = write(net, port, pending(net, "DELETE", deleted_at), deleted_at)
    summary = updater(net, port).run_once()
    assert not os.path.exists(older)
    assert not os.path.exists(newer)
    assert summary["unlinked"] == 1
    assert summary["successes"] == 1
    assert {c[1] for c in net.calls if c[0] in net.container_ports and "/o" in c[2]} == {"DELETE"}
    for cport in net.container_ports:
        assert names(net, cport) == []


def test_update_corrupt_record_is_quarantined(net) -> None:
    port = net.object_ports[0]
    stamp = Timestamp.now()
    path = write(net, port, pending(net, "PUT", stamp), stamp)
    with open(path, "wb") as fh:
        fh.write(b"\x80not json")
    summary = updater(net, port).run_once()
    assert summary["quarantined"] == 1
    moved = os.path.join(layout.quarantine_async_dir(net.dev_path(port)), os.path.basename(path))
    assert pathlib.Path(moved).read_bytes() == b"\x80not json"
    assert not os.path.exists(path)


def test_update_record_whose_headers_name_no_update_is_quarantined_not_sent(net) -> None:
    port = net.object_ports[0]
    stamp = Timestamp.now()
    cpart, cports = net.container_placement()
    targets = tuple(updates.Target(f"127.0.0.1:{p}", net.device(p)) for p in cports)
    headers = {"X-Timestamp": stamp.internal}  # a PUT without X-Size, -Content-Type, -Etag
    path = write(
        net, port, updates.AsyncPending("PUT", "a", "c", "o", headers, str(cpart), targets), stamp
    )
    summary = updater(net, port).run_once()
    assert (summary["quarantined"], summary["failures"]) == (1, 0)
    assert not os.path.exists(path)
    for cport in cports:
        assert names(net, cport) == []


def test_update_after_object_server_failed_to_tell_containers(net) -> None:
    """The whole path: the object server writes the record, the updater delivers it."""
    port = net.object_ports[0]
    cpart, cports = net.container_placement()
    hdrs = {
        "X-Container-Host": ",".join(f"127.0.0.1:{p}" for p in cports),
        "X-Container-Device": ",".join(net.device(p) for p in cports),
        "X-Container-Partition": str(cpart),
    }
    net.down.update(cports)
    net.put([port], "o", b"hello", headers=hdrs)
    assert os.listdir(os.path.join(net.dev_path(port), "async_pending"))
    net.down.clear()
    assert [names(net, p) for p in cports] == [[], [], []]
    assert updater(net, port).run_once()["successes"] == 1
    assert [names(net, p) for p in cports] == [["o"], ["o"], ["o"]]
    assert os.listdir(os.path.join(net.dev_path(port), "async_pending")) == []


def test_run_pass_records_updater_summary(net) -> None:
    port = net.object_ports[0]
    updater(net, port).run_pass()
    stored = recon_cache.read(recon_cache.cache_path(str(net.root / "recon"), "object"))
    assert stored["object-updater"]["successes"] == 0


def test_parse_record_name_accepts_only_hash_dash_timestamp() -> None:
    name_hash = "a" * 32
    assert parse_record_name(f"{name_hash}-1700000000.00000") == (
        name_hash,
        Timestamp("1700000000.00000"),
    )
    assert parse_record_name("zzz-1700000000.00000") is None
    assert parse_record_name(f"{name_hash}-soon") is None
    assert parse_record_name(".tmp-123") is None
