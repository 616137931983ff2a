"""The checksum of a multipart upload: CRC combine math against independent check values
and a bit-at-a-time reference, and S3's rules for the algorithm and type of an upload."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.middleware.s3api import checksums, mpu_checksum
from swiftlite.middleware.s3api.errors import S3Error

CRCS = ["CRC32", "CRC32C", "CRC64NVME"]
# the reflected polynomials, written out here again so the reference owes nothing to the code
REFERENCE = {
    "CRC32": (0xEDB88320, 32),
    "CRC32C": (0x82F63B78, 32),
    "CRC64NVME": (0x9A6C9329AC4BC9B5, 64),
}


def bitwise_crc(name: str, data: bytes) -> int:
    """One bit at a time, from the textbook definition (no tables)."""
    poly, bits = REFERENCE[name]
    mask = (1 << bits) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ mask


def crc(name: str, data: bytes) -> int:
    return checksums.to_int(checksums.of(name, data))


def test_check_values_of_123456789() -> None:
    assert crc("CRC32", b"123456789") == 0xCBF43926
    assert crc("CRC32C", b"123456789") == 0xE3069283
    assert crc("CRC64NVME", b"123456789") == 0xAE8B14860A799888
    for name in CRCS:
        assert bitwise_crc(name, b"123456789") == crc(name, b"123456789")


def test_combine_of_known_halves_gives_the_check_value() -> None:
    want = {"CRC32": 0xCBF43926, "CRC32C": 0xE3069283, "CRC64NVME": 0xAE8B14860A799888}
    for name in CRCS:
        for cut in range(10):
            a, b = b"123456789"[:cut], b"123456789"[cut:]
            assert checksums.crc_combine(name, crc(name, a), crc(name, b), len(b)) == want[name]


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(CRCS), a=st.binary(max_size=300), b=st.binary(max_size=300))
def test_combine_equals_the_crc_of_the_concatenation(name: str, a: bytes, b: bytes) -> None:
    combined = checksums.crc_combine(name, crc(name, a), crc(name, b), len(b))
    assert combined == crc(name, a + b) == bitwise_crc(name, a + b)
    if name == "CRC32":
        assert combined == zlib.crc32(a + b)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(CRCS), a=st.binary(max_size=64), zeros=st.integers(0, 1 << 20))
def test_combine_over_long_lengths(name: str, a: bytes, zeros: int) -> None:
    # a long b of zero bytes: its CRC by zlib or the tables, against the combine's power math
    b = bytes(zeros)
    assert checksums.crc_combine(name, crc(name, a), crc(name, b), len(b)) == crc(name, a + b)


def test_full_object_checksum_of_parts_is_the_crc_of_the_whole() -> None:
    parts = [b"first part " * 1000, b"", b"second", b"x" * 7777]
    for name in CRCS:
        sums = [(checksums.of(name, p), len(p)) for p in parts]
        assert mpu_checksum.full_object(name, sums) == checksums.of(name, b"".join(parts))


def test_composite_checksum_is_the_checksum_of_raw_part_checksums() -> None:
    parts = [b"one", b"two", b"three"]
    raw = b"".join(hashlib.sha256(p).digest() for p in parts)
    want = base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-3"
    sums = [(checksums.of("SHA256", p), len(p)) for p in parts]
    assert mpu_checksum.object_checksum("SHA256", "COMPOSITE", sums) == want
    crc_raw = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    want32 = base64.b64encode(zlib.crc32(crc_raw).to_bytes(4, "big")).decode() + "-3"
    sums32 = [(checksums.of("CRC32", p), len(p)) for p in parts]
    assert mpu_checksum.object_checksum("CRC32", "COMPOSITE", sums32) == want32


@pytest.mark.parametrize("alg", ["SHA512", "MD5"])
def test_composite_sha512_and_md5_are_the_digest_of_raw_part_digests(alg: str) -> None:
    parts = [b"first part", b"second", b""]
    digests = [hashlib.new(alg.lower(), p).digest() for p in parts]
    want = base64.b64encode(hashlib.new(alg.lower(), b"".join(digests)).digest()).decode() + "-3"
    sums = [(base64.b64encode(d).decode(), len(p)) for d, p in zip(digests, parts, strict=True)]
    assert mpu_checksum.object_checksum(alg, "COMPOSITE", sums) == want


@pytest.mark.parametrize(
    ("alg", "kind", "want"),
    [
        ("CRC32", None, ("CRC32", "COMPOSITE")),
        ("crc32c", "FULL_OBJECT", ("CRC32C", "FULL_OBJECT")),
        ("CRC64NVME", None, ("CRC64NVME", "FULL_OBJECT")),
        ("SHA1", None, ("SHA1", "COMPOSITE")),
        ("SHA256", "COMPOSITE", ("SHA256", "COMPOSITE")),
        ("SHA512", None, ("SHA512", "COMPOSITE")),
        ("md5", "COMPOSITE", ("MD5", "COMPOSITE")),
        (None, None, (None, None)),
    ],
)
def test_upload_algorithm_and_type_defaults(alg: str | None, kind: str | None, want: tuple) -> None:
    assert mpu_checksum.choose(alg, kind) == want


@pytest.mark.parametrize(
    ("alg", "kind", "message"),
    [
        ("SHA1", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the sha1"),
        ("SHA256", "FULL_OBJECT", "cannot be used with the sha256 checksum algorithm"),
        ("CRC64NVME", "COMPOSITE", "The COMPOSITE checksum type cannot be used with the crc64nvme"),
        (None, "COMPOSITE", "can only be used with the x-amz-checksum-algorithm header"),
        ("CRC32", "PARTS", "Value for x-amz-checksum-type header is invalid."),
        ("SHA512", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the sha512"),
        ("MD5", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the md5"),
        ("MD4", None, "Checksum algorithm provided is unsupported"),
        ("XXHASH64", None, "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5]"),
        ("XXHASH3", "COMPOSITE", "Checksum algorithm provided is unsupported"),
        ("xxhash128", "FULL_OBJECT", "Checksum algorithm provided is unsupported"),
    ],
)
def test_combinations_s3_refuses_are_invalid_request(
    alg: str | None, kind: str | None, message: str
) -> None:
    with pytest.raises(S3Error) as exc:
        mpu_checksum.choose(alg, kind)
    assert exc.value.code == "InvalidRequest"
    assert message in str(exc.value.message)


def test_part_checksum_rides_in_the_content_type() -> None:
    value = checksums.of("SHA256", b"part")
    assert mpu_checksum.part_checksum(mpu_checksum.part_content_type("SHA256", value)) == (
        "SHA256",
        value,
    )
    assert mpu_checksum.part_checksum("application/octet-stream") is None
    assert mpu_checksum.part_checksum("text/plain;s3api_checksum=XXHASH64:abc") is None
    md5 = checksums.of("MD5", b"part")
    assert mpu_checksum.part_checksum(mpu_checksum.part_content_type("MD5", md5)) == ("MD5", md5)


def test_upload_algorithm_and_type_ride_in_the_marker_content_type() -> None:
    marker = mpu_checksum.marker_content_type("CRC32C", "FULL_OBJECT")
    assert mpu_checksum.marker_checksum(marker) == ("CRC32C", "FULL_OBJECT")
    assert mpu_checksum.marker_content_type(None, None) == "application/directory"
    assert mpu_checksum.marker_checksum("application/directory") is None
    assert mpu_checksum.marker_checksum(marker.replace("FULL_OBJECT", "PARTS")) is None


DOC = (
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e1</ETag>"
    b"<ChecksumCRC32>AAAAAQ==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber>"
    b"<ETag>e2</ETag></Part></CompleteMultipartUpload>"
)


def test_complete_document_lists_sha512_and_md5_part_checksums() -> None:
    doc = (
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e1</ETag>"
        b"<ChecksumSHA512>c2hh</ChecksumSHA512></Part><Part><PartNumber>2</PartNumber>"
        b"<ETag>e2</ETag><ChecksumMD5>bWQ1</ChecksumMD5><ChecksumXXHASH64>eHg=</ChecksumXXHASH64>"
        b"</Part></CompleteMultipartUpload>"
    )
    assert mpu_checksum.parse_parts(doc) == {1: {"SHA512": "c2hh"}, 2: {"MD5": "bWQ1"}}


def test_complete_part_checksum_rules() -> None:
    listed = mpu_checksum.parse_parts(DOC)
    assert listed == {1: {"CRC32": "AAAAAQ=="}, 2: {}}
    chosen = [(1, "e1"), (2, "e2")]
    with pytest.raises(S3Error) as exc:
        mpu_checksum.check_parts("CRC32", "u", chosen, listed, {1: "AAAAAQ==", 2: "AAAAAg=="})
    assert exc.value.code == "InvalidRequest"  # part 2 names no checksum
    listed[2] = {"CRC32": "AAAAAw=="}
    with pytest.raises(S3Error) as exc:
        mpu_checksum.check_parts("CRC32", "u", chosen, listed, {1: "AAAAAQ==", 2: "AAAAAg=="})
    assert exc.value.code == "InvalidPart"  # part 2's is not the stored one
    listed[2] = {"SHA1": "AAAAAg=="}
    with pytest.raises(S3Error) as exc:
        mpu_checksum.check_parts("CRC32", "u", chosen, listed, {1: "AAAAAQ==", 2: "AAAAAg=="})
    assert exc.value.code == "InvalidPart"  # another algorithm
    listed[2] = {"CRC32": "AAAAAg=="}
    mpu_checksum.check_parts("CRC32", "u", chosen, listed, {1: "AAAAAQ==", 2: "AAAAAg=="})
    with pytest.raises(S3Error) as exc:
        mpu_checksum.check_parts(
            "CRC32",
            "u",
            [(1, "e1"), (3, "e3")],
            {1: listed[1], 3: listed[2]},
            {1: "AAAAAQ==", 3: "AAAAAg=="},
        )
    assert exc.value.code == "InvalidPartOrder"  # a gap in the part numbers
