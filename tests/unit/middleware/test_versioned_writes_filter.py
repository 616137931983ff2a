"""versioned_writes' pure parts: archive names and the headers a copy carries."""

from __future__ import annotations

from webob import Response

from swiftlite.middleware import versioned_writes as vw


def test_version_prefix_counts_utf8_bytes_in_three_hex_digits() -> None:
    assert vw.version_prefix("obj") == "003obj/"
    assert vw.version_prefix("caf\u00e9") == "005caf\u00e9/"
    assert vw.version_name("o", "1700000000.5") == "001o/1700000000.50000"


def test_copy_headers_keep_object_metadata_but_not_response_headers() -> None:
    source = Response(
        headers={
            "Content-Type": "text/plain",
            "ETag": '"abc"',
            "X-Object-Meta-Color": "blue",
            "X-Object-Sysmeta-Symlink-Target": "c/o",
            "X-Timestamp": "1700000000.00000",
            "Last-Modified": "x",
            "X-Symlink-Target": "c/o",
        }
    )
    headers = vw.copy_headers(source)
    assert headers["ETag"] == "abc"
    assert headers["X-Object-Meta-Color"] == "blue"
    assert headers["X-Object-Sysmeta-Symlink-Target"] == "c/o"
    assert not {"X-Timestamp", "Last-Modified", "X-Symlink-Target"} & set(headers)


def test_copy_headers_mark_manifest_size_in_content_type() -> None:
    source = Response(headers={"Content-Type": "a/b", "X-Object-Sysmeta-Slo-Size": "99"})
    assert vw.copy_headers(source)["Content-Type"] == "a/b; swift_bytes=99"
