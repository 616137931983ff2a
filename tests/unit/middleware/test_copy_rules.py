"""The copy filter's rules: header paths and which metadata the new object gets (pure)."""

from __future__ import annotations

import pytest

from swiftlite.common.errors import BadName, PreconditionFailed
from swiftlite.middleware.copy import check_account, sink_headers, split_copy_path
from swiftlite.middleware.subrequest import IterReader

SOURCE = [
    ("Content-Type", "text/x-src"),
    ("Content-Length", "10"),
    ("ETag", "abc"),
    ("Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT"),
    ("X-Timestamp", "1700000000.00000"),
    ("X-Object-Meta-Color", "red"),
    ("X-Object-Sysmeta-Slo", "1"),
    ("Content-Encoding", "gzip"),
    ("X-Delete-At", "1900000000"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("c/o", ("c", "o")),
        ("/c/o", ("c", "o")),
        ("c/dir/o", ("c", "dir/o")),
        ("c/with%20space", ("c", "with space")),
        ("c/caf\xc3\xa9", ("c", "caf\u00e9")),  # a WSGI string holding UTF-8 bytes
    ],
)
def test_split_copy_path_accepts_container_and_object(value, expected):
    assert split_copy_path(value, "X-Copy-From") == expected


@pytest.mark.parametrize("value", ["", "c", "/c", "c/", "/c/"])
def test_split_copy_path_without_object_is_412(value):
    with pytest.raises(PreconditionFailed, match="X-Copy-From header must be of the form"):
        split_copy_path(value, "X-Copy-From")


def test_split_copy_path_with_nul_is_bad_name():
    with pytest.raises(BadName):
        split_copy_path("c/a%00b", "Destination")


def test_check_account_rejects_slashes():
    assert check_account("AUTH_x") == "AUTH_x"
    with pytest.raises(PreconditionFailed):
        check_account("AUTH_x/y")


def test_sink_headers_copy_source_meta_then_request_overrides():
    out = sink_headers({"X-Object-Meta-Color": "blue", "X-Object-Meta-New": "1"}, SOURCE)
    assert out["X-Object-Meta-Color"] == "blue"
    assert out["X-Object-Meta-New"] == "1"
    assert out["X-Object-Sysmeta-Slo"] == "1"
    assert out["Content-Encoding"] == "gzip"
    assert out["X-Delete-At"] == "1900000000"
    assert out["Content-Type"] == "text/x-src"
    for dropped in ("ETag", "Content-Length", "Last-Modified", "X-Timestamp"):
        assert dropped not in out


def test_sink_headers_request_content_type_wins():
    out = sink_headers({"Content-Type": "text/plain"}, SOURCE)
    assert out["Content-Type"] == "text/plain"


def test_sink_headers_request_override_is_case_insensitive():
    out = sink_headers({"x-object-meta-color": "green"}, SOURCE)
    assert [k for k in out if k.lower() == "x-object-meta-color"] == ["x-object-meta-color"]
    assert out["x-object-meta-color"] == "green"


def test_sink_headers_fresh_metadata_keeps_only_sysmeta_and_request_meta():
    out = sink_headers({"X-Fresh-Metadata": "true", "X-Object-Meta-B": "2"}, SOURCE)
    assert "X-Object-Meta-Color" not in out
    assert out["X-Object-Meta-B"] == "2"
    assert out["X-Object-Sysmeta-Slo"] == "1"
    assert out["Content-Type"] == "text/x-src"
    assert "X-Fresh-Metadata" not in out


def test_sink_headers_drop_copy_request_headers():
    out = sink_headers({"X-Copy-From": "c/o", "Destination": "c/p"}, SOURCE)
    assert "X-Copy-From" not in out
    assert "Destination" not in out


def test_iter_reader_reads_across_chunk_boundaries():
    reader = IterReader([b"abc", b"", b"defg", b"h"])
    assert reader.read(2) == b"ab"
    assert reader.read(4) == b"cdef"
    assert reader.read(10) == b"gh"
    assert reader.read(10) == b""
