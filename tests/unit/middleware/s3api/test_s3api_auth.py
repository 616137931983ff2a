"""s3api's signature reading, checked against botocore's own signer."""

from __future__ import annotations

import datetime
import hashlib
import time
from unittest import mock

import pytest
from botocore import auth as bauth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from swiftlite.middleware.s3api import sigv4
from swiftlite.middleware.s3api.auth import AuthInput, parse_auth
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.request import split_query

NOW = datetime.datetime(2026, 12, 2, 12, 0, 0)
EPOCH = NOW.replace(tzinfo=datetime.UTC).timestamp()


def _botocore_request(method: str, url: str, body: bytes = b"", **headers: str) -> AWSRequest:
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    signer = bauth.S3SigV4Auth(Credentials("test:tester", "testing"), "s3", "us-east-1")
    with mock.patch.object(bauth, "get_current_datetime", return_value=NOW):
        signer.add_auth(req)
    return req


def _input(req: AWSRequest) -> AuthInput:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(req.url)
    path = unquote(parts.path, encoding="latin-1")
    headers = {k.lower(): v for k, v in req.headers.items()}
    headers["host"] = parts.netloc
    return AuthInput(
        method=req.method,
        path=path.encode("latin-1"),
        raw_path=parts.path,
        query=split_query(parts.query),
        headers=headers,
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://h:1/bucket/key",
        "http://h:1/bucket/a%20b/%C3%A9~x!y",
        "http://h:1/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F",
        "http://h:1/bucket/k?uploadId=abc&partNumber=3",
    ],
)
def test_botocore_v4_signature_checks(url: str) -> None:
    req = _botocore_request("PUT", url, b"body", **{"Content-Type": "text/plain"})
    signed = parse_auth(_input(req), EPOCH)
    assert signed is not None
    assert signed.access_key == "test:tester"
    assert signed.check("testing")
    assert signed.signing_key is not None
    assert not parse_auth(_input(req), EPOCH).check("wrong")  # type: ignore[union-attr]


def test_v4_clock_skew_is_refused() -> None:
    req = _botocore_request("GET", "http://h:1/")
    with pytest.raises(S3Error) as exc:
        parse_auth(_input(req), EPOCH + 16 * 60)
    assert exc.value.code == "RequestTimeTooSkewed"
    assert exc.value.status == 403
    assert parse_auth(_input(req), EPOCH + 14 * 60) is not None


def test_v4_other_region_is_malformed() -> None:
    req = _botocore_request("GET", "http://h:1/")
    with pytest.raises(S3Error) as exc:
        parse_auth(_input(req), EPOCH, region="eu-west-1")
    assert exc.value.code == "AuthorizationHeaderMalformed"


def test_v4_presigned_expiry() -> None:
    req = AWSRequest(method="GET", url="http://h:1/b/k")
    signer = bauth.S3SigV4QueryAuth(
        Credentials("test:tester", "testing"), "s3", "us-east-1", expires=60
    )
    with mock.patch.object(bauth, "get_current_datetime", return_value=NOW):
        signer.add_auth(req)
    ok = parse_auth(_input(req), EPOCH + 30)
    assert ok is not None
    assert ok.check("testing")
    with pytest.raises(S3Error) as exc:
        parse_auth(_input(req), EPOCH + 61)
    assert exc.value.code == "AccessDenied"
    assert "expired" in exc.value.message


def test_v2_header_signature_checks() -> None:
    req = AWSRequest(
        method="GET",
        url="http://h:1/bucket/key?acl",
        headers={"Date": "Wed, 02 Dec 2026 12:00:00 GMT"},
    )
    bauth.HmacV1Auth(Credentials("test:tester", "testing")).add_auth(req)
    signed = parse_auth(_input(req), time.time())
    assert signed is not None
    assert signed.version == 2
    assert signed.check("testing")
    assert not signed.check("nope")


def test_anonymous_request_has_no_credentials() -> None:
    req = AuthInput("GET", b"/b", "/b", [], {})
    assert parse_auth(req, EPOCH) is None


@pytest.mark.parametrize(
    "header",
    ["AWS4-HMAC-SHA256 garbage", "AWS nocolon", "Bearer x"],
)
def test_malformed_authorization_is_a_4xx(header: str) -> None:
    req = AuthInput(
        "GET",
        b"/",
        "/",
        [],
        {
            "authorization": header,
            "x-amz-date": "20261202T120000Z",
            "x-amz-content-sha256": sigv4.EMPTY_SHA256,
            "date": "Wed, 02 Dec 2026 12:00:00 GMT",
        },
    )
    with pytest.raises(S3Error) as exc:
        parse_auth(req, EPOCH)
    assert 400 <= exc.value.status < 500


def test_uri_encode_keeps_unreserved_and_slash() -> None:
    assert sigv4.uri_encode("a b/é~".encode()) == "a%20b/%C3%A9~"
    assert hashlib.sha256(b"").hexdigest() == sigv4.EMPTY_SHA256
