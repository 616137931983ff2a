"""ListingUpdate: one record, and the wire forms it is written in and read back from."""

from __future__ import annotations

import json

import pytest

from swiftlite.common.errors import BadInput, Corrupt
from swiftlite.common.listing_update import DELETE, PUT, ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import updates

STAMP = Timestamp("1700000000.12345")
# "é" as a header carries it: UTF-8 bytes shown as latin-1 code points
WIRE_TYPE = "text/plain; name=\u00c3\u00a9"


def put(**fields) -> ListingUpdate:
    base = {"size": 11, "content_type": WIRE_TYPE, "etag": "5eb6", "policy": 1, "trans_id": "tx1"}
    return ListingUpdate(PUT, "AUTH_a", "c", "o/\u00e9", STAMP, **{**base, **fields})


def test_put_headers_are_swifts_container_update_headers() -> None:
    assert put().to_headers() == {
        "X-Timestamp": "1700000000.12345",
        "X-Size": "11",
        "X-Content-Type": WIRE_TYPE,
        "X-Etag": "5eb6",
        "X-Trans-Id": "tx1",
        "X-Backend-Storage-Policy-Index": "1",
    }


def test_delete_headers_carry_only_the_timestamp_trans_id_and_policy() -> None:
    update = ListingUpdate(DELETE, "a", "c", "o", STAMP, policy=0)
    assert update.to_headers() == {
        "X-Timestamp": "1700000000.12345",
        "X-Backend-Storage-Policy-Index": "0",
    }


@pytest.mark.parametrize(
    "update",
    [
        put(),
        put(policy=None, trans_id=None),
        ListingUpdate(DELETE, "a", "c", "o", Timestamp(STAMP, offset=3), policy=2),
    ],
)
def test_headers_and_rows_read_back_into_the_same_update(update: ListingUpdate) -> None:
    again = ListingUpdate.from_headers(
        update.op, update.account, update.container, update.obj, update.to_headers()
    )
    assert again == update
    row = json.loads(json.dumps(update.to_row()))  # as an UPDATE body carries it
    from_row = ListingUpdate.from_row(update.account, update.container, row, update.policy)
    assert from_row == ListingUpdate(
        update.op,
        update.account,
        update.container,
        update.obj,
        update.timestamp,
        update.size,
        update.content_type,
        update.etag,
        update.policy,
    )  # a row does not carry the transaction id


def test_row_and_record_carry_text() -> None:
    assert put().to_row() == [
        "o/\u00e9",
        "1700000000.12345",
        11,
        "text/plain; name=\u00e9",
        "5eb6",
        0,
    ]
    record = put().to_record()
    assert record == ("o/\u00e9", "1700000000.12345", 11, "text/plain; name=\u00e9", "5eb6", 0, 1)
    assert ListingUpdate(DELETE, "a", "c", "o", STAMP).to_record()[-2:] == (1, 0)


def test_a_content_type_that_is_not_utf8_stays_as_it_came() -> None:
    assert put(content_type="text/\u00ff").to_row()[3] == "text/\u00ff"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing timestamp"),
        ({"X-Timestamp": "nope"}, "should be a UNIX timestamp"),
        ({"X-Timestamp": "1", "X-Size": "1", "X-Content-Type": "t"}, "need X-Size"),
        ({"X-Timestamp": "1", "X-Size": "-1", "X-Content-Type": "t", "X-Etag": "e"}, "need"),
        ({"X-Timestamp": "1", "X-Backend-Storage-Policy-Index": "x"}, "Invalid X-Backend"),
    ],
)
def test_malformed_headers_are_bad_input(headers: dict[str, str], message: str) -> None:
    op = DELETE if "X-Backend-Storage-Policy-Index" in headers else PUT
    with pytest.raises(BadInput, match=message):
        ListingUpdate.from_headers(op, "a", "c", "o", headers)


@pytest.mark.parametrize(
    "row",
    [
        "o",
        ["o", "1", 0, "", ""],
        ["", "1", 0, "", "", 0],
        ["o", "1", -1, "", "", 0],
        ["o", "1", True, "", "", 0],
        ["o", "1", 0, "", "", 2],
        ["o", "1", 0, None, "", 0],
        ["o", "soon", 0, "", "", 0],
        ["o", "1", 0, "\ud800", "", 0],  # a lone surrogate has no UTF-8 form
    ],
)
def test_malformed_rows_are_bad_input(row) -> None:
    with pytest.raises(BadInput):
        ListingUpdate.from_row("a", "c", row)


def test_an_update_is_a_put_or_a_delete() -> None:
    with pytest.raises(ValueError, match="PUT or a DELETE"):
        ListingUpdate("POST", "a", "c", "o", STAMP)
    with pytest.raises(BadInput):
        ListingUpdate.from_headers("POST", "a", "c", "o", {"X-Timestamp": "1"})


def test_a_version_1_async_pending_from_before_the_record_still_loads(tmp_path) -> None:
    # written by the object server before ListingUpdate existed (docs/formats/object.md)
    doc = {
        "version": 1,
        "op": "PUT",
        "account": "AUTH_test",
        "container": "c",
        "obj": "o",
        "headers": {
            "X-Timestamp": "1700000000.00000",
            "X-Size": "11",
            "X-Content-Type": "text/plain",
            "X-Etag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
            "X-Trans-Id": "txabc",
            "X-Backend-Storage-Policy-Index": "0",
        },
        "container_partition": "42",
        "container_targets": [{"host": "127.0.0.1:6201", "device": "sdb"}],
    }
    path = tmp_path / "rec"
    path.write_text(json.dumps(doc), encoding="utf-8")
    pending = updates.read_async_pending(str(path))
    update = pending.listing_update()
    assert update == ListingUpdate(
        PUT,
        "AUTH_test",
        "c",
        "o",
        Timestamp("1700000000.00000"),
        11,
        "text/plain",
        "5eb63bbbe01eeed093cb22bb8f5acdc3",
        0,
        "txabc",
    )
    # and a record made from the update writes the same document
    again = updates.AsyncPending.of(update, "42", pending.targets)
    assert json.loads(again.to_json()) == doc


def test_an_async_pending_whose_headers_describe_no_update_is_corrupt() -> None:
    pending = updates.AsyncPending("PUT", "a", "c", "o", {"X-Timestamp": "1"}, "1", ())
    with pytest.raises(Corrupt):
        pending.listing_update()
