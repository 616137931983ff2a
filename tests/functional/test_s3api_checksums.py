"""Flexible checksums stored and returned: header and aws-chunked trailer checksums, with
boto3 in its default configuration against a real aio cluster."""

from __future__ import annotations

import uuid

import pytest

from swiftlite.middleware.s3api import checksums
from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]


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
    # boto3 computes CRC32C and CRC64NVME only with awscrt: give it the value (our own code)
    client.put_object(Bucket=name, Key="o", Body=data, **{field: checksums.of(algorithm, data)})
    for call in (client.head_object, client.get_object):
        out = call(Bucket=name, Key="o", ChecksumMode="ENABLED")
        assert out[field] == checksums.of(algorithm, data)
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
        client.put_object(
            Bucket=name, Key="w", Body=b"data", **{field: checksums.of(algorithm, b"x")}
        )
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        client.head_object(Bucket=name, Key="w")
