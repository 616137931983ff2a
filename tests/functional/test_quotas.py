"""Container and account quotas on a real cluster: 413 at exactly the byte and the count.

Usage comes from the proxy's cached info, so each boundary is probed from one known usage:
the test waits until the container or account reports the usage it expects (running the
updaters, which carry object and container totals upward), setting a quota (a container or
account POST) clears this cluster's cached info, then an upload that exactly fills the quota
passes and one a byte (or an object) more is 413.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.archive import tar_bytes
from tests.support.cluster import Auth, Cluster
from tests.support.wait import wait_until

OVER = b"Upload exceeds quota."
OVER_POLICY = b"Upload exceeds policy quota."
# hostile quota values: UTF-8 Arabic-Indic three (as wire bytes), signs, inner space, huge, hex
# (leading and trailing spaces are not part of a header value on the wire)
HOSTILE = ["\xd9\xa3", "-1", "+1", "1 2", "1.0", "0x10", "9" * 25, "9223372036854775808", "1e3"]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture(scope="module")
def reseller(cluster: Cluster) -> Auth:
    return cluster.auth("admin:admin", "admin")


def _settled(cluster: Cluster, auth: Auth, path: str, kind: str, usage: tuple[int, int]) -> None:
    """Wait until ``path`` (an account or container) reports ``usage`` (bytes, objects)."""

    def reported() -> bool:
        _, headers, _ = cluster.request("HEAD", path, _h(auth))
        got = (int(headers[f"x-{kind}-bytes-used"]), int(headers[f"x-{kind}-object-count"]))
        if got == usage:
            return True
        cluster.run_once("object", "updater")  # a container update that went async
        cluster.run_once("container", "updater")  # container totals to the account
        return False

    wait_until(reported, timeout=90, what=f"{path} to report {usage}")


def _put(cluster: Cluster, auth: Auth, path: str, size: int, **extra: str) -> tuple[int, bytes]:
    status, _, body = cluster.request("PUT", path, _h(auth, **extra), b"x" * size)
    return status, body


# -- container quotas ---------------------------------------------------------------------------
def test_container_bytes_quota_is_413_one_byte_past(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('cqb')}"
    assert cluster.request("PUT", c, _h(tester))[0] == 201
    assert _put(cluster, tester, f"{c}/a", 10)[0] == 201
    _settled(cluster, tester, c, "container", (10, 1))
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Bytes="15"))[0] == 204
    assert _put(cluster, tester, f"{c}/big", 6) == (413, OVER)  # 10 + 6 > 15
    assert _put(cluster, tester, f"{c}/b", 5)[0] == 201  # 10 + 5 == 15: allowed
    _settled(cluster, tester, c, "container", (15, 2))
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Bytes="15"))[0] == 204
    assert _put(cluster, tester, f"{c}/c", 1) == (413, OVER)  # now full
    assert _put(cluster, tester, f"{c}/empty", 0)[0] == 201  # 15 + 0 == 15
    listing = cluster.json(c, tester.token)
    assert sorted(o["name"] for o in listing) == ["a", "b", "empty"]  # type: ignore[index]


def test_container_count_quota_is_413_one_object_past(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('cqc')}"
    assert cluster.request("PUT", c, _h(tester, X_Container_Meta_Quota_Count="2"))[0] == 201
    assert _put(cluster, tester, f"{c}/a", 1)[0] == 201
    _settled(cluster, tester, c, "container", (1, 1))
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Count="2"))[0] == 204
    assert _put(cluster, tester, f"{c}/b", 1)[0] == 201  # 1 + 1 == 2
    _settled(cluster, tester, c, "container", (2, 2))
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Count="2"))[0] == 204
    assert _put(cluster, tester, f"{c}/c", 1) == (413, OVER)  # 2 + 1 > 2


def test_container_quota_counts_copies_by_source_size(cluster: Cluster, tester: Auth) -> None:
    src = f"{tester.path}/{_name('cqsrc')}"
    assert cluster.request("PUT", src, _h(tester))[0] == 201
    assert _put(cluster, tester, f"{src}/five", 5)[0] == 201
    assert _put(cluster, tester, f"{src}/six", 6)[0] == 201
    dst_name = _name("cqdst")
    dst = f"{tester.path}/{dst_name}"
    assert cluster.request("PUT", dst, _h(tester, X_Container_Meta_Quota_Bytes="5"))[0] == 201
    copy_from = src.split("/", 3)[3]
    status, _, body = cluster.request(
        "PUT", f"{dst}/o6", _h(tester, X_Copy_From=f"{copy_from}/six", Content_Length="0"), b""
    )
    assert (status, body) == (413, OVER)
    status, _, body = cluster.request(
        "COPY", f"{src}/six", _h(tester, Destination=f"{dst_name}/o6")
    )
    assert (status, body) == (413, OVER)
    status, _, _ = cluster.request("COPY", f"{src}/five", _h(tester, Destination=f"{dst_name}/o5"))
    assert status == 201  # exactly the quota


def _extract(cluster: Cluster, auth: Auth, members: list[tuple[str, bytes]]) -> dict:
    """``?extract-archive=tar`` of ``members`` into the account; the JSON report."""
    body = tar_bytes([(name, data, {}) for name, data in members])
    headers = _h(auth, Accept="application/json")
    status, _, text = cluster.request("PUT", f"{auth.path}?extract-archive=tar", headers, body)
    assert status == 200
    return json.loads(text.strip())


def _new_container(cluster: Cluster, auth: Auth, prefix: str, **headers: str) -> tuple[str, str]:
    """A new container made with ``headers``: (its name, its path)."""
    name = _name(prefix)
    assert cluster.request("PUT", f"{auth.path}/{name}", _h(auth, **headers))[0] == 201
    return name, f"{auth.path}/{name}"


def test_extracted_files_are_held_to_the_container_bytes_quota_at_the_byte(
    cluster: Cluster, tester: Auth
) -> None:
    name, c = _new_container(cluster, tester, "cqea", X_Container_Meta_Quota_Bytes="5")
    report = _extract(cluster, tester, [(f"{name}/six", b"x" * 6), (f"{name}/five", b"x" * 5)])
    assert report["Number Files Created"] == 1
    assert report["Errors"] == [[f"{name}/six", "413 Request Entity Too Large"]]
    assert [o["name"] for o in cluster.json(c, tester.token)] == ["five"]  # type: ignore[index]


def test_extracted_files_are_held_to_the_container_count_quota(
    cluster: Cluster, tester: Auth
) -> None:
    name, c = _new_container(cluster, tester, "cqcea", X_Container_Meta_Quota_Count="1")
    assert _put(cluster, tester, f"{c}/a", 1)[0] == 201
    _settled(cluster, tester, c, "container", (1, 1))
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Count="1"))[0] == 204
    report = _extract(cluster, tester, [(f"{name}/b", b"b")])  # 1 + 1 > 1
    assert (report["Number Files Created"], report["Errors"]) == (
        0,
        [[f"{name}/b", "413 Request Entity Too Large"]],
    )
    assert cluster.request("POST", c, _h(tester, X_Container_Meta_Quota_Count="2"))[0] == 204
    report = _extract(cluster, tester, [(f"{name}/b", b"b")])  # 1 + 1 == 2
    assert (report["Number Files Created"], report["Errors"]) == (1, [])


@pytest.mark.parametrize("value", HOSTILE)
def test_container_quota_not_a_number_is_400(cluster: Cluster, tester: Auth, value: str) -> None:
    c = f"{tester.path}/{_name('cqbad')}"
    for method, header in (
        ("PUT", "X-Container-Meta-Quota-Bytes"),
        ("PUT", "X-Container-Meta-Quota-Count"),
    ):
        status, _, body = cluster.request(method, c, {"X-Auth-Token": tester.token, header: value})
        assert status == 400
        assert body in (b"Invalid bytes quota.", b"Invalid count quota.")
    assert cluster.request("HEAD", c, _h(tester))[0] == 404  # nothing was created


# -- account quotas -----------------------------------------------------------------------------
def _shared_container(cluster: Cluster, reseller: Auth) -> tuple[str, str]:
    """A new account (made by the reseller) with a container tester may write: (acct, c)."""
    account = f"/v1/AUTH_{_name('aq')}"
    c = f"{account}/c"
    acl = {"X-Container-Write": "test:tester", "X-Container-Read": "test:tester"}
    assert cluster.request("PUT", c, {"X-Auth-Token": reseller.token, **acl})[0] == 201
    return account, c


def test_account_bytes_quota_is_413_one_byte_past(
    cluster: Cluster, tester: Auth, reseller: Auth
) -> None:
    account, c = _shared_container(cluster, reseller)
    assert _put(cluster, reseller, f"{c}/seed", 10)[0] == 201  # resellers are not limited
    _settled(cluster, reseller, account, "account", (10, 1))
    assert cluster.request("POST", account, _h(reseller, X_Account_Quota_Bytes="15"))[0] == 204
    assert _put(cluster, tester, f"{c}/big", 6) == (413, OVER)
    assert _put(cluster, tester, f"{c}/fits", 5)[0] == 201
    _settled(cluster, reseller, account, "account", (15, 2))
    assert cluster.request("POST", account, _h(reseller, X_Account_Quota_Bytes="15"))[0] == 204
    assert _put(cluster, tester, f"{c}/one", 1) == (413, OVER)
    assert _put(cluster, tester, f"{c}/zero", 0)[0] == 201
    assert _put(cluster, reseller, f"{c}/reseller", 100)[0] == 201
    _, headers, _ = cluster.request("HEAD", account, _h(reseller))
    assert headers["x-account-quota-bytes"] == "15"
    assert "x-account-sysmeta-quota-bytes" not in headers


@pytest.mark.parametrize(
    ("header", "refusal"),
    [("X-Account-Quota-Count", OVER), ("X-Account-Quota-Count-Policy-Policy-0", OVER_POLICY)],
    ids=["account", "policy"],
)
def test_account_count_quota_is_413_one_object_past(
    cluster: Cluster, tester: Auth, reseller: Auth, header: str, refusal: bytes
) -> None:
    account, c = _shared_container(cluster, reseller)
    assert _put(cluster, reseller, f"{c}/seed", 1)[0] == 201
    _settled(cluster, reseller, account, "account", (1, 1))
    assert cluster.request("POST", account, _h(reseller, **{header: "2"}))[0] == 204
    assert _put(cluster, tester, f"{c}/second", 1)[0] == 201  # 1 + 1 == 2
    _settled(cluster, reseller, account, "account", (2, 2))
    assert cluster.request("POST", account, _h(reseller, **{header: "2"}))[0] == 204
    assert _put(cluster, tester, f"{c}/third", 0) == (413, refusal)
    _, headers, _ = cluster.request("HEAD", account, _h(reseller))
    assert headers[header.lower()] == "2"
    assert cluster.request("DELETE", f"{c}/second", _h(tester))[0] == 204  # deletes still work


def test_account_legacy_meta_quota_is_honoured(
    cluster: Cluster, tester: Auth, reseller: Auth
) -> None:
    account, c = _shared_container(cluster, reseller)
    assert cluster.request("POST", account, _h(reseller, X_Account_Meta_Quota_Bytes="3"))[0] == 204
    assert _put(cluster, tester, f"{c}/four", 4) == (413, OVER)
    assert _put(cluster, tester, f"{c}/three", 3)[0] == 201
    _, headers, _ = cluster.request("HEAD", account, _h(reseller))
    assert headers["x-account-meta-quota-bytes"] == "3"
    assert headers["x-account-quota-bytes"] == "3"


@pytest.mark.parametrize(
    "header",
    [
        "X-Account-Quota-Bytes",
        "X-Account-Quota-Count",
        "X-Account-Meta-Quota-Bytes",
        "X-Remove-Account-Quota-Bytes",
        "X-Account-Quota-Bytes-Policy-Policy-0",
    ],
)
def test_account_owner_may_not_set_quotas(cluster: Cluster, tester: Auth, header: str) -> None:
    status, _, _ = cluster.request("POST", tester.path, {"X-Auth-Token": tester.token, header: "1"})
    assert status == 403
    _, headers, _ = cluster.request("HEAD", tester.path, _h(tester))
    assert "x-account-quota-bytes" not in headers


@pytest.mark.parametrize("value", HOSTILE)
def test_account_quota_not_a_number_is_400(cluster: Cluster, reseller: Auth, value: str) -> None:
    for header in (
        "X-Account-Quota-Bytes",
        "X-Account-Quota-Count",
        "X-Account-Quota-Count-Policy-Policy-0",
    ):
        status, _, _ = cluster.request(
            "POST", "/v1/AUTH_test", {"X-Auth-Token": reseller.token, header: value}
        )
        assert status == 400


def test_info_lists_quotas(cluster: Cluster) -> None:
    status, _, body = cluster.request("GET", "/info")
    info = json.loads(body)
    assert status == 200
    assert info["account_quotas"] == {}
    assert info["container_quotas"] == {}
    assert set(info["ratelimit"]) == {
        "account_ratelimit",
        "max_sleep_time_seconds",
        "container_ratelimits",
        "container_listing_ratelimits",
    }
