"""s3api's pure rules: names, listing markers, multipart ETags and documents, XML input."""

from __future__ import annotations

import hashlib

import pytest

from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.controllers.bucket import swift_marker
from swiftlite.middleware.s3api.controllers.multi_delete import parse_delete
from swiftlite.middleware.s3api.controllers.multi_upload import parse_complete, s3_etag
from swiftlite.middleware.s3api.controllers.names import check_key, valid_bucket
from swiftlite.middleware.s3api.controllers.obj import etag_matches, parse_copy_source
from swiftlite.middleware.s3api.errors import S3Error, error_response
from swiftlite.middleware.s3api.responses import iso_from_listing, row_etag


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("abc", True),
        ("my.bucket-1", True),
        ("ab", False),
        ("Upper", False),
        ("a..b", False),
        ("192.168.1.1", False),
        ("b+segments", False),
        ("-ab", False),
        ("a" * 64, False),
    ],
)
def test_bucket_names(name: str, ok: bool) -> None:
    assert valid_bucket(name) is ok


def test_key_rules() -> None:
    assert check_key("a" * 1024) is None
    assert check_key("a" * 1025) == "KeyTooLongError"


def test_marker_after_a_common_prefix_skips_its_keys() -> None:
    assert swift_marker("a/", "", "/") == "a0"
    assert swift_marker("a/b", "", "/") == "a/b"
    assert swift_marker("x/", "", "") == "x/"


def test_multipart_etag_is_md5_of_part_md5s() -> None:
    parts = [hashlib.md5(b"1").hexdigest(), hashlib.md5(b"2").hexdigest()]
    joined = bytes.fromhex(parts[0]) + bytes.fromhex(parts[1])
    assert s3_etag(parts) == hashlib.md5(joined).hexdigest() + "-2"


def test_complete_document_order_and_form() -> None:
    doc = b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"e1"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part></CompleteMultipartUpload>'  # noqa: E501
    assert parse_complete(doc) == [(1, "e1"), (2, "e2")]
    backwards = doc.replace(b">1<", b">3<")
    with pytest.raises(S3Error) as exc:
        parse_complete(backwards)
    assert exc.value.code == "InvalidPartOrder"
    with pytest.raises(S3Error) as exc:
        parse_complete(
            b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>"
        )
    assert exc.value.code == "MalformedXML"


@pytest.mark.parametrize("number", ["\u00b2", "9" * 5000, "\u0665", ""])
def test_complete_document_part_number_int_cannot_read_is_malformed_xml(number) -> None:
    doc = (
        f"<CompleteMultipartUpload><Part><PartNumber>{number}</PartNumber><ETag>e</ETag></Part>"
        "</CompleteMultipartUpload>"
    ).encode()
    with pytest.raises(S3Error) as exc:
        parse_complete(doc)
    assert exc.value.code == "MalformedXML"


def test_delete_document() -> None:
    quiet, items = parse_delete(
        b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>',
        1000,
    )
    assert quiet
    assert items == [("a", "v")]
    many = b"<Delete>" + b"<Object><Key>k</Key></Object>" * 3 + b"</Delete>"
    with pytest.raises(S3Error):
        parse_delete(many, 2)


@pytest.mark.parametrize(
    "body",
    [b"", b"<a>", b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', b"\xff\xfe"],
)
def test_bad_xml_never_parses(body: bytes) -> None:
    with pytest.raises(xmlio.XmlError):
        xmlio.parse(body)


def test_copy_source_forms() -> None:
    assert parse_copy_source("/b/k%20x") == ("b", "k x", None)
    assert parse_copy_source("b/k?versionId=v1") == ("b", "k", "v1")
    with pytest.raises(S3Error):
        parse_copy_source("/bucketonly")


def test_etag_conditions() -> None:
    assert etag_matches('"abc"', '"abc"')
    assert etag_matches('"abc"', 'abc, "def"')
    assert etag_matches('"abc"', "*")
    assert not etag_matches('"abc"', '"def"')


def test_listing_helpers() -> None:
    assert iso_from_listing("2026-12-02T18:30:42.123456") == "2026-12-02T18:30:42.123Z"
    assert row_etag({"hash": "abc; s3_etag=def-2"}) == '"def-2"'
    assert row_etag({"hash": "abc"}) == '"abc"'


def test_error_document_escapes_client_text() -> None:
    resp = error_response(S3Error("NoSuchKey", Key="<x>&"), "/b/<x>", "tx1", "GET")
    assert resp.status_int == 404
    assert b"<Code>NoSuchKey</Code>" in resp.body
    assert b"&lt;x&gt;&amp;" in resp.body
    head = error_response(S3Error("NoSuchKey"), "/b", "tx1", "HEAD")
    assert head.body == b""


def test_virtual_hosted_and_path_style_addressing() -> None:
    from swiftlite.middleware.s3api.request import Options, S3Request

    options = Options(storage_domain="s3.example.com")
    vhost = S3Request.from_environ(
        {"PATH_INFO": "/a/b", "HTTP_HOST": "bkt.s3.example.com:8080", "REQUEST_METHOD": "GET"},
        options,
    )
    assert (vhost.bucket, vhost.key) == ("bkt", "a/b")
    assert vhost.auth_input.vhost_bucket == "bkt"
    path = S3Request.from_environ({"PATH_INFO": "/bkt/a/b", "HTTP_HOST": "h:1"}, options)
    assert (path.bucket, path.key) == ("bkt", "a/b")
    root = S3Request.from_environ({"PATH_INFO": "/bkt/", "HTTP_HOST": "h:1"}, options)
    assert (root.bucket, root.key) == ("bkt", None)
    with pytest.raises(S3Error) as exc:
        S3Request.from_environ({"PATH_INFO": "/bkt/\xff"}, options)
    assert exc.value.code == "InvalidURI"
