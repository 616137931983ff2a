"""Container server verbs through webob, on real files and real SQLite."""

from __future__ import annotations

import json
import os
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from webob import Request

from swiftlite.common import policies
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.server import ContainerServerOptions, app_factory
from tests.support.policy_conf import numbered, parse_policies


@pytest.fixture
def four_policies(monkeypatch):
    pols = parse_policies(numbered(4))
    monkeypatch.setattr(policies, "load", lambda: pols)
    return pols


def parse_xml(body):
    return ET.fromstring(body)  # noqa: S314 - our own server's output


def put_container(call, name="a/c", ts=1000, **headers):
    return call("PUT", name, {"X-Timestamp": Timestamp(ts).internal, **headers})


def put_object(call, name, ts=1001, size=3, ctype="text/plain", etag="abc", container="a/c"):
    headers = {
        "X-Timestamp": Timestamp(ts).internal,
        "X-Size": str(size),
        "X-Content-Type": ctype,
        "X-Etag": etag,
    }
    return call("PUT", f"{container}/{name}", headers)


def delete_object(call, name, ts=1002, container="a/c"):
    return call("DELETE", f"{container}/{name}", {"X-Timestamp": Timestamp(ts).internal})


def listing(call, query="format=json", container="a/c", **headers):
    resp = call("GET", container, headers, query)
    assert resp.status_int in (200, 204), resp.status
    return resp


# -- PUT / HEAD / DELETE of the container ---------------------------------------------------


def test_put_new_container_is_201_then_202(call):
    assert put_container(call).status_int == 201
    assert put_container(call, ts=1001).status_int == 202


def test_put_without_timestamp_is_400(call):
    assert call("PUT", "a/c").status_int == 400
    assert call("PUT", "a/c", {"X-Timestamp": "yesterday"}).status_int == 400


def test_head_missing_container_is_404(call):
    assert call("HEAD", "a/nope").status_int == 404


def test_head_reports_totals_timestamps_and_metadata(call):
    put_container(call, ts=1000.5, **{"X-Container-Meta-Color": "red", "X-Container-Read": ".r:*"})
    put_object(call, "o1", size=5)
    put_object(call, "o2", size=7)
    resp = call("HEAD", "a/c")
    assert resp.status_int == 204
    h = resp.headers
    assert h["X-Container-Object-Count"] == "2"
    assert h["X-Container-Bytes-Used"] == "12"
    assert h["X-Timestamp"] == "0000001000.50000"
    assert h["X-Put-Timestamp"] == "0000001000.50000"
    assert h["X-Backend-Timestamp"] == Timestamp(1000.5).internal
    assert h["X-Backend-Put-Timestamp"] == Timestamp(1000.5).internal
    assert h["X-Backend-Delete-Timestamp"] == Timestamp(0).internal
    assert h["X-Backend-Storage-Policy-Index"] == "0"
    assert h["X-Container-Meta-Color"] == "red"
    assert h["X-Container-Read"] == ".r:*"
    assert h["Last-Modified"] == Timestamp(1000.5).http_date
    assert h["Content-Type"] == "text/plain; charset=utf-8"


def test_put_stores_policy_index_and_conflicting_policy_is_409(call, four_policies):
    put_container(call, **{"X-Backend-Storage-Policy-Index": "2"})
    assert call("HEAD", "a/c").headers["X-Backend-Storage-Policy-Index"] == "2"
    resp = put_container(call, ts=1001, **{"X-Backend-Storage-Policy-Index": "1"})
    assert resp.status_int == 409
    assert resp.headers["X-Backend-Storage-Policy-Index"] == "2"


def test_put_without_policy_uses_the_default_header_and_keeps_an_existing_policy(
    call, four_policies
):
    put_container(call, **{"X-Backend-Storage-Policy-Default": "2"})
    assert call("HEAD", "a/c").headers["X-Backend-Storage-Policy-Index"] == "2"
    resp = put_container(call, ts=1001, **{"X-Backend-Storage-Policy-Default": "1"})
    assert resp.status_int == 202
    assert call("HEAD", "a/c").headers["X-Backend-Storage-Policy-Index"] == "2"


