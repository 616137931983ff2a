"""The reserved namespace: name format, the allow header, and the name checks that honour it."""

from __future__ import annotations

import pytest

from swiftlite.common import reserved
from swiftlite.common.errors import BadName
from swiftlite.common.names import split_api_path, split_backend_path


def test_reserved_name_round_trips_its_parts() -> None:
    name = reserved.reserved_name("versions", "photos")
    assert name == "\x00versions\x00photos"
    assert reserved.split_reserved_name(name) == ["versions", "photos"]
    assert reserved.is_reserved(name)
    assert not reserved.is_reserved("photos")


def test_reserved_name_part_with_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid reserved part"):
        reserved.reserved_name("a\x00b")


def test_split_of_a_plain_name_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid reserved name"):
        reserved.split_reserved_name("plain")


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("true", True), ("True", True), ("", False), ("false", False), ("nope", False)],
)
def test_allow_header_values(value: str, allowed: bool) -> None:
    assert reserved.allowed({reserved.ALLOW_HEADER: value}) is allowed


def test_api_path_with_nul_is_412_without_allow() -> None:
    with pytest.raises(BadName):
        split_api_path("/v1/a/\x00versions\x00c/o")
    path = split_api_path("/v1/a/\x00versions\x00c/\x00o\x001", allow_reserved=True)
    assert (path.container, path.obj) == ("\x00versions\x00c", "\x00o\x001")


def test_backend_path_with_nul_is_412_without_allow() -> None:
    with pytest.raises(BadName):
        split_backend_path("/sda/0/a/\x00c", 4, 5)
    assert split_backend_path("/sda/0/a/\x00c", 4, 5, allow_reserved=True).container == "\x00c"
