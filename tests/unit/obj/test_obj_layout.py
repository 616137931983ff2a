"""layout: object paths and the rule that picks the deciding files of a hash directory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import layout


def name(seconds: float, ext: str) -> str:
    return layout.file_name(Timestamp(seconds), ext)


def test_hash_dir_uses_last_three_hex_digits_as_suffix() -> None:
    h = "0123456789abcdef0123456789abcdef"
    assert layout.hash_dir("/srv/node/sda", 12, h) == f"/srv/node/sda/objects/12/def/{h}"


def test_async_pending_path_names_hash_and_timestamp() -> None:
    h = "f" * 32
    got = layout.async_pending_path("/d", h, Timestamp(5, offset=1))
    assert got == f"/d/async_pending/fff/{h}-0000000005.00000_0000000000000001"


def test_parse_file_name_rejects_strangers() -> None:
    assert layout.parse_file_name("0000000001.00000.data") == (Timestamp(1), ".data")
    assert layout.parse_file_name("junk.data") is None
    assert layout.parse_file_name("0000000001.00000.tmp") is None
    assert layout.parse_file_name("hashes.json") is None


def test_pick_newest_data_wins_and_older_files_are_obsolete() -> None:
    files = layout.pick([name(1, ".data"), name(2, ".data"), name(1.5, ".meta")])
    assert files.data == name(2, ".data")
    assert files.meta is None
    assert set(files.obsolete) == {name(1, ".data"), name(1.5, ".meta")}


def test_pick_meta_newer_than_data_applies() -> None:
    files = layout.pick([name(1, ".data"), name(2, ".meta"), name(3, ".meta")])
    assert (files.data, files.meta) == (name(1, ".data"), name(3, ".meta"))
    assert files.obsolete == (name(2, ".meta"),)


def test_pick_newest_tombstone_hides_data_and_meta() -> None:
    files = layout.pick([name(1, ".data"), name(3, ".meta"), name(2, ".ts")])
    assert files.tombstone == name(2, ".ts")
    assert files.data is None
    assert files.meta is None
    assert set(files.obsolete) == {name(1, ".data"), name(3, ".meta")}


def test_pick_tombstone_wins_a_tie_with_data() -> None:
    files = layout.pick([name(1, ".data"), name(1, ".ts")])
    assert files.tombstone == name(1, ".ts")
    assert files.obsolete == (name(1, ".data"),)


def test_pick_reclaims_old_tombstone_only() -> None:
    files = layout.pick([name(100, ".ts")], now=1000, reclaim_age=500)
    assert files.tombstone is None
    assert files.obsolete == (name(100, ".ts"),)
    files = layout.pick([name(900, ".ts")], now=1000, reclaim_age=500)
    assert files.tombstone == name(900, ".ts")


def test_pick_ignores_unknown_files() -> None:
    files = layout.pick(["stray.tmp", name(1, ".data")])
    assert files.data == name(1, ".data")
    assert files.obsolete == ()


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(1, 50), st.sampled_from(layout.EXTENSIONS)), min_size=1, max_size=10
    )
)
def test_pick_keeps_at_most_one_deciding_file_and_nothing_older(entries) -> None:
    names = {name(t, ext) for t, ext in entries}
    files = layout.pick(names)
    kept = {n for n in (files.data, files.meta, files.tombstone) if n}
    assert kept | set(files.obsolete) == names
    assert not kept & set(files.obsolete)
    assert not (files.data and files.tombstone)
    deciders = [n for n in names if not n.endswith(".meta")]
    newest_decider = (
        max((layout.timestamp_of(n), n.endswith(".ts")) for n in deciders) if deciders else None
    )
    if newest_decider is not None:
        assert layout.timestamp_of(files.data or files.tombstone) == newest_decider[0]
    if files.meta and files.data:
        assert layout.timestamp_of(files.meta) > layout.timestamp_of(files.data)
    if files.meta:
        assert not files.tombstone
