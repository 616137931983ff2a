"""update_targets: the X-<Kind>-Host/-Device/-Partition headers written by the proxy and the
daemons and read back by the object and container servers (moved here from the proxy's and the
expirer's tests when the three writers and two readers became this one module)."""

from __future__ import annotations

import pytest

from swiftlite.common.errors import BadInput
from swiftlite.common.update_targets import for_request, named, spread
from swiftlite.ring.node import Node


def test_update_targets_gives_object_node_i_container_replica_i():
    containers = [
        Node.from_dev({"id": i, "ip": f"10.0.0.{i}", "port": 6201, "device": f"c{i}"})
        for i in range(3)
    ]
    out = spread(3, containers, 7, "Container")
    assert [h["X-Container-Host"] for h in out] == [
        "10.0.0.0:6201",
        "10.0.0.1:6201",
        "10.0.0.2:6201",
    ]
    assert {h["X-Container-Partition"] for h in out} == {"7"}
    assert out[2]["X-Container-Device"] == "c2"


def test_update_targets_appends_extra_replicas_comma_separated():
    accounts = [Node.from_dev({"id": i, "ip": "h", "port": i, "device": f"a{i}"}) for i in range(5)]
    out = spread(3, accounts, 1, "Account")
    assert out[0]["X-Account-Host"] == "h:0,h:3"
    assert out[0]["X-Account-Device"] == "a0,a3"
    assert out[1]["X-Account-Host"] == "h:1,h:4"
    assert out[2]["X-Account-Host"] == "h:2"


def test_update_targets_with_fewer_replicas_reuses_them():
    one = Node.from_dev({"id": 0, "ip": "h", "port": 1, "device": "d"})
    out = spread(3, [one], 0, "Container")
    assert [h["X-Container-Host"] for h in out] == ["h:1"] * 3


def test_container_headers_pair_node_i_with_replica_i_and_wrap() -> None:
    nodes = [
        Node.from_dev({"id": 0, "ip": "10.0.0.1", "port": 1, "device": "a"}),
        Node.from_dev({"id": 1, "ip": "::1", "port": 2, "device": "b"}),
    ]
    assert for_request(1, nodes, 5, "Container") == {
        "X-Container-Host": "[::1]:2",
        "X-Container-Device": "b",
        "X-Container-Partition": "5",
    }
    assert for_request(2, nodes, 5, "Container")["X-Container-Device"] == "a"
    assert for_request(0, [], None, "Container") == {}


def test_spread_brackets_an_ipv6_replica_as_the_daemons_do() -> None:
    # the proxy wrote "::1:6201" while the reaper and expirer wrote "[::1]:6201"
    v6 = Node.from_dev({"id": 0, "ip": "fd00::7", "port": 6201, "device": "c0"})
    assert spread(1, [v6], 3, "Container")[0]["X-Container-Host"] == "[fd00::7]:6201"


def test_named_reads_back_what_spread_wrote() -> None:
    replicas = [
        Node.from_dev({"id": 0, "ip": "fd00::7", "port": 6201, "device": "c0"}),
        Node.from_dev({"id": 1, "ip": "10.0.0.2", "port": 6202, "device": "c1"}),
    ]
    headers = spread(1, replicas, 9, "Account")[0]
    part, found = named(headers, "Account")  # type: ignore[misc]
    assert part == 9
    assert [(r.ip, r.port, r.device) for r in found] == [
        ("fd00::7", 6201, "c0"),
        ("10.0.0.2", 6202, "c1"),
    ]
    assert found[0].host == "[fd00::7]:6201"


def test_named_is_none_when_the_request_names_no_replica() -> None:
    assert named({}, "Container") is None
    assert named({"X-Container-Partition": "3"}, "Container") is None


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Container-Host": "h:1,h:2", "X-Container-Device": "d", "X-Container-Partition": "1"},
        {"X-Container-Host": "h:1", "X-Container-Device": "d", "X-Container-Partition": "x"},
        {"X-Container-Host": "h:1", "X-Container-Device": "d", "X-Container-Partition": "\u00b2"},
        {"X-Container-Host": "h", "X-Container-Device": "d", "X-Container-Partition": "1"},
        {"X-Container-Host": "h:123456", "X-Container-Device": "d", "X-Container-Partition": "1"},
        {"X-Container-Host": ":1", "X-Container-Device": "d", "X-Container-Partition": "1"},
        {"X-Container-Host": "h:1", "X-Container-Device": "d", "X-Container-Partition": "1" * 5000},
        {"X-Container-Host": "\u00a0:1", "X-Container-Device": "d", "X-Container-Partition": "1"},
        {"X-Container-Host": "h:\udcff", "X-Container-Device": "d", "X-Container-Partition": "1"},
    ],
    ids=[
        "unpaired",
        "partition-word",
        "partition-superscript",
        "no-port",
        "long-port",
        "no-ip",
        "partition-5000-digits",
        "nbsp-ip",
        "port-not-utf8",
    ],
)
def test_named_refuses_headers_that_do_not_name_replicas(headers: dict[str, str]) -> None:
    with pytest.raises(BadInput):
        named(headers, "Container")
