"""The account reaper against a real in-process cluster (proxy, account, container and object
servers on ephemeral ports): a DELETEd account's containers and objects go from every node."""

from __future__ import annotations

import logging

import pytest

from swiftlite.account.broker import AccountBroker
from swiftlite.account.reaper import AccountReaper, AccountReaperOptions, container_shard
from swiftlite.common import recon_cache
from swiftlite.common.http.client import direct_request
from tests.support.inproc import InprocCluster

ACCOUNT = "AUTH_reap"
CONTAINERS = ("c1", "c2", "c3", "c4", "c5")
OBJECTS = ("o1", "o2", "sub/o3")


@pytest.fixture
def cluster(tmp_path):
    found = InprocCluster(tmp_path, proxy_options={"allow_account_management": "true"}).start()
    yield found
    found.stop_all()


@pytest.fixture
def deleted_account(cluster):
    assert cluster.request("PUT", f"/v1/{ACCOUNT}").status in (201, 202)
    for container in CONTAINERS:
        assert cluster.request("PUT", f"/v1/{ACCOUNT}/{container}").status == 201
        for obj in OBJECTS:
            path = f"/v1/{ACCOUNT}/{container}/{obj}"
            assert cluster.request("PUT", path, {}, b"data").status == 201
    assert cluster.request("DELETE", f"/v1/{ACCOUNT}").status == 204
    return ACCOUNT


def reaper(cluster, backend, tmp_path=None, **overrides):
    options = AccountReaperOptions(
        devices=str(backend.root),
        mount_check=False,
        swift_dir=str(cluster.swift_dir),
        bind_ip="127.0.0.1",
        bind_port=backend.port,
        concurrency=4,
        node_timeout=5,
        recon_cache_path=str(tmp_path) if tmp_path else None,
        **overrides,
    )
    return AccountReaper(options, logger=logging.getLogger("test.reaper"))


def statuses(cluster, kind, method, *names):
    part, nodes = cluster.ring(kind).get_nodes(*names)
    path = "/" + "/".join(names)
    return [direct_request(n.ip, n.port, method, f"/{n.device}/{part}{path}").status for n in nodes]


def account_brokers(cluster):
    part, nodes = cluster.ring("account").get_nodes(ACCOUNT)
    for node in nodes:
        backend = cluster.backend_of(node)
        device_path = str(backend.root / node.device)
        yield AccountBroker.at(device_path, part, ACCOUNT)


def test_reap_every_primary_once_empties_the_account_everywhere(cluster, deleted_account, tmp_path):
    totals = [reaper(cluster, b, tmp_path).run_pass() for b in cluster.backends["account"]]

    assert sum(t["containers_deleted"] for t in totals) == len(CONTAINERS)
    assert sum(t["objects_deleted"] for t in totals) == len(CONTAINERS) * len(OBJECTS)
    assert sum(t["failures"] for t in totals) == 0
    for container in CONTAINERS:
        assert statuses(cluster, "container", "HEAD", ACCOUNT, container) == [404] * 3
        for obj in OBJECTS:
            assert statuses(cluster, "object", "HEAD", ACCOUNT, container, obj) == [404] * 3
    for broker in account_brokers(cluster):
        info = broker.get_info()
        assert info["status"] == "DELETED"
        assert info["container_count"] == 0
        broker.close()
    recon = recon_cache.read(recon_cache.cache_path(str(tmp_path), "account"))
    assert "account-reaper" in recon
    again = [reaper(cluster, b).run_once() for b in cluster.backends["account"]]
    assert sum(t["containers_deleted"] + t["objects_deleted"] + t["failures"] for t in again) == 0
    assert sum(t["accounts"] for t in again) == 3


def test_reap_one_primary_takes_only_its_share_of_containers(cluster, deleted_account):
    _part, nodes = cluster.ring("account").get_nodes(ACCOUNT)
    first = cluster.backend_of(nodes[0])
    mine = {c for c in CONTAINERS if container_shard(c, len(nodes)) == 0}

    stats = reaper(cluster, first).run_once()

    assert stats["containers_deleted"] == len(mine)
    for container in CONTAINERS:
        gone = statuses(cluster, "container", "HEAD", ACCOUNT, container) == [404] * 3
        assert gone == (container in mine)


def test_reap_waits_for_delay_reaping(cluster, deleted_account):
    totals = [
        reaper(cluster, b, delay_reaping=3600).run_once() for b in cluster.backends["account"]
    ]
    assert sum(t["containers_deleted"] + t["objects_deleted"] for t in totals) == 0
    assert statuses(cluster, "object", "HEAD", ACCOUNT, "c1", "o1") == [200] * 3


