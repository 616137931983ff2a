"""formdata: the streaming multipart reader gives back exactly the fields that were sent."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.middleware.formdata import FormDataError, iter_parts, parse_header_params

BOUNDARY = "----xyzBOUNDARY"


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def read(self, size: int = -1) -> bytes:
        n = self.step if size < 0 else min(size, self.step)
        out, self.data = self.data[:n], self.data[n:]
        return out


def encode(fields: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in fields:
        out += f"--{BOUNDARY}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


@settings(max_examples=60)
@given(
    st.lists(st.binary(max_size=300), min_size=1, max_size=4),
    st.integers(min_value=1, max_value=70),
    st.integers(min_value=1, max_value=50),
)
def test_parts_round_trip_whatever_the_chunking(values, step, read_size):
    values = [v.replace(f"--{BOUNDARY}".encode(), b"") for v in values]
    fields = [(f"f{i}", v) for i, v in enumerate(values)]
    got = []
    for part in iter_parts(Trickle(encode(fields), step), BOUNDARY):
        data = b""
        while chunk := part.read(read_size):
            data += chunk
        got.append((part.name, data))
    assert got == fields


def test_unread_part_is_skipped():
    data = encode([("a", b"x" * 1000), ("b", b"yes")])
    parts = iter_parts(io.BytesIO(data), BOUNDARY)
    next(parts)
    second = next(parts)
    assert (second.name, second.read()) == ("b", b"yes")


def test_wrong_starting_boundary_is_an_error():
    with pytest.raises(FormDataError, match="starting boundary"):
        list(iter_parts(io.BytesIO(b"--other\r\n\r\n"), BOUNDARY))


def test_truncated_body_is_an_error():
    data = encode([("a", b"value")])[:-30]

    def read_all() -> None:
        for part in iter_parts(io.BytesIO(data), BOUNDARY):
            part.read()

    with pytest.raises(FormDataError):
        read_all()


def test_header_params_with_quotes_and_tokens():
    assert parse_header_params('form-data; name="a b"; filename="x\\"y.txt"') == (
        "form-data",
        {"name": "a b", "filename": 'x"y.txt'},
    )
    assert parse_header_params("multipart/form-data; boundary=abc") == (
        "multipart/form-data",
        {"boundary": "abc"},
    )


def test_header_values_keep_their_bytes_and_the_filename_is_utf8_text():
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + 'Content-Disposition: form-data; name="f"; filename="caf\u00e9\xff"\r\n'.encode(
            "utf-8", "surrogateescape"
        )
        + b"Content-Type: text/\xffplain\r\n\r\ndata\r\n"
        + f"--{BOUNDARY}--\r\n".encode()
    )
    (part,) = list(iter_parts(io.BytesIO(body), BOUNDARY))
    assert part.headers["content-type"].encode("latin-1") == b"text/\xffplain"
    assert part.filename == "caf\u00e9\u00ff"


def test_values_ending_in_utf8_bytes_0x85_or_0xa0_are_not_stripped():
    """U+5605 is E5 98 85 and U+5800 is E5 A0 80; str.strip() or a Unicode ``\\s`` took the
    0x85 / 0xA0 byte as whitespace and cut the name short."""
    name = "x\u5605"
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + f"Content-Disposition: form-data; name={name}; filename=\u5800\u5605\r\n".encode()
        + "Content-Type: text/plain\u5605\r\n\r\n".encode()
        + b"data\r\n"
        + f"--{BOUNDARY}--\r\n".encode()
    )
    (part,) = list(iter_parts(io.BytesIO(body), BOUNDARY))
    assert part.headers["content-type"].encode("latin-1") == "text/plain\u5605".encode()
    assert part.filename == "\u5800\u5605"
    main, params = parse_header_params("form-data; name=ab\x85")
    assert (main, params) == ("form-data", {"name": "ab\x85"})
