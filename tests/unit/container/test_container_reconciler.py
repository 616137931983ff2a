"""The container reconciler moves an object written under the wrong policy to the container's
policy, on a real in-process cluster (proxy and storage servers on ephemeral ports)."""

from __future__ import annotations

import logging
import os

import pytest

from swiftlite.common import policies, update_targets
from swiftlite.common.http import client
from swiftlite.common.http.client import direct_request
from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.container.broker import ContainerBroker
from swiftlite.container.reconciler import (
    CHUNK_SIZE,
    ContainerReconciler,
    ContainerReconcilerOptions,
    enqueue,
)
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
    return direct_request(node.ip, node.port, method, f"/{node.device}{path}", headers or {}, body)


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
            **update_targets.for_request(i, cnodes, cpart, "Container"),
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
        dev = str(cluster.backend_of(node).root / node.device)
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
            **update_targets.for_request(i, cnodes, cpart, "Container"),
        }
        assert _direct(node, "DELETE", f"/{part}/{ACCOUNT}/c/d", headers).status == 404
    broker = ContainerBroker.at(
        str(cluster.backend_of(cnodes[0]).root / cnodes[0].device), cpart, ACCOUNT, "c"
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


def _misplace(cluster, obj, body, **extra):
    """Write ``obj`` to policy 1 on its primaries, with container updates (a split's write)."""
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, "c", obj)
    cpart, cnodes = cluster.ring("container").get_nodes(ACCOUNT, "c")
    stamp = Timestamp.now()
    for i, node in enumerate(nodes):
        headers = {
            "X-Timestamp": stamp.internal,
            "Content-Type": "application/octet-stream",
            policies.INDEX_HEADER: "1",
            **extra,
            **update_targets.for_request(i, cnodes, cpart, "Container"),
        }
        assert _direct(node, "PUT", f"/{part}/{ACCOUNT}/c/{obj}", headers, body).status == 201
    return stamp


def test_a_big_object_moves_in_pieces_never_whole(cluster):
    # 5 MiB and a bit: the old reconciler read it whole from each of the three primaries and
    # sent each target the whole body in one request; now one GET is streamed to every PUT,
    # so what it holds is one piece, whatever the object's size.
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c").status == 201  # policy 0
    body = os.urandom(5 * 1024 * 1024 + 7)
    _misplace(cluster, "big", body, **{"X-Object-Transient-Sysmeta-Crypto": "kept"})
    rec = ContainerReconciler(
        ContainerReconcilerOptions(swift_dir=str(cluster.swift_dir), node_timeout=10),
        logging.getLogger("test.reconciler"),
    )
    direct_bodies = []

    def request(*args):
        direct_bodies.append(len(args[5] or b""))
        return direct_request(*args)

    rec.request = request
    reads, sent = [], []
    real_read, real_send = client.Response.read, client.PutStream.send

    def read(self, amount=-1):
        if self._pool is rec.pool:  # the reconciler's reads, not the servers' (in-process)
            reads.append(amount)
        return real_read(self, amount)

    def send(self, data):
        if self.pool is rec.pool:
            sent.append(len(data))
        return real_send(self, data)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(client.Response, "read", read)
        mp.setattr(client.PutStream, "send", send)
        assert rec.reconcile(f"1:/{ACCOUNT}/c/big") is True
    assert rec.stats["moved"] == 1
    assert max(direct_bodies) == 0  # no object body went through direct_request
    # the body went through the pool in bounded pieces only: never one read of it all
    assert -1 not in reads
    assert max(reads) <= CHUNK_SIZE
    assert max(sent) <= CHUNK_SIZE
    assert sum(sent) == 3 * len(body)  # each piece to each of the three targets
    resp = cluster.request("GET", f"/v1/{ACCOUNT}/c/big")
    assert (resp.status, resp.body == body) == (200, True)
    assert _heads(cluster, "big", "1") == [404] * 3
    part, nodes = cluster.ring("object").get_nodes(ACCOUNT, "c", "big")
    head = _direct(nodes[0], "HEAD", f"/{part}/{ACCOUNT}/c/big", {policies.INDEX_HEADER: "0"})
    assert head.header("X-Object-Transient-Sysmeta-Crypto") == "kept"


def test_a_source_breaking_off_mid_body_leaves_no_copy_and_the_row(cluster, monkeypatch):
    assert cluster.request("PUT", f"/v1/{ACCOUNT}/c").status == 201  # policy 0
    body = b"x" * (3 * CHUNK_SIZE)
    _misplace(cluster, "cut", body)
    rec = ContainerReconciler(
        ContainerReconcilerOptions(swift_dir=str(cluster.swift_dir), node_timeout=5),
        logging.getLogger("test.reconciler"),
    )
    real_open = rec._open

    class CutShort:  # the source's server dies after the first piece
        def __init__(self, resp):
            self.resp = resp

        def iter_body(self, chunk_size):
            yield next(self.resp.iter_body(chunk_size))
            raise client.ProtocolError("backend closed with bytes unsent")

        def close(self):
            self.resp.close()

    def open_cut(*args):
        return CutShort(real_open(*args))

    monkeypatch.setattr(rec, "_open", open_cut)
    assert rec.reconcile(f"1:/{ACCOUNT}/c/cut") is False  # the row stays for the next pass
    assert rec.stats["moved"] == 0
    assert _heads(cluster, "cut", "0") == [404] * 3  # no partial copy in the right policy
    assert _heads(cluster, "cut", "1") == [200] * 3  # the misplaced copy is still there
    monkeypatch.setattr(rec, "_open", real_open)
    assert rec.reconcile(f"1:/{ACCOUNT}/c/cut") is True
    resp = cluster.request("GET", f"/v1/{ACCOUNT}/c/cut")
    assert (resp.status, resp.body == body) == (200, True)
