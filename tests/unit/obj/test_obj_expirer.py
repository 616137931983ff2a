"""Object expirer: due queue entries become conditional DELETEs on every primary, which also
take the object out of the container listings; stale entries fail harmlessly and go away."""

from __future__ import annotations

import logging
import os
import time

import pytest
from objdaemon_helpers import Net, quiet_logger

from swiftlite.common import hashing, recon_cache
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import expiry_queue, layout
from swiftlite.obj.expirer import ObjectExpirer, ObjectExpirerOptions

# a day ahead: computed at collection, it must still be in the future when a long suite gets here
WHEN = int(time.time()) + 86400


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path, nodes=4, containers=True)
    net.make_container()
    return net


def expirer(net: Net, port: int, now: float = WHEN + 1, **overrides) -> ObjectExpirer:
    settings = {
        "devices": str(net.devices(port)),
        "mount_check": False,
        "swift_dir": str(net.swift_dir),
        "recon_cache_path": str(net.root / "recon"),
        "tasks_per_second": 0,
        **overrides,
    }
    options = ObjectExpirerOptions(**settings)
    return ObjectExpirer(options, quiet_logger("expirer"), net.request, clock=lambda: now)


def put_listed(net: Net, obj: str = "o", headers: dict | None = None) -> Timestamp:
    """PUT on every primary and into every container replica's listing (as the proxy would)."""
    _, primaries = net.placement(obj)
    stamp = net.put(primaries, obj, b"soon gone", headers=headers)
    cpart, cports = net.container_placement()
    for cport in cports:
        row = {
            "X-Timestamp": stamp.internal,
            "X-Size": "9",
            "X-Content-Type": "text/plain",
            "X-Etag": "0" * 32,
        }
        path = f"/{net.device(cport)}/{cpart}/a/c/{obj}"
        assert net.request("127.0.0.1", cport, "PUT", path, row).status == 201
    return stamp


def listed(net: Net) -> list[list[str]]:
    return [[row["name"] for row in net.listing(p)] for p in net.container_ports]


def entry_path(net: Net, port: int, when: int = WHEN, obj: str = "o") -> str:
    return layout.expiry_entry_path(net.dev_path(port), when, hashing.hash_path("a", "c", obj))


def test_expire_due_object_deletes_it_everywhere_and_unlists_it(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    assert listed(net) == [["o"], ["o"], ["o"]]
    summary = expirer(net, primaries[0]).run_once()
    for port in primaries:
        assert net.files(port, "o") == [f"{Timestamp(WHEN).internal}.ts"], port
        assert net.get(port, "o").status == 404
    assert listed(net) == [[], [], []]
    assert not os.path.exists(entry_path(net, primaries[0]))
    assert (summary["entries"], summary["finished"], summary["expired"]) == (1, 1, 1)
    assert summary["failures"] == 0


def test_expire_sends_conditional_deletes_with_container_replica_i(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    cpart, cports = net.container_placement()
    net.calls.clear()
    expirer(net, primaries[0]).run_once()
    deletes = [c for c in net.calls if c[1] == "DELETE" and c[0] in primaries]
    assert [c[0] for c in deletes] == primaries
    for i, (_, _, _, headers) in enumerate(deletes):
        assert headers["X-If-Delete-At"] == str(WHEN)
        assert headers["X-Timestamp"] == Timestamp(WHEN).internal
        assert headers["X-Container-Host"] == f"127.0.0.1:{cports[i]}"
        assert headers["X-Container-Device"] == net.device(cports[i])
        assert headers["X-Container-Partition"] == str(cpart)


def test_other_replicas_entries_finish_harmlessly_after_the_first(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    expirer(net, primaries[0]).run_once()
    for port in primaries[1:]:
        summary = expirer(net, port).run_once()
        assert (summary["finished"], summary["failures"]) == (1, 0)
        assert not os.path.exists(entry_path(net, port))


def test_entry_not_yet_due_is_left_alone(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    net.calls.clear()
    summary = expirer(net, primaries[0], now=WHEN - 1).run_once()
    assert summary["entries"] == 0
    assert net.calls == []
    assert os.path.exists(entry_path(net, primaries[0]))


def test_overwritten_object_survives_its_stale_entry(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    stamp = put_listed(net)  # a newer PUT without X-Delete-At
    _, primaries = net.placement("o")
    summary = expirer(net, primaries[0]).run_once()
    assert (summary["finished"], summary["expired"]) == (1, 0)
    for port in primaries:
        assert net.files(port, "o") == [f"{stamp.internal}.data"]
    assert listed(net) == [["o"], ["o"], ["o"]]
    assert not os.path.exists(entry_path(net, primaries[0]))


def test_post_that_moves_delete_at_keeps_the_object_until_the_new_time(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    later = WHEN + 7200
    post = {"X-Timestamp": Timestamp.now().internal, "X-Delete-At": str(later)}
    for port in primaries:
        assert net.object_request(port, "POST", "o", post).status == 202
    expirer(net, primaries[0]).run_once()  # the old entry: 412 everywhere
    assert net.get(primaries[0], "o").status == 200
    assert os.path.exists(entry_path(net, primaries[0], later))
    expirer(net, primaries[0], now=later).run_once()
    assert all(net.get(p, "o").status == 404 for p in primaries)
    assert listed(net) == [[], [], []]


def test_entry_stays_while_a_primary_is_down_then_finishes(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    net.down.add(primaries[2])
    summary = expirer(net, primaries[0]).run_once()
    assert summary["failures"] == 1
    assert os.path.exists(entry_path(net, primaries[0]))
    assert net.get(primaries[1], "o").status == 404
    net.down.clear()
    assert expirer(net, primaries[0]).run_once()["finished"] == 1
    assert net.files(primaries[2], "o") == [f"{Timestamp(WHEN).internal}.ts"]
    assert not os.path.exists(entry_path(net, primaries[0]))


def test_failure_line_escapes_a_line_break_in_the_object_name(net, caplog) -> None:
    name = "o\n2030-01-01 00:00:00 object-expirer: forged line"
    put_listed(net, obj=name, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement(name)
    net.down.add(primaries[2])
    logger = logging.getLogger("test.expirer-log-line")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        summary = ObjectExpirer(
            expirer(net, primaries[0]).options, logger, net.request, clock=lambda: WHEN + 1
        ).run_once()
    assert summary["failures"] == 1
    [line] = [r.getMessage() for r in caplog.records if "not deleted everywhere" in r.getMessage()]
    assert "\n" not in line
    assert "/a/c/o%0A2030-01-01" in line


def test_unreadable_entry_is_dropped(net) -> None:
    port = net.object_ports[0]
    path = entry_path(net, port)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as fh:
        fh.write(b"{not json")
    summary = expirer(net, port).run_once()
    assert summary["bad_entries"] == 1
    assert not os.path.exists(path)


def test_missing_object_ring_is_a_failure_not_a_crash(net) -> None:
    os.unlink(net.swift_dir / "object.ring.gz")
    assert expirer(net, net.object_ports[0]).run_once()["failures"] == 1


def test_run_pass_records_expirer_summary(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    expirer(net, primaries[0]).run_pass()
    stored = recon_cache.read(recon_cache.cache_path(str(net.root / "recon"), "object"))
    assert stored["object-expirer"]["expired"] == 1


def test_queue_entries_use_the_documented_layout(net) -> None:
    put_listed(net, headers={"X-Delete-At": str(WHEN)})
    _, primaries = net.placement("o")
    path = entry_path(net, primaries[0])
    assert expiry_queue.read_entry(path) == expiry_queue.Entry("a", "c", "o", WHEN)
