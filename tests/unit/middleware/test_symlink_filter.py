"""symlink's pure parts: listing rows, hash parameters, stored targets, options."""

from __future__ import annotations

from swiftlite.middleware import symlink
from swiftlite.middleware.gatekeeper import is_internal


def test_listing_row_moves_link_params_out_of_hash() -> None:
    row = {
        "name": "l",
        "hash": f"{symlink.MD5_OF_EMPTY}; symlink_target=c/o; symlink_target_account=AUTH_b; "
        "symlink_target_etag=abc; symlink_target_bytes=12; slo_etag=zz",
    }
    out = symlink.listing_row(row, "v1", "AUTH_a")
    assert out["hash"] == f"{symlink.MD5_OF_EMPTY}; slo_etag=zz"
    assert out["symlink_path"] == "/v1/AUTH_b/c/o"
    assert (out["symlink_etag"], out["symlink_bytes"]) == ("abc", 12)


def test_listing_row_of_plain_object_is_unchanged() -> None:
    row = {"name": "o", "hash": "abc"}
    assert symlink.listing_row(dict(row), "v1", "AUTH_a") == row


def test_link_target_unquotes_and_defaults_account() -> None:
    headers = {symlink.SYSMETA_TARGET: "c/dir%2Fo%20x"}
    assert symlink.link_target(headers, "AUTH_a") == ("AUTH_a", "c", "dir/o x")
    headers[symlink.SYSMETA_ACCOUNT] = "AUTH_b"
    assert symlink.link_target(headers, "AUTH_a") == ("AUTH_b", "c", "dir/o x")
    assert symlink.link_target({}, "AUTH_a") is None


def test_symloop_max_below_one_means_default() -> None:
    assert symlink.SymlinkOptions(symloop_max=0).symloop_max == 2
    assert symlink.SymlinkOptions(symloop_max=5).symloop_max == 5


def test_gatekeeper_treats_allow_reserved_header_as_internal() -> None:
    assert is_internal("X-Backend-Allow-Reserved-Names")
    assert is_internal(symlink.SYSMETA_TARGET)
