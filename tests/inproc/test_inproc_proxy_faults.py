"""Faults: servers stopped, bodies cut, disks failing; the proxy's quorum, handoffs and resume."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import pytest

from swiftlite.common.http.client import direct_request
from tests.support.faults import Fault
from tests.support.inproc import InprocCluster
from tests.support.wait import wait_until

BIG = bytes(range(256)) * 1200  # 300 KiB: several backend chunks


@pytest.fixture(scope="module")
def ordered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """Three object servers; reads try primaries in ring order so a fault hits a known node."""
    options = {"sorting_method": "none", "node_timeout": "1", "recoverable_node_timeout": "0.5"}
    found = InprocCluster(tmp_path_factory.mktemp("faults"), proxy_options=options).start()
    try:
        yield found
    finally:
        found.stop_all()


@pytest.fixture
def box(ordered: InprocCluster) -> Iterator[str]:
    """A fresh container; every object server is running again and fault-free afterwards."""
    path = f"/v1/AUTH_test/f-{uuid.uuid4().hex[:12]}"
    assert ordered.request("PUT", path).status == 201
    yield path
    for i, backend in enumerate(ordered.backends["object"]):
        if not backend.running:
            ordered.restart("object", i)
        ordered.faults("object", i).clear()
    ordered.proxy_app.limiter.clear()


def _primaries(cluster: InprocCluster, path: str) -> list[dict]:
    _v, account, container, obj = path.split("/", 4)[1:]
    return cluster.ring("object").get_nodes(account, container, obj)[1]


def _index(cluster: InprocCluster, node: dict) -> int:
    return cluster.backend_of(node).index


def test_put_and_get_succeed_with_one_of_three_object_servers_stopped(ordered, box):
    path = f"{box}/one-down"
    down = _index(ordered, _primaries(ordered, path)[0])
    ordered.stop("object", down)
    assert ordered.request("PUT", path, {}, BIG).status == 201
    got = ordered.request("GET", path)
    assert got.status == 200
    assert got.body == BIG


def test_put_with_two_of_three_stopped_is_503_and_nothing_is_listed(ordered, box):
    path = f"{box}/two-down"
    ordered.stop("object", 0)
    ordered.stop("object", 1)
    assert ordered.request("PUT", path, {}, b"half").status == 503
    ordered.restart("object", 0)
    ordered.restart("object", 1)
    assert ordered.request("GET", path).status == 404
    listing = ordered.request("GET", f"{box}?format=json")
    assert json.loads(listing.body or b"[]") == []
    for node in _primaries(ordered, path):
        part = ordered.ring("object").get_part(*path.split("/", 4)[2:])
        direct = direct_request(node.ip, node.port, "HEAD", f"/{node.device}/{part}{path[3:]}")
        assert direct.status == 404


def test_get_resumes_from_next_replica_when_body_is_cut(ordered, box):
    path = f"{box}/resume"
    assert ordered.request("PUT", path, {}, BIG).status == 201
    first = _index(ordered, _primaries(ordered, path)[0])
    fault = ordered.faults("object", first).add(Fault("GET", "/resume", drop_after=100_000))
    got = ordered.request("GET", path)
    assert fault.hits == 1
    assert got.status == 200
    assert hashlib.md5(got.body).hexdigest() == hashlib.md5(BIG).hexdigest()


def test_get_range_resumes_at_the_right_offset(ordered, box):
    path = f"{box}/resume-range"
    assert ordered.request("PUT", path, {}, BIG).status == 201
    first = _index(ordered, _primaries(ordered, path)[0])
    fault = ordered.faults("object", first).add(Fault("GET", "/resume-range", drop_after=90_000))
    got = ordered.request("GET", path, {"Range": "bytes=1000-250999"})
    assert fault.hits == 1
    assert got.status == 206
    assert got.body == BIG[1000:251000]


def test_get_fails_over_when_first_replica_is_too_slow(ordered, box):
    path = f"{box}/slow"
    assert ordered.request("PUT", path, {}, b"patience").status == 201
    first = _index(ordered, _primaries(ordered, path)[0])
    fault = ordered.faults("object", first).add(Fault("GET", "/slow", delay=1.5))
    got = ordered.request("GET", path)
    assert fault.hits == 1
    assert got.body == b"patience"


def test_507_error_limits_the_node_at_once_and_the_put_still_succeeds(ordered, box):
    path = f"{box}/full-disk"
    node = _primaries(ordered, path)[0]
    ordered.faults("object", _index(ordered, node)).add(Fault("PUT", "/full-disk", status=507))
    assert ordered.request("PUT", path, {}, b"x").status == 201
    assert ordered.proxy_app.limiter.is_limited(node)


def test_keepalive_pool_reuses_backend_connections(ordered, box):
    before = ordered.proxy_app.pool.connects
    for i in range(10):
        assert ordered.request("PUT", f"{box}/ka{i}", {}, b"x").status == 201
    # 10 PUTs touch 3 object servers and their container updates; without reuse that would
    # be at least 30 new connections
    assert ordered.proxy_app.pool.connects - before < 10


def test_restarted_backend_is_used_again_after_stale_pooled_connections(ordered, box):
    for i in range(3):
        assert ordered.request("PUT", f"{box}/warm{i}", {}, b"x").status == 201
    for i in range(3):
        ordered.stop("object", i)
        ordered.restart("object", i)
    for i in range(3):
        assert ordered.request("PUT", f"{box}/after{i}", {}, b"y").status == 201
        assert ordered.request("GET", f"{box}/after{i}").body == b"y"


@pytest.fixture
def four(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """Four object servers for three replicas: there is always a handoff."""
    found = InprocCluster(tmp_path_factory.mktemp("handoff"), object_servers=4).start()
    try:
        yield found
    finally:
        found.stop_all()


def test_put_with_a_primary_down_lands_on_a_handoff(four):
    assert four.request("PUT", "/v1/AUTH_test/h").status == 201
    path = "/v1/AUTH_test/h/obj"
    ring = four.ring("object")
    part, primaries = ring.get_nodes("AUTH_test", "h", "obj")
    four.stop("object", four.backend_of(primaries[0]).index)
    assert four.request("PUT", path, {}, b"handed off").status == 201
    handoff = next(ring.get_more_nodes(part))
    direct = direct_request(
        handoff.ip, handoff.port, "GET", f"/{handoff.device}/{part}/AUTH_test/h/obj"
    )
    assert direct.status == 200
    assert direct.body == b"handed off"
    assert four.request("GET", path).body == b"handed off"


def test_error_limited_node_is_skipped_until_interval_passes(tmp_path):
    options = {"error_suppression_limit": "1", "error_suppression_interval": "60"}
    cluster = InprocCluster(tmp_path, proxy_options=options).start()
    try:
        assert cluster.request("PUT", "/v1/AUTH_test/e").status == 201
        _part, nodes = cluster.ring("object").get_nodes("AUTH_test", "e", "x")
        victim = nodes[0]
        cluster.stop("object", cluster.backend_of(victim).index)
        for i in range(3):
            cluster.request("PUT", f"/v1/AUTH_test/e/x{i}", {}, b"x")
        wait_until(lambda: cluster.proxy_app.limiter.is_limited(victim), timeout=5)
        assert cluster.proxy_app.limiter.errors(victim) >= 2
    finally:
        cluster.stop_all()
