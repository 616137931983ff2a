"""The container reconciler moves an object written under the wrong policy to the container's
policy, on a real in-process cluster (proxy and storage servers on ephemeral ports)."""

from __future__ import annotations

import logging

import pytest

from swiftlite.common import direct_client, policies
from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.container.broker import ContainerBroker
from swiftlite.container.reconciler import (
    ContainerReconciler,
    ContainerReconcilerOptions,
    enqueue,
)
from swiftlite.obj.expirer import container_headers
from tests.support.inproc import InprocCluster
from tests.support.policy_conf import numbered, parse_policies

ACCOUNT = "AUTH_rec"


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    pols = parse_policies(numbered(2))
    monkeypatch.setattr(policies, "load", lambda: pols)
    found = InprocCluster(tmp_path).start()
    yield found
    found.stop_all()


def _direct(node, method, path, headers=None, body=None):
    return direct_client.direct_request(
        node["ip"], node["port"], method, f"/{node['device']}{path}", headers or {}, body
    )


def _heads(cluster, obj, policy):
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, "c", obj)
    path = f"/{part}/{ACCOUNT}/c/{obj}"
    return [_direct(n, "HEAD", path, {policies.INDEX_HEADER: policy}).status for n in nodes]


def test_misplaced_object_moves_to_the_containers_policy(cluster):
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c").status == 201  # policy 0
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, "c", "o")
    cpart, cnodes = cluster.ring("container").get_nodes(ACCOUNT, "c")
    stamp = Timestamp.now()
    for i, node in enumerate(nodes):  # a write that went to policy 1 (the other half's)
        headers = {
            "X-Timestamp": stamp.internal,
            "Content-Type": "text/plain",
            "X-Object-Meta-Colour": "blue",
            policies.INDEX_HEADER: "1",
            **container_headers(cpart, cnodes, i),
        }
        assert _direct(node, "PUT", f"/{part}/{ACCOUNT}/c/o", headers, b"moved").status == 201
    assert cluster.request("GET", f"/v1/{ACCOUNT}/c/o").status == 404

    sent = []
    rows = [("o", stamp.internal, 5, "text/plain", "e" * 32, 0, 1)]
    assert enqueue(cluster.ring("container"), rows, ACCOUNT, "c", lambda *a: sent.append(a) or 201)
    qcont = misplaced.queue_container(stamp)
    qpart, _ = cluster.ring("container").get_nodes(misplaced.MISPLACED_ACCOUNT, qcont)
    assert len(sent) == 3
    assert {(a[1], a[2]) for a in sent} == {
        ("PUT", f"/{qpart}/.misplaced_objects/{qcont}/1:/{ACCOUNT}/c/o")
    }
    assert {a[3]["X-Timestamp"] for a in sent} == {stamp.internal}

    options = ContainerReconcilerOptions(swift_dir=str(cluster.swift_dir), node_timeout=5)
    rec = ContainerReconciler(options, logging.getLogger("test.reconciler"))
    assert rec.container_policy(ACCOUNT, "c") == 0
    assert rec.reconcile(f"1:/{ACCOUNT}/c/o") is True
    assert rec.stats["moved"] == 1
    resp = cluster.request("GET", f"/v1/{ACCOUNT}/c/o")
    assert (resp.status, resp.body) == (200, b"moved")
    assert resp.header("X-Object-Meta-Colour") == "blue"
    assert _heads(cluster, "o", "1") == [404] * 3  # the misplaced copy is gone
    for node in cnodes:  # every listing row now names policy 0
        dev = str(cluster.backend_of(node).root / node["device"])
        broker = ContainerBroker.at(dev, cpart, ACCOUNT, "c")
        assert broker.misplaced_rows() == []  # (merges the journal first)
        assert [(r[0], r[6]) for r in broker.get_object_rows()] == [("o", 0)]
        broker.close()
    # done once: the row is dropped (nothing left in policy 1), nothing moves again
    assert rec.reconcile(f"1:/{ACCOUNT}/c/o") is True
    assert rec.stats["moved"] == 1
    assert rec.reconcile(f"0:/{ACCOUNT}/c/o") is True  # already the right policy
    assert rec.reconcile("junk") is True
    assert rec.stats["dropped"] == 3


def test_a_delete_made_under_the_wrong_policy_is_repeated_in_the_right_one(cluster):
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c").status == 201  # policy 0
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c/d", {}, b"old").status == 201
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, "c", "d")
    cpart, cnodes = cluster.ring("container").get_nodes(ACCOUNT, "c")
    gone = Timestamp.now()
    for i, node in enumerate(nodes):  # the other half deleted it, under policy 1
        headers = {
            "X-Timestamp": gone.internal,
            policies.INDEX_HEADER: "1",
            **container_headers(cpart, cnodes, i),
        }
        assert _direct(node, "DELETE", f"/{part}/{ACCOUNT}/c/d", headers).status == 404
    broker = ContainerBroker.at(
        str(cluster.backend_of(cnodes[0]).root / cnodes[0]["device"]), cpart, ACCOUNT, "c"
    )
    [row] = broker.misplaced_rows()
    assert (row[0], row[5], row[6]) == ("d", 1, 1)  # a deleted row of policy 1
    assert cluster.request("GET", f"/v1/{ACCOUNT}/c/d").status == 200  # the old copy shows

    options = ContainerReconcilerOptions(swift_dir=str(cluster.swift_dir), node_timeout=5)
    rec = ContainerReconciler(options, logging.getLogger("test.reconciler"))
    assert rec.reconcile(f"1:/{ACCOUNT}/c/d", deleted=True) is True
    assert cluster.request("GET", f"/v1/{ACCOUNT}/c/d").status == 404
    assert _heads(cluster, "d", "0") == [404] * 3
    assert broker.misplaced_rows() == []
    broker.close()
