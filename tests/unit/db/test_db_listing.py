"""Listing parameters and paging, checked against a sorted-list oracle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.errors import BadInput, PreconditionFailed
from swiftlite.db.listing import (
    ListingParams,
    RangeQuery,
    Subdir,
    list_rows,
    parse_params,
    query_params,
    range_clause,
    successor,
)
from tests.unit.db.listing_oracle import oracle

# -- parameters -----------------------------------------------------------------------------


def test_parse_params_defaults_to_listing_limit():
    params = parse_params({}, 10000)
    assert params == ListingParams(limit=10000)


def test_parse_params_limit_over_maximum_is_412():
    with pytest.raises(PreconditionFailed, match="Maximum limit is 10000"):
        parse_params({"limit": "10001"}, 10000)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "٣"])
def test_parse_params_non_digit_limit_is_ignored_as_swift_does(value):
    assert parse_params({"limit": value}, 10000).limit == 10000


def test_parse_params_limit_zero_and_maximum_are_accepted():
    assert parse_params({"limit": "0"}, 10000).limit == 0
    assert parse_params({"limit": "10000"}, 10000).limit == 10000


def test_parse_params_multi_character_delimiter_is_not_refused():
    assert parse_params({"delimiter": "-&"}, 10000).delimiter == "-&"


def test_parse_params_limit_superscript_two_is_ignored_not_a_crash():
    # "²".isdigit() is True and int("²") raises: only ASCII digits are a limit
    assert parse_params({"limit": "\u00b2"}, 10000).limit == 10000


def test_parse_params_limit_of_5000_digits_is_412_not_a_crash():
    with pytest.raises(PreconditionFailed, match="Maximum limit is 10000"):
        parse_params({"limit": "9" * 5000}, 10000)


def test_query_params_nul_in_marker_end_marker_prefix_is_allowed():
    got = query_params("marker=a%00&end_marker=b%00&prefix=%00")
    assert got == {"marker": "a\x00", "end_marker": "b\x00", "prefix": "\x00"}


@pytest.mark.parametrize("key", ["marker", "end_marker", "prefix", "format", "delimiter"])
def test_query_params_invalid_utf8_is_400_naming_the_parameter(key):
    with pytest.raises(BadInput, match=f'"{key}" parameter not valid UTF-8'):
        query_params(f"{key}=%ff")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("on", True), ("no", False), ("", False), ("x", False)],
)
def test_parse_params_reverse_takes_config_truth(value, expected):
    assert parse_params({"reverse": value}, 10).reverse is expected


def test_query_params_decodes_utf8_and_ignores_unknown_keys():
    assert query_params("prefix=%C3%A9&bogus=1&marker=a+b") == {"prefix": "é", "marker": "a b"}


def test_query_params_invalid_utf8_is_400():
    with pytest.raises(BadInput, match="prefix"):
        query_params("prefix=%FF")


def test_query_params_nul_in_delimiter_is_400():
    with pytest.raises(BadInput):
        query_params("delimiter=a%00b")


def test_successor_bumps_last_character_and_skips_surrogates():
    assert successor("ab") == "ac"
    assert successor("a/") == "a0"
    assert successor("a\ud7ff") == "a\ue000"
    assert successor("a\U0010ffff") == "b"
    assert successor("\U0010ffff") is None


def test_range_clause_marks_inclusive_bounds():
    from swiftlite.db.listing import Bound

    sql, args = range_clause(RangeQuery(Bound("a", True), Bound("b", False), 5, False))
    assert sql == "name >= ? AND name < ?"
    assert args == ["a", "b"]


# -- paging against an oracle ---------------------------------------------------------------


def list_fetch(names):
    ordered = sorted(set(names), key=lambda s: s.encode("utf-8"))

    def fetch(q: RangeQuery):
        def inside(n):
            if q.lower and (n < q.lower.value or (n == q.lower.value and not q.lower.inclusive)):
                return False
            return not (
                q.upper and (n > q.upper.value or (n == q.upper.value and not q.upper.inclusive))
            )

        rows = [(n,) for n in (reversed(ordered) if q.reverse else ordered) if inside(n)]
        return iter(rows[: q.limit])

    return fetch


def flat(rows):
    return [r if isinstance(r, Subdir) else r[0] for r in rows]


ALPHABET = ["a", "b", "/", "-", "é", "\U0001f600", "\uffff", "0"]
names_st = st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=5), max_size=30)
small_text = st.text(alphabet=ALPHABET, max_size=3)
params_st = st.builds(
    ListingParams,
    limit=st.integers(0, 12),
    marker=small_text,
    end_marker=small_text,
    prefix=small_text,
    delimiter=st.sampled_from(["", "/", "-", "é", "-/", "//", "é\U0001f600"]),
    path=st.none() | small_text,
    reverse=st.booleans(),
)


@settings(deadline=None, max_examples=400)
@given(names=names_st, params=params_st)
def test_list_rows_matches_sorted_list_oracle(names, params):
    assert flat(list_rows(params, list_fetch(names))) == oracle(names, params)


@settings(deadline=None, max_examples=150)
@given(names=names_st, params=params_st, page=st.integers(1, 4))
def test_paging_with_marker_yields_the_whole_listing(names, params, page):
    """A client paging by marker (last name or subdir) sees what one big page shows."""
    if params.path is not None:
        params = ListingParams(limit=100, prefix=params.prefix, delimiter=params.delimiter)
    whole = ListingParams(100, "", "", params.prefix, params.delimiter, None, params.reverse)
    expected = flat(list_rows(whole, list_fetch(names)))
    got, marker = [], ""
    while True:
        p = ListingParams(page, marker, "", params.prefix, params.delimiter, None, params.reverse)
        rows = flat(list_rows(p, list_fetch(names)))
        got.extend(rows)
        if len(rows) < page:
            break
        last = rows[-1]
        marker = last.name if isinstance(last, Subdir) else last
    assert got == expected


def test_list_rows_multi_character_delimiter_rolls_up_to_test_dash_amp():
    names = ["test", "test-&1", "test-&2/x", "test-x", "tesz"]
    rows = list_rows(ListingParams(limit=10, delimiter="-&"), list_fetch(names))
    assert flat(rows) == ["test", Subdir("test-&"), "test-x", "tesz"]


def test_list_rows_delimiter_folds_into_subdirs():
    names = ["a/1", "a/2", "b", "c/x/y", "d"]
    rows = list_rows(ListingParams(limit=10, delimiter="/"), list_fetch(names))
    assert flat(rows) == [Subdir("a/"), "b", Subdir("c/"), "d"]


def test_list_rows_path_lists_direct_children_only():
    names = ["d", "d/", "d/x", "d/sub/", "d/sub/y", "e"]
    rows = list_rows(ListingParams(limit=10, path="d"), list_fetch(names))
    assert flat(rows) == ["d/sub/", "d/x"]


def test_list_rows_reverse_swaps_marker_and_end_marker():
    names = ["a", "b", "c", "d", "e"]
    rows = list_rows(
        ListingParams(limit=10, marker="d", end_marker="a", reverse=True), list_fetch(names)
    )
    assert flat(rows) == ["c", "b"]


def test_list_rows_subdir_equal_to_marker_is_not_repeated():
    names = ["a/1", "a/2", "b/1"]
    rows = list_rows(ListingParams(limit=10, marker="a/", delimiter="/"), list_fetch(names))
    assert flat(rows) == [Subdir("b/")]


def test_list_rows_many_subdirs_reads_few_rows_per_roll_up():
    names = [f"d{i:03d}/o{j:03d}" for i in range(50) for j in range(100)]
    seen = {"rows": 0}
    base = list_fetch(names)

    def counting(q):
        for row in base(q):
            seen["rows"] += 1
            yield row

    rows = list_rows(ListingParams(limit=10000, delimiter="/"), counting)
    assert len(rows) == 50
    assert seen["rows"] == 50  # one row read per roll-up, not a page per roll-up
