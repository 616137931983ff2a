"""Database metadata: ``{Title-Case-Key: [value, internal timestamp]}`` stored as JSON.

Owns the merge rule (per key the newer timestamp wins, a tie goes to the greater value, an empty
value is a deletion that is kept until reclaimed) and which request headers become metadata.
Pure functions: the brokers do the I/O. Format: ``docs/formats/db.md`` §2 "Metadata".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from swiftlite.common import errors
from swiftlite.common.http.headers import title
from swiftlite.common.timestamp import Timestamp


def load_metadata(raw: str | None) -> dict[str, tuple[str, str]]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise errors.Corrupt("metadata is not JSON") from None
    return {k: (v[0], v[1]) for k, v in data.items()}


def merge_metadata(
    stored: Mapping[str, tuple[str, str]], updates: Mapping[str, tuple[str, Timestamp | str]]
) -> dict[str, tuple[str, str]]:
    """Per key the newer timestamp wins; keys are Title-Cased.

    A tie goes to the greater value, so merging the same updates in any order agrees.
    """
    merged = dict(stored)
    for key, (value, ts) in updates.items():
        name = title(key)
        stamp = Timestamp(ts)
        old = merged.get(name)
        if old is None or (Timestamp(old[1]), old[0]) < (stamp, value):
            merged[name] = (value, stamp.internal)
    return merged


def metadata_updates(
    headers: Mapping[str, str],
    server_type: str,
    timestamp: Timestamp,
    save_headers: Iterable[str] = (),
) -> dict[str, tuple[str, str]]:
    """The headers a PUT or POST stores: ``X-<type>-Meta-*``, ``-Sysmeta-*`` and ``save_headers``.

    Values stay WSGI strings but must be UTF-8 underneath (BadInput otherwise). An empty value is
    kept: it deletes the key when merged.
    """
    meta_prefix = f"x-{server_type}-meta-"
    sys_prefix = f"x-{server_type}-sysmeta-"
    extra = {h.lower() for h in save_headers}
    stamp = timestamp.internal
    out: dict[str, tuple[str, str]] = {}
    for key, value in headers.items():
        low = key.lower()
        if not (low.startswith((meta_prefix, sys_prefix)) or low in extra):
            continue
        try:
            value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            raise errors.BadInput("Metadata must be valid UTF-8") from None
        except UnicodeEncodeError:
            pass  # already real text
        out[title(key)] = (value, stamp)
    return out


def live_after(
    stored: Mapping[str, tuple[str, str]], updates: Mapping[str, tuple[str, Timestamp | str]]
) -> dict[str, str]:
    """The non-empty metadata once ``updates`` are merged (what limits are checked against)."""
    return {k: v for k, (v, _ts) in merge_metadata(stored, updates).items() if v != ""}
