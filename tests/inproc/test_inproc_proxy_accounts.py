"""Account, container and /info requests through the proxy against real servers."""

from __future__ import annotations

import json
import uuid

from tests.support.inproc import InprocCluster
from tests.support.wait import wait_until


def _account() -> str:
    return f"/v1/AUTH_{uuid.uuid4().hex[:10]}"


def test_head_missing_account_with_autocreate_is_204_with_zero_counts(cluster):
    resp = cluster.request("HEAD", _account())
    assert resp.status == 204
    assert resp.header("x-account-container-count") == "0"
    assert resp.header("x-account-bytes-used") == "0"


def test_get_missing_account_json_is_200_empty_list(cluster):
    resp = cluster.request("GET", f"{_account()}?format=json")
    assert resp.status == 200
    assert json.loads(resp.body) == []


def test_get_missing_account_plain_is_204(cluster):
    assert cluster.request("GET", _account()).status == 204


def test_put_account_without_account_management_is_405(cluster):
    resp = cluster.request("PUT", _account())
    assert resp.status == 405
    assert "PUT" not in resp.header("allow", "")


def test_first_container_put_autocreates_account_and_lists_it(cluster):
    account = _account()
    assert cluster.request("PUT", f"{account}/first").status == 201
    assert cluster.request("PUT", f"{account}/first").status == 202
    head = cluster.request("HEAD", account)
    assert head.status == 204
    assert head.header("x-account-container-count") == "1"
    assert cluster.request("GET", account).body == b"first\n"


def test_account_post_metadata_then_head_shows_it(cluster):
    account = _account()
    assert cluster.request("POST", account, {"X-Account-Meta-Team": "blue"}).status == 204
    assert cluster.request("HEAD", account).header("x-account-meta-team") == "blue"


def test_account_listing_limit_over_10000_is_412(cluster):
    assert cluster.request("GET", f"{_account()}?limit=10001").status == 412


def test_container_head_missing_is_404(cluster):
    assert cluster.request("HEAD", f"{_account()}/nothing").status == 404


def test_container_head_shows_counts_policy_and_meta(cluster, container):
    assert cluster.request("POST", container, {"X-Container-Meta-Owner": "me"}).status == 204
    assert cluster.request("PUT", f"{container}/o", {}, b"12345").status == 201

    def head():
        resp = cluster.request("HEAD", container)
        return resp if resp.header("x-container-object-count") == "1" else None

    resp = wait_until(head)
    assert resp.status == 204
    assert resp.header("x-container-bytes-used") == "5"
    assert resp.header("x-storage-policy") == "Policy-0"
    assert resp.header("x-container-meta-owner") == "me"
    assert resp.header("x-timestamp")
    assert not [k for k in resp.headers if k.startswith("x-backend-")]


def test_container_remove_meta_header_deletes_it(cluster, container):
    assert cluster.request("POST", container, {"X-Container-Meta-Tmp": "1"}).status == 204
    assert cluster.request("POST", container, {"X-Remove-Container-Meta-Tmp": "x"}).status == 204
    assert cluster.request("HEAD", container).header("x-container-meta-tmp") is None


def test_container_post_missing_is_404(cluster):
    assert cluster.request("POST", f"{_account()}/none", {"X-Container-Meta-A": "1"}).status == 404


def test_container_put_unknown_policy_is_400(cluster):
    resp = cluster.request("PUT", f"{_account()}/p", {"X-Storage-Policy": "gold"})
    assert resp.status == 400


def test_container_delete_non_empty_is_409_then_empty_is_204(cluster, container):
    assert cluster.request("PUT", f"{container}/o", {}, b"x").status == 201
    assert cluster.request("DELETE", container).status == 409
    assert cluster.request("DELETE", f"{container}/o").status == 204
    assert cluster.request("DELETE", container).status == 204
    assert cluster.request("HEAD", container).status == 404


def test_container_delete_missing_is_404(cluster):
    assert cluster.request("DELETE", f"{_account()}/gone").status == 404


def test_container_name_over_256_bytes_is_400(cluster):
    assert cluster.request("PUT", f"{_account()}/{'c' * 257}").status == 400


def test_unknown_api_version_is_400(cluster):
    assert cluster.request("GET", "/v2/AUTH_test").status == 400


def test_path_without_account_is_412(cluster):
    assert cluster.request("GET", "/v1").status == 412


def test_info_lists_swift_limits_and_policy(cluster):
    resp = cluster.request("GET", "/info")
    assert resp.status == 200
    swift = json.loads(resp.body)["swift"]
    assert swift["max_file_size"] == 5368709122
    assert swift["container_listing_limit"] == 10000
    assert swift["max_object_name_length"] == 1024
    assert swift["policies"][0]["name"] == "Policy-0"
    assert swift["account_autocreate"] is True


def test_deleted_account_answers_410_when_management_is_on(tmp_path):
    options = {"allow_account_management": "true"}
    managed = InprocCluster(tmp_path, proxy_options=options).start()
    try:
        account = _account()
        assert managed.request("PUT", account).status == 201
        assert managed.request("DELETE", account).status == 204
        assert managed.request("HEAD", account).status == 410
        assert managed.request("DELETE", f"{account}?junk=1").status == 400
    finally:
        managed.stop_all()
