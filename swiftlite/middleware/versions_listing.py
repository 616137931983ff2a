"""versions_listing: object versioning's names and listings (pure: no requests, no I/O).

Names, as Swift builds them in the reserved namespace (``common/reserved.py``): the versions
of container ``c`` live in ``\\x00versions\\x00c``; the version of object ``o`` written at
timestamp ``t`` is ``\\x00o\\x00<~t>``, where ``~t`` is the inverted timestamp
(999999999999999 ticks minus ``t``'s), so a plain name-ordered listing shows the newest
version of each name first. A version id is ``t`` in its internal form.

Listings: ``primary_row`` turns a version link's row in the client's container into the row
of the version it names (its bytes and ETag); ``versions_query`` maps the client's
``?versions`` paging parameters onto the versions container; ``merge`` builds the
``?versions`` listing, with ``version_id`` and ``is_latest`` on every row.
"""

from __future__ import annotations

import itertools
import urllib.parse
from typing import Any

from swiftlite.common import reserved
from swiftlite.common.errors import BadInput
from swiftlite.common.timestamp import Timestamp
from swiftlite.middleware import symlink

DELETE_MARKER_CONTENT_TYPE = "application/x-deleted;swift_versions_deleted=1"
_MAX_TICKS = 999999999999999
TARGET_KEY = "_version_target"  # internal row key: the reserved path a version link names


def invert(ts: Timestamp) -> Timestamp:
    """Swift's ``~Timestamp``; ValueError for a timestamp with an offset."""
    if ts.offset:
        raise ValueError("Cannot invert timestamps with offsets")
    whole, frac = divmod(_MAX_TICKS - ts.ticks, 100000)
    return Timestamp(f"{whole:010d}.{frac:05d}")


def versions_container(container: str) -> str:
    return reserved.reserved_name("versions", container)


def versions_bound(key: str, value: str) -> str:
    """A client's account-listing ``marker``, ``end_marker`` or ``prefix`` (which may hold a
    NUL: ``name%00`` means "just after name") as the same bound over versions containers.
    No container name holds a NUL, so ``a\x00...`` as a marker is "after a", and as an
    end_marker or prefix it is "up to a" and "nothing"."""
    head, nul, _ = value.partition(reserved.RESERVED)
    bound = versions_container(head)
    return bound + reserved.RESERVED if nul and key != "marker" else bound


def parent_container(name: str) -> str | None:
    """The client container a versions container belongs to; None for other names."""
    try:
        parts = reserved.split_reserved_name(name)
    except ValueError:
        return None
    return parts[1] if len(parts) == 2 and parts[0] == "versions" else None


def version_object(obj: str, ts: str | Timestamp) -> str:
    return reserved.reserved_name(obj, invert(Timestamp(ts)).internal)


def split_version(name: str) -> tuple[str, Timestamp | None]:
    """(object name, version timestamp) of a version object's name; (name, None) otherwise."""
    try:
        obj, inverted = reserved.split_reserved_name(name)
        return obj, invert(Timestamp(inverted))
    except ValueError:
        return name, None


def primary_row(
    row: dict[str, Any], version: str, account: str, container: str, location: str, raw: bool
) -> dict[str, Any]:
    """A client-container row: a link into ``location`` shows its version's bytes and ETag.

    ``raw`` (a ``?versions`` listing) keeps the link's reserved target for ``merge``;
    otherwise ``symlink_path`` names the version as clients address it (``?version-id=``).
    """
    if "name" not in row:
        return row
    row = symlink.listing_row(row, version, account)
    if not all(k in row for k in ("symlink_path", "symlink_etag", "symlink_bytes")):
        return row
    path = urllib.parse.unquote(row["symlink_path"])
    parts = path.split("/", 4)
    if len(parts) != 5 or parts[3] != location:
        return row
    _etag, params = symlink.parse_hash_params(str(row.get("hash", "")))
    row["hash"] = "".join([row.pop("symlink_etag"), *(f"; {k}={v}" for k, v in params)])
    row["bytes"] = int(row.pop("symlink_bytes"))
    row["version_symlink"] = True
    row[TARGET_KEY] = path
    name, ts = split_version(parts[4])
    if ts is not None and not raw:
        client_path = urllib.parse.quote(f"/{version}/{parts[2]}/{container}/{name}")
        row["symlink_path"] = f"{client_path}?version-id={ts.internal}"
    return row


