"""Range parsing and multipart framing, checked against Swift's observable rules."""

from __future__ import annotations

import email.parser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.http import ranges


@pytest.mark.parametrize(
    ("header", "specs"),
    [
        ("bytes=0-9", [(0, 9)]),
        ("bytes=5-", [(5, None)]),
        ("bytes=-3", [(None, 3)]),
        ("Bytes = 1-2, 4-5", [(1, 2), (4, 5)]),
        ("bytes=-0", [(None, 0)]),
    ],
)
def test_parse_valid_header_gives_specs(header, specs) -> None:
    assert ranges.parse(header) == specs


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bits=0-1",
        "bytes=5-3",
        "bytes=-",
        "bytes=45",
        "bytes=a-b",
        "bytes=0-1,x",
        "bytes=",
    ],
)
def test_parse_invalid_header_is_ignored(header) -> None:
    assert ranges.parse(header) is None
    assert ranges.plan(header, 100).status == 200


@pytest.mark.parametrize(
    ("header", "length", "spans"),
    [
        ("bytes=0-9", 100, [(0, 10)]),
        ("bytes=90-200", 100, [(90, 100)]),
        ("bytes=95-", 100, [(95, 100)]),
        ("bytes=-10", 100, [(90, 100)]),
        ("bytes=-500", 100, [(0, 100)]),
        ("bytes=0-0,-1", 100, [(0, 1), (99, 100)]),
        ("bytes=100-,0-1", 100, [(0, 2)]),
    ],
)
def test_resolve_clips_to_length(header, length, spans) -> None:
    assert ranges.resolve(ranges.parse(header), length) == spans


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=150-160,-0"])
def test_plan_unsatisfiable_is_416(header) -> None:
    assert ranges.plan(header, 100).status == 416
    assert ranges.unsatisfied_range(100) == "bytes */100"


def test_plan_suffix_on_empty_object_is_whole_200() -> None:
    assert ranges.plan("bytes=-5", 0).status == 200
    assert ranges.plan("bytes=0-", 0).status == 416


def test_plan_more_than_50_ranges_is_416() -> None:
    header = "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(51))
    assert ranges.plan(header, 1000).status == 416
    header50 = "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(50))
    assert ranges.plan(header50, 1000).status == 206


def test_plan_three_overlapping_ranges_is_416() -> None:
    assert ranges.plan("bytes=0-10,5-15,8-20", 100).status == 416
    assert ranges.plan("bytes=0-10,5-15", 100).status == 206


def test_plan_identical_ranges_do_not_count_as_overlap() -> None:
    # Swift's overlap test is strict, so repeats of one span pass
    assert ranges.plan("bytes=0-9,0-9,0-9,0-9", 100).status == 206


def test_plan_eight_nonascending_ranges_is_416() -> None:
    seven = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in reversed(range(7)))
    eight = "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in reversed(range(8)))
    assert ranges.plan(seven, 100).status == 206
    assert ranges.plan(eight, 100).status == 416


def test_content_range_is_inclusive() -> None:
    assert ranges.content_range(0, 10, 100) == "bytes 0-9/100"


def _body(spans, data, ctype="text/plain", boundary="b0undary"):
    def read(start, stop):
        yield data[start:stop]

    return b"".join(ranges.multipart_body(spans, ctype, boundary, len(data), read))


def test_multipart_body_parses_as_byteranges() -> None:
    data = bytes(range(256)) * 4
    spans = [(0, 3), (500, 510)]
    body = _body(spans, data)
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: multipart/byteranges;boundary=b0undary\r\n\r\n" + body
    )
    parts = msg.get_payload()
    assert [p["Content-Range"] for p in parts] == ["bytes 0-2/1024", "bytes 500-509/1024"]
    assert [p["Content-Type"] for p in parts] == ["text/plain", "text/plain"]
    assert body.endswith(b"--b0undary--")
    assert body.count(data[500:510]) >= 1


@settings(deadline=None, max_examples=150)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 300)), st.one_of(st.none(), st.integers(0, 300))
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 250),
)
def test_resolved_spans_stay_inside_and_length_matches_body(raw, length) -> None:
    specs = [(a, b) for a, b in raw if not (a is None and b is None)]
    specs = [(a, b) if a is None or b is None or b >= a else (b, a) for a, b in specs]
    if not specs:
        return
    spans = ranges.resolve(specs, length)
    for start, stop in spans:
        assert 0 <= start < stop <= length or (length == 0 and start == stop == 0)
    if spans:
        data = bytes(i % 251 for i in range(length))
        body = _body(spans, data, "application/x-test", "f" * 32)
        assert len(body) == ranges.multipart_length(spans, "application/x-test", "f" * 32, length)
