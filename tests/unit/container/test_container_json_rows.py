"""The container server's JSON page is built as text: it must equal json.dumps of the rows."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.common.timestamp import Timestamp
from swiftlite.container.server import object_row, object_rows_json
from swiftlite.db.listing import Subdir

_timestamps = st.builds(
    lambda t, off: Timestamp(t, offset=off).internal,
    st.floats(min_value=0, max_value=9_999_999_999, allow_nan=False),
    st.integers(min_value=0, max_value=20),
)
_rows = st.one_of(
    st.tuples(
        st.text(),
        _timestamps,
        st.one_of(
            st.integers(min_value=0, max_value=2**63 - 1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=5),
        ),
        st.text(),
        st.text(max_size=40),
    ),
    st.builds(Subdir, st.text(min_size=1)),
)


@settings(max_examples=300)
@given(rows=st.lists(_rows, max_size=8))
def test_the_text_built_page_equals_json_dumps_of_the_row_dicts(rows):
    """Fails if any name, type, etag or size (non-ASCII, quotes, control bytes, DEL, lone
    surrogates, a REAL or TEXT size from a peer) renders differently from json.dumps, which
    clients and the proxy's listing filters were written against."""
    assert object_rows_json(rows) == json.dumps([object_row(r) for r in rows]).encode("utf-8")


def test_an_empty_page_is_an_empty_json_array():
    """Fails if an empty page loses its brackets (clients parse it as a list)."""
    assert object_rows_json([]) == b"[]"
