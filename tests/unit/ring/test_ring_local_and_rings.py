"""ring.local (the one "this node serves that device" rule) and ring.rings (RingSet)."""

from swiftlite.ring.local import is_local, local_devices
from swiftlite.ring.node import Node


def _node(**fields):
    """A ring node from device fields (id and device filled in when not given)."""
    return Node.from_dev({"id": 0, "device": "d1", **fields})


def test_is_local_matches_replication_address_or_any_ip():
    node = _node(ip="10.0.0.1", port=6201, replication_ip="10.1.0.1", replication_port=6301)
    assert is_local(node, "10.1.0.1", 6301)
    assert not is_local(node, "10.0.0.1", 6201)
    assert is_local(node, "0.0.0.0", 6301)  # noqa: S104
    assert not is_local(node, "0.0.0.0", 6201)  # noqa: S104


def test_is_local_falls_back_to_ip_port_and_ignores_brackets_and_case():
    assert is_local(_node(ip="127.0.0.1", port=6200), "127.0.0.1", 6200)
    assert not is_local(_node(ip="127.0.0.1", port=6200), "127.0.0.2", 6200)
    v6 = _node(ip="fe80::1", port=6200, replication_ip="FE80::2", replication_port=6200)
    assert is_local(v6, "[fe80::2]", 6200)
    assert is_local(v6, "*", 6200)
    assert not is_local(v6, "fe80::1", 6200)


def test_local_devices_skips_holes_and_keeps_ring_order():
    devs = [
        _node(id=0, ip="127.0.0.1", port=6200),
        None,
        _node(id=2, ip="127.0.0.2", port=6200),
        _node(id=3, ip="127.0.0.1", port=6200),
    ]
    assert [d.id for d in local_devices(devs, "127.0.0.1", 6200)] == [0, 3]


def test_ring_set_loads_each_ring_once_and_names_policy_rings(tmp_path):
    import pytest

    from swiftlite.ring import RingError
    from swiftlite.ring.builder import RingBuilder
    from swiftlite.ring.rings import RingSet

    for name in ("object", "object-1"):
        b = RingBuilder(4, 1, 1)
        b.add_dev(
            {"region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200, "device": "d", "weight": 1}
        )
        b.rebalance(seed=1)
        b.write_ring(str(tmp_path / f"{name}.ring.gz"))
    rings = RingSet(str(tmp_path))
    assert rings.get("object") is rings.object_ring(0)
    assert rings.object_ring(1).path == str(tmp_path / "object-1.ring.gz")
    with pytest.raises(RingError):
        rings.get("account")  # missing: an error each time, never cached
