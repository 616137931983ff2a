"""ring.node.Node: the value the ring hands out for one device and replica."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from swiftlite.ring.node import Node


def test_node_without_replication_address_uses_its_main_one():
    node = Node(3, 1, 2, "10.0.0.1", 6200, "sdb")
    assert (node.replication_ip, node.replication_port) == ("10.0.0.1", 6200)
    assert node.replication_host == node.host == "10.0.0.1:6200"
    dev = Node.from_dev({"id": 3, "ip": "10.0.0.1", "port": 6200, "device": "sdb"})
    assert (dev.replication_ip, dev.replication_port) == ("10.0.0.1", 6200)


def test_node_keeps_a_replication_address_of_its_own_and_brackets_ipv6():
    node = Node(3, 1, 2, "fe80::1", 6200, "sdb", replication_ip="fe80::2", replication_port=6300)
    assert node.host == "[fe80::1]:6200"
    assert node.replication_host == "[fe80::2]:6300"


def test_as_dict_names_every_field_and_is_a_copy():
    node = Node.from_dev({"id": 1, "ip": "10.0.0.1", "port": 6200, "device": "d1"}, index=2)
    fields = node.as_dict()
    assert fields == {
        "id": 1,
        "region": 1,
        "zone": 1,
        "ip": "10.0.0.1",
        "port": 6200,
        "device": "d1",
        "replication_ip": "10.0.0.1",
        "replication_port": 6200,
        "weight": 0.0,
        "meta": "",
        "index": 2,
        "handoff_index": None,
    }
    fields["ip"] = "changed"
    assert node.ip == "10.0.0.1"


def test_as_handoff_clears_the_replica_index():
    node = Node(1, 1, 1, "10.0.0.1", 6200, "d1", index=0)
    handoff = node.as_handoff(4)
    assert (handoff.index, handoff.handoff_index) == (None, 4)
    assert replace(handoff, index=0, handoff_index=None) == node


def test_node_is_frozen_and_no_mapping():
    node = Node(1, 1, 1, "10.0.0.1", 6200, "d1")
    with pytest.raises(AttributeError):
        node.ip = "10.0.0.2"  # type: ignore[misc]
    assert not isinstance(node, Mapping)
    with pytest.raises(TypeError):
        node["ip"]  # type: ignore[index]
