"""Probe: the updater repairs listings, the expirer removes expired objects, the reaper empties
a deleted account — each checked on a 4-node cluster of real processes."""

from __future__ import annotations

import time

from swiftlite.common.http.client import direct_request
from tests.support.cluster import Auth, Cluster
from tests.support.wait import wait_until


def test_updater_completes_listing_after_container_servers_return(probe: Cluster) -> None:
    auth = probe.auth()
    h = {"X-Auth-Token": auth.token}
    base = f"{auth.path}/probe-updater"
    assert probe.request("PUT", base, h)[0] == 201
    assert probe.request("HEAD", base, h)[0] == 204  # the proxy now has the container cached
    for node in probe.plan.nodes:
        probe.kill(node.index, "container")
    names = [f"u-{i:03d}" for i in range(100)]
    for name in names:
        assert probe.request("PUT", f"{base}/{name}", h, name.encode())[0] == 201
    probe.start_missing()
    probe.run_once("object", "updater")
    listing = probe.json(base, auth.token)
    assert [r["name"] for r in listing] == names  # type: ignore[index,union-attr]
    print(
        "probe 4: 100 PUTs with every container server down; after the updater the listing"
        " holds exactly those 100 names"
    )


def test_expired_object_leaves_get_and_listing_after_expirer(probe: Cluster) -> None:
    auth = probe.auth()
    h = {"X-Auth-Token": auth.token}
    base = f"{auth.path}/probe-expirer"
    assert probe.request("PUT", base, h)[0] == 201
    assert probe.request("PUT", f"{base}/keep", h, b"stays")[0] == 201
    put_at = time.time()
    status, _, _ = probe.request("PUT", f"{base}/short", {**h, "X-Delete-After": "2"}, b"brief")
    assert status == 201
    assert probe.request("GET", f"{base}/short", h)[0] == 200
    wait_until(lambda: time.time() > put_at + 3.5, timeout=10, what="X-Delete-At to pass")
    assert probe.request("GET", f"{base}/short", h)[0] == 404
    probe.run_once("object", "expirer")
    listing = probe.json(base, auth.token)
    assert [r["name"] for r in listing] == ["keep"]  # type: ignore[index,union-attr]
    print("probe 5: X-Delete-After: 2 object is 404 and gone from the listing after the expirer")


def test_reaper_empties_account_deleted_by_reseller_admin(probe: Cluster) -> None:
    # test5:tester5 is a service user (no account of its own): fill AUTH_test5 as the admin
    admin = probe.auth("admin:admin", "admin")
    owner = Auth(admin.storage_url.replace("/AUTH_admin", "/AUTH_test5"), admin.token)
    h = {"X-Auth-Token": owner.token}
    objects = []
    for c in ("reap-a", "reap-b"):
        assert probe.request("PUT", f"{owner.path}/{c}", h)[0] == 201
        for i in range(5):
            assert probe.request("PUT", f"{owner.path}/{c}/o{i}", h, b"x")[0] == 201
            objects.append((c, f"o{i}"))
    status, _, _ = probe.request("DELETE", owner.path, {"X-Auth-Token": admin.token})
    assert status == 204
    probe.run_once("account", "reaper")
    account = owner.path.split("/")[2]
    object_ring = probe.ring("object")
    container_ring = probe.ring("container")
    with probe.own_conf():
        for c, o in objects:
            part, nodes = object_ring.get_nodes(account, c, o)
            for node in nodes:
                resp = direct_request(
                    node.ip, node.port, "HEAD", f"/{node.device}/{part}/{account}/{c}/{o}"
                )
                assert resp.status == 404, (c, o, node.ip, resp.status)
        for c in ("reap-a", "reap-b"):
            part, nodes = container_ring.get_nodes(account, c)
            for node in nodes:
                resp = direct_request(
                    node.ip, node.port, "HEAD", f"/{node.device}/{part}/{account}/{c}"
                )
                assert resp.status == 404, (c, node.ip, resp.status)
    print(
        f"probe 6: reaper deleted {len(objects)} objects and 2 containers of {account} on"
        " every replica"
    )
