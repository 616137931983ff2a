from __future__ import annotations

import pytest

from swiftlite.common.errors import BadInput, BadName, NotFound
from swiftlite.common.names import split_api_path, split_backend_path, str_to_wsgi, wsgi_to_str


def test_split_api_path_object_keeps_inner_slashes() -> None:
    p = split_api_path("/v1/AUTH_test/c/a/b//c")
    assert (p.account, p.container, p.obj) == ("AUTH_test", "c", "a/b//c")


def test_split_api_path_trailing_slash_on_container_is_container() -> None:
    p = split_api_path("/v1/a/c/")
    assert (p.container, p.obj) == ("c", None)


def test_split_api_path_unknown_version_is_bad_input() -> None:
    with pytest.raises(BadInput):
        split_api_path("/v2/a")


@pytest.mark.parametrize(
    "path", ["/v1", "/v1/", "/v1//c", "/v1/a//o", "v1/a", "//v1/AUTH_test", "/v1//", "/v1//c/o"]
)
def test_split_api_path_empty_segment_is_404_not_400(path: str) -> None:
    with pytest.raises(NotFound):
        split_api_path(path)


def test_split_api_path_invalid_utf8_wins_over_empty_segment() -> None:
    with pytest.raises(BadName):
        split_api_path("/v1//c/\xff")


def test_split_api_path_decodes_utf8() -> None:
    p = split_api_path(str_to_wsgi("/v1/a/\u00e9t\u00e9/\U0001f600"))
    assert (p.container, p.obj) == ("\u00e9t\u00e9", "\U0001f600")


@pytest.mark.parametrize("raw", ["/v1/a/\xff", "/v1/a/c/\x00"])
def test_split_api_path_invalid_utf8_or_nul_is_412(raw: str) -> None:
    with pytest.raises(BadName):
        split_api_path(raw)


def test_split_backend_path_parses_partition() -> None:
    p = split_backend_path("/sdb1/123/a/c/o")
    assert (p.device, p.partition, p.account, p.container, p.obj) == ("sdb1", 123, "a", "c", "o")


def test_split_backend_path_non_numeric_partition_is_bad_input() -> None:
    with pytest.raises(BadInput):
        split_backend_path("/sdb1/x/a")


def test_wsgi_round_trip() -> None:
    assert wsgi_to_str(str_to_wsgi("\u2603")) == "\u2603"


def test_split_backend_path_superscript_partition_is_bad_input_not_a_crash() -> None:
    with pytest.raises(BadInput):
        split_backend_path(str_to_wsgi("/sdb1/\u00b2/a/c/o"))


def test_empty_segment_error_is_still_bad_input_for_older_callers() -> None:
    with pytest.raises(BadInput):
        split_api_path("/v1//c")
