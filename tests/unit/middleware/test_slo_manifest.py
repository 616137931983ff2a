"""SLO manifests: the PUT form's checks in Swift's words, the stored form, ETags."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from swiftlite.middleware import slo_manifest as m
from swiftlite.middleware.slo import show_slo_row


def _problems(body: object) -> list[str]:
    with pytest.raises(m.ManifestError) as caught:
        m.parse_put(json.dumps(body).encode(), "/c/manifest")
    return caught.value.lines


def test_parse_put_that_is_not_json_or_not_a_list_is_refused():
    with pytest.raises(m.ManifestError, match=r"Manifest must be valid JSON\."):
        m.parse_put(b"{nope", "/c/m")
    assert _problems({"path": "/c/o"}) == ["Manifest must be a list."]


def test_parse_put_lists_every_bad_segment_by_index():
    lines = _problems(
        [
            "str",
            {"etag": "x"},
            {"path": "/c/o", "bogus": 1},
            {"path": "noobject"},
            {"path": "/c/o", "size_bytes": "big"},
            {"path": "/c/o", "range": "x-y"},
            {"path": "/c/o", "range": "1-2,4-5"},
            {"path": "/c/o", "size_bytes": 10, "range": "20-30"},
            {"path": "/c/manifest"},
            {"data": "***"},
            {"path": "/c/o", "size_bytes": 0},
        ]
    )
    assert lines == [
        "Index 0: not a JSON object",
        "Index 1: expected keys to include one of 'data' or 'path'",
        'Index 2: extraneous keys "bogus"',
        "Index 3: path does not refer to an object. Path must be of the form /container/object.",
        "Index 4: invalid size_bytes",
        "Index 5: invalid range",
        "Index 6: multiple ranges (only one allowed)",
        "Index 7: unsatisfiable range",
        "Index 8: manifest must not include itself as a segment",
        "Index 9: data must be valid base64",
    ]  # a zero-byte last segment is allowed


def test_parse_put_of_only_inline_data_is_refused():
    data = base64.b64encode(b"abc").decode()
    assert _problems([{"data": data}]) == [
        "Inline data segments require at least one object-backed segment."
    ]


def _head(length=10, etag="e" * 32, status=200):
    line = {200: "200 OK", 404: "404 Not Found"}[status]
    return m.HeadResult(status, line, length, etag, "text/plain", "2030-01-01T00:00:00.000000")


def test_check_segment_reports_missing_size_and_etag_mismatch_and_short_segments():
    seg = m.PutSegment(path="/c/o", etag="f" * 32, size=11)
    used, record, problems = m.check_segment(seg, _head(), allow_short=False, min_segment_size=20)
    assert used == 10
    assert record is not None
    assert record["name"] == "/c/o"
    assert problems == [
        "/c/o|Too small; each segment, except the last, must be at least 20 bytes.",
        "/c/o|Size Mismatch",
        "/c/o|Etag Mismatch",
    ]
    _, record, problems = m.check_segment(seg, _head(status=404), allow_short=True)
    assert (record, problems) == (None, ["/c/o|404 Not Found"])


def test_check_segment_normalises_the_range_against_the_object():
    seg = m.PutSegment(path="/c/o", range=[(None, 4)])
    used, record, problems = m.check_segment(seg, _head(length=10), allow_short=False)
    assert (used, record["range"], problems) == (4, "6-9", [])
    whole = m.PutSegment(path="/c/o", range=[(0, None)])
    _, record, _ = m.check_segment(whole, _head(length=10), allow_short=False)
    assert "range" not in record


def test_slo_etag_counts_ranges_and_inline_data_as_swift_does():
    records = [
        {"name": "/c/a", "hash": "aa", "bytes": 5},
        {"name": "/c/b", "hash": "bb", "bytes": 9, "range": "1-2"},
        {"data": base64.b64encode(b"xyz").decode()},
    ]
    expected = hashlib.md5(
        ("aa" + "bb:1-2;" + hashlib.md5(b"xyz").hexdigest()).encode()
    ).hexdigest()
    assert m.slo_etag(records) == expected
    assert [m.segment_length(r) for r in records] == [5, 2, 3]


def test_raw_form_is_the_put_form():
    records = [{"name": "/c/a", "hash": "aa", "bytes": 5, "content_type": "x", "range": "0-1"}]
    assert json.loads(m.raw_form(records)) == [
        {"path": "/c/a", "etag": "aa", "size_bytes": 5, "range": "0-1"}
    ]


def test_listing_row_of_an_slo_shows_total_bytes_and_slo_etag():
    row = {
        "name": "m",
        "bytes": 120,
        "hash": "abc; slo_etag=def",
        "content_type": "text/plain;swift_bytes=9999",
    }
    show_slo_row(row)
    assert row == {
        "name": "m",
        "bytes": 9999,
        "hash": "abc",
        "slo_etag": '"def"',
        "content_type": "text/plain",
    }
    plain = {"name": "p", "bytes": 1, "hash": "h", "content_type": "text/plain; charset=utf-8"}
    show_slo_row(plain)
    assert plain["content_type"] == "text/plain;charset=utf-8"


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "+5", "abc", ""])
def test_listing_row_with_a_swift_bytes_that_is_not_a_number_keeps_its_bytes(value):
    # any client sets this parameter in its Content-Type; int("\u00b2") was a 500 for every
    # listing of the container from then on
    row = {"name": "o", "bytes": 7, "hash": "h", "content_type": f"text/plain;swift_bytes={value}"}
    show_slo_row(row)
    assert row == {"name": "o", "bytes": 7, "hash": "h", "content_type": "text/plain"}


def test_check_segment_refuses_a_segment_already_nested_to_the_limit():
    seg = m.PutSegment(path="/c/deep")
    head = m.HeadResult(200, "200 OK", 10, "e", "x", "", is_slo=True, depth=m.MAX_DEPTH)
    _, _, problems = m.check_segment(seg, head, allow_short=False)
    assert problems == ["/c/deep|Too deeply nested; at most 10 levels of manifests."]
    ok = m.HeadResult(200, "200 OK", 10, "e", "x", "", is_slo=True, depth=m.MAX_DEPTH - 1)
    assert m.check_segment(seg, ok, allow_short=False)[2] == []
