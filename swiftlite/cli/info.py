"""``swiftlite-object-info <file>``: an object file's metadata, ring placement and integrity.

Prints the file's metadata (path, timestamps, content type, ETag, length, user and system
metadata, where the record is stored), the ring placement from ``<swift_dir>/object.ring.gz``
(``object-N.ring.gz`` for a file under ``objects-N/``) when the ring library and file are
there, and whether the content's MD5 matches the ETag. Exit status: 0 when readable (and
intact, for .data files), 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

from swiftlite.common import errors
from swiftlite.common.names import wsgi_to_str
from swiftlite.common.policies import parse_dir_name, ring_name
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import layout, metadata
from swiftlite.ring import Ring


def _show(value: str) -> str:
    """Metadata values are wire strings: show them as UTF-8 text when they are."""
    try:
        return wsgi_to_str(value)
    except errors.BadName:
        return repr(value)


def _print_metadata(path: str, meta: dict[str, str], where: metadata.Location) -> None:
    name = meta.get("name", "")
    parts = name.split("/", 3)
    print(f"Path: {name}")
    if len(parts) == 4:
        print(f"  Account: {parts[1]}")
        print(f"  Container: {parts[2]}")
        print(f"  Object: {parts[3]}")
    parsed = layout.parse_file_name(os.path.basename(path))
    if parsed:
        print(f"  Kind: {parsed[1]}")
    ts_text = meta.get("X-Timestamp")
    if ts_text:
        try:
            ts = Timestamp(ts_text)
            print(f"Timestamp: {ts.isoformat} ({ts.internal})")
        except ValueError:
            print(f"Timestamp: {ts_text!r} (unparsable)")
    for key in ("Content-Type", "Content-Length", "ETag", "X-Delete-At"):
        if key in meta:
            print(f"{key}: {_show(meta[key])}")
    where_text = where.kind if where.kind == "inline" else f"trailer at {where.offset}"
    print(f"Metadata: {where.length} bytes, {where_text}")
    _print_groups(meta)


def _print_groups(meta: dict[str, str]) -> None:
    groups: dict[str, list[str]] = {
        "User Metadata": [],
        "System Metadata": [],
        "Other Metadata": [],
    }
    skip = {"name", "X-Timestamp", "Content-Type", "Content-Length", "ETag", "X-Delete-At"}
    for key in sorted(meta):
        if key in skip:
            continue
        low = key.lower()
        if low.startswith("x-object-meta-"):
            group = "User Metadata"
        elif "sysmeta-" in low:
            group = "System Metadata"
        else:
            group = "Other Metadata"
        groups[group].append(f"  {key}: {_show(meta[key])}")
    for title, lines in groups.items():
        print(f"{title}:" + ("" if lines else " None"))
        for line in lines:
            print(line)


def _print_placement(name: str, swift_dir: str, path: str) -> None:
    located = _location_of(path)
    policy = located[0] if located else 0
    ring_path = os.path.join(swift_dir, f"{ring_name(policy)}.ring.gz")
    if not os.path.exists(ring_path):
        print(f"Ring: {ring_path} not found; placement skipped")
        return
    parts = name.split("/", 3)
    if len(parts) != 4:
        print("Ring: no object name in metadata; placement skipped")
        return
    try:
        ring = Ring(ring_path)
        part, nodes = ring.get_nodes(parts[1], parts[2], parts[3])
    except Exception as exc:  # noqa: BLE001  (a broken ring must not hide the metadata)
        print(f"Ring: cannot use {ring_path}: {exc}")
        return
    print(f"Ring: {ring_path} (storage policy {policy})")
    print(f"  Partition: {part}")
    for node in nodes:
        print(f"  Primary: {node.ip}:{node.port}/{node.device} (id {node.id})")
    on_disk = located[1] if located else None
    if on_disk is not None and on_disk != str(part):
        print(f"  WARNING: file is in partition {on_disk}, the ring says {part} (handoff?)")


def _location_of(path: str) -> tuple[int, str | None] | None:
    """(storage policy, partition) from the ``objects[-N]/<part>/`` part of a path."""
    pieces = os.path.abspath(path).split(os.sep)
    for idx in range(len(pieces) - 1, -1, -1):
        policy = parse_dir_name(layout.OBJECTS, pieces[idx])
        if policy is not None:
            return policy, (pieces[idx + 1] if idx + 1 < len(pieces) else None)
    return None


def _check_etag(path: str, meta: dict[str, str]) -> bool:
    length = int(meta.get("Content-Length", "0"))
    md5 = hashlib.md5()
    with open(path, "rb") as fh:
        remaining = length
        while remaining > 0:
            data = fh.read(min(remaining, 1 << 20))
            if not data:
                break
            md5.update(data)
            remaining -= len(data)
    actual = md5.hexdigest()
    if remaining == 0 and actual == meta.get("ETag"):
        print(f"Content: {length} bytes, MD5 matches ETag")
        return True
    etag = meta.get("ETag")
    print(f"Content: MD5 {actual} of {length - remaining} bytes does NOT match ETag {etag}")
    return False


def object_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="swiftlite-object-info", description="Show an object file's metadata and placement."
    )
    parser.add_argument("file", help="a .data, .meta or .ts file")
    parser.add_argument("--swift-dir", default="/etc/swiftlite", help="where object.ring.gz is")
    parser.add_argument("-n", "--no-check-etag", action="store_true", help="skip the MD5 check")
    args = parser.parse_args(argv)
    try:
        meta, where = metadata.read_path(args.file)
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except errors.SwiftliteError as exc:
        print(f"Bad metadata in {args.file}: {exc}", file=sys.stderr)
        return 1
    _print_metadata(args.file, meta, where)
    _print_placement(meta.get("name", ""), args.swift_dir, args.file)
    if args.no_check_etag or not args.file.endswith(layout.DATA):
        return 0
    return 0 if _check_etag(args.file, meta) else 1


if __name__ == "__main__":
    sys.exit(object_main())
