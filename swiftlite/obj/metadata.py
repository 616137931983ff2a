"""Object metadata on disk: a versioned, checksummed JSON record in one extended attribute.

Owns the format of ``user.swiftlite.metadata`` (see docs/formats/object.md). The record is a
JSON object of str -> str; ``name`` holds the object path as text, every other value is a wire
string (one code point per header byte), so any header bytes round-trip exactly. No pickle.

Small records live *inline* in the xattr. A record larger than ``INLINE_MAX`` bytes, or one the
file system refuses (ext4 gives each inode about one block of xattr space), is written as a
*trailer* after the object's content in the same file, and the xattr holds only a pointer with
the trailer's offset, length and CRC. So one rename still publishes content and metadata
together, and the layout is the same on every file system. This module never touches paths or
decides what a file means: that is ``layout`` and ``diskfile``.
"""

from __future__ import annotations

import errno
import json
import os
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from swiftlite.common.errors import Corrupt, DeviceUnavailable, DiskFull

XATTR_KEY = "user.swiftlite.metadata"
VERSION = 1
INLINE = ord("I")
TRAILER = ord("T")
# A record this small fits the xattr space of every file system we support, ext4 included.
INLINE_MAX = 3072

_HEAD = struct.Struct(">BBI")  # version, kind, crc32 of the JSON record
_POINTER = struct.Struct(">QI")  # trailer offset, trailer length
# errnos meaning "this value does not fit in the xattr space": fall back to a trailer
_NO_ROOM = frozenset({errno.ENOSPC, errno.E2BIG, errno.ERANGE})
_NOT_SUPPORTED = frozenset({errno.ENOTSUP, errno.EOPNOTSUPP})


@dataclass(frozen=True)
class Location:
    """Where a file's record lives: ``inline`` in the xattr or in a ``trailer`` at ``offset``."""

    kind: str
    offset: int
    length: int


def encode(meta: Mapping[str, str]) -> bytes:
    """The JSON record for ``meta`` (compact, keys sorted)."""
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map str to str, got {key!r}: {value!r}")
    return json.dumps(dict(meta), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )


def decode(record: bytes) -> dict[str, str]:
    """Parse a JSON record; Corrupt when it is not an object of strings."""
    try:
        value = json.loads(record.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Corrupt("metadata is not valid JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Corrupt("metadata is not an object of strings")
    return value


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _set_xattr(fd: int, value: bytes) -> None:
    os.setxattr(fd, XATTR_KEY, value)


def write(fd: int, meta: Mapping[str, str], content_length: int) -> Location:
    """Store ``meta`` for the open file ``fd`` whose content is ``content_length`` bytes.

    The caller fsyncs afterwards. Returns where the record went.
    """
    record = encode(meta)
    crc = _crc(record)
    if len(record) <= INLINE_MAX:
        try:
            _set_xattr(fd, _HEAD.pack(VERSION, INLINE, crc) + record)
            return Location("inline", 0, len(record))
        except OSError as exc:
            if exc.errno in _NOT_SUPPORTED:
                raise DeviceUnavailable("file system does not support xattrs") from None
            if exc.errno not in _NO_ROOM:
                raise
    _pwrite_all(fd, record, content_length)
    try:
        _set_xattr(
            fd, _HEAD.pack(VERSION, TRAILER, crc) + _POINTER.pack(content_length, len(record))
        )
    except OSError as exc:
        if exc.errno in _NOT_SUPPORTED:
            raise DeviceUnavailable("file system does not support xattrs") from None
        if exc.errno in _NO_ROOM:
            raise DiskFull(str(exc)) from None
        raise
    return Location("trailer", content_length, len(record))


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    try:
        while view:
            written = os.pwrite(fd, view, offset)
            view = view[written:]
            offset += written
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(str(exc)) from None
        raise


def _head(fd: int | str) -> bytes:
    try:
        return os.getxattr(fd, XATTR_KEY)
    except OSError as exc:
        if exc.errno == errno.ENODATA:
            raise Corrupt("object file has no metadata") from None
        if exc.errno in _NOT_SUPPORTED:
            raise DeviceUnavailable("file system does not support xattrs") from None
        raise


def locate(fd: int | str) -> tuple[Location, int, bytes]:
    """Parse the xattr: (location, crc, inline record or b"")."""
    raw = _head(fd)
    if len(raw) < _HEAD.size:
        raise Corrupt("metadata xattr too short")
    version, kind, crc = _HEAD.unpack_from(raw)
    if version != VERSION:
        raise Corrupt(f"unknown metadata version {version}")
    if kind == INLINE:
        record = raw[_HEAD.size :]
        return Location("inline", 0, len(record)), crc, record
    if kind == TRAILER and len(raw) == _HEAD.size + _POINTER.size:
        offset, length = _POINTER.unpack_from(raw, _HEAD.size)
        return Location("trailer", offset, length), crc, b""
    raise Corrupt("malformed metadata xattr")


def read(fd: int) -> tuple[dict[str, str], Location]:
    """The metadata of an open object file and where it was stored; Corrupt if damaged."""
    where, crc, record = locate(fd)
    if where.kind == "trailer":
        record = os.pread(fd, where.length, where.offset)
        if len(record) != where.length:
            raise Corrupt("metadata trailer truncated")
    if _crc(record) != crc:
        raise Corrupt("metadata checksum mismatch")
    return decode(record), where


def read_path(path: str) -> tuple[dict[str, str], Location]:
    """``read`` for a path (tools and daemons)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return read(fd)
    finally:
        os.close(fd)
