"""The receiving side of database replication: the ops of ``REPLICATE /<dev>/<part>/<hash>``.

The account and container servers hand a REPLICATE request here. Its body is one JSON object
whose ``op`` is ``sync``, ``merge_items``, ``merge_syncs``, ``complete_rsync`` or
``rsync_then_merge`` (wire format and sync points: ``docs/formats/db.md`` §5; the sending side
is ``db/replicator.py``). ``dispatch`` returns the JSON answer (sent as 200) or None (sent as
204) and raises domain errors for the rest: NotFound (no database, no uploaded copy), BadInput
(a malformed request) and TooLarge.

A whole-database upload arrives by rsync as ``<device>/tmp/repl-<32 hex>.db`` before the op that
installs it. Installing a copy where no database exists hard-links it into place (never over
a database that appeared meanwhile); merging one into an existing database goes in batches of
rows, each its own transaction with a green yield between, so the server's hub is never held
for long and concurrent writers keep working.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from webob import Request, Response

from swiftlite.common import errors, fs, green, intparse
from swiftlite.common.storage_app import json_body
from swiftlite.db import layout
from swiftlite.db.broker import DatabaseBroker
from swiftlite.db.sqlite_conn import remove_with_sidecars

MAX_BODY = 32 * 1024 * 1024
MERGE_BATCH = 1000
TMP_PREFIX = "repl-"
_TMP_NAME = re.compile(r"^repl-[0-9a-f]{32}\.db$")
_HASH = re.compile(r"^[0-9a-f]{32}$")

log = logging.getLogger("swiftlite.db.rpc")


def parse_path(path_info: str) -> tuple[str, int, str]:
    """``(device, partition, hash)`` from ``/<device>/<partition>/<hash>``; BadInput otherwise."""
    parts = path_info.strip("/").split("/")
    if len(parts) != 3 or not intparse.is_digits(parts[1]) or not _HASH.match(parts[2]):
        raise errors.BadInput("REPLICATE needs /<device>/<partition>/<32 hex hash>")
    return parts[0], int(parts[1]), parts[2]


def parse_body(body: bytes) -> dict[str, Any]:
    args = json_body(body, "REPLICATE", MAX_BODY)
    if not isinstance(args, dict) or not isinstance(args.get("op"), str):
        raise errors.BadInput("REPLICATE body must be a JSON object with an op")
    return args


def tmp_upload_path(device_path: str, name: str) -> str:
    """Where an uploaded copy named ``name`` sits; BadInput for any other kind of name."""
    if not isinstance(name, str) or not _TMP_NAME.match(name):
        raise errors.BadInput("bad upload name")
    return os.path.join(layout.tmp_dir(device_path), name)


Handler = Callable[[DatabaseBroker, str, str, Mapping[str, Any]], dict[str, Any] | None]


class ReplicationRpc:
    """Answers REPLICATE for one kind of database (``layout.ACCOUNT`` or ``layout.CONTAINER``)."""

    def __init__(
        self,
        kind: str,
        broker_cls: type[DatabaseBroker],
        timeout: float = 25.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.kind = kind
        self.broker_cls = broker_cls
        self.timeout = timeout
        self.logger = logger or log
        self.ops: dict[str, Handler] = {
            "sync": self.sync,
            "merge_items": self.merge_items,
            "merge_syncs": self.merge_syncs,
            "complete_rsync": self.complete_rsync,
            "rsync_then_merge": self.rsync_then_merge,
        }

    def dispatch(
        self, device_path: str, partition: int, name_hash: str, body: bytes
    ) -> bytes | None:
        """Run the op in ``body`` on the database ``name_hash``; its JSON answer or None."""
        args = parse_body(body)
        handler = self.ops.get(args["op"])
        if handler is None:
            raise errors.BadInput(f"unknown REPLICATE op {args['op']!r}")
        db_file = layout.db_file(device_path, self.kind, partition, name_hash)
        broker = self.broker_cls(db_file, timeout=self.timeout, logger=self.logger)
        try:
            answer = handler(broker, device_path, name_hash, args)
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.BadInput(f"bad {args['op']} request: {exc!r}") from None
        finally:
            # No quarantine here: a Corrupt may come from the uploaded copy, not our database
            # (the auditor finds a bad local one).
            broker.close()
        if answer is None:
            return None
        return json.dumps(answer, ensure_ascii=False).encode("utf-8")

    # -- ops --------------------------------------------------------------------------------

    def sync(
        self, broker: DatabaseBroker, device_path: str, name_hash: str, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Merge the sender's state; answer ours and how far we have its rows (``point``)."""
        fs.makedirs(layout.tmp_dir(device_path))  # an upload may come next: rsync needs the dir
        if not broker.exists():
            raise errors.NotFound("no database")
        broker.merge_peer_state(args)
        info = broker.replication_info()
        sender, sender_max = str(args["id"]), int(args["max_row"])
        point = broker.get_sync(sender)
        if info["hash"] == args["hash"] and point < sender_max:
            # Same rows: whatever the sender has, we have.
            broker.merge_syncs([{"remote_id": sender, "sync_point": sender_max}])
            point = sender_max
        info["point"] = point
        return info

    def merge_items(
        self, broker: DatabaseBroker, device_path: str, name_hash: str, args: Mapping[str, Any]
    ) -> None:
        if not broker.exists():
            raise errors.NotFound("no database")
        records = args["records"]
        if not isinstance(records, list):
            raise errors.BadInput("records must be a list")
        broker.merge_peer_items(records, str(args["source"]), int(args["point"]))
        return None

    def merge_syncs(
        self, broker: DatabaseBroker, device_path: str, name_hash: str, args: Mapping[str, Any]
    ) -> None:
        if not broker.exists():
            raise errors.NotFound("no database")
        points = [
            {"remote_id": str(p["remote_id"]), "sync_point": int(p["sync_point"])}
            for p in args["syncs"]
        ]
        broker.merge_syncs(points, incoming=True)
        return None

    def complete_rsync(
        self, broker: DatabaseBroker, device_path: str, name_hash: str, args: Mapping[str, Any]
    ) -> None:
        """Install an uploaded copy where no database exists (merge it if one appeared)."""
        tmp = tmp_upload_path(device_path, args["tmp"])
        if broker.exists():
            return self.rsync_then_merge(broker, device_path, name_hash, args)
        copy = self._open_upload(tmp, name_hash)
        try:
            info = copy.get_info(merge=False)
            copy.become_copy_of(info["id"], copy.get_max_row())
        finally:
            copy.close()
        fs.makedirs(broker.db_dir)
        try:
            os.link(tmp, broker.db_file)
        except FileExistsError:  # created by a PUT meanwhile: fold the copy in instead
            return self.rsync_then_merge(broker, device_path, name_hash, args)
        fs.fsync_dir(broker.db_dir)
        remove_with_sidecars(tmp)
        return None

    def rsync_then_merge(
        self, broker: DatabaseBroker, device_path: str, name_hash: str, args: Mapping[str, Any]
    ) -> None:
        """Merge every row, the state and the incoming sync points of an uploaded copy."""
        tmp = tmp_upload_path(device_path, args["tmp"])
        if not broker.exists():
            raise errors.NotFound("no database")
        copy = self._open_upload(tmp, name_hash)
        try:
            source = copy.replication_info()
            point = -1
            while True:
                rows = copy.get_records_since(point, MERGE_BATCH)
                if not rows:
                    break
                point = rows[-1][0]
                broker.merge_peer_items([r[1:] for r in rows], source["id"], point)
                green.sleep(0)
            broker.merge_peer_state(source)
            broker.merge_syncs(copy.get_syncs(incoming=True), incoming=True)
        finally:
            copy.close()
            remove_with_sidecars(tmp)
        return None

    def _open_upload(self, tmp: str, name_hash: str) -> DatabaseBroker:
        """The uploaded copy, checked to be this kind and this database; NotFound if absent."""
        if not os.path.exists(tmp):
            raise errors.NotFound("no uploaded copy")
        copy = self.broker_cls(tmp, timeout=self.timeout, logger=self.logger)
        try:
            info = copy.get_info(merge=False)
            if layout.db_hash(info["account"], info.get("container")) != name_hash:
                raise errors.BadInput("uploaded copy is another database")
        except (errors.Corrupt, errors.BadInput):
            copy.close()
            remove_with_sidecars(tmp)
            raise
        return copy


class ReplicateVerb:
    """The ``REPLICATE`` handler of the account and container servers (mix in before
    ``StorageServer``; the server sets ``self.rpc``): 200 with JSON, or 204."""

    rpc: ReplicationRpc
    device_path: Callable[[str], str]

    def REPLICATE(self, req: Request) -> Response:
        device, partition, name_hash = parse_path(req.environ["PATH_INFO"])
        if (req.content_length or 0) > MAX_BODY:
            raise errors.TooLarge("REPLICATE body too large")
        answer = self.rpc.dispatch(self.device_path(device), partition, name_hash, req.body)
        if answer is None:
            return Response(status=204)
        return Response(status=200, body=answer, content_type="application/json")
