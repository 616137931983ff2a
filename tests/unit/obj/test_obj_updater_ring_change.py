"""Object updater after a container ring change: async_pending records are replayed to the
container's current primaries (looked up again in the ring), not to the replicas recorded when
the update was queued, and stay until every current primary has taken them."""

from __future__ import annotations

import os

import pytest
from objdaemon_helpers import CONTAINER_BASE_PORT, Net, quiet_logger

from swiftlite.common import hashing
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.server import app_factory
from swiftlite.obj import updates
from swiftlite.obj.updater import ObjectUpdater, ObjectUpdaterOptions, replay_plan


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path, nodes=3, containers=True)
    net.make_container()
    return net


def updater(net: Net, port: int) -> ObjectUpdater:
    options = ObjectUpdaterOptions(
        devices=str(net.devices(port)),
        mount_check=False,
        swift_dir=str(net.swift_dir),
        objects_per_second=0,
        recon_cache_path=str(net.root / "recon"),
    )
    return ObjectUpdater(options, quiet_logger("updater"), net.request)


def target(net: Net, port: int) -> updates.Target:
    return updates.Target(f"127.0.0.1:{port}", net.device(port))


def queue_put(net: Net, port: int) -> str:
    """An async_pending PUT naming the container replicas of the ring as it is now."""
    stamp = Timestamp.now()
    cpart, cports = net.container_placement()
    record = updates.AsyncPending(
        "PUT",
        "a",
        "c",
        "o",
        ListingUpdate(
            "PUT", "a", "c", "o", stamp, 5, "text/plain", "0" * 32, trans_id="tx1"
        ).to_headers(),
        str(cpart),
        tuple(target(net, p) for p in cports),
    )
    name_hash = hashing.hash_path("a", "c", "o")
    return updates.write_async_pending(net.dev_path(port), name_hash, stamp, record)


def move_containers(net: Net, ports: list[int]) -> None:
    """Rebuild the container ring over ``ports`` (starting servers for new ones) and create the
    container on its new primaries, as container replication would."""
    for port in ports:
        if port not in net.apps:
            (net.devices(port) / net.device(port)).mkdir(parents=True)
            net.apps[port] = app_factory(
                {},
                devices=str(net.devices(port)),
                mount_check="false",
                swift_dir=str(net.swift_dir),
                log_requests="false",
                account_update_interval="3600",
            )
    net._write_ring("container", ports)
    net.container_ports = ports
    net.make_container()


def names(net: Net, port: int) -> list[str]:
    return [row["name"] for row in net.listing(port)]


def test_update_queued_before_ring_change_reaches_new_primaries_not_stale_ones(net) -> None:
    port = net.object_ports[0]
    _, old = net.container_placement()
    path = queue_put(net, port)
    new = [CONTAINER_BASE_PORT + 10 + i for i in range(3)]
    move_containers(net, new)  # the old servers still answer: only the ring says they left
    assert set(net.container_placement()[1]) == set(new)

    summary = updater(net, port).run_once()

    assert summary["successes"] == 1
    assert not os.path.exists(path)
    assert [names(net, p) for p in new] == [["o"], ["o"], ["o"]]
    assert not {c[0] for c in net.calls if c[1] == "PUT" and c[2].endswith("/o")} & set(old)


def test_stale_record_stays_until_every_current_primary_took_it(net) -> None:
    port = net.object_ports[0]
    _, old = net.container_placement()
    path = queue_put(net, port)
    move_containers(net, [*old, CONTAINER_BASE_PORT + 3])
    cpart, current = net.container_placement()
    added = [p for p in current if p not in old]
    assert added, "the rebalance should give the container a new primary"
    net.down.add(added[0])

    summary = updater(net, port).run_once()

    assert (summary["failures"], summary["partial"]) == (1, 1)
    left = updates.read_async_pending(path)
    assert (left.partition, left.targets) == (str(cpart), (target(net, added[0]),))
    net.down.clear()
    net.calls.clear()
    assert updater(net, port).run_once()["successes"] == 1
    assert [c[0] for c in net.calls] == [added[0]]
    assert [names(net, p) for p in current] == [["o"]] * len(current)
    assert not os.path.exists(path)


def test_narrowed_record_with_unchanged_ring_goes_only_to_the_replica_that_missed_it(net) -> None:
    port = net.object_ports[0]
    _, cports = net.container_placement()
    path = queue_put(net, port)
    net.down.add(cports[1])
    assert updater(net, port).run_once()["partial"] == 1
    net.down.clear()
    net.calls.clear()
    assert updater(net, port).run_once()["successes"] == 1
    assert [c[0] for c in net.calls] == [cports[1]]
    assert not os.path.exists(path)


def test_replay_plan_uses_current_primaries_when_partition_or_targets_are_stale() -> None:
    a, b, c, d = (updates.Target(f"10.0.0.{i}:6201", "sda") for i in range(1, 5))
    current = updates.UpdatePlan("7", (a, b, d))

    def record(partition: str, *targets: updates.Target) -> updates.AsyncPending:
        return updates.AsyncPending("PUT", "a", "c", "o", {}, partition, targets)

    assert replay_plan(record("7", a, b), current) == updates.UpdatePlan("7", (a, b))
    assert replay_plan(record("7", a, c), current) == current  # c left the ring
    assert replay_plan(record("3", a, b), current) == current  # the partition moved
    assert replay_plan(record("7", updates.Target("nohost", "sda")), current) == current
    assert replay_plan(record("7", a, c), None) == updates.UpdatePlan("7", (a, c))
