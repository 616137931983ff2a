"""S3's flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512 and MD5, base64 on
the wire (``SIZES`` gives each one's raw length).

``new(name)`` gives an object with ``update`` and ``b64``; CRC32 is zlib's, the digests are
hashlib's, CRC32C and CRC64NVME are table-driven here (the reflected polynomials S3
documents). S3 also knows XXHASH64, XXHASH3 and XXHASH128 (``UNSUPPORTED``); swiftlite has no
code for them, so a request that names one is refused, never taken unchecked. ``crc_combine``
gives the CRC of ``a + b`` from the CRCs of ``a`` and ``b`` and the length of ``b``, without the
bytes (a multipart upload's full-object checksum is made that way from its parts' CRCs).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

from swiftlite.middleware.s3api.errors import S3Error

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5")
SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64, "MD5": 16}
HASHES = frozenset({"SHA1", "SHA256", "SHA512", "MD5"})
UNSUPPORTED = ("XXHASH64", "XXHASH3", "XXHASH128")


def _table(poly: int, bits: int) -> list[int]:
    mask = (1 << bits) - 1
    out = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        out.append(crc & mask)
    return out


# reflected polynomial and width of each CRC; each starts from all ones and ends inverted
CRC_POLY = {
    "CRC32": (0xEDB88320, 32),
    "CRC32C": (0x82F63B78, 32),
    "CRC64NVME": (0x9A6C9329AC4BC9B5, 64),
}
_CRC32C = _table(CRC_POLY["CRC32C"][0], 32)
_CRC64NVME = _table(CRC_POLY["CRC64NVME"][0], 64)


class Checksum(Protocol):
    """What ``new`` returns."""

    def update(self, data: bytes) -> None: ...
    def b64(self) -> str: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def b64(self) -> str:
        return base64.b64encode(self.value.to_bytes(4, "big")).decode()


class _TableCrc:
    def __init__(self, table: list[int], bits: int) -> None:
        self.table = table
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.value = self.mask

    def update(self, data: bytes) -> None:
        crc, table = self.value, self.table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self.value = crc

    def b64(self) -> str:
        return base64.b64encode((self.value ^ self.mask).to_bytes(self.bits // 8, "big")).decode()


class _Hash:
    def __init__(self, name: str) -> None:
        self.hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self.hash.update(data)

    def b64(self) -> str:
        return base64.b64encode(self.hash.digest()).decode()


def new(name: str) -> Checksum:
    """A running checksum for ``name`` (one of ``ALGORITHMS``, any case)."""
    upper = name.upper()
    if upper == "CRC32":
        return _Crc32()
    if upper == "CRC32C":
        return _TableCrc(_CRC32C, 32)
    if upper == "CRC64NVME":
        return _TableCrc(_CRC64NVME, 64)
    if upper in HASHES:
        return _Hash(upper.lower())
    raise ValueError(name)


def unsupported() -> S3Error:
    """The error for an algorithm swiftlite has no code for, as S3 gives it for an unknown one."""
    return S3Error(
        "InvalidRequest",
        "Checksum algorithm provided is unsupported. Please try again with any of the valid "
        f"types: [{', '.join(ALGORITHMS)}]",
    )


def of(name: str, data: bytes) -> str:
    """The base64 checksum of ``data``."""
    check = new(name)
    check.update(data)
    return check.b64()


def _mulmod(a: int, b: int, poly: int, bits: int) -> int:
    """a(x) * b(x) mod p(x), both in the reflected form (the top bit is x^0)."""
    product = 0
    bit = 1 << (bits - 1)
    while bit:
        if a & bit:
            product ^= b
        bit >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1
    return product


def _x_to_8n(n: int, poly: int, bits: int) -> int:
    """x^(8n) mod p(x): what feeding n zero bytes multiplies a CRC register by."""
    result = 1 << (bits - 1)  # x^0
    square = 1 << (bits - 9)  # x^8
    while n:
        if n & 1:
            result = _mulmod(result, square, poly, bits)
        n >>= 1
        square = _mulmod(square, square, poly, bits)
    return result


def crc_combine(name: str, crc_a: int, crc_b: int, length_b: int) -> int:
    """The CRC of ``a + b`` from ``crc(a)``, ``crc(b)`` and ``len(b)`` (pure).

    The register after ``a`` goes through ``len(b)`` more bytes: that is multiplying it by
    ``x^(8 len(b))``; the all-ones start and the final inversion cancel out in the sum.
    """
    poly, bits = CRC_POLY[name.upper()]
    if length_b < 0:
        raise ValueError(length_b)
    return _mulmod(_x_to_8n(length_b, poly, bits), crc_a, poly, bits) ^ crc_b


def to_int(value: str) -> int:
    """A base64 CRC as a number (ValueError when it is not base64)."""
    return int.from_bytes(base64.b64decode(value, validate=True), "big")


def from_int(name: str, value: int) -> str:
    """A CRC number as S3's base64."""
    return base64.b64encode(value.to_bytes(CRC_POLY[name.upper()][1] // 8, "big")).decode()
