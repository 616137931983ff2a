"""Ranges over a large object's pieces reduce to slice_pieces (pure): checked against bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from swiftlite.middleware.segments import slice_pieces


def _cut_bytes(parts: list[bytes], start: int, stop: int) -> bytes:
    lengths = [len(p) for p in parts]
    return b"".join(parts[i][lo:hi] for i, lo, hi in slice_pieces(lengths, start, stop))


@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=12),
    st.data(),
)
def test_slice_pieces_gives_exactly_the_bytes_of_the_span(sizes, data):
    parts = [bytes([i % 251]) * n for i, n in enumerate(sizes)]
    whole = b"".join(parts)
    start = data.draw(st.integers(min_value=0, max_value=len(whole)))
    stop = data.draw(st.integers(min_value=start, max_value=len(whole)))
    assert _cut_bytes(parts, start, stop) == whole[start:stop]
    cuts = slice_pieces(sizes, start, stop)
    assert all(0 <= lo < hi <= sizes[i] for i, lo, hi in cuts)  # no empty or overlong cut
    assert [i for i, _, _ in cuts] == sorted({i for i, _, _ in cuts})  # each piece once, in order


def test_slice_pieces_skips_empty_pieces_and_stops_at_the_span():
    assert slice_pieces([3, 0, 4, 5], 2, 8) == [(0, 2, 3), (2, 0, 4), (3, 0, 1)]
    assert slice_pieces([3, 3], 3, 6) == [(1, 0, 3)]
    assert slice_pieces([3, 3], 0, 0) == []
