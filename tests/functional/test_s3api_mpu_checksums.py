"""Multipart uploads with flexible checksums, with boto3 in its default configuration against
a real aio cluster: the algorithm of CreateMultipartUpload, each part's checksum checked and
listed, the object's COMPOSITE or FULL_OBJECT checksum as S3 makes it.

The expected values come from zlib, hashlib and a CRC written here from the textbook
definition (checked against the standard check values), never from swiftlite's checksum
code. boto3 without awscrt (its default install) cannot compute CRC32C or CRC64NVME, so for
those the test hands boto3 the part's value, as a client with awscrt would send it."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib

import pytest

from tests.support import s3
from tests.support.cluster import Cluster

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

MIB = 1024 * 1024
# (algorithm, the type asked for, the type S3 gives)
COMBOS = [
    ("CRC32", None, "COMPOSITE"),
    ("CRC32", "FULL_OBJECT", "FULL_OBJECT"),
    ("CRC32C", "COMPOSITE", "COMPOSITE"),
    ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
    ("CRC64NVME", None, "FULL_OBJECT"),
    ("SHA1", None, "COMPOSITE"),
    ("SHA256", "COMPOSITE", "COMPOSITE"),
    ("SHA512", None, "COMPOSITE"),
    ("MD5", "COMPOSITE", "COMPOSITE"),
]


POLYS = {"CRC32C": (0x82F63B78, 32), "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}


def _reference_table(poly: int) -> list[int]:
    table = []
    for n in range(256):
        for _ in range(8):
            n = (n >> 1) ^ poly if n & 1 else n >> 1
        table.append(n)
    return table


TABLES = {alg: _reference_table(poly) for alg, (poly, _bits) in POLYS.items()}


def reference_crc(alg: str, data: bytes) -> int:
    """Reflected CRC, all-ones start, inverted at the end (CRC-32C, CRC-64/NVME)."""
    bits = POLYS[alg][1]
    mask = (1 << bits) - 1
    table, value = TABLES[alg], mask
    for byte in data:
        value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
    return value ^ mask


def raw_digest(alg: str, data: bytes) -> bytes:
    if alg == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if alg in POLYS:
        return reference_crc(alg, data).to_bytes(POLYS[alg][1] // 8, "big")
    return hashlib.new(alg.lower(), data).digest()


def test_reference_crcs_give_the_check_values() -> None:
    assert reference_crc("CRC32C", b"123456789") == 0xE3069283
    assert reference_crc("CRC64NVME", b"123456789") == 0xAE8B14860A799888


def part_checksum_args(alg: str, data: bytes) -> dict[str, str]:
    """boto3 computes CRC32, SHA1, SHA256 and SHA512 itself; CRC32C and CRC64NVME need
    awscrt, and it has no MD5 flexible checksum."""
    if alg in POLYS or alg == "MD5":
        return {"Checksum" + alg: b64(raw_digest(alg, data))}
    return {"ChecksumAlgorithm": alg}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def expected_checksum(alg: str, kind: str, parts: list[bytes]) -> str:
    """What S3 gives: the CRC of the whole object, or the checksum of the parts' raw
    checksums with ``-<count>``."""
    if kind == "FULL_OBJECT":
        return b64(raw_digest(alg, b"".join(parts)))
    joined = b"".join(raw_digest(alg, p) for p in parts)
    return f"{b64(raw_digest(alg, joined))}-{len(parts)}"


@pytest.fixture(scope="module")
def client(cluster: Cluster):  # type: ignore[no-untyped-def]
    host, port = cluster.proxy
    return s3.client(f"http://{host}:{port}")


@pytest.fixture(scope="module")
def bucket(client) -> str:  # type: ignore[no-untyped-def]
    name = "m-" + uuid.uuid4().hex[:12]
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    return [os.urandom(5 * MIB), os.urandom(5 * MIB), b"the last part, short"]


def _create(client, bucket: str, key: str, alg: str, kind: str | None) -> str:  # type: ignore[no-untyped-def]
    extra = {"ChecksumType": kind} if kind else {}
    out = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=alg, **extra)
    return str(out["UploadId"])


def _upload(
    client, bucket: str, key: str, upload_id: str, alg: str, parts: list[bytes]
) -> list[dict]:  # type: ignore[no-untyped-def]
    done = []
    for number, data in enumerate(parts, 1):
        out = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            **part_checksum_args(alg, data),
        )
        assert out["Checksum" + alg] == b64(raw_digest(alg, data))
        done.append(
            {"PartNumber": number, "ETag": out["ETag"], "Checksum" + alg: out["Checksum" + alg]}
        )
    return done


@pytest.mark.parametrize(("alg", "asked", "kind"), COMBOS)
def test_multipart_object_checksum_is_what_s3_computes(  # type: ignore[no-untyped-def]
    client, bucket: str, parts: list[bytes], alg: str, asked: str | None, kind: str
) -> None:
    key = f"obj-{alg}-{kind}"
    created = client.create_multipart_upload(
        Bucket=bucket, Key=key, ChecksumAlgorithm=alg, **({"ChecksumType": asked} if asked else {})
    )
    assert created["ChecksumAlgorithm"] == alg
    assert created["ChecksumType"] == kind
    upload_id = created["UploadId"]
    done = _upload(client, bucket, key, upload_id, alg, parts)
    listed = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == alg
    assert listed["ChecksumType"] == kind
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key)["Uploads"]
    assert [(u["UploadId"], u["ChecksumAlgorithm"], u["ChecksumType"]) for u in uploads] == [
        (upload_id, alg, kind)
    ]
    assert [p["Checksum" + alg] for p in listed["Parts"]] == [
        b64(raw_digest(alg, p)) for p in parts
    ]
    want = expected_checksum(alg, kind, parts)
    out = client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert out["Checksum" + alg] == want
    assert out["ChecksumType"] == kind
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["Checksum" + alg] == want
    assert head["ChecksumType"] == kind
    assert "Checksum" + alg not in client.head_object(Bucket=bucket, Key=key)
    # boto3 validates a FULL_OBJECT checksum of a GET itself (it skips a COMPOSITE one)
    got = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    assert got["Checksum" + alg] == want
    # a partNumber GET gives that part's checksum (boto3 checks the part's bytes against it)
    second = client.get_object(Bucket=bucket, Key=key, PartNumber=2, ChecksumMode="ENABLED")
    assert second["Body"].read() == parts[1]
    assert second["Checksum" + alg] == b64(raw_digest(alg, parts[1]))
    assert second["ChecksumType"] == kind
    head2 = client.head_object(Bucket=bucket, Key=key, PartNumber=2, ChecksumMode="ENABLED")
    assert head2["Checksum" + alg] == second["Checksum" + alg]
    attrs = client.get_object_attributes(
        Bucket=bucket, Key=key, ObjectAttributes=["Checksum", "ObjectParts"]
    )
    assert attrs["Checksum"] == {"Checksum" + alg: want, "ChecksumType": kind}
    listed_parts = attrs["ObjectParts"]
    assert listed_parts["TotalPartsCount"] == 3
    assert [(p["PartNumber"], p["Size"], p["Checksum" + alg]) for p in listed_parts["Parts"]] == [
        (n, len(p), b64(raw_digest(alg, p))) for n, p in enumerate(parts, 1)
    ]
    page = client.get_object_attributes(
        Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=2
    )["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["NextPartNumberMarker"] == 2
    rest = client.get_object_attributes(
        Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], PartNumberMarker=2
    )["ObjectParts"]
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]


def test_upload_part_checksum_is_computed_when_the_client_sends_none(  # type: ignore[no-untyped-def]
    client, bucket: str, cluster: Cluster
) -> None:
    upload_id = _create(client, bucket, "computed", "SHA256", None)
    host, port = cluster.proxy
    path = f"/{bucket}/computed?partNumber=1&uploadId={upload_id}"
    headers = s3.signed_headers("PUT", f"http://{host}:{port}{path}", {}, "UNSIGNED-PAYLOAD")
    status, answer, body = s3.send(host, int(port), "PUT", path, headers, b"no checksum sent")
    assert status == 200, body
    want = b64(hashlib.sha256(b"no checksum sent").digest())
    assert answer.get("x-amz-checksum-sha256") == want
    listed = client.list_parts(Bucket=bucket, Key="computed", UploadId=upload_id)
    assert listed["Parts"][0]["ChecksumSHA256"] == want


def test_wrong_part_checksum_at_complete_is_invalid_part(
    client, bucket: str, parts: list[bytes]
) -> None:  # type: ignore[no-untyped-def]
    key = "wrong-at-complete"
    upload_id = _create(client, bucket, key, "CRC32", None)
    done = _upload(client, bucket, key, upload_id, "CRC32", parts[:1] + parts[2:])
    bad = [dict(done[0], ChecksumCRC32=b64(raw_digest("CRC32", b"other"))), done[1]]
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": bad}
        )
    assert exc.value.response["Error"]["Code"] == "InvalidPart"
    missing = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in done]
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": missing}
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    assert "must include the checksum for each part" in exc.value.response["Error"]["Message"]
    # the refused Completes left the upload as it was: the right list completes it
    out = client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert out["ChecksumCRC32"] == expected_checksum("CRC32", "COMPOSITE", parts[:1] + parts[2:])


def test_complete_with_another_checksum_type_is_bad_digest(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    upload_id = _create(client, bucket, "mode", "CRC32C", "COMPOSITE")
    done = _upload(client, bucket, "mode", upload_id, "CRC32C", [b"only part"])
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="mode",
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
            ChecksumType="FULL_OBJECT",
        )
    assert exc.value.response["Error"]["Code"] == "BadDigest"


def test_full_object_checksum_sent_at_complete_is_checked(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    data = [os.urandom(5 * MIB), b"tail"]
    upload_id = _create(client, bucket, "whole", "CRC32", "FULL_OBJECT")
    done = _upload(client, bucket, "whole", upload_id, "CRC32", data)
    with pytest.raises(ClientError) as exc:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="whole",
            UploadId=upload_id,
            MultipartUpload={"Parts": done},
            ChecksumCRC32=b64(raw_digest("CRC32", b"not the object")),
        )
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    want = b64(raw_digest("CRC32", b"".join(data)))
    out = client.complete_multipart_upload(
        Bucket=bucket,
        Key="whole",
        UploadId=upload_id,
        MultipartUpload={"Parts": done},
        ChecksumCRC32=want,
    )
    assert out["ChecksumCRC32"] == want


@pytest.mark.parametrize(
    ("alg", "kind"),
    [
        ("SHA1", "FULL_OBJECT"),
        ("SHA256", "FULL_OBJECT"),
        ("SHA512", "FULL_OBJECT"),
        ("MD5", "FULL_OBJECT"),
        ("CRC64NVME", "COMPOSITE"),
    ],
)
def test_create_refuses_a_type_the_algorithm_has_not(
    client, bucket: str, alg: str, kind: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as exc:
        client.create_multipart_upload(
            Bucket=bucket, Key="refused", ChecksumAlgorithm=alg, ChecksumType=kind
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    assert (
        f"cannot be used with the {alg.lower()} checksum algorithm"
        in (exc.value.response["Error"]["Message"])
    )
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix="refused")
    assert not uploads.get("Uploads")


def test_upload_part_wrong_value_is_bad_digest_and_other_algorithm_invalid_request(  # type: ignore[no-untyped-def]
    client, bucket: str
) -> None:
    upload_id = _create(client, bucket, "part-errors", "CRC32", None)
    common = {"Bucket": bucket, "Key": "part-errors", "UploadId": upload_id, "PartNumber": 1}
    with pytest.raises(ClientError) as exc:
        client.upload_part(Body=b"data", ChecksumCRC32=b64(raw_digest("CRC32", b"x")), **common)
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError) as exc:
        client.upload_part(Body=b"data", ChecksumAlgorithm="SHA1", **common)
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    assert "expected checksum Type: crc32" in exc.value.response["Error"]["Message"]
    listed = client.list_parts(Bucket=bucket, Key="part-errors", UploadId=upload_id)
    assert not listed.get("Parts")


def test_upload_file_20mib_default_config_has_a_composite_crc32(
    client, bucket: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(20 * MIB)
    path = tmp_path / "big"
    path.write_bytes(data)
    client.upload_file(str(path), bucket, "big")  # multipart, CRC32 by default (s3transfer)
    head = client.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    chunk = 8 * MIB  # the transfer manager's default part size
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    assert head["ChecksumCRC32"] == expected_checksum("CRC32", "COMPOSITE", pieces)
    assert head["ChecksumType"] == "COMPOSITE"
    assert head["ETag"].endswith('-3"')
    got = client.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == data


def test_upload_part_copy_gets_a_checksum_of_the_copied_range(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    source = os.urandom(6 * MIB)
    client.put_object(Bucket=bucket, Key="copy-source", Body=source)
    upload_id = _create(client, bucket, "copied", "CRC32C", None)
    copied = client.upload_part_copy(
        Bucket=bucket,
        Key="copied",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "copy-source"},
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]
    first = source[: 5 * MIB]
    assert copied["ChecksumCRC32C"] == b64(raw_digest("CRC32C", first))
    second = client.upload_part(
        Bucket=bucket,
        Key="copied",
        UploadId=upload_id,
        PartNumber=2,
        Body=b"tail",
        **part_checksum_args("CRC32C", b"tail"),
    )
    done = [
        {"PartNumber": 1, "ETag": copied["ETag"], "ChecksumCRC32C": copied["ChecksumCRC32C"]},
        {"PartNumber": 2, "ETag": second["ETag"], "ChecksumCRC32C": second["ChecksumCRC32C"]},
    ]
    out = client.complete_multipart_upload(
        Bucket=bucket, Key="copied", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    want = expected_checksum("CRC32C", "COMPOSITE", [first, b"tail"])
    assert out["ChecksumCRC32C"] == want
    assert client.get_object(Bucket=bucket, Key="copied")["Body"].read() == first + b"tail"


@pytest.mark.parametrize("alg", ["XXHASH64", "XXHASH3", "XXHASH128"])
def test_create_with_xxhash_is_refused_as_unsupported(client, bucket: str, alg: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as exc:
        client.create_multipart_upload(Bucket=bucket, Key="xx", ChecksumAlgorithm=alg)
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    assert "Checksum algorithm provided is unsupported" in exc.value.response["Error"]["Message"]
    assert not client.list_multipart_uploads(Bucket=bucket, Prefix="xx").get("Uploads")


def test_sha512_upload_part_copy_and_wrong_part_value(client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    source = os.urandom(5 * MIB)
    client.put_object(Bucket=bucket, Key="sha512-source", Body=source)
    upload_id = _create(client, bucket, "sha512-copy", "SHA512", None)
    common = {"Bucket": bucket, "Key": "sha512-copy", "UploadId": upload_id}
    copied = client.upload_part_copy(
        PartNumber=1, CopySource={"Bucket": bucket, "Key": "sha512-source"}, **common
    )["CopyPartResult"]
    assert copied["ChecksumSHA512"] == b64(raw_digest("SHA512", source))
    with pytest.raises(ClientError) as exc:
        client.upload_part(
            PartNumber=2, Body=b"tail", ChecksumSHA512=b64(raw_digest("SHA512", b"x")), **common
        )
    assert exc.value.response["Error"]["Code"] == "BadDigest"
    second = client.upload_part(PartNumber=2, Body=b"tail", ChecksumAlgorithm="SHA512", **common)
    done = [
        {"PartNumber": 1, "ETag": copied["ETag"], "ChecksumSHA512": copied["ChecksumSHA512"]},
        {"PartNumber": 2, "ETag": second["ETag"], "ChecksumSHA512": second["ChecksumSHA512"]},
    ]
    out = client.complete_multipart_upload(MultipartUpload={"Parts": done}, **common)
    assert out["ChecksumSHA512"] == expected_checksum("SHA512", "COMPOSITE", [source, b"tail"])
    assert out["ChecksumType"] == "COMPOSITE"