def test_put_naming_an_unknown_policy_is_400(call, four_policies):
    resp = put_container(call, **{"X-Backend-Storage-Policy-Index": "4"})
    assert resp.status_int == 400
    assert call("HEAD", "a/c").status_int == 404


def test_delete_empty_container_is_204_then_404_with_backend_headers(call):
    put_container(call)
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1001).internal}).status_int == 204
    resp = call("HEAD", "a/c")
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Deleted"] == "true"
    assert resp.headers["X-Backend-Timestamp"] == Timestamp(1000).internal
    assert resp.headers["X-Backend-Delete-Timestamp"] == Timestamp(1001).internal
    assert "X-Container-Object-Count" not in resp.headers
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1002).internal}).status_int == 404


def test_delete_missing_container_is_404(call):
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1001).internal}).status_int == 404


def test_delete_container_holding_objects_is_409(call):
    put_container(call)
    put_object(call, "o")
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1005).internal}).status_int == 409
    delete_object(call, "o", ts=1006)
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1007).internal}).status_int == 204


def test_delete_older_than_put_is_409(call):
    put_container(call, ts=2000)
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1999).internal}).status_int == 409
    assert call("HEAD", "a/c").status_int == 204


def test_put_after_delete_recreates_with_new_policy(call, four_policies):
    put_container(call, ts=1000, **{"X-Backend-Storage-Policy-Index": "1"})
    call("DELETE", "a/c", {"X-Timestamp": Timestamp(1001).internal})
    resp = put_container(call, ts=1002, **{"X-Backend-Storage-Policy-Index": "3"})
    assert resp.status_int == 201
    head = call("HEAD", "a/c")
    assert head.headers["X-Backend-Storage-Policy-Index"] == "3"
    assert head.headers["X-Timestamp"] == Timestamp(1002).normal


def test_put_older_than_delete_is_409_and_stays_deleted(call):
    put_container(call, ts=1000)
    call("DELETE", "a/c", {"X-Timestamp": Timestamp(1005).internal})
    assert put_container(call, ts=1003).status_int == 409
    assert call("HEAD", "a/c").status_int == 404


# -- object rows ----------------------------------------------------------------------------


def test_object_update_into_missing_container_is_404(call):
    assert put_object(call, "o").status_int == 404
    assert delete_object(call, "o").status_int == 404


def test_object_update_missing_size_is_400(call):
    put_container(call)
    resp = call("PUT", "a/c/o", {"X-Timestamp": Timestamp(1001).internal, "X-Etag": "e"})
    assert resp.status_int == 400


def test_object_put_then_delete_updates_listing(call):
    put_container(call)
    assert put_object(call, "o", size=4, ctype="image/png", etag="beef").status_int == 201
    rows = json.loads(listing(call).body)
    assert rows == [
        {
            "name": "o",
            "hash": "beef",
            "bytes": 4,
            "content_type": "image/png",
            "last_modified": Timestamp(1001).isoformat,
        }
    ]
    assert delete_object(call, "o").status_int == 204
    assert json.loads(listing(call).body) == []


def test_object_updates_out_of_order_keep_newest(call):
    put_container(call)
    put_object(call, "o", ts=1005, size=5)
    delete_object(call, "o", ts=1003)
    put_object(call, "o", ts=1004, size=4)
    assert [r["bytes"] for r in json.loads(listing(call).body)] == [5]


def test_object_update_into_auto_create_account_creates_container(call):
    assert (
        put_object(call, "1700000000-a/c/o", container=".expiring_objects/1700000000").status_int
        == 201
    )
    resp = call("HEAD", ".expiring_objects/1700000000")
    assert resp.headers["X-Container-Object-Count"] == "1"


def test_object_content_type_utf8_round_trips(call):
    put_container(call)
    ctype = "text/plain; name=é".encode().decode("latin-1")  # as it arrives on the wire
    put_object(call, "o", ctype=ctype)
    assert json.loads(listing(call).body)[0]["content_type"] == "text/plain; name=é"


