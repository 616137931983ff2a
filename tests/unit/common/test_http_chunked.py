"""common.http.chunked: the one chunk framing the server and the client share."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swiftlite.common.http import chunked


@given(st.binary(min_size=1, max_size=300))
def test_a_framed_chunk_reads_back_with_its_size(data):
    wire = chunked.frame(data)
    line, _, rest = wire.partition(b"\r\n")
    assert chunked.chunk_size(line) == len(data)
    assert rest == data + b"\r\n"


def test_size_line_ignores_extensions_and_line_end():
    assert chunked.chunk_size(b"1A;name=value\r\n") == 26
    assert chunked.chunk_size(b"0") == 0


@pytest.mark.parametrize("line", [b"+1a", b"0x1a", b"1_0", b" 1a", b"", b"zz"])
def test_size_line_refuses_what_rfc_9112_does_not_allow(line):
    with pytest.raises(ValueError, match="not a hex number"):
        chunked.chunk_size(line)
