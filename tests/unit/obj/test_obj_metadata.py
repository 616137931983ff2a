"""metadata: the xattr record, its trailer overflow, and round trips at the API's limits."""

from __future__ import annotations

import errno
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from objtest_helpers import CONTENT, limit_record, write_file

from swiftlite.common import errors
from swiftlite.obj import metadata


def test_small_record_is_inline_and_round_trips(tmp_path) -> None:
    meta = {"name": "/a/c/o", "X-Timestamp": "1.00000", "X-Object-Meta-A": "\u00c3\u00a9"}
    where = write_file(str(tmp_path / "f"), meta)
    assert where.kind == "inline"
    assert os.path.getsize(tmp_path / "f") == len(CONTENT)
    assert metadata.read_path(str(tmp_path / "f")) == (meta, where)


def test_limit_record_goes_to_trailer_after_content(tmp_path) -> None:
    meta = limit_record()
    path = str(tmp_path / "f")
    where = write_file(path, meta)
    assert where.kind == "trailer"
    assert where.offset == len(CONTENT)
    assert os.path.getsize(path) == len(CONTENT) + where.length
    assert metadata.read_path(path)[0] == meta
    with open(path, "rb") as fh:
        assert fh.read(len(CONTENT)) == CONTENT


def test_xattr_refusal_falls_back_to_trailer(tmp_path, monkeypatch) -> None:
    calls = []

    def tiny_fs(fd, value):
        calls.append(len(value))
        if len(value) > 40:
            raise OSError(errno.ENOSPC, "No space left on device")
        os.setxattr(fd, metadata.XATTR_KEY, value)

    monkeypatch.setattr(metadata, "_set_xattr", tiny_fs)
    meta = {"name": "/a/c/o", "X-Timestamp": "1.00000", "X-Object-Meta-A": "x" * 100}
    where = write_file(str(tmp_path / "f"), meta)
    assert where.kind == "trailer"
    assert len(calls) == 2
    assert metadata.read_path(str(tmp_path / "f"))[0] == meta


def test_flipped_trailer_byte_is_corrupt(tmp_path) -> None:
    path = str(tmp_path / "f")
    where = write_file(path, limit_record())
    with open(path, "r+b") as fh:
        fh.seek(where.offset + 10)
        byte = fh.read(1)
        fh.seek(where.offset + 10)
        fh.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(errors.Corrupt, match="checksum"):
        metadata.read_path(path)


def test_truncated_trailer_is_corrupt(tmp_path) -> None:
    path = str(tmp_path / "f")
    write_file(path, limit_record())
    os.truncate(path, len(CONTENT) + 5)
    with pytest.raises(errors.Corrupt, match="truncated"):
        metadata.read_path(path)


def test_unknown_version_byte_is_corrupt(tmp_path) -> None:
    path = str(tmp_path / "f")
    write_file(path, {"name": "/a/c/o"})
    raw = os.getxattr(path, metadata.XATTR_KEY)
    os.setxattr(path, metadata.XATTR_KEY, bytes([9]) + raw[1:])
    with pytest.raises(errors.Corrupt, match="version 9"):
        metadata.read_path(path)


def test_missing_xattr_is_corrupt(tmp_path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(errors.Corrupt, match="no metadata"):
        metadata.read_path(str(tmp_path / "f"))


def test_non_string_values_are_refused() -> None:
    with pytest.raises(TypeError):
        metadata.encode({"Content-Length": 5})  # type: ignore[dict-item]


def test_record_that_is_not_an_object_is_corrupt() -> None:
    with pytest.raises(errors.Corrupt):
        metadata.decode(b"[1, 2]")
    with pytest.raises(errors.Corrupt):
        metadata.decode(b"\xff\xfe")


def test_header_layout_is_version_kind_crc() -> None:
    record = metadata.encode({"a": "b"})
    assert record == b'{"a":"b"}'
    assert struct.calcsize(">BBI") == 6


wire_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=300)


@settings(deadline=None, max_examples=60)
@given(
    st.dictionaries(
        st.from_regex(r"X-Object-Meta-[A-Za-z0-9-]{1,40}", fullmatch=True), wire_text, max_size=40
    ),
    st.binary(max_size=2000),
)
def test_any_wire_metadata_round_trips(tmp_path_factory, meta, content) -> None:
    path = str(tmp_path_factory.mktemp("rt") / "f")
    meta = {"name": "/a/c/\u2603", **meta}
    where = write_file(path, meta, content)
    got, got_where = metadata.read_path(path)
    assert got == meta
    assert got_where == where
    with open(path, "rb") as fh:
        assert fh.read(len(content)) == content


def test_inline_limit_fits_this_machines_filesystem(tmp_path) -> None:
    # INLINE_MAX must fit the xattr space of the file system the tests run on (ext4 here)
    meta = {"name": "/a/c/o", "X-Object-Meta-K": "v" * (metadata.INLINE_MAX - 40)}
    record_len = len(metadata.encode(meta))
    assert record_len <= metadata.INLINE_MAX
    assert write_file(str(tmp_path / "f"), meta).kind == "inline"
