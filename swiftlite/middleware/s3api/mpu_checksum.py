"""The checksum of a multipart upload (pure).

CreateMultipartUpload names an algorithm (``x-amz-checksum-algorithm``) and a type
(``x-amz-checksum-type``). S3 allows:

=========  ===========  =========
algorithm  FULL_OBJECT  COMPOSITE
=========  ===========  =========
CRC64NVME  yes          no
CRC32      yes          yes
CRC32C     yes          yes
SHA1       no           yes
SHA256     no           yes
SHA512     no           yes
MD5        no           yes
=========  ===========  =========

A digest cannot be combined from its parts' digests, so the digests (SHA*, MD5) are
COMPOSITE only. Without a type, CRC64NVME is FULL_OBJECT and the others COMPOSITE. An
algorithm S3 knows that swiftlite has no code for (``checksums.UNSUPPORTED``: XXHASH*) is
refused as S3 refuses an unknown one. COMPOSITE is the
algorithm's checksum of the parts' raw checksums, one after another, in base64 with
``-<part count>``; FULL_OBJECT is the CRC of the whole object, combined from the parts' CRCs
and sizes (``checksums.crc_combine``), so no byte is read again.

The upload's algorithm and type are kept in its marker's Content-Type
(``s3api_upload_checksum=<ALG>:<TYPE>``), so ListMultipartUploads has them from its listing.
Each part's checksum is also written into the part's Content-Type as a parameter
(``s3api_checksum=<ALG>:<base64>``), so that a listing of ``<bucket>+segments`` gives every
part's checksum without a HEAD per part.
"""

from __future__ import annotations

import base64

from swiftlite.middleware.s3api import checksums, xmlio
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.responses import parse_xml

TYPES = ("COMPOSITE", "FULL_OBJECT")
FULL_OBJECT_ONLY = frozenset({"CRC64NVME"})
COMPOSITE_ONLY = checksums.HASHES
PART_TYPE = "application/octet-stream"
PART_PARAM = "s3api_checksum="
MARKER_TYPE = "application/directory"
MARKER_PARAM = "s3api_upload_checksum="


def choose(algorithm: str | None, kind: str | None) -> tuple[str | None, str | None]:
    """(algorithm, type) of a new upload from its headers; InvalidRequest as S3 gives it."""
    if algorithm is None:
        if kind is not None:
            raise S3Error(
                "InvalidRequest",
                "The x-amz-checksum-type header can only be used with the "
                "x-amz-checksum-algorithm header.",
            )
        return None, None
    alg = algorithm.upper()
    if alg not in checksums.ALGORITHMS:
        raise checksums.unsupported()
    if kind is None:
        kind = "FULL_OBJECT" if alg in FULL_OBJECT_ONLY else "COMPOSITE"
    if kind not in TYPES:
        raise S3Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    if (kind == "FULL_OBJECT" and alg in COMPOSITE_ONLY) or (
        kind == "COMPOSITE" and alg in FULL_OBJECT_ONLY
    ):
        raise S3Error(
            "InvalidRequest",
            f"The {kind} checksum type cannot be used with the {alg.lower()} checksum algorithm.",
        )
    return alg, kind


def mismatch(expected: str, actual: str) -> S3Error:
    """A checksum of another algorithm than the upload's."""
    return S3Error(
        "InvalidRequest",
        f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, "
        f"actual checksum Type: {actual.lower()}",
    )


def composite(alg: str, values: list[str]) -> str:
    """COMPOSITE: the checksum of the parts' raw checksums, ``-<count>``."""
    raw = b"".join(base64.b64decode(v) for v in values)
    return f"{checksums.of(alg, raw)}-{len(values)}"


def full_object(alg: str, parts: list[tuple[str, int]]) -> str:
    """FULL_OBJECT: the CRC of the whole object from [(part CRC in base64, part size)]."""
    crc = checksums.to_int(checksums.of(alg, b""))
    for value, size in parts:
        crc = checksums.crc_combine(alg, crc, checksums.to_int(value), size)
    return checksums.from_int(alg, crc)


def object_checksum(alg: str, kind: str, parts: list[tuple[str, int]]) -> str:
    """The object's checksum from its parts' checksums and sizes."""
    if kind == "FULL_OBJECT":
        return full_object(alg, parts)
    return composite(alg, [value for value, _ in parts])


def part_content_type(alg: str, value: str) -> str:
    """The Content-Type a part is stored with: it carries the part's checksum."""
    return f"{PART_TYPE};{PART_PARAM}{alg}:{value}"


def _param(content_type: str, name: str) -> tuple[str, str] | None:
    for param in content_type.split(";")[1:]:
        param = param.strip()
        if param.startswith(name):
            alg, sep, value = param[len(name) :].partition(":")
            if sep and alg in checksums.ALGORITHMS and value:
                return alg, value
    return None


def part_checksum(content_type: str) -> tuple[str, str] | None:
    """(algorithm, base64) from a part's Content-Type, if it has one."""
    return _param(content_type, PART_PARAM)


def marker_content_type(alg: str | None, kind: str | None) -> str:
    """The Content-Type of an upload's marker: it carries the upload's algorithm and type."""
    if alg is None or kind is None:
        return MARKER_TYPE
    return f"{MARKER_TYPE};{MARKER_PARAM}{alg}:{kind}"


def marker_checksum(content_type: str) -> tuple[str, str] | None:
    """(algorithm, type) of an upload from its marker's Content-Type, if it has one."""
    found = _param(content_type, MARKER_PARAM)
    if found is None or found[1] not in TYPES:
        return None
    return found


def parse_parts(body: bytes) -> dict[int, dict[str, str]]:
    """{part number: {algorithm: base64}}: the checksums a Complete document lists (pure)."""
    root = parse_xml(body, "CompleteMultipartUpload")
    out: dict[int, dict[str, str]] = {}
    for part in xmlio.children(root, "Part"):
        number = xmlio.text(part, "PartNumber") or ""
        sums = {}
        for alg in checksums.ALGORITHMS:
            value = xmlio.text(part, "Checksum" + alg)
            if value is not None:
                sums[alg] = value
        if number.isdigit():
            out[int(number)] = sums
    return out


def check_parts(
    alg: str,
    upload_id: str,
    chosen: list[tuple[int, str]],
    listed: dict[int, dict[str, str]],
    stored: dict[int, str | None],
) -> None:
    """The rules of Complete for an upload with a checksum algorithm (pure): each listed part
    names its checksum (InvalidRequest), of the upload's algorithm and equal to the stored
    one (InvalidPart); the part numbers run 1, 2, ... without a gap (InvalidPartOrder)."""
    for index, (number, etag) in enumerate(chosen):
        sums = listed.get(number, {})
        if not sums:
            raise S3Error(
                "InvalidRequest",
                f"The upload was created using a {alg.lower()} checksum. The complete request "
                f"must include the checksum for each part. It was missing for part {number} "
                "in the request.",
            )
        if set(sums) != {alg} or stored.get(number) != sums[alg]:
            raise S3Error("InvalidPart", PartNumber=number, ETag=etag, UploadId=upload_id)
        if number != index + 1:
            raise S3Error("InvalidPartOrder", UploadId=upload_id)
