"""Reserved names on the container server: only with the allow header; hidden from listings."""

from __future__ import annotations

import json

from swiftlite.common.reserved import ALLOW_HEADER
from swiftlite.common.timestamp import Timestamp

ALLOW = {ALLOW_HEADER: "true"}


def _put_row(call, name, headers):
    return call(
        "PUT",
        f"a/c/{name}",
        {
            "X-Timestamp": Timestamp(1001).internal,
            "X-Size": "1",
            "X-Content-Type": "t/p",
            "X-Etag": "e",
            **headers,
        },
    )


def test_reserved_object_row_without_allow_header_is_412(call) -> None:
    assert call("PUT", "a/c", {"X-Timestamp": Timestamp(1000).internal}).status_int == 201
    assert _put_row(call, "\x00o\x001", {}).status_int == 412
    assert _put_row(call, "\x00o\x001", ALLOW).status_int == 201


def test_reserved_rows_are_listed_only_with_allow_header(call) -> None:
    call("PUT", "a/c", {"X-Timestamp": Timestamp(1000).internal})
    _put_row(call, "\x00o\x001", ALLOW)
    _put_row(call, "plain", {})
    names = [r["name"] for r in json.loads(call("GET", "a/c", {}, "format=json").body)]
    assert names == ["plain"]
    both = json.loads(call("GET", "a/c", ALLOW, "format=json").body)
    assert [r["name"] for r in both] == ["\x00o\x001", "plain"]
    # NUL is a valid prefix byte (issue 12), but without the header no reserved row shows
    hidden = call("GET", "a/c", {}, "format=json&prefix=%00")
    assert hidden.status_int == 200
    assert json.loads(hidden.body) == []
    prefixed = json.loads(call("GET", "a/c", ALLOW, "format=json&prefix=%00o").body)
    assert [r["name"] for r in prefixed] == ["\x00o\x001"]


def test_reserved_container_without_allow_header_is_412(call) -> None:
    ts = {"X-Timestamp": Timestamp(1000).internal}
    assert call("PUT", "a/\x00versions\x00c", ts).status_int == 412
    assert call("PUT", "a/\x00versions\x00c", {**ts, **ALLOW}).status_int == 201
