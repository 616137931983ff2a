"""Probe: one container created on two halves of a split cluster with two storage policies.

The halves are made by hand, as Swift's probe test does: the container's first replica gets
it with gold (policy 0) first, the other two with silver (policy 1) a little later, and each
half stores objects under its own policy with container updates to its own replicas (and the
silver half deletes one gold object). After healing, the container replicators agree on gold
(the oldest) and queue the silver rows; the container reconciler moves those objects to gold
and repeats the delete there, so every live object reads back through the proxy, the deleted
one stays deleted, and no silver copy is left.

The second test makes the split through the proxy instead, killing container servers: gold
created with one primary down, silver with the other two down, objects written to each.
"""

from __future__ import annotations

import json
import shutil

import pytest

from swiftlite.common.http.client import direct_request
from swiftlite.common.policies import ring_name
from swiftlite.common.timestamp import Timestamp
from tests.functional.conftest import POLICIES_CONF
from tests.support.cluster import Cluster

CONTAINER = "split-brain"
INDEX = "X-Backend-Storage-Policy-Index"


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (Debian package rsync): replication needs it")
    root = tmp_path_factory.mktemp("probe-policies")
    (root / "etc").mkdir()
    (root / "etc" / "swiftlite.conf").write_text(POLICIES_CONF)
    c = Cluster.start(str(root), nodes=4, daemons=False, policies=2)
    yield c
    c.stop()


def _call(node, method, path, headers, body=None, query=""):  # type: ignore[no-untyped-def]
    return direct_request(
        node.ip, node.port, method, f"/{node.device}{path}", headers, body, query=query
    )


def _delete_object(c: Cluster, account: str, policy: int, cnodes, cpart, name) -> None:  # type: ignore[no-untyped-def]
    ring = c.ring(ring_name(policy))
    part, nodes = ring.get_nodes(account, CONTAINER, name)
    stamp = Timestamp.now().internal
    for i, node in enumerate(nodes):
        cnode = cnodes[i % len(cnodes)]
        headers = {
            "X-Timestamp": stamp,
            INDEX: str(policy),
            "X-Container-Host": f"{cnode.ip}:{cnode.port}",
            "X-Container-Device": cnode.device,
            "X-Container-Partition": str(cpart),
        }
        resp = _call(node, "DELETE", f"/{part}/{account}/{CONTAINER}/{name}", headers)
        assert resp.status in (204, 404), (node, resp.status)


def _put_objects(c: Cluster, account: str, policy: int, cnodes, cpart, names) -> None:  # type: ignore[no-untyped-def]
    ring = c.ring(ring_name(policy))
    for name in names:
        part, nodes = ring.get_nodes(account, CONTAINER, name)
        stamp = Timestamp.now().internal
        body = f"{name} in policy {policy}".encode()
        for i, node in enumerate(nodes):
            cnode = cnodes[i % len(cnodes)]
            headers = {
                "X-Timestamp": stamp,
                "Content-Type": "text/plain",
                INDEX: str(policy),
                "X-Container-Host": f"{cnode.ip}:{cnode.port}",
                "X-Container-Device": cnode.device,
                "X-Container-Partition": str(cpart),
            }
            resp = _call(node, "PUT", f"/{part}/{account}/{CONTAINER}/{name}", headers, body)
            assert resp.status == 201, (node, resp.status)


