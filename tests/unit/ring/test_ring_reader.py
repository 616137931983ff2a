"""Ring: lookups, the nodes it hands out, handoff order, and reloading when the file changes."""

import pytest

from swiftlite.common.errors import ConfigError
from swiftlite.common.hashing import hash_path_digest
from swiftlite.ring import Ring
from swiftlite.ring import ring as ring_module

NODE_KEYS = {"id", "region", "zone", "ip", "port", "device", "weight", "meta", "index",
             "replication_ip", "replication_port"}  # fmt: skip


def expected_part(a, c=None, o=None, part_power=8):
    return int.from_bytes(hash_path_digest(a, c, o)[:4], "big") >> (32 - part_power)


def test_ring_geometry_matches_builder(ring_file):
    ring = Ring(str(ring_file))
    assert (ring.part_power, ring.replica_count, ring.partition_count) == (8, 3, 256)
    assert len(ring.devs) == 20
    assert ring.devs[0].device == "d0"


@pytest.mark.parametrize(
    "name", [("AUTH_test",), ("AUTH_test", "c"), ("AUTH_test", "c", "o"), ("a", "c", "ü/x y")]
)
def test_get_part_matches_hash_path_digest(ring_file, name):
    assert Ring(str(ring_file)).get_part(*name) == expected_part(*name)


def test_get_part_object_without_container_raises(ring_file):
    with pytest.raises(ValueError, match="needs a container"):
        Ring(str(ring_file)).get_part("a", None, "o")


def test_get_part_without_hash_config_raises_config_error(ring_file, monkeypatch, tmp_path):
    empty = tmp_path / "empty.conf"
    empty.write_text("[swift-hash]\n")
    monkeypatch.setenv("SWIFTLITE_CONF", str(empty))
    with pytest.raises(ConfigError):
        Ring(str(ring_file)).get_part("a")


def test_get_nodes_returns_primaries_with_index(ring_file, make_builder):
    ring = Ring(str(ring_file))
    part, nodes = ring.get_nodes("AUTH_test", "c", "o")
    assert part == expected_part("AUTH_test", "c", "o")
    assert [n.index for n in nodes] == [0, 1, 2]
    assert all(set(n.as_dict()) == NODE_KEYS | {"handoff_index"} for n in nodes)
    assert all(n.handoff_index is None for n in nodes)  # a primary is no handoff
    assert len({n.id for n in nodes}) == 3
    assert len({n.zone for n in nodes}) == 3
    assert ring.get_part_nodes(part) == nodes


def test_get_nodes_nodes_are_shared_per_device_and_replica(ring_file):
    ring = Ring(str(ring_file))
    part, nodes = ring.get_nodes("a", "c", "o")
    assert ring.get_part_nodes(part)[0] is nodes[0]


def test_get_more_nodes_excludes_primaries_and_yields_every_other_device_once(ring_file):
    ring = Ring(str(ring_file))
    for part in (0, 17, 255):
        primaries = {n.id for n in ring.get_part_nodes(part)}
        handoffs = list(ring.get_more_nodes(part))
        ids = [n.id for n in handoffs]
        assert len(ids) == len(set(ids)) == 20 - 3
        assert not primaries & set(ids)
        assert [n.handoff_index for n in handoffs] == list(range(17))
        assert all(n.index is None for n in handoffs)


def test_get_more_nodes_prefers_unused_zones_then_servers(ring_file):
    ring = Ring(str(ring_file))
    for part in range(0, 256, 15):
        zones = {n.zone for n in ring.get_part_nodes(part)}
        servers = {(n.ip, n.port) for n in ring.get_part_nodes(part)}
        handoffs = list(ring.get_more_nodes(part))
        first_two = handoffs[:2]  # 5 zones, 3 used: the next two are the unused zones
        assert {n.zone for n in first_two} == {1, 2, 3, 4, 5} - zones
        servers |= {(n.ip, n.port) for n in first_two}
        next_ones = handoffs[2:7]  # then the 5 servers (of 10) no node uses yet
        assert all((n.ip, n.port) not in servers for n in next_ones)
        assert len({(n.ip, n.port) for n in next_ones}) == 5


