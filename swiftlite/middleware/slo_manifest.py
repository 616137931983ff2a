"""slo_manifest: an SLO manifest's two JSON forms, their checks, and the bulk-style bodies.

Pure functions, no I/O, for ``slo.py``:

* ``parse_put``: the client's manifest (``?multipart-manifest=put``): a JSON list of
  ``{"path", "etag"?, "size_bytes"?, "range"?}`` or ``{"data": <base64>}`` segments, checked
  the way Swift checks them; every problem is a line of the 400 body, in Swift's words.
* ``check_segment``: one segment against the HEAD of the object it names (exists, size, ETag,
  range satisfiable, ``min_segment_size`` except for the last) -> the stored record or problems.
* The stored form (what the object servers keep): ``{"name", "bytes", "hash", "content_type",
  "last_modified", "range"?, "sub_slo"?}`` or ``{"data"}``; ``raw_form`` turns it back into
  the PUT form (``?multipart-manifest=get&format=raw``), ``slo_etag`` computes the large
  object's ETag as Swift does (a ranged segment counts as ``<etag>:<range>;``, inline data as
  the MD5 of its bytes).
* ``response_body``: the text/plain, JSON or XML body Swift's bulk middleware writes, used by
  manifest PUT errors, heartbeat answers and ``?multipart-manifest=delete``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.common.http import ranges

PUT_KEYS = {"path": {"range", "etag", "size_bytes"}, "data": set()}


class ManifestError(Exception):
    """The manifest cannot be stored; ``lines`` are the 400 body's lines."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = list(lines)

    @property
    def body(self) -> bytes:
        return "".join(line + "\n" for line in self.lines).encode("utf-8")


@dataclass
class PutSegment:
    """One checked segment of a PUT manifest (object-backed or inline data)."""

    path: str | None = None  # "/container/object" as the client wrote it (real str)
    etag: str | None = None
    size: int | None = None
    range: list[ranges.Spec] | None = None
    data: bytes | None = None


