"""Account server verbs through webob, on real files and real SQLite."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from swiftlite.account.server import AccountServerOptions, app_factory
from swiftlite.common.timestamp import Timestamp


def put_account(call, ts=1000, **headers):
    return call("PUT", "a", {"X-Timestamp": Timestamp(ts).internal, **headers})


def report(call, container, put=1001, delete=0, count=0, used=0, stats=None, account="a", **extra):
    headers = {
        "X-Put-Timestamp": Timestamp(put).internal,
        "X-Delete-Timestamp": Timestamp(delete).internal,
        "X-Object-Count": str(count),
        "X-Bytes-Used": str(used),
        "X-Timestamp": Timestamp(stats or max(put, delete)).internal,
        **extra,
    }
    return call("PUT", f"{account}/{container}", headers)


def test_put_account_is_201_then_202(call):
    assert put_account(call).status_int == 201
    assert put_account(call, ts=1001).status_int == 202


def test_head_missing_account_is_404(call):
    assert call("HEAD", "a").status_int == 404


def test_head_reports_totals_and_metadata(call):
    put_account(
        call, **{"X-Account-Meta-Owner": "me", "X-Account-Sysmeta-Core-Access-Control": "{}"}
    )
    report(call, "c1", count=2, used=20)
    report(call, "c2", count=3, used=5)
    resp = call("HEAD", "a")
    assert resp.status_int == 204
    h = resp.headers
    assert h["X-Account-Container-Count"] == "2"
    assert h["X-Account-Object-Count"] == "5"
    assert h["X-Account-Bytes-Used"] == "25"
    assert h["X-Timestamp"] == Timestamp(1000).normal
    assert h["X-Put-Timestamp"] == Timestamp(1000).normal
    assert h["X-Account-Meta-Owner"] == "me"
    assert h["X-Account-Sysmeta-Core-Access-Control"] == "{}"


def test_container_report_is_201_and_deleted_report_is_204(call):
    put_account(call)
    assert report(call, "c").status_int == 201
    assert report(call, "c", put=1001, delete=1002).status_int == 204
    assert call("HEAD", "a").headers["X-Account-Container-Count"] == "0"


def test_container_report_into_missing_account_is_404(call):
    assert report(call, "c").status_int == 404


def test_container_report_missing_header_is_400(call):
    put_account(call)
    assert call("PUT", "a/c", {"X-Put-Timestamp": "1"}).status_int == 400


def test_container_report_into_auto_create_account_creates_it(call):
    assert report(call, "q", account=".expiring_objects").status_int == 201
    assert call("HEAD", ".expiring_objects").headers["X-Account-Container-Count"] == "1"


def test_listing_json_rows_carry_count_bytes_last_modified(call):
    put_account(call)
    report(call, "c", put=1001.5, count=4, used=40)
    rows = json.loads(call("GET", "a", query="format=json").body)
    assert rows == [
        {
            "name": "c",
            "count": 4,
            "bytes": 40,
            "last_modified": Timestamp(1001.5).isoformat,
            "storage_policy": "Policy-0",
        }
    ]


def test_listing_plain_empty_is_204_and_xml_has_account_root(call):
    put_account(call)
    assert call("GET", "a").status_int == 204
    report(call, "c<1>")
    resp = call("GET", "a", query="format=xml")
    root = ET.fromstring(resp.body)  # noqa: S314 - our own server's output
    assert (root.tag, root.attrib["name"]) == ("account", "a")
    assert root.find("container").findtext("name") == "c<1>"
    assert root.find("container").findtext("count") == "0"


def test_listing_xml_container_element_carries_storage_policy(call):
    put_account(call)
    report(call, "c", count=1, used=3)
    root = ET.fromstring(call("GET", "a", query="format=xml").body)  # noqa: S314 - our output
    item = root.find("container")
    assert [child.tag for child in item] == [
        "name",
        "count",
        "bytes",
        "last_modified",
        "storage_policy",
    ]
    assert item.findtext("storage_policy") == "Policy-0"


def test_listing_parameters_apply_to_containers(call):
    put_account(call)
    for name in ["photos-1", "photos-2", "videos"]:
        assert report(call, name).status_int == 201
    rows = json.loads(call("GET", "a", query="format=json&prefix=photos&limit=1").body)
    assert [r["name"] for r in rows] == ["photos-1"]
    rows = json.loads(call("GET", "a", query="format=json&delimiter=-").body)
    assert rows == [{"subdir": "photos-"}, rows[1]]
    assert rows[1]["name"] == "videos"
    assert call("GET", "a", query="limit=10001").status_int == 412


def test_delete_account_marks_it_deleted_for_the_reaper(call, app):
    put_account(call)
    report(call, "c", count=1, used=1)
    assert call("DELETE", "a", {"X-Timestamp": Timestamp(2000).internal}).status_int == 204
    resp = call("HEAD", "a")
    assert resp.status_int == 404
    assert resp.headers["X-Account-Status"] == "Deleted"
    assert call("GET", "a").status_int == 404
    assert call("DELETE", "a", {"X-Timestamp": Timestamp(2001).internal}).status_int == 404
    assert put_account(call, ts=3000).status_int == 403
    assert report(call, "c2").status_int == 404
    from swiftlite.account.broker import AccountBroker

    broker = AccountBroker.at(app.device_path("sda"), 0, "a")
    assert broker.is_status_deleted()
    assert [r[0] for r in broker.get_container_rows()] == ["c"]  # rows kept for the reaper
    broker.close()


def test_delete_missing_account_is_404(call):
    assert call("DELETE", "a", {"X-Timestamp": "1"}).status_int == 404


def test_post_merges_metadata_and_checks_limits(call):
    put_account(call, **{"X-Account-Meta-A": "1"})
    assert call("POST", "a", {"X-Timestamp": "1001", "X-Account-Meta-B": "2"}).status_int == 204
    h = call("HEAD", "a").headers
    assert (h["X-Account-Meta-A"], h["X-Account-Meta-B"]) == ("1", "2")
    big = {f"X-Account-Meta-K{i}": "v" * 250 for i in range(17)}
    assert call("POST", "a", {"X-Timestamp": "1002", **big}).status_int == 400


def test_post_missing_account_is_404(call):
    assert call("POST", "a", {"X-Timestamp": "1"}).status_int == 404


def test_container_path_on_get_is_400(call):
    put_account(call)
    assert call("GET", "a/c").status_int == 400


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_missing_timestamp_is_400(call, method):
    put_account(call)
    assert call(method, "a").status_int == 400


def test_app_factory_parses_paste_strings(tmp_path):
    app = app_factory({"devices": str(tmp_path)}, mount_check="no", log_requests="false")
    assert app.options == AccountServerOptions(
        devices=str(tmp_path), mount_check=False, log_requests=False
    )


def test_head_and_listing_carry_per_policy_stats(call, monkeypatch):
    from swiftlite.common import policies
    from tests.support.policy_conf import parse_policies

    pols = parse_policies(
        "[storage-policy:0]\nname = gold\ndefault = yes\n[storage-policy:1]\nname = silver\n"
    )
    monkeypatch.setattr(policies, "load", lambda: pols)
    put_account(call)
    index = "X-Backend-Storage-Policy-Index"
    report(call, "g1", count=1, used=10, **{index: "0"})
    report(call, "s1", count=2, used=20, **{index: "1"})
    report(call, "s2", count=3, used=30, **{index: "1"})
    report(call, "gone", put=1001, delete=1002, **{index: "1"})
    report(call, "lost", count=7, used=70, **{index: "5"})  # a policy no longer configured
    head = call("HEAD", "a")
    assert head.headers["X-Account-Storage-Policy-Gold-Container-Count"] == "1"
    assert head.headers["X-Account-Storage-Policy-Gold-Bytes-Used"] == "10"
    assert head.headers["X-Account-Storage-Policy-Silver-Container-Count"] == "2"
    assert head.headers["X-Account-Storage-Policy-Silver-Object-Count"] == "5"
    assert head.headers["X-Account-Storage-Policy-Silver-Bytes-Used"] == "50"
    assert head.headers["X-Account-Object-Count"] == "13"
    assert not [k for k in head.headers if "-5-" in k]
    rows = json.loads(call("GET", "a", query="format=json").body)
    assert {r["name"]: r["storage_policy"] for r in rows} == {
        "g1": "gold",
        "lost": "5",
        "s1": "silver",
        "s2": "silver",
    }
