"""swiftlite-segments' rule: a segment is an orphan when no manifest covers it (pure)."""

from __future__ import annotations

from swiftlite.cli.segments import References, Row, orphans


def _rows() -> list[Row]:
    return [
        Row("c_segments", "slo/1", 10, 100.0),
        Row("c_segments", "slo/2", 10, 100.0),
        Row("c_segments", "dlo/a/1", 5, 100.0),
        Row("c_segments", "old/1", 7, 100.0),
        Row("c_segments", "fresh/1", 7, 900.0),
        Row("c", "plain", 3, 100.0),
    ]


def test_orphans_are_segments_no_slo_names_and_no_dlo_prefix_covers():
    refs = References(objects={("c_segments", "slo/1"), ("c_segments", "slo/2")})
    refs.prefixes.add(("c_segments", "dlo/a/"))
    found = orphans(_rows(), refs, None, newest=500.0)
    assert [r.name for r in found] == ["old/1"]  # fresh/1 is too young; c is not segments


def test_orphans_in_named_segment_containers_only():
    found = orphans(_rows(), References(), {"c"}, newest=500.0)
    assert [(r.container, r.name) for r in found] == [("c", "plain")]


def test_a_dlo_prefix_covers_only_its_own_container():
    refs = References(prefixes={("other_segments", "old/")})
    assert "old/1" in [r.name for r in orphans(_rows(), refs, None, newest=500.0)]
