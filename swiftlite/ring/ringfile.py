"""The ring file (``*.ring.gz``): write it, read it, refuse it when it is damaged.

One gzip member (written with mtime 0, so equal rings give equal bytes and equal md5s) holding::

    magic "SLRG" | version u16 BE | header length u32 BE | header JSON (UTF-8)
    | replica_count rows of partition_count device ids, u16 little-endian

The header carries ``part_power``, ``replica_count``, ``dev_id_bytes`` (2), ``byteorder``
("little"), ``build_version`` and ``devs`` (a list indexed by device id, ``null`` for gaps).
``docs/formats/ring.md`` is the full description. Every error raised here is a ``RingError``
whose message starts with the file's path.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import struct
import sys
import zlib
from array import array
from typing import Any

from swiftlite.common import fs
from swiftlite.ring.errors import RingError

MAGIC = b"SLRG"
FORMAT_VERSION = 1
MAX_PART_POWER = 24
_PREFIX = struct.Struct(">4sHI")
DEV_KEYS = (
    "id",
    "region",
    "zone",
    "ip",
    "port",
    "device",
    "weight",
    "meta",
    "replication_ip",
    "replication_port",
)


@dataclasses.dataclass
class RingData:
    """The contents of a ring file: geometry, devices by id, and the assignment rows."""

    part_power: int
    replica_count: int
    devs: list[dict[str, Any] | None]
    rows: list[array]  # replica_count arrays('H') of 2**part_power device ids
    build_version: int = 0


def serialize(data: RingData) -> bytes:
    """The uncompressed bytes of a ring file."""
    parts = 1 << data.part_power
    if len(data.rows) != data.replica_count or any(len(r) != parts for r in data.rows):
        raise RingError("ring rows do not match the part power and replica count")
    header = {
        "part_power": data.part_power,
        "replica_count": data.replica_count,
        "dev_id_bytes": 2,
        "byteorder": "little",
        "build_version": data.build_version,
        "devs": [None if d is None else {k: d[k] for k in DEV_KEYS} for d in data.devs],
    }
    blob = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    chunks = [_PREFIX.pack(MAGIC, FORMAT_VERSION, len(blob)), blob]
    for row in data.rows:
        if sys.byteorder == "little":
            chunks.append(row.tobytes())
        else:  # pragma: no cover - big-endian hosts
            swapped = array("H", row)
            swapped.byteswap()
            chunks.append(swapped.tobytes())
    return b"".join(chunks)


def write_ring(path: str, data: RingData) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    raw = serialize(data)
    try:
        fs.write_file_durable(path, gzip.compress(raw, compresslevel=6, mtime=0))
    except OSError as exc:
        raise RingError(f"{path}: cannot write ring file: {exc.strerror}") from None


def _fail(path: str, why: str) -> RingError:
    return RingError(f"{path}: {why}")


def _decompress(path: str, blob: bytes) -> bytes:
    if not blob:
        raise _fail(path, "empty file, not a ring")
    unzip = zlib.decompressobj(wbits=31)
    try:
        raw = unzip.decompress(blob)
    except zlib.error as exc:
        raise _fail(path, f"corrupt ring file (gzip: {exc})") from None
    if not unzip.eof:
        raise _fail(path, "truncated ring file (the gzip stream ends early)")
    if unzip.unused_data:
        raise _fail(path, "corrupt ring file (bytes after the gzip stream)")
    return raw


def _check_header(path: str, header: Any) -> tuple[int, int]:
    if not isinstance(header, dict):
        raise _fail(path, "corrupt ring header (not a JSON object)")
    pp, reps = header.get("part_power"), header.get("replica_count")
    if not isinstance(pp, int) or not 0 <= pp <= MAX_PART_POWER:
        raise _fail(path, f"corrupt ring header (part_power {pp!r})")
    if not isinstance(reps, int) or reps < 1:
        raise _fail(path, f"corrupt ring header (replica_count {reps!r})")
    if header.get("dev_id_bytes") != 2 or header.get("byteorder") != "little":
        raise _fail(path, "unsupported ring layout (dev_id_bytes/byteorder)")
    devs = header.get("devs")
    if not isinstance(devs, list):
        raise _fail(path, "corrupt ring header (devs)")
    for i, dev in enumerate(devs):
        if dev is None:
            continue
        if not isinstance(dev, dict) or any(k not in dev for k in DEV_KEYS) or dev["id"] != i:
            raise _fail(path, f"corrupt ring header (device {i})")
    return pp, reps


def parse(path: str, raw: bytes) -> RingData:
    """Decode uncompressed ring bytes; ``path`` is only for messages."""
    if len(raw) < _PREFIX.size:
        raise _fail(path, "truncated ring file (no header)")
    magic, version, hlen = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise _fail(path, "not a swiftlite ring file (bad magic)")
    if version != FORMAT_VERSION:
        raise _fail(path, f"unsupported ring format version {version} (this code reads 1)")
    start = _PREFIX.size + hlen
    if len(raw) < start:
        raise _fail(path, "truncated ring file (header cut short)")
    try:
        header = json.loads(raw[_PREFIX.size : start].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _fail(path, f"corrupt ring header ({exc})") from None
    pp, reps = _check_header(path, header)
    row_bytes = (1 << pp) * 2
    if len(raw) != start + reps * row_bytes:
        have = len(raw) - start
        raise _fail(path, f"ring table is {have} bytes, expected {reps * row_bytes}")
    rows = []
    devs = header["devs"]
    gaps = [struct.pack("<H", i) for i, dev in enumerate(devs) if dev is None]
    for r in range(reps):
        chunk = raw[start + r * row_bytes : start + (r + 1) * row_bytes]
        for gap in gaps:
            if _find_aligned(chunk, gap) >= 0:
                raise _fail(path, f"ring table names device {gap[0] | gap[1] << 8}, a gap")
        row = array("H")
        row.frombytes(chunk)
        if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
            row.byteswap()
        if row and max(row) >= len(devs):
            raise _fail(path, f"ring table names device {max(row)}, which is not in the ring")
        rows.append(row)
    return RingData(pp, reps, devs, rows, int(header.get("build_version", 0)))


def _find_aligned(blob: bytes, pattern: bytes) -> int:
    """Offset of ``pattern`` at an even offset of ``blob``, or -1 (bytes.find is C speed)."""
    at = blob.find(pattern)
    while at >= 0 and at % 2:
        at = blob.find(pattern, at + 1)
    return at


def read_ring(path: str) -> RingData:
    """Load a ring file; any problem is a RingError naming ``path``."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise _fail(path, f"cannot read ring file: {exc.strerror}") from None
    return parse(path, _decompress(path, blob))