def test_get_more_nodes_same_partition_same_order(ring_file):
    a = [n.id for n in Ring(str(ring_file)).get_more_nodes(42)]
    b = [n.id for n in Ring(str(ring_file)).get_more_nodes(42)]
    assert a == b


def test_get_more_nodes_multi_region_prefers_other_region(tmp_path, make_builder):
    b = make_builder(zones=2, servers=1, disks=2)
    for z in (1, 2):
        for d in range(2):
            b.add_dev({"region": 2, "zone": z, "ip": f"10.2.{z}.0", "port": 6200,
                       "device": f"d{d}", "weight": 100.0})  # fmt: skip
    b.rebalance(seed=1)
    path = str(tmp_path / "two.ring.gz")
    b.write_ring(path)
    ring = Ring(path)
    for part in range(0, 256, 31):
        regions = {n.region for n in ring.get_part_nodes(part)}
        first = next(ring.get_more_nodes(part))
        if regions != {1, 2}:
            assert first.region not in regions


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _rewrite_with_new_device(path, make_builder):
    b = make_builder()
    b.add_dev({"region": 1, "zone": 9, "ip": "10.9.9.9", "port": 6200, "device": "x",
               "weight": 100.0})  # fmt: skip
    b.rebalance(seed=7)
    b.write_ring(str(path))


def test_ring_reloads_after_reload_time_when_file_changed(ring_file, make_builder, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(ring_module, "_monotonic", clock)
    ring = Ring(str(ring_file), reload_time=15.0)
    assert len(ring.devs) == 20
    _rewrite_with_new_device(ring_file, make_builder)
    assert ring.has_changed()
    clock.now += 10.0
    ring.get_nodes("a")
    assert len(ring.devs) == 20  # not yet: reload_time has not passed
    clock.now += 6.0
    ring.get_nodes("a")
    assert len(ring.devs) == 21
    assert not ring.has_changed()


def test_ring_reload_of_corrupt_file_keeps_old_ring(ring_file, monkeypatch, caplog):
    clock = Clock()
    monkeypatch.setattr(ring_module, "_monotonic", clock)
    ring = Ring(str(ring_file), reload_time=1.0)
    before = ring.get_nodes("a", "c", "o")
    ring_file.write_bytes(b"garbage")
    clock.now += 2.0
    assert ring.get_nodes("a", "c", "o") == before
    assert "keeping the loaded ring" in caplog.text
    assert str(ring_file) in caplog.text


def test_proxy_loads_every_policys_ring_and_reloads_a_changed_one(
    ring_file, make_builder, monkeypatch
):
    from swiftlite.common import policies
    from swiftlite.proxy.server import ProxyApp, ProxyOptions
    from tests.support.policy_conf import numbered, parse_policies

    monkeypatch.setattr(policies, "load", lambda: parse_policies(numbered(2)))
    clock = Clock()
    monkeypatch.setattr(ring_module, "_monotonic", clock)
    swift_dir = ring_file.parent
    for kind in ("account", "container", "object-1"):
        (swift_dir / f"{kind}.ring.gz").write_bytes(ring_file.read_bytes())
    app = ProxyApp(ProxyOptions(swift_dir=str(swift_dir)))
    silver = app.get_object_ring(1)
    assert silver is not app.get_object_ring(0)
    assert silver.path.endswith("object-1.ring.gz")
    assert len(silver.devs) == 20
    _rewrite_with_new_device(swift_dir / "object-1.ring.gz", make_builder)
    clock.now += 16.0
    silver.get_nodes("a", "c", "o")
    assert len(app.get_object_ring(1).devs) == 21  # policy 1's ring reloaded in place
    assert len(app.get_object_ring(0).devs) == 20  # policy 0's file did not change
