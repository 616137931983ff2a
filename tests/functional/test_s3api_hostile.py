"""The S3 API's answers to bad credentials and bad input: S3's error code and status, never
a 5xx; and the streaming (``aws-chunked``) uploads boto3 does not send over plain HTTP."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
requests = pytest.importorskip("requests")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


@pytest.fixture(scope="module")
def endpoint(cluster: Cluster) -> str:
    host, port = cluster.proxy
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def bucket(endpoint: str) -> str:
    name = "h-" + uuid.uuid4().hex[:12]
    s3.client(endpoint).create_bucket(Bucket=name)
    return name


def _code(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else text[:80]


def _signed(endpoint, method, path, body=b"", headers=None, **kw):  # type: ignore[no-untyped-def]
    url = endpoint + path
    payload = kw.pop("payload", hashlib.sha256(body).hexdigest())
    signed = s3.signed_headers(method, url, dict(headers or {}), payload, **kw)
    host, port = endpoint.split("//")[1].split(":")
    return s3.send(host, int(port), method, path, signed, body)


def test_wrong_secret_is_signature_does_not_match(endpoint: str) -> None:
    bad = s3.client(endpoint, secret="not-the-key")  # noqa: S106
    with pytest.raises(ClientError) as exc:
        bad.list_buckets()
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key_is_invalid_access_key_id(endpoint: str) -> None:
    bad = s3.client(endpoint, access="nobody:none")
    with pytest.raises(ClientError) as exc:
        bad.list_buckets()
    assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_signature_over_other_headers_does_not_match(endpoint: str, bucket: str) -> None:
    url = f"{endpoint}/{bucket}/x"
    headers = s3.signed_headers("PUT", url, {}, hashlib.sha256(b"one").hexdigest())
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    host, port = endpoint.split("//")[1].split(":")
    status, _, body = s3.send(host, int(port), "PUT", f"/{bucket}/x", headers, b"one")
    assert (status, _code(body)) == (403, "SignatureDoesNotMatch")


def test_skewed_clock_is_request_time_too_skewed(endpoint: str) -> None:
    status, _, body = _signed(endpoint, "GET", "/", skew=-3600)
    assert (status, _code(body)) == (403, "RequestTimeTooSkewed")


def test_presigned_url_tampered_and_expired(endpoint: str, bucket: str) -> None:
    import datetime
    from unittest import mock

    from botocore import auth as bauth

    client = s3.client(endpoint, config=Config(signature_version="s3v4"))
    client.put_object(Bucket=bucket, Key="pre", Body=b"p")
    params = {"Bucket": bucket, "Key": "pre"}
    url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    assert "X-Amz-Signature" in url
    assert requests.get(url, timeout=30).content == b"p"
    resp = requests.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=90"), timeout=30)
    assert resp.status_code == 403
    assert _code(resp.content) == "SignatureDoesNotMatch"
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    past -= datetime.timedelta(minutes=10)
    with mock.patch.object(bauth, "get_current_datetime", return_value=past):
        old = client.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    resp = requests.get(old, timeout=30)
    assert resp.status_code == 403
    assert "Request has expired" in resp.text
    long_url = url.replace("X-Amz-Expires=60", "X-Amz-Expires=604801")
    resp = requests.get(long_url, timeout=30)
    assert resp.status_code == 400
    assert _code(resp.content) == "AuthorizationQueryParametersError"


def test_payload_hash_mismatch_stores_nothing(endpoint: str, bucket: str) -> None:
    status, _, body = _signed(
        endpoint,
        "PUT",
        f"/{bucket}/hashed",
        b"actual",
        payload=hashlib.sha256(b"other").hexdigest(),
    )
    assert (status, _code(body)) == (400, "XAmzContentSHA256Mismatch")
    status, _, _ = _signed(endpoint, "HEAD", f"/{bucket}/hashed")
    assert status == 404


def test_signed_streaming_upload_and_bad_chunk_signature(endpoint: str, bucket: str) -> None:
    data = os.urandom(200_000)
    for key, bad in (("stream-ok", None), ("stream-bad", 1)):
        headers = {
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
        }
        url = f"{endpoint}/{bucket}/{key}"
        signed = s3.signed_headers("PUT", url, headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        body = s3.signed_chunks(data, signed, bad_chunk=bad)
        signed["Content-Length"] = str(len(body))
        host, port = endpoint.split("//")[1].split(":")
        status, _, out = s3.send(host, int(port), "PUT", f"/{bucket}/{key}", signed, body)
        if bad is None:
            assert status == 200, out
        else:
            assert (status, _code(out)) == (403, "SignatureDoesNotMatch")
    client = s3.client(endpoint)
    assert client.get_object(Bucket=bucket, Key="stream-ok")["Body"].read() == data
    with pytest.raises(ClientError) as exc:
        client.head_object(Bucket=bucket, Key="stream-bad")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404  # nothing stored


def test_unsigned_trailer_upload_checks_the_trailing_crc32(endpoint: str, bucket: str) -> None:
    data = os.urandom(100_000)
    host, port = endpoint.split("//")[1].split(":")
    for key, checksum in (("trail-ok", s3.crc32_b64(data)), ("trail-bad", s3.crc32_b64(b"x"))):
        body = s3.unsigned_trailer_chunks(data, checksum)
        headers = {
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data)),
            "X-Amz-Trailer": "x-amz-checksum-crc32",
            "Content-Length": str(len(body)),
        }
        url = f"{endpoint}/{bucket}/{key}"
        signed = s3.signed_headers("PUT", url, headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        status, resp_headers, out = s3.send(
            host, int(port), "PUT", f"/{bucket}/{key}", signed, body
        )
        if key == "trail-ok":
            assert status == 200, out
            assert resp_headers["x-amz-checksum-crc32"] == checksum
        else:
            assert (status, _code(out)) == (400, "BadDigest")
    client = s3.client(endpoint)
    assert client.get_object(Bucket=bucket, Key="trail-ok")["Body"].read() == data
    with pytest.raises(ClientError):
        client.head_object(Bucket=bucket, Key="trail-bad")


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete><Object><Key>a</Key></Object>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Delete><Object><Key>&e;</Key></Object></Delete>',  # noqa: E501
        b"<Wrong/>",
        b"<Delete></Delete>",
    ],
)
def test_malformed_multi_delete_xml_is_malformed_xml(
    endpoint: str, bucket: str, body: bytes
) -> None:
    status, _, out = _signed(endpoint, "POST", f"/{bucket}?delete", body)
    assert (status, _code(out)) == (400, "MalformedXML")


def test_bad_complete_multipart_xml_is_malformed_xml(endpoint: str, bucket: str) -> None:
    client = s3.client(endpoint)
    uid = client.create_multipart_upload(Bucket=bucket, Key="mx")["UploadId"]
    status, _, out = _signed(endpoint, "POST", f"/{bucket}/mx?uploadId={uid}", b"<Complete")
    assert (status, _code(out)) == (400, "MalformedXML")


@pytest.mark.parametrize("number", ["\u00b2", "9" * 5000, "\u0665", ""])
def test_complete_with_a_part_number_int_cannot_read_is_malformed_xml(
    endpoint: str, bucket: str, number: str
) -> None:
    client = s3.client(endpoint)
    uid = client.create_multipart_upload(Bucket=bucket, Key="pn")["UploadId"]
    doc = (
        f"<CompleteMultipartUpload><Part><PartNumber>{number}</PartNumber><ETag>e</ETag></Part>"
        "</CompleteMultipartUpload>"
    ).encode()
    status, _, out = _signed(endpoint, "POST", f"/{bucket}/pn?uploadId={uid}", doc)
    assert (status, _code(out)) == (400, "MalformedXML")


def test_hostile_requests_answer_4xx_never_5xx(endpoint: str, bucket: str) -> None:
    host, port = endpoint.split("//")[1].split(":")
    cases = [
        ("GET", f"/{bucket}/%FF%FE", {}, b"", 400),  # key not UTF-8
        ("PUT", f"/{bucket}/huge", {"Content-Length": "99999999999999"}, b"", None),
        ("GET", f"/{bucket}?max-keys=abc", {}, b"", 400),
        ("GET", f"/{bucket}?encoding-type=base64", {}, b"", 400),
        ("GET", f"/{bucket}?list-type=2&continuation-token=%%%", {}, b"", 400),
        ("PUT", f"/{bucket}/k?partNumber=0&uploadId=" + "0" * 32, {}, b"", 400),
        # "²" passes str.isdigit() and int() then raises; int() refuses over 4300 digits
        ("PUT", f"/{bucket}/k?partNumber=%C2%B2&uploadId=" + "0" * 32, {}, b"", 400),
        ("PUT", f"/{bucket}/k?partNumber={'9' * 5000}&uploadId=" + "0" * 32, {}, b"", 400),
        ("DELETE", f"/{bucket}/k?uploadId=nope", {}, b"", 404),
        ("GET", f"/{bucket}?lifecycle", {}, b"", 501),
        ("PUT", f"/{bucket}/x", {"x-amz-storage-class": "GLACIER"}, b"", 400),
        ("PUT", f"/{bucket}/x", {"x-amz-checksum-crc32": "!!"}, b"", 400),
        ("PUT", f"/{bucket}/x", {"Content-MD5": "bad"}, b"data", 400),
    ]
    for method, path, headers, body, want in cases:
        url = endpoint + path
        payload = hashlib.sha256(body).hexdigest()
        signed = s3.signed_headers(method, url, dict(headers), payload)
        try:
            status, _, out = s3.send(host, int(port), method, path, signed, body)
        except (ConnectionError, OSError):
            continue  # the server may close on a body it will never read
        assert status < 500 or status == want == 501, (path, status, out[:200])
        if want is not None:
            assert status == want, (path, status, out[:200])
        if method != "HEAD":
            assert out.startswith(b"<?xml"), (path, out[:200])


def test_bad_dates_and_auth_headers(endpoint: str) -> None:
    host, port = endpoint.split("//")[1].split(":")
    cases = [
        {
            "Authorization": "AWS4-HMAC-SHA256 Credential=x",
            "x-amz-date": "20260101T000000Z",
            "x-amz-content-sha256": s3.EMPTY,
        },
        {
            "Authorization": "AWS4-HMAC-SHA256 Credential=test:tester/20260101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=00",
            "x-amz-date": "garbage",
            "x-amz-content-sha256": s3.EMPTY,
        },
        {"Authorization": "AWS test:tester", "Date": "not a date"},
        {"Authorization": "AWS test:tester:c2ln", "Date": "Mon, 99 Foo 2026 99:99:99 GMT"},
    ]
    for headers in cases:
        status, _, out = s3.send(host, int(port), "GET", "/", headers)
        assert 400 <= status < 500, (headers, status, out)
        assert out.startswith(b"<?xml")
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=zzz&X-Amz-Expires=5&X-Amz-SignedHeaders=host&X-Amz-Signature=00"  # noqa: E501
    status, _, out = s3.send(host, int(port), "GET", "/?" + query, {})
    assert (status, _code(out)) == (400, "AuthorizationQueryParametersError")


def test_response_override_cannot_inject_a_header(endpoint: str, bucket: str) -> None:
    s3.client(endpoint).put_object(Bucket=bucket, Key="ov", Body=b"o")
    path = f"/{bucket}/ov?response-content-type=text/plain%0d%0aX-Injected:%201"
    status, headers, out = _signed(endpoint, "GET", path)
    assert "x-injected" not in headers
    assert (status, _code(out)) == (400, "InvalidArgument")
