"""Storage policies end to end on a real cluster with gold (0), silver (1) and bronze (2,
deprecated): the container's policy picks the ring, the replica count and the directories."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.cluster import Auth, Cluster


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def owner(policy_cluster: Cluster) -> Auth:
    return policy_cluster.auth("test:tester", "testing")


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **extra}


def _account(auth: Auth) -> str:
    return auth.path.rsplit("/", 1)[-1]


def test_info_lists_the_policies_that_are_not_deprecated(policy_cluster: Cluster) -> None:
    status, _, body = policy_cluster.request("GET", "/info")
    assert status == 200
    assert json.loads(body)["swift"]["policies"] == [
        {
            "name": "gold",
            "aliases": "gold, Policy-0, yellow",
            "default": True,
            "policy_type": "replication",
        },
        {"name": "silver", "aliases": "silver", "policy_type": "replication"},
    ]


def test_objects_land_only_on_their_policys_devices_with_its_replica_count(
    policy_cluster: Cluster, owner: Auth
) -> None:
    silver, gold = _name("silver"), _name("gold")
    base = owner.path
    assert (
        policy_cluster.request(
            "PUT", f"{base}/{silver}", _h(owner, **{"X-Storage-Policy": "SilVer"})
        )[0]
        == 201
    )
    assert policy_cluster.request("PUT", f"{base}/{gold}", _h(owner))[0] == 201
    status, headers, _ = policy_cluster.request("HEAD", f"{base}/{silver}", _h(owner))
    assert (status, headers["x-storage-policy"]) == (204, "silver")
    status, headers, _ = policy_cluster.request("GET", f"{base}/{gold}", _h(owner))
    assert headers["x-storage-policy"] == "gold"
    for container in (silver, gold):
        assert policy_cluster.request("PUT", f"{base}/{container}/o", _h(owner), b"data")[0] == 201
    account = _account(owner)

    on_silver = policy_cluster.object_dirs(account, silver, "o", policy=1)
    assert len(on_silver) == 2
    assert set(on_silver) == set(policy_cluster.primaries("object-1", account, silver, "o"))
    assert all(device != "d4" for _, device in on_silver)  # d4 is not in silver's ring
    assert policy_cluster.object_dirs(account, silver, "o", policy=0) == {}

    on_gold = policy_cluster.object_dirs(account, gold, "o", policy=0)
    assert len(on_gold) == 3
    assert policy_cluster.object_dirs(account, gold, "o", policy=1) == {}

    for container in (silver, gold):
        status, _, body = policy_cluster.request("GET", f"{base}/{container}/o", _h(owner))
        assert (status, body) == (200, b"data")
    listing = policy_cluster.json(f"{base}/{silver}", owner.token)
    assert [row["name"] for row in listing] == ["o"]  # type: ignore[index]


def test_policy_of_an_existing_container_cannot_change(
    policy_cluster: Cluster, owner: Auth
) -> None:
    c = f"{owner.path}/{_name('fixed')}"
    assert policy_cluster.request("PUT", c, _h(owner, **{"X-Storage-Policy": "silver"}))[0] == 201
    assert policy_cluster.request("PUT", c, _h(owner, **{"X-Storage-Policy": "gold"}))[0] == 409
    assert policy_cluster.request("PUT", c, _h(owner, **{"X-Storage-Policy": "silver"}))[0] == 202
    assert policy_cluster.request("PUT", c, _h(owner))[0] == 202  # no header keeps the policy
    assert policy_cluster.request("HEAD", c, _h(owner))[1]["x-storage-policy"] == "silver"


@pytest.mark.parametrize(("policy", "words"), [("bronze", b"deprecated"), ("tin", b"Invalid")])
def test_deprecated_or_unknown_policy_is_400_and_makes_nothing(
    policy_cluster: Cluster, owner: Auth, policy: str, words: bytes
) -> None:
    c = f"{owner.path}/{_name('refused')}"
    status, _, body = policy_cluster.request("PUT", c, _h(owner, **{"X-Storage-Policy": policy}))
    assert status == 400
    assert words in body
    assert policy_cluster.request("HEAD", c, _h(owner))[0] == 404


def test_account_reports_stats_per_policy(policy_cluster: Cluster) -> None:
    user = policy_cluster.auth("test2:tester2", "testing2")
    base = user.path
    for name, policy, objects in (("s1", "silver", 2), ("s2", "silver", 1), ("g1", "gold", 1)):
        assert (
            policy_cluster.request(
                "PUT", f"{base}/{name}", _h(user, **{"X-Storage-Policy": policy})
            )[0]
            == 201
        )
        for i in range(objects):
            assert (
                policy_cluster.request("PUT", f"{base}/{name}/o{i}", _h(user), b"x" * 10)[0] == 201
            )
    policy_cluster.run_once("container", "updater")
    status, headers, _ = policy_cluster.request("HEAD", base, _h(user))
    assert status == 204
    assert headers["x-account-storage-policy-silver-container-count"] == "2"
    assert headers["x-account-storage-policy-silver-object-count"] == "3"
    assert headers["x-account-storage-policy-silver-bytes-used"] == "30"
    assert headers["x-account-storage-policy-gold-container-count"] == "1"
    assert headers["x-account-storage-policy-gold-object-count"] == "1"
    assert headers["x-account-object-count"] == "4"
    rows = policy_cluster.json(base, user.token)
    assert {r["name"]: r["storage_policy"] for r in rows} == {  # type: ignore[index,union-attr]
        "g1": "gold",
        "s1": "silver",
        "s2": "silver",
    }


def test_storage_node_recon_covers_every_policy(policy_cluster: Cluster) -> None:
    import http.client

    node = policy_cluster.plan.nodes[0]

    def recon(what: str) -> dict:
        conn = http.client.HTTPConnection(node.ip, node.object_port, timeout=10)
        try:
            conn.request("GET", f"/recon/{what}")
            resp = conn.getresponse()
            assert resp.status == 200
            return json.loads(resp.read())
        finally:
            conn.close()

    rings = {path.rsplit("/", 1)[-1] for path in recon("ringmd5")}
    assert {"object.ring.gz", "object-1.ring.gz", "object-2.ring.gz"} <= rings
    pending = recon("async")
    assert pending["async_pending"] == sum(pending["policies"].values())
    assert "policies" in recon("quarantined")


def test_account_policy_quota_holds_only_that_policy(policy_cluster: Cluster) -> None:
    # X-Account-Quota-Bytes-Policy-<name> (reseller-set) caps that policy's bytes alone: a
    # silver write past it is 413 while gold takes the same bytes.
    reseller = policy_cluster.auth("admin:admin", "admin")
    owner = policy_cluster.auth("test:tester", "testing")
    account = owner.path
    silver, gold = f"{account}/{_name('qs')}", f"{account}/{_name('qg')}"
    for path, policy in ((silver, "silver"), (gold, "gold")):
        made = policy_cluster.request("PUT", path, _h(owner, **{"X-Storage-Policy": policy}))
        assert made[0] == 201
    _, head, _ = policy_cluster.request("HEAD", account, _h(owner))
    used = int(head.get("x-account-storage-policy-silver-bytes-used", "0"))
    quota = {"X-Account-Quota-Bytes-Policy-silver": str(used + 5)}
    assert policy_cluster.request("POST", account, _h(owner, **quota))[0] == 403
    assert policy_cluster.request("POST", account, _h(reseller, **quota))[0] == 204
    assert policy_cluster.request("PUT", f"{silver}/big", _h(owner), b"x" * 6)[0] == 413
    assert policy_cluster.request("PUT", f"{gold}/big", _h(owner), b"x" * 6)[0] == 201
    assert policy_cluster.request("PUT", f"{silver}/fits", _h(owner), b"x" * 5)[0] == 201
    unset = {"X-Account-Quota-Bytes-Policy-silver": ""}
    assert policy_cluster.request("POST", account, _h(reseller, **unset))[0] == 204


def test_empty_storage_policy_header_means_the_default_not_400(
    policy_cluster: Cluster, owner: Auth
) -> None:
    c = f"{owner.path}/{_name('empty')}"
    assert policy_cluster.request("PUT", c, _h(owner, **{"X-Storage-Policy": ""}))[0] == 201
    _, headers, _ = policy_cluster.request("HEAD", c, _h(owner))
    assert headers["x-storage-policy"] == "gold"