def _b64(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def parse_put(body: bytes, manifest_path: str) -> list[PutSegment]:
    """The segments of a PUT manifest; ManifestError with every problem found.

    ``manifest_path`` is the manifest's own ``/container/object`` (it may not name itself).
    """
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ManifestError(["Manifest must be valid JSON."]) from None
    if not isinstance(parsed, list):
        raise ManifestError(["Manifest must be a list."])
    problems: list[str] = []
    out: list[PutSegment] = []
    last = len(parsed) - 1
    for index, seg in enumerate(parsed):
        found = _parse_one(index, seg, index == last, manifest_path)
        if isinstance(found, str):
            problems.append(found)
        else:
            out.append(found)
    if parsed and all(isinstance(s, dict) and "data" in s and "path" not in s for s in parsed):
        problems.append("Inline data segments require at least one object-backed segment.")
    if problems:
        raise ManifestError(problems)
    return out


def _parse_one(index: int, seg: Any, is_last: bool, manifest_path: str) -> PutSegment | str:
    where = f"Index {index}"
    if not isinstance(seg, dict):
        return f"{where}: not a JSON object"
    kind = next((k for k in PUT_KEYS if k in seg), None)
    if kind is None:
        return f"{where}: expected keys to include one of 'data' or 'path'"
    extra = sorted(k for k in seg if k not in PUT_KEYS[kind] | {kind})
    if extra:
        return f"{where}: extraneous keys " + ", ".join(json.dumps(k) for k in extra)
    if kind == "data":
        return _parse_data(where, seg)
    return _parse_path(where, seg, is_last, manifest_path)


def _parse_data(where: str, seg: dict[str, Any]) -> PutSegment | str:
    data = _b64(seg["data"])
    if data is None:
        return f"{where}: data must be valid base64"
    if not data:
        return f"{where}: too small; each segment must be at least 1 byte."
    return PutSegment(data=data)


def _parse_path(
    where: str, seg: dict[str, Any], is_last: bool, manifest_path: str
) -> PutSegment | str:
    path = seg["path"]
    if not isinstance(path, str):
        return f'{where}: "path" must be a string'
    etag = seg.get("etag")
    if etag is not None and not isinstance(etag, str):
        return f'{where}: "etag" must be a string or null (if provided)'
    if "/" not in path.strip("/"):
        return (
            f"{where}: path does not refer to an object. Path must be of the form "
            "/container/object."
        )
    size = seg.get("size_bytes")
    if size is not None:
        try:
            size = int(size)
        except (TypeError, ValueError):
            return f"{where}: invalid size_bytes"
        if size < 1 and not is_last:
            return f"{where}: too small; each segment must be at least 1 byte."
    if "/" + path.lstrip("/") == manifest_path:
        return f"{where}: manifest must not include itself as a segment"
    specs = None
    if seg.get("range"):
        specs = ranges.parse(f"bytes={seg['range']}") if isinstance(seg["range"], str) else None
        if specs is None:
            return f"{where}: invalid range"
        if len(specs) > 1:
            return f"{where}: multiple ranges (only one allowed)"
        if size is not None and len(ranges.resolve(specs, size)) != 1:
            return f"{where}: unsatisfiable range"
    return PutSegment(path=path, etag=etag.strip('"') if etag else etag, size=size, range=specs)


@dataclass(frozen=True)
class HeadResult:
    """What a segment's HEAD said."""

    status: int
    status_line: str
    length: int = 0
    etag: str = ""
    content_type: str = ""
    last_modified: str = ""  # ISO form, as listings write it
    is_slo: bool = False
    depth: int = 0  # levels of manifests it is made of: 0 for a plain object


MAX_DEPTH = 10  # Swift reads at most this many levels of nested manifests


def check_segment(
    seg: PutSegment, head: HeadResult, *, allow_short: bool, min_segment_size: int = 1
) -> tuple[int, dict[str, Any] | None, list[str]]:
    """(bytes used, stored record, problems) for one object-backed segment."""
    name = urllib.parse.quote(seg.path or "")
    if not 200 <= head.status < 300:
        return 0, None, [f"{name}|{head.status_line}"]
    problems: list[str] = []
    used = head.length
    stored_range: str | None = None
    if seg.range is not None:
        spans = ranges.resolve(seg.range, head.length)
        if not spans:
            problems.append(f"{name}|Unsatisfiable Range")
        elif spans[0] != (0, head.length):
            start, stop = spans[0]
            stored_range = f"{start}-{stop - 1}"
            used = stop - start
    if used < min_segment_size and not allow_short:
        if min_segment_size <= 1:
            problems.append(f"{name}|Too small; each segment must be at least 1 byte.")
        else:
            problems.append(
                f"{name}|Too small; each segment, except the last, must be at least "
                f"{min_segment_size} bytes."
            )
    if head.depth >= MAX_DEPTH:
        problems.append(f"{name}|Too deeply nested; at most {MAX_DEPTH} levels of manifests.")
    if seg.size is not None and seg.size != head.length:
        problems.append(f"{name}|Size Mismatch")
    if seg.etag is not None and seg.etag != head.etag:
        problems.append(f"{name}|Etag Mismatch")
    record: dict[str, Any] = {
        "name": "/" + (seg.path or "").lstrip("/"),
        "bytes": head.length,
        "hash": head.etag,
        "content_type": head.content_type,
        "last_modified": head.last_modified,
    }
    if stored_range is not None:
        record["range"] = stored_range
    if head.is_slo:
        record["sub_slo"] = True
    return used, record, problems


def split_problem(problem: str) -> list[str]:
    """A ``name|reason`` problem as the [name, reason] pair the bodies list."""
    name, _, reason = problem.partition("|")
    return [name, reason]


def stored_data(seg: PutSegment) -> dict[str, Any]:
    return {"data": base64.b64encode(seg.data or b"").decode("ascii")}


def segment_length(record: Mapping[str, Any]) -> int:
    """Bytes a stored record contributes to the large object."""
    if "data" in record:
        return len(base64.b64decode(record["data"]))
    if record.get("range"):
        first, _, last = str(record["range"]).partition("-")
        return int(last) - int(first) + 1
    return int(record["bytes"])


def range_start(record: Mapping[str, Any]) -> int:
    if record.get("range"):
        return int(str(record["range"]).partition("-")[0])
    return 0


def slo_etag(records: Iterable[Mapping[str, Any]]) -> str:
    """The SLO's ETag (unquoted), from its stored records."""
    digest = hashlib.md5()
    for record in records:
        if "data" in record:
            part = hashlib.md5(base64.b64decode(record["data"])).hexdigest()
        elif record.get("range"):
            part = f"{record['hash']}:{record['range']};"
        else:
            part = str(record["hash"])
        digest.update(part.encode("ascii", "replace"))
    return digest.hexdigest()


def load_stored(body: bytes) -> list[dict[str, Any]]:
    """The stored records of a manifest body; ValueError when it is not one."""
    records = json.loads(body)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError("not a list of objects")
    for record in records:
        if "data" not in record and not ("name" in record and "bytes" in record):
            raise ValueError("a record without name and bytes")
    return records


def raw_form(records: Iterable[Mapping[str, Any]]) -> bytes:
    """The stored manifest in the form a client PUTs (``format=raw``)."""
    out = []
    for record in records:
        if "data" in record:
            out.append({"data": record["data"]})
            continue
        item = {"path": record["name"], "etag": record["hash"], "size_bytes": record["bytes"]}
        if record.get("range"):
            item["range"] = record["range"]
        out.append(item)
    return json.dumps(out, sort_keys=True).encode("utf-8")