# -- POST and metadata ----------------------------------------------------------------------


def test_post_metadata_merges_and_empty_value_removes(call):
    put_container(call, **{"X-Container-Meta-A": "1", "X-Container-Meta-B": "2"})
    resp = call(
        "POST",
        "a/c",
        {
            "X-Timestamp": Timestamp(1001).internal,
            "X-Container-Meta-B": "",
            "X-Container-Meta-C": "3",
        },
    )
    assert resp.status_int == 204
    h = call("HEAD", "a/c").headers
    assert h["X-Container-Meta-A"] == "1"
    assert "X-Container-Meta-B" not in h
    assert h["X-Container-Meta-C"] == "3"
    assert h["X-Put-Timestamp"] == Timestamp(1001).normal


def test_post_older_metadata_does_not_override_newer(call):
    put_container(call, ts=1000)
    call("POST", "a/c", {"X-Timestamp": Timestamp(1002).internal, "X-Container-Meta-K": "new"})
    call("POST", "a/c", {"X-Timestamp": Timestamp(1001).internal, "X-Container-Meta-K": "old"})
    assert call("HEAD", "a/c").headers["X-Container-Meta-K"] == "new"


def test_post_missing_container_is_404(call):
    assert call("POST", "a/c", {"X-Timestamp": Timestamp(1).internal}).status_int == 404


def test_sysmeta_and_acls_are_stored_and_returned(call):
    put_container(
        call,
        **{
            "X-Container-Sysmeta-Versions": "v",
            "X-Container-Write": "acct:user",
            "X-Unrelated": "dropped",
        },
    )
    h = call("HEAD", "a/c").headers
    assert h["X-Container-Sysmeta-Versions"] == "v"
    assert h["X-Container-Write"] == "acct:user"
    assert "X-Unrelated" not in h


def test_metadata_utf8_value_passes_through(call):
    value = "café".encode().decode("latin-1")
    put_container(call, **{"X-Container-Meta-Name": value})
    assert call("HEAD", "a/c").headers["X-Container-Meta-Name"] == value


def test_metadata_invalid_utf8_is_400(call):
    assert put_container(call, **{"X-Container-Meta-Bad": "\xff\xfe"}).status_int == 400


def test_metadata_too_many_items_is_400(call):
    meta = {f"X-Container-Meta-K{i}": "v" for i in range(91)}
    assert put_container(call, **meta).status_int == 400


def test_metadata_name_too_long_is_400(call):
    assert put_container(call, **{"X-Container-Meta-" + "n" * 129: "v"}).status_int == 400


def test_metadata_value_too_long_is_400(call):
    assert put_container(call, **{"X-Container-Meta-V": "v" * 257}).status_int == 400


def test_metadata_stored_total_over_limit_is_400(call):
    first = {f"X-Container-Meta-A{i}": "x" * 200 for i in range(15)}  # ~3,000 bytes
    assert put_container(call, **first).status_int == 201
    more = {f"X-Container-Meta-B{i}": "y" * 200 for i in range(10)}  # fine alone, not together
    resp = call("POST", "a/c", {"X-Timestamp": Timestamp(1001).internal, **more})
    assert resp.status_int == 400
    assert "X-Container-Meta-B0" not in call("HEAD", "a/c").headers


# -- listings -------------------------------------------------------------------------------


@pytest.fixture
def filled(call):
    put_container(call)
    for name in ["b", "a/x", "a/y", "é", "c", "a/z/deep", "d<&>\"'"]:
        put_object(call, name)
    return call


def test_empty_plain_listing_is_204_but_json_is_200_empty_list(call):
    put_container(call)
    assert call("GET", "a/c").status_int == 204
    resp = call("GET", "a/c", query="format=json")
    assert resp.status_int == 200
    assert resp.body == b"[]"
    assert resp.content_type == "application/json"
    xml = call("GET", "a/c", query="format=xml")
    assert xml.status_int == 200
    assert parse_xml(xml.body).attrib == {"name": "c"}


