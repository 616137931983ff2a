from __future__ import annotations

import pytest

from swiftlite.aio.plan import ClusterPlan, load_plan, make_plan, save_plan


def test_default_plan_uses_swift_ports_on_one_node(tmp_path) -> None:
    plan = make_plan(str(tmp_path))
    (node,) = plan.nodes
    assert (node.ip, node.object_port, node.container_port, node.account_port) == (
        "127.0.0.1",
        6200,
        6201,
        6202,
    )
    assert node.devices == ("d1", "d2", "d3", "d4")
    assert plan.auth_url == "http://127.0.0.1:8080/auth/v1.0"


def test_other_proxy_port_moves_every_port(tmp_path) -> None:
    a = make_plan(str(tmp_path / "a"))
    b = make_plan(str(tmp_path / "b"), port=18080)
    ports_a = {
        a.proxy_port,
        a.memcached_port,
        *(
            p
            for n in a.nodes
            for p in (n.object_port, n.container_port, n.account_port, n.rsync_port)
        ),
    }
    ports_b = {
        b.proxy_port,
        b.memcached_port,
        *(
            p
            for n in b.nodes
            for p in (n.object_port, n.container_port, n.account_port, n.rsync_port)
        ),
    }
    assert ports_a.isdisjoint(ports_b)


def test_four_nodes_get_own_addresses_and_zones(tmp_path) -> None:
    plan = make_plan(str(tmp_path), nodes=4)
    assert [n.ip for n in plan.nodes] == [f"127.0.0.{i}" for i in range(1, 5)]
    assert [n.index for n in plan.nodes] == [1, 2, 3, 4]
    devices = [d for n in plan.nodes for d in n.devices]
    assert len(devices) == len(set(devices)) == 8


def test_more_replicas_than_devices_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="replicas"):
        make_plan(str(tmp_path), replicas=5, devices=4)


def test_plan_round_trips_through_json(tmp_path) -> None:
    plan = make_plan(str(tmp_path), nodes=2, port=9000)
    save_plan(plan)
    assert load_plan(str(tmp_path)) == plan
    assert ClusterPlan.from_json(plan.to_json()) == plan


def test_load_plan_of_empty_root_is_none(tmp_path) -> None:
    assert load_plan(str(tmp_path / "none")) is None


def test_free_proxy_port_leaves_derived_ports_free_below_ephemeral_range() -> None:
    import socket

    from swiftlite.aio.plan import _ephemeral_low, free_proxy_port

    port = free_proxy_port()
    assert 10000 <= port < _ephemeral_low()
    for p in (port, *range(port + 10, port + 16)):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
