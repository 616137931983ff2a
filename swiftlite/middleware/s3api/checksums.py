"""S3's flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, base64 on the wire.

``new(name)`` gives an object with ``update`` and ``b64``; CRC32 is zlib's, CRC32C and
CRC64NVME are table-driven here (the reflected polynomials S3 documents).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def _table(poly: int, bits: int) -> list[int]:
    mask = (1 << bits) - 1
    out = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        out.append(crc & mask)
    return out


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


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
    if upper in ("SHA1", "SHA256"):
        return _Hash(upper.lower())
    raise ValueError(name)


def of(name: str, data: bytes) -> str:
    """The base64 checksum of ``data``."""
    check = new(name)
    check.update(data)
    return check.b64()