def test_plain_listing_is_newline_terminated_utf8_in_byte_order(filled):
    resp = listing(filled, "")
    assert resp.status_int == 200
    assert resp.content_type == "text/plain"
    assert resp.body.decode("utf-8") == "a/x\na/y\na/z/deep\nb\nc\nd<&>\"'\né\n"


def test_xml_listing_escapes_names_and_carries_fields(filled):
    resp = listing(filled, "format=xml&prefix=d")
    assert resp.content_type == "application/xml"
    root = parse_xml(resp.body)
    assert root.tag == "container"
    obj = root.find("object")
    assert obj.findtext("name") == "d<&>\"'"
    assert obj.findtext("bytes") == "3"
    assert obj.findtext("hash") == "abc"
    assert obj.findtext("content_type") == "text/plain"
    assert obj.findtext("last_modified") == Timestamp(1001).isoformat


def test_xml_listing_subdirs_have_name_attribute_and_element(filled):
    root = parse_xml(listing(filled, "format=xml&delimiter=/").body)
    subdir = root.find("subdir")
    assert subdir.attrib["name"] == "a/"
    assert subdir.findtext("name") == "a/"


def test_json_listing_delimiter_gives_subdir_rows(filled):
    rows = json.loads(listing(filled, "format=json&delimiter=/").body)
    assert rows[0] == {"subdir": "a/"}
    assert [r.get("name") for r in rows[1:]] == ["b", "c", "d<&>\"'", "é"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", "application/json"),
        ("application/xml", "application/xml"),
        ("text/xml", "text/xml"),
        ("text/plain", "text/plain"),
        ("*/*", "text/plain"),
        ("application/*;q=0.9, text/xml;q=0.1", "application/json"),
    ],
)
def test_accept_header_picks_format(filled, accept, expected):
    assert listing(filled, "", Accept=accept).content_type == expected


def test_format_parameter_overrides_accept(filled):
    assert (
        listing(filled, "format=json", Accept="application/xml").content_type == "application/json"
    )


def test_unacceptable_accept_is_406(filled):
    assert filled("GET", "a/c", {"Accept": "image/png"}).status_int == 406


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("limit=2", ["a/x", "a/y"]),
        ("marker=b", ["c", "d<&>\"'", "é"]),
        ("end_marker=a/z", ["a/x", "a/y"]),
        ("prefix=a/", ["a/x", "a/y", "a/z/deep"]),
        ("path=a", ["a/x", "a/y"]),
        ("reverse=on&limit=2", ["é", "d<&>\"'"]),
        ("reverse=true&marker=c&end_marker=a/x", ["b", "a/z/deep", "a/y"]),
        ("prefix=a/&delimiter=/", ["a/x", "a/y", "a/z/"]),
        ("limit=abc", ["a/x", "a/y", "a/z/deep", "b", "c", "d<&>\"'", "é"]),
        ("limit=0", []),
        ("marker=" + urllib.parse.quote("é"), []),
    ],
)
def test_listing_parameters(filled, query, names):
    rows = json.loads(listing(filled, "format=json&" + query).body)
    assert [r.get("name") or r.get("subdir") for r in rows] == names


def test_listing_limit_over_maximum_is_412(filled):
    resp = filled("GET", "a/c", query="limit=10001")
    assert resp.status_int == 412
    assert b"Maximum limit is 10000" in resp.body


def test_listing_multi_character_delimiter_is_not_412(filled):
    assert filled("GET", "a/c", query="delimiter=ab").status_int in (200, 204)


def test_listing_nul_in_marker_is_not_400(filled):
    assert filled("GET", "a/c", query="marker=a%00&format=json").status_int == 200


def test_listing_invalid_utf8_parameter_is_400(filled):
    assert filled("GET", "a/c", query="prefix=%FF").status_int == 400


