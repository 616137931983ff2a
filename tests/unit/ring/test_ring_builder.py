"""RingBuilder: device changes, rebalance rules, min_part_hours, and the builder file."""

import json
import re

import pytest

from swiftlite.common.errors import SwiftliteError
from swiftlite.ring import RingError
from swiftlite.ring.builder import RingBuilder
from swiftlite.ring.devices import NO_DEV
from swiftlite.ring.errors import RingBuilderError

DEV = {"region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200, "device": "d1", "weight": 100.0}


def table_of(b):
    return [list(row) for row in b.replica2part2dev]


def test_add_dev_without_id_takes_lowest_free_id():
    b = RingBuilder(4, 1, 0)
    assert b.add_dev(DEV) == 0
    assert b.add_dev({**DEV, "id": 5, "device": "d5"}) == 5
    assert b.add_dev({**DEV, "device": "d2"}) == 1
    assert [d.id if d else None for d in b.devs] == [0, 1, None, None, None, 5]


def test_add_dev_same_ip_port_device_is_refused():
    b = RingBuilder(4, 1, 0)
    b.add_dev(DEV)
    with pytest.raises(RingBuilderError, match="duplicate device"):
        b.add_dev({**DEV, "zone": 2})


def test_add_dev_taken_id_is_refused():
    b = RingBuilder(4, 1, 0)
    b.add_dev(DEV)
    with pytest.raises(RingBuilderError, match="duplicate device id 0"):
        b.add_dev({**DEV, "id": 0, "device": "other"})


def test_ring_errors_are_swiftlite_errors():
    assert issubclass(RingError, SwiftliteError)
    assert issubclass(RingBuilderError, RingError)


@pytest.mark.parametrize(("pp", "reps", "mph"), [(-1, 3, 1), (25, 3, 1), (8, 0, 1), (8, 2.5, 1),
                                                 (8, 3, -1)])  # fmt: skip
def test_create_bad_geometry_raises(pp, reps, mph):
    with pytest.raises(RingBuilderError):
        RingBuilder(pp, reps, mph)


def test_rebalance_fewer_devices_than_replicas_raises():
    b = RingBuilder(4, 3, 0)
    b.add_dev(DEV)
    b.add_dev({**DEV, "device": "d2"})
    with pytest.raises(RingBuilderError, match="at least 3 devices"):
        b.rebalance(seed=1)


def test_rebalance_first_build_assigns_every_replica(make_builder):
    b = make_builder()
    changed, balance, removed = b.rebalance(seed=3)
    assert (changed, removed) == (b.parts, 0)
    assert balance < 2.0  # 256*3/20 = 38.4 per device: rounding alone is 1.6%
    assert all(NO_DEV not in row for row in b.replica2part2dev)
    assert b.dispersion == 0.0


def test_rebalance_same_seed_same_table(make_builder):
    a, b = make_builder(), make_builder()
    a.rebalance(seed=42)
    b.rebalance(seed=42)
    assert table_of(a) == table_of(b)


def test_rebalance_different_seed_different_table(make_builder):
    a, b = make_builder(), make_builder()
    a.rebalance(seed=1)
    b.rebalance(seed=2)
    assert table_of(a) != table_of(b)


def test_rebalance_twice_second_moves_nothing(make_builder):
    b = make_builder(mph=0)
    b.rebalance(seed=1)
    before = table_of(b)
    changed, _, _ = b.rebalance(seed=2)
    assert changed == 0
    assert table_of(b) == before


def test_rebalance_within_min_part_hours_moves_no_partition_twice(make_builder):
    b = make_builder(mph=1)
    b.rebalance(seed=1, now=1000.0)
    b.add_dev({**DEV, "zone": 1, "ip": "10.1.1.9", "device": "new"})
    changed, _, _ = b.rebalance(seed=1, now=1000.0 + 1800)  # half an hour later
    assert changed == 0
    assert b.counts().get(b.devs[-1].id, 0) == 0


def test_rebalance_after_min_part_hours_moves_one_replica_per_partition(make_builder):
    b = make_builder(mph=1)
    b.rebalance(seed=1, now=1000.0)
    old = table_of(b)
    for z in (1, 2):
        b.add_dev({**DEV, "zone": z, "ip": f"10.1.{z}.9", "device": "new"})
    changed, _, _ = b.rebalance(seed=1, now=1000.0 + 3600)
    new = table_of(b)
    assert changed > 0
    for part in range(b.parts):
        assert sum(old[r][part] != new[r][part] for r in range(b.replicas)) <= 1


def test_pretend_min_part_hours_passed_lets_partitions_move(make_builder):
    b = make_builder(mph=24)
    b.rebalance(seed=1, now=1000.0)
    b.add_dev({**DEV, "zone": 1, "ip": "10.1.1.9", "device": "new"})
    assert b.min_part_seconds_left(now=1000.0) == 24 * 3600
    b.pretend_min_part_hours_passed()
    assert b.min_part_seconds_left(now=1000.0) == 0
    changed, _, _ = b.rebalance(seed=1, now=1001.0)
    assert changed > 0


def test_remove_dev_moves_all_its_replicas_even_within_min_part_hours(make_builder):
    b = make_builder(mph=1)
    b.rebalance(seed=1, now=1000.0)
    held = b.counts()[3]
    b.remove_dev(3)
    assert 3 in b.pending_removal()
    changed, _, removed = b.rebalance(seed=1, now=1000.0 + 60)
    assert removed == 1
    assert 3 not in b.counts()
    assert b.devs[3] is None
    assert changed >= held // 1  # every partition it held changed
    assert b.last_moved_replicas == held


def test_remove_dev_id_is_reused_only_after_rebalance(make_builder):
    b = make_builder(mph=0)
    b.rebalance(seed=1)
    b.remove_dev(0)
    assert b.add_dev({**DEV, "ip": "10.9.9.9"}) == len(b.devs) - 1 != 0
    b.rebalance(seed=1)
    assert b.add_dev({**DEV, "ip": "10.9.9.8"}) == 0


def test_set_dev_weight_zero_drains_device(make_builder):
    b = make_builder(mph=0)
    b.rebalance(seed=1)
    b.set_dev_weight(5, 0.0)
    b.rebalance(seed=1)
    assert b.counts().get(5, 0) == 0


def test_set_dev_weight_unknown_device_raises():
    b = RingBuilder(4, 1, 0)
    with pytest.raises(RingBuilderError, match="no device with id 9"):
        b.set_dev_weight(9, 1.0)


@pytest.mark.parametrize("bad", [-0.1, float("inf"), float("nan")])
def test_set_overload_bad_value_raises(bad):
    with pytest.raises(RingBuilderError):
        RingBuilder(4, 1, 0).set_overload(bad)


def test_save_load_round_trip_keeps_everything(tmp_path, make_builder):
    b = make_builder(mph=3)
    b.set_overload(0.25)
    b.rebalance(seed=9, now=5000.0)
    b.remove_dev(2)
    path = str(tmp_path / "object.builder")
    b.save(path)
    c = RingBuilder.load(path)
    assert c.to_dict() == b.to_dict()
    assert table_of(c) == table_of(b)
    assert c.pending_removal() == {2}
    assert (c.min_part_hours, c.overload, c.version) == (3, 0.25, b.version)


def test_load_missing_builder_names_file(tmp_path):
    path = str(tmp_path / "nope.builder")
    with pytest.raises(RingError, match=re.escape("nope.builder: cannot read builder file")):
        RingBuilder.load(path)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "not JSON"),
        (b"\x80\x81garbage", "not JSON"),
        (b'{"format": "other"}', "not a swiftlite builder"),
        (b'{"format": "swiftlite-builder", "version": 99}', "unsupported builder file version"),
        (b'{"format": "swiftlite-builder", "version": 1}', "corrupt builder file"),
    ],
)
def test_load_bad_builder_file_names_file(tmp_path, content, why):
    path = tmp_path / "bad.builder"
    path.write_bytes(content)
    with pytest.raises(RingError, match=f"bad.builder: .*{why}"):
        RingBuilder.load(str(path))


def test_load_builder_with_truncated_table_is_corrupt(tmp_path, make_builder):
    b = make_builder()
    b.rebalance(seed=1)
    data = b.to_dict()
    data["replica2part2dev"][0] = data["replica2part2dev"][0][:40]
    path = tmp_path / "cut.builder"
    path.write_text(json.dumps(data))
    with pytest.raises(RingError, match=re.escape("cut.builder: corrupt builder file")):
        RingBuilder.load(str(path))


def test_write_ring_before_rebalance_raises(tmp_path):
    b = RingBuilder(4, 1, 0)
    b.add_dev(DEV)
    with pytest.raises(RingBuilderError, match="rebalance first"):
        b.write_ring(str(tmp_path / "x.ring.gz"))
