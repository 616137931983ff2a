from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.errors import BadInput
from swiftlite.common.timestamp import Timestamp, header_timestamp, parse


def test_normal_form_is_sixteen_chars_with_five_decimals() -> None:
    assert Timestamp(1700000000.5).normal == "1700000000.50000"
    assert len(Timestamp(1.0).normal) == 16


def test_internal_form_appends_offset_only_when_set() -> None:
    assert Timestamp(5.0).internal == "0000000005.00000"
    assert Timestamp(5.0, offset=1).internal == "0000000005.00000_0000000000000001"


def test_parse_internal_form_round_trips() -> None:
    ts = Timestamp("1700000000.12345_00000000000000ff")
    assert ts.offset == 255
    assert Timestamp(ts.internal) == ts


def test_offset_orders_after_same_instant() -> None:
    assert Timestamp(10.0) < Timestamp(10.0, offset=1) < Timestamp(10.00001)


def test_sixth_decimal_rounds_the_last_tick() -> None:
    assert Timestamp("1.000006").normal == "0000000001.00001"
    assert Timestamp("1.000004").normal == "0000000001.00000"


@pytest.mark.parametrize("bad", ["abc", "-1", "1.2.3", "1_zz", "", "99999999999"])
def test_parse_bad_value_raises_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        Timestamp(bad)


def test_parse_none_or_empty_is_none() -> None:
    assert parse(None) is None
    assert parse("") is None


def test_http_date_rounds_up_to_next_second() -> None:
    assert Timestamp(0.5).http_date == "Thu, 01 Jan 1970 00:00:01 GMT"
    assert Timestamp(1.0).http_date == "Thu, 01 Jan 1970 00:00:01 GMT"


def test_isoformat_has_microseconds() -> None:
    assert Timestamp(1.5).isoformat == "1970-01-01T00:00:01.500000"


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**15 - 1),
    st.integers(min_value=0, max_value=2**64 - 1),
)
def test_internal_string_round_trips_and_orders(ticks: int, offset: int) -> None:
    ts = Timestamp(ticks / 100_000, offset)
    again = Timestamp(ts.internal)
    assert again == ts
    assert (ts < Timestamp(ts.internal, offset=1)) is True


def test_header_timestamp_refuses_missing_and_malformed_with_swift_bodies() -> None:
    assert header_timestamp({"X-Timestamp": "1700000000.12345"}) == Timestamp(1700000000.12345)
    with pytest.raises(BadInput, match=r"^Missing timestamp$"):
        header_timestamp({})
    with pytest.raises(BadInput, match=r"^Missing timestamp$"):
        header_timestamp({"X-Timestamp": ""})
    with pytest.raises(BadInput, match="should be a UNIX timestamp float value; was 'x'"):
        header_timestamp({"X-Timestamp": "x"})
    with pytest.raises(BadInput, match=r"^Missing X-Put-Timestamp$"):
        header_timestamp({"X-Timestamp": "1"}, "X-Put-Timestamp")
