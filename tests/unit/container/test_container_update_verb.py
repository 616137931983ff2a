"""The container server's UPDATE verb: many object rows in one request (from object servers)."""

from __future__ import annotations

import json
import urllib.parse

from webob import Request

from swiftlite.common.timestamp import Timestamp
from tests.unit.container.conftest import DEVICE


def update(app, rows, path="a/c", ts=2000):
    body = rows if isinstance(rows, bytes) else json.dumps(rows).encode()
    req = Request.blank(
        f"/{DEVICE}/0/" + urllib.parse.quote(path),
        method="UPDATE",
        headers={"X-Timestamp": Timestamp(ts).internal, "Content-Type": "application/json"},
        body=body,
    )
    return req.get_response(app)


def names(call):
    resp = call("GET", "a/c", {}, "format=json")
    return [(r["name"], r["bytes"], r["content_type"]) for r in json.loads(resp.body or b"[]")]


def test_update_merges_every_row_and_the_newest_wins(app, call):
    assert call("PUT", "a/c", {"X-Timestamp": Timestamp(1000).internal}).status_int == 201
    rows = [
        ["o1", Timestamp(1001).internal, 3, "text/plain", "e1", 0],
        ["caf\u00e9", Timestamp(1002).internal, 5, "text/x; n=\u00e9", "e2", 0],
        ["o2", Timestamp(1003).internal, 7, "a/b", "e3", 0],
        ["o2", Timestamp(1004).internal, 0, "", "", 1],  # deleted after its put
    ]
    assert update(app, rows).status_int == 202
    assert names(call) == [("caf\u00e9", 5, "text/x; n=\u00e9"), ("o1", 3, "text/plain")]


def test_update_to_a_missing_container_is_404_and_stores_nothing(app, call):
    rows = [["o", Timestamp(1001).internal, 1, "t/t", "e", 0]]
    assert update(app, rows).status_int == 404
    assert call("HEAD", "a/c").status_int == 404


def test_malformed_update_bodies_are_400(app, call):
    call("PUT", "a/c", {"X-Timestamp": Timestamp(1000).internal})
    good = ["o", Timestamp(1001).internal, 1, "t/t", "e", 0]
    for body in (
        b"not json",
        [],
        {"o": 1},
        [good[:5]],
        [["", *good[1:]]],
        [[good[0], "yesterday", *good[2:]]],
        [[*good[:2], -1, *good[3:]]],
        [[*good[:5], 2]],
        [["x" * 1025, *good[1:]]],
    ):
        assert update(app, body).status_int == 400, body
    assert names(call) == []


def test_update_on_an_object_path_is_400(app):
    assert (
        update(app, [["o", Timestamp(1).internal, 1, "t", "e", 0]], path="a/c/o").status_int == 400
    )
