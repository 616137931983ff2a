"""The flexible checksum algorithms: SHA512 and MD5 against the published test vectors (not
against hashlib alone), their sizes, and what a request's checksum headers get refused for."""

from __future__ import annotations

import base64
import hashlib

import pytest

from swiftlite.middleware.s3api import checksums
from swiftlite.middleware.s3api.body import header_error

# FIPS 180-2 / RFC 1321 digests of b"abc", written out here
ABC = {
    "SHA512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "MD5": "900150983cd24fb0d6963f7d28e17f72",
    "SHA256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "SHA1": "a9993e364706816aba3e25717850c26c9cd0d89d",
}


def b64hex(text: str) -> str:
    return base64.b64encode(bytes.fromhex(text)).decode()


@pytest.mark.parametrize("alg", sorted(ABC))
def test_digest_of_abc_is_the_published_vector(alg: str) -> None:
    assert checksums.of(alg, b"abc") == b64hex(ABC[alg])
    assert checksums.of(alg.lower(), b"abc") == b64hex(ABC[alg])  # names in any case
    running = checksums.new(alg)
    for byte in b"abc":  # fed in pieces, as a body arrives
        running.update(bytes([byte]))
    assert running.b64() == b64hex(ABC[alg])


def test_sha512_and_md5_of_a_long_body_match_hashlib() -> None:
    data = bytes(range(256)) * 4099
    for alg in ("SHA512", "MD5"):
        want = base64.b64encode(hashlib.new(alg.lower(), data).digest()).decode()
        assert checksums.of(alg, data) == want


def test_sizes_are_the_raw_digest_lengths() -> None:
    assert set(checksums.SIZES) == set(checksums.ALGORITHMS)
    for alg in checksums.ALGORITHMS:
        assert len(base64.b64decode(checksums.of(alg, b"x"))) == checksums.SIZES[alg]
    assert checksums.SIZES["SHA512"] == 64
    assert checksums.SIZES["MD5"] == 16


def test_xxhash_is_known_but_has_no_code() -> None:
    for alg in checksums.UNSUPPORTED:
        assert alg not in checksums.ALGORITHMS
        with pytest.raises(ValueError, match=alg):
            checksums.new(alg)
    error = checksums.unsupported()
    assert error.code == "InvalidRequest"
    assert "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5]" in str(error.message)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"x-amz-checksum-sha512": b64hex("00" * 32)}, "x-amz-checksum-sha512 header is invalid"),
        ({"x-amz-checksum-md5": b64hex("00" * 20)}, "x-amz-checksum-md5 header is invalid"),
        ({"x-amz-checksum-md5": "not base64!"}, "x-amz-checksum-md5 header is invalid"),
        (
            {"x-amz-checksum-xxhash64": b64hex("00" * 8)},
            "Checksum algorithm provided is unsupported",
        ),
        ({"x-amz-checksum-xxhash128": b64hex("00" * 16)}, "Checksum algorithm provided is"),
        ({"x-amz-trailer": "x-amz-checksum-xxhash3"}, "x-amz-trailer header is not supported"),
        (
            {"x-amz-trailer": "x-amz-checksum-crc32, X-Amz-Checksum-XXHASH64"},
            "x-amz-trailer header is not supported",
        ),
        (
            {"x-amz-sdk-checksum-algorithm": "XXHASH3"},
            "Value for x-amz-sdk-checksum-algorithm header is invalid.",
        ),
    ],
)
def test_checksum_headers_refused_up_front(headers: dict[str, str], message: str) -> None:
    error = header_error(headers)
    assert error is not None
    assert error.code == "InvalidRequest"
    assert message in str(error.message)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-amz-checksum-sha512": b64hex(ABC["SHA512"]), "x-amz-sdk-checksum-algorithm": "SHA512"},
        {"x-amz-checksum-md5": b64hex(ABC["MD5"])},
        {"x-amz-trailer": "x-amz-checksum-sha512", "x-amz-sdk-checksum-algorithm": "sha512"},
        {"x-amz-checksum-mode": "ENABLED", "x-amz-checksum-type": "FULL_OBJECT"},
        {},
    ],
)
def test_checksum_headers_of_known_algorithms_pass(headers: dict[str, str]) -> None:
    assert header_error(headers) is None
