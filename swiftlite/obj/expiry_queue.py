"""The expiry queue: one small durable file per object version that carries X-Delete-At.

Owns the entry format under ``<dev>/expiring/<bucket>/<delete_at>-<hash>.json`` (names in
``layout``, the record here; see docs/formats/object.md). The object server calls ``record``
before it publishes a PUT or POST with X-Delete-At, so a crash can leave an entry without its
object (the expirer's conditional DELETE then fails harmlessly) but never an expiring object
without an entry. The object-expirer reads due entries with ``due`` and ``read_entry`` and
drops finished ones with ``remove``; the auditor calls ``record`` again for any expiring object
whose entry is missing (say, a replica that arrived by replication).

Entries are never rewritten to follow a later change of X-Delete-At: the stale one fails with
412 (``X-If-Delete-At`` no longer matches) and is removed. No cluster-wide queue or hidden
account is involved: every device queues what it stores.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

from swiftlite.common import fs
from swiftlite.common.errors import Corrupt
from swiftlite.obj import layout
from swiftlite.obj.diskfile import makedirs_durable, makedirs_plain

VERSION = 1


@dataclass(frozen=True)
class Entry:
    """An object to delete at ``delete_at`` (whole seconds, as stored in X-Delete-At)."""

    account: str
    container: str
    obj: str
    delete_at: int
    policy: int = 0  # the storage policy index of the object (absent in the record: 0)

    def to_json(self) -> bytes:
        doc: dict[str, object] = {
            "version": VERSION,
            "account": self.account,
            "container": self.container,
            "obj": self.obj,
            "delete_at": self.delete_at,
        }
        if self.policy:
            doc["policy"] = self.policy
        return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


def record(dev_path: str, name_hash: str, entry: Entry) -> str:
    """Write ``entry`` durably (temp file in ``tmp/``, fsync, rename, fsync dir); its path.

    Writing the same entry again replaces it with identical content, so callers need not
    check first.
    """
    path = layout.expiry_entry_path(dev_path, entry.delete_at, name_hash)
    tmp = layout.tmp_dir(dev_path)
    makedirs_plain(tmp, dev_path)  # never re-creates a device that is gone
    for attempt in range(3):
        makedirs_durable(os.path.dirname(path), dev_path)
        try:
            fs.write_file_durable(path, entry.to_json(), tmp_dir=tmp)
            break
        except FileNotFoundError:
            # the expirer removed the (empty, past) bucket between mkdir and rename: again
            if attempt == 2:
                raise
    return path


def exists(dev_path: str, name_hash: str, delete_at: int) -> bool:
    return os.path.exists(layout.expiry_entry_path(dev_path, delete_at, name_hash))


def read_entry(path: str) -> Entry:
    """Parse an entry file; Corrupt if it is not one of ours."""
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Corrupt(f"{path}: not an expiry queue entry") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise Corrupt(f"{path}: unknown expiry queue entry version")
    try:
        entry = Entry(
            str(doc["account"]),
            str(doc["container"]),
            str(doc["obj"]),
            int(doc["delete_at"]),
            int(doc.get("policy", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise Corrupt(f"{path}: incomplete expiry queue entry ({exc})") from None
    if not (entry.account and entry.container and entry.obj):
        raise Corrupt(f"{path}: expiry queue entry without a full object name")
    return entry


def due(dev_path: str, now: float) -> Iterator[str]:
    """Paths of the entries whose delete-at time is ``now`` or earlier, oldest first.

    Buckets that start after ``now`` are never listed; unknown names are skipped. An empty
    past bucket is removed on the way.
    """
    root = layout.expiring_dir(dev_path)
    for bucket in fs.sorted_names(root):
        start = layout.parse_expiry_bucket(bucket)
        if start is None:
            continue
        if start > now:
            break
        bucket_path = os.path.join(root, bucket)
        names = fs.sorted_names(bucket_path)
        entries = [(p, n) for n in names if (p := layout.parse_expiry_entry(n))]
        for (delete_at, _), name in entries:
            if delete_at > now:
                break
            yield os.path.join(bucket_path, name)
        if not names and start + layout.EXPIRY_BUCKET_SECONDS <= now:
            with contextlib.suppress(OSError):
                os.rmdir(bucket_path)


def remove(path: str) -> None:
    """Drop a finished entry; ``due`` removes its bucket once the bucket is empty and past."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
