"""s3api's body reader: aws-chunked framing, chunk signatures, payload hashes, checksums."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest

from swiftlite.middleware.s3api import checksums, sigv4
from swiftlite.middleware.s3api.auth import Signed
from swiftlite.middleware.s3api.body import BodyError, BodyReader, header_error
from tests.support import s3 as s3support

AMZ_DATE = "20261202T120000Z"
SCOPE = "20261202/us-east-1/s3/aws4_request"


def _signed(mode: str, seed: str = "ab" * 32) -> Signed:
    signed = Signed(
        "test:tester",
        4,
        seed,
        "",
        payload=mode,
        amz_date=AMZ_DATE,
        scope=SCOPE,
        key_parts=("20261202", "us-east-1", "s3"),
    )
    signed.signing_key = sigv4.signing_key("testing", "20261202", "us-east-1", "s3")
    return signed


def _drain(reader: BodyReader, step: int = 7000) -> bytes:
    out = []
    while True:
        chunk = reader.read(step)
        if not chunk:
            return b"".join(out)
        out.append(chunk)


def _chunked(data: bytes, signed: Signed, bad: int | None = None) -> bytes:
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature={signed.signature}",  # noqa: E501
        "X-Amz-Date": AMZ_DATE,
    }
    return s3support.signed_chunks(data, headers, chunk=10_000, bad_chunk=bad)


def test_signed_chunks_decode_to_the_data() -> None:
    data = os.urandom(35_000)
    signed = _signed(sigv4.STREAMING)
    body = _chunked(data, signed)
    reader = BodyReader(io.BytesIO(body), len(body), len(data), signed, {})
    assert _drain(reader) == data
    assert reader.etag == hashlib.md5(data).hexdigest()


def test_a_bad_chunk_signature_stops_before_its_bytes() -> None:
    data = os.urandom(35_000)
    signed = _signed(sigv4.STREAMING)
    body = _chunked(data, signed, bad=2)
    reader = BodyReader(io.BytesIO(body), len(body), len(data), signed, {})
    got = reader.read(10_000) + reader.read(10_000)
    with pytest.raises(BodyError) as exc:
        reader.read(10_000)
    assert exc.value.error.code == "SignatureDoesNotMatch"
    assert got == data[:20_000]  # chunks 0 and 1 only
    assert reader.error is exc.value.error


def test_unsigned_trailer_checksum_is_verified_before_the_last_byte() -> None:
    data = os.urandom(25_000)
    good = s3support.unsigned_trailer_chunks(data, s3support.crc32_b64(data), chunk=8192)
    headers = {"x-amz-trailer": "x-amz-checksum-crc32"}
    signed = _signed(sigv4.UNSIGNED_TRAILER)
    reader = BodyReader(io.BytesIO(good), len(good), len(data), signed, headers)
    assert _drain(reader) == data
    assert reader.checksums == {"CRC32": s3support.crc32_b64(data)}
    bad = s3support.unsigned_trailer_chunks(data, s3support.crc32_b64(b"no"), chunk=8192)
    reader = BodyReader(io.BytesIO(bad), len(bad), len(data), signed, headers)
    with pytest.raises(BodyError) as exc:
        _drain(reader, step=len(data))  # one read of the whole length still checks first
    assert exc.value.error.code == "BadDigest"


@pytest.mark.parametrize("alg", ["SHA512", "MD5"])
def test_sha512_and_md5_trailers_are_verified(alg: str) -> None:
    data = os.urandom(25_000)
    name = "x-amz-checksum-" + alg.lower()

    def framed(value: str) -> bytes:
        return b"".join(
            [
                f"{len(data):x}\r\n".encode() + data + b"\r\n",
                f"0\r\n{name}:{value}\r\n\r\n".encode(),
            ]
        )

    want = base64.b64encode(hashlib.new(alg.lower(), data).digest()).decode()
    signed = _signed(sigv4.UNSIGNED_TRAILER)
    good = framed(want)
    reader = BodyReader(io.BytesIO(good), len(good), len(data), signed, {"x-amz-trailer": name})
    assert _drain(reader) == data
    assert reader.checksums == {alg: want}
    bad = framed(base64.b64encode(hashlib.new(alg.lower(), b"no").digest()).decode())
    reader = BodyReader(io.BytesIO(bad), len(bad), len(data), signed, {"x-amz-trailer": name})
    with pytest.raises(BodyError) as exc:
        _drain(reader)
    assert exc.value.error.code == "BadDigest"


def test_payload_hash_mismatch_raises_on_the_last_read() -> None:
    data = b"x" * 1000
    signed = _signed(hashlib.sha256(b"other").hexdigest())
    reader = BodyReader(io.BytesIO(data), len(data), len(data), signed, {})
    assert reader.read(500) == data[:500]
    with pytest.raises(BodyError) as exc:
        reader.read(500)
    assert exc.value.error.code == "XAmzContentSHA256Mismatch"


def test_content_md5_and_header_checksums() -> None:
    data = b"hello world"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    for alg in checksums.ALGORITHMS:
        headers = {"content-md5": md5, "x-amz-checksum-" + alg.lower(): checksums.of(alg, data)}
        reader = BodyReader(io.BytesIO(data), len(data), len(data), None, headers)
        assert _drain(reader) == data
        assert alg in reader.checksums
    headers = {"content-md5": base64.b64encode(b"0" * 16).decode()}
    reader = BodyReader(io.BytesIO(data), len(data), len(data), None, headers)
    with pytest.raises(BodyError) as exc:
        _drain(reader)
    assert exc.value.error.code == "BadDigest"


def test_short_body_is_incomplete() -> None:
    reader = BodyReader(io.BytesIO(b"abc"), 3, 10, None, {})
    with pytest.raises(BodyError) as exc:
        _drain(reader)
    assert exc.value.error.code == "IncompleteBody"


@pytest.mark.parametrize(
    "body",
    [b"zz;chunk-signature=00\r\n", b"5\r\nab", b"ffffffffff\r\n", b"\r\n" * 5000],
)
def test_broken_framing_is_a_client_error(body: bytes) -> None:
    reader = BodyReader(io.BytesIO(body), len(body), 5, _signed(sigv4.UNSIGNED_TRAILER), {})
    with pytest.raises(BodyError) as exc:
        _drain(reader)
    assert 400 <= exc.value.error.status < 500


def test_checksum_check_values() -> None:
    # the standard check values: the checksum of b"123456789"
    assert (
        checksums.of("CRC32", b"123456789") == base64.b64encode(bytes.fromhex("cbf43926")).decode()
    )
    assert (
        checksums.of("CRC32C", b"123456789") == base64.b64encode(bytes.fromhex("e3069283")).decode()
    )
    assert (
        checksums.of("CRC64NVME", b"123456789")
        == base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode()
    )


def test_malformed_checksum_header_is_refused_up_front() -> None:
    assert header_error({"x-amz-checksum-crc32": "!!"}) is not None
    assert header_error({"x-amz-checksum-sha1": base64.b64encode(b"short").decode()}) is not None
    assert header_error({"x-amz-checksum-crc32": checksums.of("CRC32", b"")}) is None


class _BrokenFraming(io.RawIOBase):
    """A request body whose HTTP chunked framing breaks, as the server's input reports it."""

    def read(self, size: int = -1) -> bytes:
        raise ValueError("bad chunk size b'0x5'")


@pytest.mark.parametrize("mode", ["UNSIGNED-PAYLOAD", sigv4.STREAMING])
def test_broken_transfer_framing_is_incomplete_body_not_a_crash(mode: str) -> None:
    reader = BodyReader(_BrokenFraming(), None, None, _signed(mode), {})
    with pytest.raises(BodyError) as caught:
        _drain(reader)
    assert caught.value.error.code == "IncompleteBody"  # was a ValueError: a 500


def test_computed_checksum_when_the_client_sent_none() -> None:
    # an UploadPart of an upload with an algorithm: the server computes the part's checksum
    data = b"part without a checksum " * 100
    reader = BodyReader(io.BytesIO(data), len(data), len(data), None, {})
    reader.compute("SHA256")
    assert _drain(reader) == data
    assert reader.checksums == {"SHA256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
    # with the client's own checksum of that algorithm, that one is verified instead
    headers = {"x-amz-checksum-crc32": checksums.of("CRC32", b"other")}
    reader = BodyReader(io.BytesIO(data), len(data), len(data), None, headers)
    reader.compute("CRC32")
    with pytest.raises(BodyError) as exc:
        _drain(reader)
    assert exc.value.error.code == "BadDigest"
