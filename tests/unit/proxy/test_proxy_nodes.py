"""NodeIter order and ErrorLimiter suppression, with a fake ring and a fake clock."""

from __future__ import annotations

import pytest

from swiftlite.proxy.nodes import ErrorLimiter, NodeIter, node_key, request_node_count
from swiftlite.ring.node import Node


def _node(i: int, index: int | None) -> Node:
    return Node.from_dev({"id": i, "ip": "127.0.0.1", "port": 6000 + i, "device": f"d{i}"}, index)


class FakeRing:
    replica_count = 3

    def __init__(self, devices: int = 6) -> None:
        self.nodes = [_node(i, i if i < 3 else None) for i in range(devices)]

    def get_part_nodes(self, part: int) -> list[Node]:
        return self.nodes[:3]

    def get_more_nodes(self, part: int):
        yield from self.nodes[3:]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_node_iter_yields_primaries_then_handoffs_up_to_the_count():
    it = NodeIter(FakeRing(), 0, request_node_count=5)
    assert [n.id for n in it] == [0, 1, 2, 3, 4]
    assert it.handoffs_used == 2


def test_node_iter_default_count_is_twice_the_primaries():
    assert [n.id for n in NodeIter(FakeRing(8), 0)] == [0, 1, 2, 3, 4, 5]


def test_node_iter_skips_error_limited_nodes_and_uses_more_handoffs():
    ring = FakeRing()
    limiter = ErrorLimiter(60, 10, clock=Clock())
    limiter.limit(ring.nodes[1])
    limiter.limit(ring.nodes[3])
    assert [n.id for n in NodeIter(ring, 0, limiter, 4)] == [0, 2, 4, 5]


def test_node_iter_is_shareable_between_consumers():
    it = NodeIter(FakeRing(), 0, request_node_count=6)
    first = next(it)
    rest = list(it)
    assert [first.id, *[n.id for n in rest]] == [0, 1, 2, 3, 4, 5]


def test_node_iter_shuffle_keeps_the_same_primaries():
    it = NodeIter(FakeRing(), 0, request_node_count=3, shuffle=True)
    assert sorted(n.id for n in it) == [0, 1, 2]


def test_error_limiter_suppresses_after_more_than_limit_errors():
    clock = Clock()
    limiter = ErrorLimiter(60, 2, clock=clock)
    node = _node(0, 0)
    assert not limiter.increment(node)
    assert not limiter.increment(node)
    assert not limiter.is_limited(node)
    assert limiter.increment(node)
    assert limiter.is_limited(node)


def test_error_limiter_forgets_after_the_interval():
    clock = Clock()
    limiter = ErrorLimiter(60, 0, clock=clock)
    node = _node(0, 0)
    limiter.increment(node)
    assert limiter.is_limited(node)
    clock.now += 61
    assert not limiter.is_limited(node)
    assert limiter.errors(node) == 0


def test_error_limiter_old_errors_do_not_accumulate():
    clock = Clock()
    limiter = ErrorLimiter(60, 1, clock=clock)
    node = _node(0, 0)
    limiter.increment(node)
    clock.now += 100
    assert not limiter.increment(node)
    assert limiter.errors(node) == 1


def test_limit_suppresses_at_once():
    limiter = ErrorLimiter(60, 10, clock=Clock())
    node = _node(1, 0)
    limiter.limit(node)
    assert limiter.is_limited(node)
    assert node_key(node) == "127.0.0.1:6001/d1"


@pytest.mark.parametrize(
    ("setting", "replicas", "count"),
    [("2 * replicas", 3, 6), ("3*replicas", 2, 6), ("5", 3, 5)],
)
def test_request_node_count_parses_swift_forms(setting, replicas, count):
    assert request_node_count(setting, replicas) == count


def test_request_node_count_rejects_garbage():
    with pytest.raises(ValueError, match="invalid literal"):
        request_node_count("lots", 3)
