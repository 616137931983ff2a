"""Flexible checksums stored and returned: header and aws-chunked trailer checksums, with
boto3 in its default configuration against a real aio cluster."""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib

import pytest

from swiftlite.middleware.s3api import checksums
from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "SHA512", "MD5"]
HASHES = ("SHA1", "SHA256", "SHA512", "MD5")


def expected(algorithm: str, data: bytes) -> str:
    """The base64 checksum from hashlib or zlib; CRC32C and CRC64NVME from our code, whose
    check values the unit tests pin."""
    if algorithm in HASHES:
        return base64.b64encode(hashlib.new(algorithm.lower(), data).digest()).decode()
    if algorithm == "CRC32":
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    return checksums.of(algorithm, data)


@pytest.fixture(scope="module")
def endpoint(cluster: Cluster) -> str:
    host, port = cluster.proxy
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def client(endpoint: str):  # type: ignore[no-untyped-def]
    return s3.client(endpoint)


def _bucket(client) -> str:  # type: ignore[no-untyped-def]
    name = "k-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_object_checksum_round_trip(client, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = b"round trip " * 300
    field = "Checksum" + algorithm
    # boto3 computes CRC32C and CRC64NVME only with awscrt, and MD5 not at: give it the value
    client.put_object(Bucket=name, Key="o", Body=data, **{field: expected(algorithm, data)})
    for call in (client.head_object, client.get_object):
        out = call(Bucket=name, Key="o", ChecksumMode="ENABLED")
        assert out[field] == expected(algorithm, data)
        assert out["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "FULL_OBJECT"
    plain = client.head_object(Bucket=name, Key="o")
    assert field not in plain


def test_default_put_object_stores_crc32(client) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    client.put_object(Bucket=name, Key="d", Body=b"defaults")
    out = client.get_object(Bucket=name, Key="d", ChecksumMode="ENABLED")
    assert out["ChecksumCRC32"] == checksums.of("CRC32", b"defaults")


def test_trailer_checksum_is_stored(client, cluster: Cluster, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    host, port = cluster.proxy
    data = b"trailing " * 20000
    checksum = s3.crc32_b64(data)
    body = s3.unsigned_trailer_chunks(data, checksum)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "Content-Length": str(len(body)),
    }
    url = f"{endpoint}/{name}/t"
    signed = s3.signed_headers("PUT", url, headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    status, _headers, out = s3.send(host, int(port), "PUT", f"/{name}/t", signed, body)
    assert status == 200, out
    got = client.get_object(Bucket=name, Key="t", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == checksum
    assert got["Body"].read() == data
    bad = s3.unsigned_trailer_chunks(data, s3.crc32_b64(b"other"))
    headers["Content-Length"] = str(len(bad))
    mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    signed = s3.signed_headers("PUT", f"{endpoint}/{name}/u", headers, mode)
    status, _headers, out = s3.send(host, int(port), "PUT", f"/{name}/u", signed, bad)
    assert status == 400
    assert b"BadDigest" in out
    with pytest.raises(ClientError):
        client.head_object(Bucket=name, Key="u")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_checksum_is_bad_digest_and_stores_nothing(client, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    field = "Checksum" + algorithm
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="w", Body=b"data", **{field: expected(algorithm, b"x")})
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        client.head_object(Bucket=name, Key="w")


def test_boto3_checksum_algorithm_sha512_is_verified_and_returned(client) -> None:  # type: ignore[no-untyped-def]
    # botocore computes SHA512 itself (no awscrt) and sends it as x-amz-checksum-sha512
    name = _bucket(client)
    data = b"sha-512 " * 4000
    want = expected("SHA512", data)
    out = client.put_object(Bucket=name, Key="s", Body=data, ChecksumAlgorithm="SHA512")
    assert out["ChecksumSHA512"] == want
    head = client.head_object(Bucket=name, Key="s", ChecksumMode="ENABLED")
    assert head["ChecksumSHA512"] == want
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = client.get_object(Bucket=name, Key="s", ChecksumMode="ENABLED")  # botocore checks it
    assert got["Body"].read() == data
    assert got["ChecksumSHA512"] == want
    attrs = client.get_object_attributes(Bucket=name, Key="s", ObjectAttributes=["Checksum"])
    assert attrs["Checksum"] == {"ChecksumSHA512": want, "ChecksumType": "FULL_OBJECT"}


def _trailer_chunks(data: bytes, name: str, value: str, chunk: int = 65536) -> bytes:
    """``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` framing of ``data`` with trailer ``name``."""
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    out = [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces]
    out.append(b"0\r\n" + f"{name}:{value}\r\n".encode() + b"\r\n")
    return b"".join(out)


def _put_with_trailer(cluster: Cluster, path: str, data: bytes, name: str, value: str):  # type: ignore[no-untyped-def]
    host, port = cluster.proxy
    body = _trailer_chunks(data, name, value)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": name,
        "Content-Length": str(len(body)),
    }
    mode = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    signed = s3.signed_headers("PUT", f"http://{host}:{port}{path}", headers, mode)
    return s3.send(host, int(port), "PUT", path, signed, body)


@pytest.mark.parametrize("algorithm", ["SHA512", "MD5"])
def test_trailer_sha512_and_md5_are_verified_and_stored(
    client, cluster: Cluster, algorithm: str
) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = b"trailing digest " * 9000
    trailer = "x-amz-checksum-" + algorithm.lower()
    status, answer, out = _put_with_trailer(
        cluster, f"/{name}/t", data, trailer, expected(algorithm, data)
    )
    assert status == 200, out
    assert answer.get(trailer) == expected(algorithm, data)
    got = client.get_object(Bucket=name, Key="t", ChecksumMode="ENABLED")
    assert got["Checksum" + algorithm] == expected(algorithm, data)
    assert got["Body"].read() == data
    status, _answer, out = _put_with_trailer(
        cluster, f"/{name}/u", data, trailer, expected(algorithm, b"other")
    )
    assert status == 400
    assert b"BadDigest" in out
    with pytest.raises(ClientError):
        client.head_object(Bucket=name, Key="u")


@pytest.mark.parametrize(("algorithm", "size"), [("SHA512", 32), ("MD5", 20)])
def test_checksum_of_the_wrong_length_is_invalid_request(client, algorithm: str, size: int) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    field = "Checksum" + algorithm
    value = base64.b64encode(b"x" * size).decode()
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=name, Key="l", Body=b"data", **{field: value})
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    assert f"x-amz-checksum-{algorithm.lower()}" in exc.value.response["Error"]["Message"]


@pytest.mark.parametrize("algorithm", ["XXHASH64", "XXHASH3", "XXHASH128"])
def test_xxhash_checksums_are_refused_not_ignored(client, cluster: Cluster, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    # swiftlite has no XXHASH (no dependency for it): a promise it cannot check is refused
    name = _bucket(client)
    header = "x-amz-checksum-" + algorithm.lower()
    value = base64.b64encode(b"\0" * (16 if algorithm == "XXHASH128" else 8)).decode()
    host, port = cluster.proxy
    sent = {header: value, "x-amz-sdk-checksum-algorithm": algorithm}
    for path, headers in (
        (f"/{name}/h", sent),
        (f"/{name}/a", {"x-amz-sdk-checksum-algorithm": algorithm}),
    ):
        signed = s3.signed_headers(
            "PUT", f"http://{host}:{port}{path}", headers, "UNSIGNED-PAYLOAD"
        )
        status, _answer, out = s3.send(host, int(port), "PUT", path, signed, b"data")
        assert status == 400, out
        assert b"<Code>InvalidRequest</Code>" in out
    status, _answer, out = _put_with_trailer(cluster, f"/{name}/t", b"data", header, value)
    assert status == 400, out
    assert b"<Code>InvalidRequest</Code>" in out
    assert not client.list_objects_v2(Bucket=name).get("Contents")


@pytest.mark.parametrize("directive", ["COPY", "REPLACE"])
def test_copy_object_keeps_the_sha512_and_md5_checksums(client, directive: str) -> None:  # type: ignore[no-untyped-def]
    name = _bucket(client)
    data = b"copied digest " * 500
    client.put_object(Bucket=name, Key="s", Body=data, ChecksumAlgorithm="SHA512")
    client.put_object(Bucket=name, Key="m", Body=data, ChecksumMD5=expected("MD5", data))
    for key, alg in (("s", "SHA512"), ("m", "MD5")):
        client.copy_object(
            Bucket=name,
            Key=key + "-copy",
            CopySource={"Bucket": name, "Key": key},
            MetadataDirective=directive,
        )
        head = client.head_object(Bucket=name, Key=key + "-copy", ChecksumMode="ENABLED")
        assert head["Checksum" + alg] == expected(alg, data)
