"""object versioning's names and listing merge (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swiftlite.common.errors import BadInput
from swiftlite.common.timestamp import Timestamp
from swiftlite.middleware import versions_listing as vl

MD5_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"


@given(st.integers(min_value=0, max_value=999999999999999))
def test_invert_is_its_own_inverse_and_reverses_order(ticks: int) -> None:
    whole, frac = divmod(ticks, 100000)
    ts = Timestamp(f"{whole:010d}.{frac:05d}")
    assert vl.invert(vl.invert(ts)) == ts
    if ticks:
        earlier = Timestamp(f"{(ticks - 1) // 100000:010d}.{(ticks - 1) % 100000:05d}")
        assert vl.invert(earlier) > vl.invert(ts)


def test_invert_of_offset_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="offsets"):
        vl.invert(Timestamp("1700000000.00000_0000000000000001"))


def test_version_names_round_trip() -> None:
    assert vl.versions_container("c") == "\x00versions\x00c"
    assert vl.parent_container("\x00versions\x00c") == "c"
    assert vl.parent_container("c") is None
    name = vl.version_object("o", "1700000000.12345")
    assert name == "\x00o\x008299999999.87654"
    assert vl.split_version(name) == ("o", Timestamp("1700000000.12345"))
    assert vl.split_version("plain") == ("plain", None)


def test_versions_query_maps_markers_and_prefix() -> None:
    assert vl.versions_query({"marker": "o"})["marker"] == "\x00o\x00:"
    assert vl.versions_query({"marker": "o", "version_marker": "null"})["marker"] == "\x00o\x00"
    got = vl.versions_query({"marker": "o", "version_marker": "1700000000.12345"})
    assert got["marker"] == vl.version_object("o", "1700000000.12345")
    assert vl.versions_query({"prefix": "ab"})["prefix"] == "\x00ab"
    for bad in (
        {"version_marker": "1"},
        {"delimiter": "1"},
        {"marker": "o", "version_marker": "x"},
    ):
        with pytest.raises(BadInput):
            vl.versions_query(bad)


def _link_row(name: str, target: str, etag: str, size: int) -> dict:
    return {
        "name": name,
        "hash": f"{MD5_EMPTY}; symlink_target={target}; symlink_target_etag={etag}; "
        f"symlink_target_bytes={size}",
        "bytes": 0,
        "content_type": "text/plain",
        "last_modified": "2024-01-01T00:00:00.000000",
    }


def test_primary_row_shows_the_version_it_links() -> None:
    vname = vl.version_object("o", "1700000000.00000")
    row = _link_row("o", f"%00versions%00c/%00o%00{vname[3:]}", "abc", 7)
    out = vl.primary_row(row, "v1", "AUTH_a", "c", "\x00versions\x00c", raw=False)
    assert (out["hash"], out["bytes"], out["version_symlink"]) == ("abc", 7, True)
    assert out["symlink_path"] == "/v1/AUTH_a/c/o?version-id=1700000000.00000"
    assert vl.client_rows([out])[0].keys() == out.keys() - {vl.TARGET_KEY}


def test_merge_marks_latest_and_orders_versions_newest_first() -> None:
    loc = "\x00versions\x00c"
    old, new = vl.version_object("o", "1700000000.00000"), vl.version_object("o", "1700000001.0")
    link = vl.primary_row(
        _link_row("o", f"%00versions%00c/{new.replace(chr(0), '%00')}", "n", 2),
        "v1",
        "AUTH_a",
        "c",
        loc,
        raw=True,
    )
    plain = {"name": "p", "hash": "h", "bytes": 1, "content_type": "t", "last_modified": "x"}
    versions = [
        {"name": new, "hash": "n", "bytes": 2, "content_type": "t", "last_modified": "x"},
        {"name": old, "hash": "o", "bytes": 1, "content_type": "t", "last_modified": "x"},
    ]
    rows = vl.merge([link, plain], versions, "AUTH_a", loc, 100, reverse=False)
    got = [(r["name"], r["version_id"], r["is_latest"]) for r in rows]
    assert got == [
        ("o", "1700000001.00000", True),
        ("o", "1700000000.00000", False),
        ("p", "null", True),
    ]
    assert vl.merge([link, plain], versions, "AUTH_a", loc, 1, reverse=True)[0]["name"] == "p"


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c/d", "\u00e9"]),
        st.tuples(
            st.sets(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=5),
            st.booleans(),  # is there a current link (to the newest version)?
            st.booleans(),  # is the newest version a delete marker?
        ),
        min_size=1,
    )
)
def test_merge_orders_names_then_newest_first_with_one_latest(spec: dict) -> None:
    loc = "\x00versions\x00c"
    primary, versions, current_ids = [], [], {}
    for name, (stamps, linked, marker) in spec.items():
        ordered = sorted(stamps, reverse=True)
        for i, stamp in enumerate(ordered):
            ts = Timestamp(1700000000 + stamp / 1000)
            vname = vl.version_object(name, ts)
            ctype = vl.DELETE_MARKER_CONTENT_TYPE if marker and i == 0 else "t/p"
            versions.append(
                {
                    "name": vname,
                    "hash": "h",
                    "bytes": 1,
                    "content_type": ctype,
                    "last_modified": "x",
                }
            )
        newest = vl.version_object(name, Timestamp(1700000000 + ordered[0] / 1000))
        if linked and not marker:
            target = f"%00versions%00c/{newest.replace(chr(0), '%00')}"
            primary.append(
                vl.primary_row(_link_row(name, target, "h", 1), "v1", "A", "c", loc, raw=True)
            )
            current_ids[name] = vl.split_version(newest)[1].internal  # type: ignore[union-attr]
    versions.sort(key=lambda r: r["name"])
    primary.sort(key=lambda r: r["name"])
    rows = vl.merge(primary, versions, "A", loc, 10000, reverse=False)
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    for name in spec:
        mine = [r for r in rows if r["name"] == name]
        ids = [Timestamp(r["version_id"]) for r in mine]
        assert ids == sorted(ids, reverse=True)
        latest = [r["version_id"] for r in mine if r["is_latest"]]
        assert len(latest) <= 1
        if name in current_ids:
            assert latest == [current_ids[name]]


def test_account_bounds_with_a_nul_map_onto_versions_containers():
    """``marker=a%00`` (just after a) on an account listing of a versioned account was a 500:
    the NUL went into a reserved name (found by the fuzz suite)."""
    from swiftlite.middleware import versions_listing as vl

    assert vl.versions_bound("marker", "a\x00zz") == vl.versions_container("a")
    assert vl.versions_bound("end_marker", "a\x00") == vl.versions_container("a") + "\x00"
    assert vl.versions_bound("prefix", "a\x00") == vl.versions_container("a") + "\x00"
    assert vl.versions_bound("marker", "abc") == vl.versions_container("abc")


def test_versions_listing_marker_or_prefix_with_a_nul_is_400_not_500():
    from swiftlite.common.errors import BadInput
    from swiftlite.middleware import versions_listing as vl

    for key in ("marker", "prefix"):
        with pytest.raises(BadInput, match=f"invalid {key} param"):
            vl.versions_query({key: "a\x00"})
