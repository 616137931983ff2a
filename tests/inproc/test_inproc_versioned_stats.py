"""What account and container stats count with object versioning on, as Swift counts it.

Swift's object_versioning leaves account HEADs alone (the hidden ``\\x00versions\\x00<c>``
container and its versions are counted like any other container), adds the versions' bytes
to a versioned container's ``X-Container-Bytes-Used`` (its object count stays the
client-visible names), and folds the hidden container's bytes into the versioned
container's row of an account listing, leaving the hidden row out. The cluster is this
module's own (``piped``), so the account holds only what this test writes.
"""

from __future__ import annotations

import json

from tests.support.inproc import InprocCluster
from tests.support.wait import wait_until


def _login(cluster: InprocCluster) -> tuple[str, dict[str, str]]:
    resp = cluster.request(
        "GET", "/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    )
    assert resp.status == 200, resp
    path = "/" + (resp.header("x-storage-url") or "").split("/", 3)[3]
    return path, {"X-Auth-Token": resp.header("x-auth-token") or ""}


def test_account_and_container_stats_count_versions_as_swift_does(piped: InprocCluster) -> None:
    account, auth = _login(piped)
    enabled = {**auth, "X-Versions-Enabled": "true"}
    assert piped.request("PUT", f"{account}/v", enabled).status == 201
    for body in (b"12345", b"123"):
        assert piped.request("PUT", f"{account}/v/o", auth, body).status == 201
    assert piped.request("PUT", f"{account}/p", auth).status == 201
    assert piped.request("PUT", f"{account}/p/o", auth, b"xy").status == 201

    head = piped.request("HEAD", f"{account}/v", auth)
    assert (head.header("x-container-object-count"), head.header("x-container-bytes-used")) == (
        "1",
        "8",
    )

    def settled() -> bool:
        # containers send their totals to the account in the background; the hidden versions
        # container counts: 3 containers, 1 + 2 + 1 objects, 0 + 8 + 2 bytes
        got = piped.request("HEAD", account, auth)
        keys = ("container-count", "object-count", "bytes-used")
        assert tuple(got.header(f"x-account-{k}") for k in keys) == ("3", "4", "10")
        return True

    wait_until(settled, timeout=15, what="account totals settle")
    listing = json.loads(piped.request("GET", f"{account}?format=json", auth).body)
    assert [(r["name"], r["count"], r["bytes"]) for r in listing] == [("p", 1, 2), ("v", 1, 8)]
