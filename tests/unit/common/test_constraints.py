from __future__ import annotations

import pytest

from swiftlite.common import constraints
from swiftlite.common.errors import BadInput, BadName, LengthRequired, TooLarge


def _meta(n: int, name_len: int = 5, value_len: int = 5) -> dict[str, str]:
    return {f"X-Object-Meta-{i:0{name_len}d}": "v" * value_len for i in range(n)}


def test_metadata_at_limits_is_accepted() -> None:
    constraints.check_metadata(_meta(90, 5, 40), "object")  # 90 * 45 = 4050 bytes


def test_metadata_too_many_items_is_400() -> None:
    with pytest.raises(BadInput, match="Too many metadata items; max 90"):
        constraints.check_metadata(_meta(91, 3, 1), "object")


def test_metadata_total_too_large_is_400() -> None:
    with pytest.raises(BadInput, match="Total metadata too large"):
        constraints.check_metadata(_meta(20, 10, 250), "object")


def test_metadata_name_too_long_is_400() -> None:
    with pytest.raises(BadInput, match="Metadata name too long"):
        constraints.check_metadata({"X-Container-Meta-" + "n" * 129: "v"}, "container")


def test_metadata_value_too_long_is_400() -> None:
    with pytest.raises(BadInput, match="Metadata value longer than 256"):
        constraints.check_metadata({"X-Account-Meta-k": "v" * 257}, "account")


def test_metadata_empty_name_is_400() -> None:
    with pytest.raises(BadInput, match="cannot be empty"):
        constraints.check_metadata({"X-Object-Meta-": "v"}, "object")


def test_metadata_of_other_type_is_ignored() -> None:
    constraints.check_metadata({"X-Container-Meta-" + "n" * 300: "v"}, "object")


def test_object_name_over_1024_bytes_is_400() -> None:
    constraints.check_object_name("\u00e9" * 512)
    with pytest.raises(BadInput, match="longer than 1024"):
        constraints.check_object_name("\u00e9" * 513)


def test_container_name_with_slash_is_412() -> None:
    with pytest.raises(BadName):
        constraints.check_container_name("a/b")


def test_content_length_missing_is_411_and_over_limit_is_413() -> None:
    with pytest.raises(LengthRequired):
        constraints.check_content_length(None, chunked=False)
    with pytest.raises(TooLarge):
        constraints.check_content_length(5368709123, chunked=False)
    constraints.check_content_length(None, chunked=True)


def test_x_delete_at_of_100_digits_is_clamped_to_ten_nines() -> None:
    assert constraints.parse_delete_at({"X-Delete-At": "9" * 100}, now=100.0) == 9999999999


def test_x_delete_at_of_5000_digits_is_clamped_not_a_crash() -> None:
    assert constraints.parse_delete_at({"X-Delete-At": "1" * 5000}, now=100.0) == 9999999999


def test_x_delete_after_huge_is_clamped_to_ten_nines() -> None:
    assert constraints.parse_delete_at({"X-Delete-After": "9" * 30}, now=100.0) == 9999999999


def test_delete_after_converts_to_absolute_time() -> None:
    assert constraints.parse_delete_at({"X-Delete-After": "10"}, now=100.0) == 110


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Delete-After": "x"}, "Non-integer X-Delete-After"),
        ({"X-Delete-At": "x"}, "Non-integer X-Delete-At"),
        ({"X-Delete-At": "50"}, "X-Delete-At in past"),
        ({"X-Delete-At": "-5"}, "X-Delete-At in past"),
        ({"X-Delete-After": "0"}, "X-Delete-After in past"),
        ({"X-Delete-After": "-1"}, "X-Delete-After in past"),
        ({"X-Delete-At": "\u00b2\u00b3"}, "Non-integer X-Delete-At"),
        ({"X-Delete-At": "1_000"}, "Non-integer X-Delete-At"),
        ({"X-Delete-At": "+200"}, "Non-integer X-Delete-At"),
        ({"X-Delete-At": " 200"}, "Non-integer X-Delete-At"),
        ({"X-Delete-After": "\u0663"}, "Non-integer X-Delete-After"),
    ],
)
def test_bad_delete_headers_are_400(headers: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        constraints.parse_delete_at(headers, now=100.0)


def test_load_reads_overrides_from_cluster_conf(tmp_path, monkeypatch) -> None:
    conf = tmp_path / "swiftlite.conf"
    conf.write_text(
        "[swift-hash]\nswift_hash_path_suffix = s\n[swift-constraints]\nmax_meta_count = 7\n"
    )
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    limits = constraints.load()
    assert limits.max_meta_count == 7
    assert limits.info()["max_meta_count"] == 7
    assert limits.max_header_count == 7 + 36