def test_listing_of_deleted_container_is_404(call):
    put_container(call)
    call("DELETE", "a/c", {"X-Timestamp": Timestamp(1001).internal})
    assert call("GET", "a/c", query="format=json").status_int == 404


def test_listing_carries_container_headers(filled):
    resp = listing(filled)
    assert resp.headers["X-Container-Object-Count"] == "7"
    assert resp.headers["X-Container-Bytes-Used"] == "21"


# -- names, devices, methods, factory -------------------------------------------------------


def test_container_name_too_long_is_400(call):
    assert put_container(call, name="a/" + "c" * 257).status_int == 400


def test_object_name_too_long_is_400(call):
    put_container(call)
    assert put_object(call, "o" * 1025).status_int == 400


def test_object_name_with_nul_is_412(call):
    put_container(call)
    assert put_object(call, "bad\x00name").status_int == 412


def test_path_with_invalid_utf8_is_412(app):
    req = Request.blank("/sda/0/a/%FF", method="HEAD")
    assert req.get_response(app).status_int == 412


def test_unmounted_device_is_507(make_app, call):
    strict = make_app(mount_check=True)
    assert call("HEAD", "a/c", target=strict).status_int == 507


def test_missing_device_is_507(app):
    assert Request.blank("/nodev/0/a/c", method="HEAD").get_response(app).status_int == 507


def test_unknown_method_is_405(call):
    resp = call("COPY", "a/c")
    assert resp.status_int == 405
    assert "PUT" in resp.headers["Allow"]


def test_app_factory_parses_paste_strings(tmp_path):
    app = app_factory(
        {"devices": str(tmp_path), "mount_check": "false"},
        account_update_interval="0.5",
        log_requests="no",
    )
    assert app.options == ContainerServerOptions(
        devices=str(tmp_path), mount_check=False, account_update_interval=0.5, log_requests=False
    )


def test_database_file_lives_under_containers_dir(call, devices):
    put_container(call)
    found = [
        f for _, _, files in os.walk(os.path.join(devices, "sda", "containers")) for f in files
    ]
    assert len(found) == 1
    assert found[0].endswith(".db")


def test_corrupt_database_is_quarantined_and_answers_500(call, devices):
    from swiftlite.db import layout

    put_container(call)
    name_hash = layout.db_hash("a", "c")
    db_file = layout.db_file(os.path.join(devices, "sda"), "container", 0, name_hash)
    for extra in ("-wal", "-shm"):
        if os.path.exists(db_file + extra):
            os.unlink(db_file + extra)
    with open(db_file, "r+b") as fh:
        fh.write(b"garbage, not an SQLite header" * 4)
    assert call("HEAD", "a/c").status_int == 500
    assert not os.path.exists(db_file)
    quarantined = layout.quarantine_dir(os.path.join(devices, "sda"), "container", name_hash)
    assert os.path.isfile(os.path.join(quarantined, name_hash + ".db"))
    assert call("HEAD", "a/c").status_int == 404


def test_misplaced_rows_are_not_counted_or_listed_but_keep_the_container_from_deletion(
    call, four_policies
):
    put_container(call, **{"X-Backend-Storage-Policy-Index": "2"})
    for name, policy in (("right", "2"), ("wrong", "1")):
        headers = {
            "X-Timestamp": Timestamp(1001).internal,
            "X-Size": "4",
            "X-Content-Type": "text/plain",
            "X-Etag": "abc",
            "X-Backend-Storage-Policy-Index": policy,
        }
        assert call("PUT", f"a/c/{name}", headers).status_int == 201
    head = call("HEAD", "a/c")
    assert head.headers["X-Container-Object-Count"] == "1"
    assert head.headers["X-Container-Bytes-Used"] == "4"
    assert [r["name"] for r in json.loads(listing(call).body)] == ["right"]
    delete_object(call, "right", ts=1003)
    assert call("HEAD", "a/c").headers["X-Container-Object-Count"] == "0"
    assert call("DELETE", "a/c", {"X-Timestamp": Timestamp(1005).internal}).status_int == 409
