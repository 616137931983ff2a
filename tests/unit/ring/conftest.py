"""Fixtures for ring tests: a cluster config with a hash prefix/suffix, and builder factories."""

import pytest

from swiftlite.ring.builder import RingBuilder


@pytest.fixture(autouse=True)
def hash_conf(tmp_path, monkeypatch):
    """A swiftlite.conf with prefix ``p`` and suffix ``s``, set in $SWIFTLITE_CONF."""
    conf = tmp_path / "swiftlite.conf"
    conf.write_text("[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n")
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    return conf


def build(part_power=8, replicas=3, zones=5, servers=2, disks=2, weight=100.0, mph=1, region=1):
    """A builder with ``zones`` x ``servers`` x ``disks`` devices of equal weight."""
    b = RingBuilder(part_power, replicas, mph)
    for z in range(1, zones + 1):
        for s in range(servers):
            for d in range(disks):
                b.add_dev(
                    {
                        "region": region,
                        "zone": z,
                        "ip": f"10.{region}.{z}.{s}",
                        "port": 6200,
                        "device": f"d{d}",
                        "weight": weight,
                    }
                )
    return b


@pytest.fixture
def make_builder():
    """Factory: ``make_builder(part_power=8, replicas=3, zones=5, servers=2, disks=2, ...)``."""
    return build


@pytest.fixture
def ring_file(tmp_path):
    """A rebalanced 5-zone ring (part power 8) written to ``object.ring.gz``; returns the path."""
    b = build()
    b.rebalance(seed=1)
    path = tmp_path / "object.ring.gz"
    b.write_ring(str(path))
    return path
