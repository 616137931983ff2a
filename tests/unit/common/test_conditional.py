"""If-Match / If-None-Match / If-(Un)Modified-Since decisions, in Swift's order."""

from __future__ import annotations

import pytest

from swiftlite.common.http import conditional

ETAG = "0123456789abcdef0123456789abcdef"
LAST_MODIFIED = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
BEFORE = "Tue, 14 Nov 2023 22:13:19 GMT"
SAME = "Tue, 14 Nov 2023 22:13:20 GMT"
AFTER = "Tue, 14 Nov 2023 22:13:21 GMT"


def decide(**headers):
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return conditional.evaluate(hdrs, ETAG, LAST_MODIFIED)


@pytest.mark.parametrize("value", [ETAG, f'"{ETAG}"', "*", f'"x", {ETAG}', f' "y" ,"{ETAG}" '])
def test_if_none_match_matching_is_304(value) -> None:
    assert decide(If_None_Match=value) == 304


def test_if_none_match_other_etag_proceeds() -> None:
    assert decide(If_None_Match='"other"') is None


@pytest.mark.parametrize("value", [ETAG, f'"{ETAG}"', "*", f"nope, {ETAG}"])
def test_if_match_matching_proceeds(value) -> None:
    assert decide(If_Match=value) is None


def test_if_match_other_etag_is_412() -> None:
    assert decide(If_Match='"other"') == 412


def test_if_none_match_wins_over_if_match() -> None:
    assert decide(If_None_Match=ETAG, If_Match="other") == 304


@pytest.mark.parametrize(("since", "status"), [(BEFORE, None), (SAME, 304), (AFTER, 304)])
def test_if_modified_since(since, status) -> None:
    assert decide(If_Modified_Since=since) == status


@pytest.mark.parametrize(("since", "status"), [(BEFORE, 412), (SAME, None), (AFTER, None)])
def test_if_unmodified_since(since, status) -> None:
    assert decide(If_Unmodified_Since=since) == status


def test_if_match_checked_before_dates() -> None:
    assert decide(If_Match="other", If_Modified_Since=AFTER) == 412


def test_unparsable_date_is_ignored() -> None:
    assert decide(If_Modified_Since="yesterday-ish") is None
    assert decide(If_Unmodified_Since="") is None


def test_missing_resource_with_if_match_star_is_412() -> None:
    assert conditional.evaluate_missing({"If-Match": "*"}) == 412
    assert conditional.evaluate_missing({"If-Match": ETAG}) is None
    assert conditional.evaluate_missing({}) is None


def test_header_names_are_case_insensitive() -> None:
    assert conditional.evaluate({"if-none-match": ETAG}, ETAG, None) == 304


def test_parse_http_date_accepts_rfc850_and_asctime() -> None:
    assert conditional.parse_http_date("Tuesday, 14-Nov-23 22:13:20 GMT") == LAST_MODIFIED
    assert conditional.parse_http_date("Tue Nov 14 22:13:20 2023") == LAST_MODIFIED


def test_normalize_etag_strips_one_pair_of_quotes() -> None:
    assert conditional.normalize_etag('"abc"') == "abc"
    assert conditional.normalize_etag('"') == '"'
    assert conditional.normalize_etag("abc") == "abc"