def test_reap_leaves_live_accounts_alone(cluster):
    assert cluster.request("PUT", "/v1/AUTH_live/c").status == 201
    assert cluster.request("PUT", "/v1/AUTH_live/c/o", {}, b"x").status == 201

    totals = [reaper(cluster, b).run_once() for b in cluster.backends["account"]]

    assert sum(t["objects_deleted"] for t in totals) == 0
    assert cluster.request("GET", "/v1/AUTH_live/c/o").status == 200


def test_reap_with_an_object_server_down_keeps_the_container_for_next_pass(
    cluster, deleted_account
):
    cluster.stop("object", 0)
    try:
        first = [
            reaper(cluster, b, conn_timeout=0.2).run_once() for b in cluster.backends["account"]
        ]
    finally:
        cluster.restart("object", 0)
    second = [reaper(cluster, b).run_once() for b in cluster.backends["account"]]

    assert sum(t["failures"] for t in first) > 0
    assert sum(t["containers_remaining"] for t in first) > 0
    assert sum(t["failures"] for t in second) == 0, second
    for container in CONTAINERS:
        got = statuses(cluster, "container", "HEAD", ACCOUNT, container)
        assert got == [404] * 3, container


def test_reap_failure_line_escapes_a_line_break_in_an_object_name(cluster, caplog):
    forged = "o\n2030-01-01 00:00:00 account-reaper: forged line"
    assert cluster.request("PUT", f"/v1/{ACCOUNT}").status in (201, 202)
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c1").status == 201
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c1/{forged}", {}, b"data").status == 201
    assert cluster.request("DELETE", f"/v1/{ACCOUNT}").status == 204
    for i in range(len(cluster.backends["object"])):
        cluster.stop("object", i)
    with caplog.at_level(logging.WARNING, logger="test.reaper"):
        for b in cluster.backends["account"]:
            reaper(cluster, b, conn_timeout=0.2).run_once()
    lines = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert lines, [r.getMessage() for r in caplog.records]
    for line in lines:
        assert "\n" not in line
    assert any("/c1/o%0A2030-01-01" in line for line in lines), lines


def test_reap_deletes_reserved_namespace_containers_too(cluster, tmp_path):
    # object versioning keeps versions in \x00versions\x00<c>, hidden from client listings
    allow = {"X-Backend-Allow-Reserved-Names": "true"}
    hidden, obj = "\x00versions\x00c", "\x00o\x001"
    assert cluster.request("PUT", f"/v1/{ACCOUNT}").status in (201, 202)
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/{hidden}", allow).status == 201
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/{hidden}/{obj}", allow, b"v").status == 201
    assert cluster.request("DELETE", f"/v1/{ACCOUNT}").status == 204
    totals = [reaper(cluster, b, tmp_path).run_pass() for b in cluster.backends["account"]]
    assert sum(t["containers_deleted"] for t in totals) == 1
    assert sum(t["objects_deleted"] for t in totals) == 1
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, hidden, obj)
    for n in nodes:
        resp = direct_request(
            n.ip, n.port, "HEAD", f"/{n.device}/{part}/{ACCOUNT}/{hidden}/{obj}", allow
        )
        assert resp.status == 404


def test_reap_deletes_objects_of_a_policy_1_container_in_policy_1(tmp_path, monkeypatch):
    from swiftlite.common import policies
    from tests.support.policy_conf import numbered, parse_policies

    pols = parse_policies(numbered(2))
    monkeypatch.setattr(policies, "load", lambda: pols)
    found = InprocCluster(tmp_path, proxy_options={"allow_account_management": "true"}).start()
    try:
        assert found.request("PUT", f"/v1/{ACCOUNT}").status in (201, 202)
        headers = {"X-Storage-Policy": "p1"}
        assert found.request("PUT", f"/v1/{ACCOUNT}/c", headers).status == 201
        assert found.request("PUT", f"/v1/{ACCOUNT}/c/o", {}, b"data").status == 201
        part, nodes = found.ring("object").get_nodes(ACCOUNT, "c", "o")

        def heads(policy):
            return [
                direct_request(
                    n.ip,
                    n.port,
                    "HEAD",
                    f"/{n.device}/{part}/{ACCOUNT}/c/o",
                    {policies.INDEX_HEADER: policy},
                ).status
                for n in nodes
            ]

        assert heads("1") == [200] * 3
        assert heads("0") == [404] * 3
        assert found.request("DELETE", f"/v1/{ACCOUNT}").status == 204
        totals = [reaper(found, b).run_once() for b in found.backends["account"]]
        assert sum(t["objects_deleted"] for t in totals) == 1
        assert sum(t["failures"] for t in totals) == 0
        assert heads("1") == [404] * 3
    finally:
        found.stop_all()
