"""The parts of a finished multipart object with a checksum, for GetObjectAttributes'
``ObjectParts`` and for a ``partNumber`` GET with ``ChecksumMode=ENABLED``.

CompleteMultipartUpload leaves the parts it used at ``<key>/<upload id>/<n>`` in
``<bucket>+segments`` and, for an upload with a checksum algorithm, the part numbers run
1, 2, ... without a gap; each part's checksum is in its Content-Type (``mpu_checksum``). So one
listing of that prefix gives every part's number, size and checksum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swiftlite.middleware import subrequest
from swiftlite.middleware.s3api import mpu_checksum
from swiftlite.middleware.s3api.request import SEGMENTS_SUFFIX, Context
from swiftlite.middleware.s3api.responses import CHECKSUM_PREFIX, UPLOAD_SYSMETA, read_json


def checksum_type(headers: Mapping[str, str]) -> str | None:
    """COMPOSITE or FULL_OBJECT for a multipart object with a checksum, else None."""
    if not headers.get(UPLOAD_SYSMETA):
        return None
    kind = headers.get(CHECKSUM_PREFIX + "Type")
    return kind if kind in mpu_checksum.TYPES else None


def parts(
    ctx: Context, bucket: str, key: str, headers: Mapping[str, str], after: int = 0, limit: int = 0
) -> list[tuple[int, int, tuple[str, str] | None]]:
    """[(part number, size, (algorithm, checksum) or None)] after part ``after`` (at most
    ``limit`` when > 0), for a multipart object with a checksum (``checksum_type``)."""
    return _listed(ctx, bucket, f"{key}/{headers.get(UPLOAD_SYSMETA, '')}/", "", after, limit)


def _listed(
    ctx: Context, bucket: str, prefix: str, only: str, after: int, limit: int
) -> list[tuple[int, int, tuple[str, str] | None]]:
    # part names sort as text (10 before 2): list the whole prefix, then order by number
    query = {"format": "json", "prefix": prefix + only}
    out: list[tuple[int, int, tuple[str, str] | None]] = []
    while True:
        resp = ctx.swift("GET", bucket + SEGMENTS_SUFFIX, query=query)
        if resp.status_int != 200:
            subrequest.close(resp)
            break
        page: list[dict[str, Any]] = read_json(resp)
        if not page:
            break
        for row in page:
            tail = str(row["name"])[len(prefix) :]
            if tail.isdigit() and int(tail) > after:
                found = mpu_checksum.part_checksum(str(row.get("content_type", "")))
                out.append((int(tail), int(row["bytes"]), found))
        query["marker"] = str(page[-1]["name"])
    out.sort()
    return out[:limit] if limit > 0 else out


def part_checksum(
    ctx: Context, bucket: str, key: str, headers: Mapping[str, str], number: int
) -> tuple[str, str] | None:
    """(algorithm, checksum) of part ``number`` of a multipart object with a checksum."""
    prefix = f"{key}/{headers.get(UPLOAD_SYSMETA, '')}/"
    for n, _size, found in _listed(ctx, bucket, prefix, str(number), 0, 0):
        if n == number:
            return found
    return None