def versions_query(params: dict[str, str]) -> dict[str, str]:
    """The versions container's listing parameters for a client's ``?versions`` listing."""
    out: dict[str, str] = {k: params[k] for k in ("limit", "delimiter", "reverse") if k in params}
    for key in ("marker", "prefix"):
        if reserved.RESERVED in params.get(key, ""):  # versions are named with NULs
            raise BadInput(f"invalid {key} param")
    marker = params.get("marker")
    version_marker = params.get("version_marker")
    if marker:
        if version_marker is None:
            out["marker"] = reserved.reserved_name(marker, "") + ":"  # past all its versions
        elif version_marker == "null":
            out["marker"] = reserved.reserved_name(marker, "")  # before all its versions
        else:
            try:
                out["marker"] = version_object(marker, Timestamp(version_marker))
            except ValueError:
                raise BadInput("invalid version_marker param") from None
    elif version_marker is not None:
        raise BadInput("version_marker param requires marker")
    if set(params.get("delimiter", "")) & set("0123456789." + reserved.RESERVED):
        raise BadInput("invalid delimiter param")
    if params.get("prefix"):
        out["prefix"] = reserved.reserved_name(params["prefix"])
    return out


def merge(
    primary: list[dict[str, Any]],
    versions: list[dict[str, Any]] | None,
    account: str,
    location: str,
    limit: int,
    reverse: bool,
) -> list[dict[str, Any]]:
    """The ``?versions`` listing from the client container's rows and the versions
    container's rows (None when that container does not exist), as Swift merges them."""
    nulls: list[dict[str, Any]] = []
    subdirs: set[str] = set()
    current: dict[str, dict[str, Any]] = {}
    latest: set[str] = set()
    for item in primary:
        if "name" not in item:
            subdirs.add(item["subdir"])
        elif item.get("version_symlink"):
            current[item[TARGET_KEY]] = item
        else:
            nulls.append({**item, "version_id": "null", "is_latest": True})
            latest.add(item["name"])
    listed: list[dict[str, Any]] = []
    for item in versions or []:
        if "name" not in item:
            subdirs.add(reserved.split_reserved_name(item["subdir"])[0])
            continue
        name, ts = split_version(item["name"])
        if ts is None:
            continue
        path = f"/v1/{account}/{location}/{item['name']}"
        if current.pop(path, None) is not None:
            item["is_latest"] = True
        else:
            marker = item.get("content_type") == DELETE_MARKER_CONTENT_TYPE
            item["is_latest"] = marker and name not in latest
        if item["is_latest"]:
            latest.add(name)
        listed.append({**item, "name": name, "version_id": ts.internal})
    broken = []
    for item in current.values():  # links whose version the versions listing did not show
        name, ts = split_version(item[TARGET_KEY].split("/", 4)[-1])
        if ts is None:
            continue
        is_latest = name not in latest
        latest.add(name)
        broken.append(
            {
                "name": name,
                "is_latest": is_latest,
                "version_id": ts.internal,
                "content_type": item["content_type"],
                "bytes": item["bytes"],
                "hash": item["hash"],
                "last_modified": item["last_modified"],
            }
        )
    rows = itertools.chain(nulls, listed, ({"subdir": s} for s in subdirs), broken)
    ordered = sorted(rows, key=lambda r: r.get("subdir") or r["name"], reverse=reverse)
    return [{k: v for k, v in r.items() if k != TARGET_KEY} for r in ordered[:limit]]


def client_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows fit for a client: without this module's internal keys."""
    return [{k: v for k, v in r.items() if k != TARGET_KEY} for r in rows]