def test_split_container_heals_to_the_oldest_policy_and_objects_move(split: Cluster) -> None:
    c = split
    auth = c.auth()
    account = auth.path.rsplit("/", 1)[-1]
    assert c.request("PUT", f"{auth.path}/other", {"X-Auth-Token": auth.token})[0] == 201
    with c.own_conf():
        cpart, cnodes = c.ring("container").get_nodes(account, CONTAINER)
        gold_half, silver_half = cnodes[:1], cnodes[1:]
        older, newer = Timestamp.now(), Timestamp(Timestamp.now().seconds + 1)
        for nodes, policy, stamp in ((gold_half, 0, older), (silver_half, 1, newer)):
            for node in nodes:
                headers = {"X-Timestamp": stamp.internal, INDEX: str(policy)}
                assert _call(node, "PUT", f"/{cpart}/{account}/{CONTAINER}", headers).status == 201
        gold = [f"gold-{i}" for i in range(3)]
        silver = [f"silver-{i}" for i in range(4)]
        _put_objects(c, account, 0, gold_half, cpart, gold)
        _put_objects(c, account, 1, silver_half, cpart, silver)
        # the silver half deletes an object the gold half wrote (later than that write)
        _delete_object(c, account, 1, silver_half, cpart, gold[0])

        c.run_once("container", "replicator")
        for node in cnodes:
            head = _call(node, "HEAD", f"/{cpart}/{account}/{CONTAINER}", {})
            assert head.header(INDEX) == "0", node
        token = {"X-Auth-Token": auth.token}
        # gold won, and the silver objects are not (yet) in gold
        assert c.request("GET", f"{auth.path}/{CONTAINER}/{silver[0]}", token)[0] == 404
        assert c.request("GET", f"{auth.path}/{CONTAINER}/{gold[1]}", token)[0] == 200
        c.run_once("container", "updater")  # the queue's containers reach its account
        c.run_once("container", "reconciler", nodes=[1])
        queue = c.ring("account").get_nodes(".misplaced_objects")
        for node in queue[1]:
            resp = _call(node, "GET", f"/{queue[0]}/.misplaced_objects", {}, None, "format=json")
            assert resp.status == 200  # the queue has containers
            for row in json.loads(resp.body):
                qpart, qnodes = c.ring("container").get_nodes(".misplaced_objects", row["name"])
                path = f"/{qpart}/.misplaced_objects/{row['name']}"
                listed = _call(qnodes[0], "GET", path, {}, None, "format=json")
                assert listed.status in (200, 204)
                assert json.loads(listed.body or b"[]") == []  # queue drained

    status, headers, _ = c.request("HEAD", f"{auth.path}/{CONTAINER}", {"X-Auth-Token": auth.token})
    assert (status, headers["x-storage-policy"]) == (204, "gold")
    listing = c.json(f"{auth.path}/{CONTAINER}", auth.token)
    assert sorted(row["name"] for row in listing) == sorted(gold[1:] + silver)  # type: ignore[index]
    assert c.request("GET", f"{auth.path}/{CONTAINER}/{gold[0]}", token)[0] == 404
    for name in gold[1:] + silver:
        status, _, body = c.request(
            "GET", f"{auth.path}/{CONTAINER}/{name}", {"X-Auth-Token": auth.token}
        )
        assert status == 200, name
        assert body.startswith(name.encode())
        assert len(c.object_dirs(account, CONTAINER, name, policy=0)) == 3, name
        left = c.object_dirs(account, CONTAINER, name, policy=1)
        assert all(f.endswith(".ts") for files in left.values() for f in files), (name, left)

    c.run_once("container", "updater")  # the healed container tells its account its policy
    status, headers, _ = c.request("HEAD", auth.path, {"X-Auth-Token": auth.token})
    assert status == 204
    assert headers["x-account-storage-policy-gold-container-count"] == "2"
    assert headers["x-account-storage-policy-gold-object-count"] == str(len(gold[1:] + silver))
    assert "x-account-storage-policy-silver-container-count" not in headers


def _index(c: Cluster, node) -> int:  # type: ignore[no-untyped-def]
    return next(n.index for n in c.plan.nodes if n.ip == node.ip)


def test_split_made_through_the_proxy_heals_to_the_first_policy(split: Cluster) -> None:
    # The split made the way a client meets it: with one container primary down, the proxy
    # creates the container in gold (the other two primaries and a handoff) and writes to it;
    # then with that one back and the other two down it creates it again, in silver, and
    # writes more. Healed, the daemons settle on gold (created first) and move silver's objects.
    c = split
    auth = c.auth("test2:tester2", "testing2")
    token = {"X-Auth-Token": auth.token}
    account = auth.path.rsplit("/", 1)[-1]
    name = "split-by-proxy"
    cpath = f"{auth.path}/{name}"
    assert c.request("PUT", f"{auth.path}/warm", token)[0] == 201  # the account exists
    with c.own_conf():  # the cluster's hash secrets
        cpart, cnodes = c.ring("container").get_nodes(account, name)
    first, others = _index(c, cnodes[0]), sorted({_index(c, n) for n in cnodes[1:]})
    gold = [f"gold-{i}" for i in range(3)]
    silver = [f"silver-{i}" for i in range(4)]

    c.kill(first, "container")
    assert c.request("PUT", cpath, {**token, "X-Storage-Policy": "gold"})[0] == 201
    for obj in gold:
        assert c.request("PUT", f"{cpath}/{obj}", token, obj.encode())[0] == 201
    c.revive(first, "container")
    for index in others:
        c.kill(index, "container")
    status = c.request("PUT", cpath, {**token, "X-Storage-Policy": "silver"})[0]
    assert status in (201, 202), status
    assert c.request("HEAD", cpath, token)[1]["x-storage-policy"] == "silver"  # the split
    for obj in silver:
        assert c.request("PUT", f"{cpath}/{obj}", token, obj.encode())[0] == 201
    for obj in silver:  # really written under silver, on silver's two primaries
        assert len(c.object_dirs(account, name, obj, policy=1)) == 2, obj
    c.start_missing()

    for _ in range(2):
        c.run_once("object", "updater")
        c.run_once("container", "replicator")
    with c.own_conf():
        for node in cnodes:
            head = _call(node, "HEAD", f"/{cpart}/{account}/{name}", {})
            assert (head.status, head.header(INDEX)) == (204, "0"), node
    c.run_once("container", "updater")
    c.run_once("container", "reconciler", nodes=[1])

    status, headers, _ = c.request("HEAD", cpath, token)
    assert (status, headers["x-storage-policy"]) == (204, "gold")
    listing = c.json(cpath, auth.token)
    assert sorted(row["name"] for row in listing) == sorted(gold + silver)  # type: ignore[index]
    for obj in gold + silver:
        assert c.request("GET", f"{cpath}/{obj}", token)[2] == obj.encode(), obj
        assert len(c.object_dirs(account, name, obj, policy=0)) == 3, obj
        left = c.object_dirs(account, name, obj, policy=1)
        assert all(f.endswith(".ts") for files in left.values() for f in files), (obj, left)
