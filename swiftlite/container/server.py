"""ContainerServer: the container WSGI app (``egg:swiftlite#container``).

``/<dev>/<part>/<a>/<c>``: PUT creates (201) or updates (202) the database and tells the
account; HEAD and GET answer totals, metadata and listings; POST merges metadata; DELETE marks
the container deleted (409 while it lists objects). ``/<dev>/<part>/<a>/<c>/<o>``: the object
server's PUT/DELETE updates, journaled in ``<hash>.pending`` and answered at once (201/204), 404
when the container database does not exist. Containers whose totals changed are reported to the
account in batches every ``account_update_interval`` seconds by a green thread; the
``swiftlite-container-updater`` daemon catches anything left over. ``REPLICATE
/<dev>/<part>/<hash>``: database replication between container replicas (``db/rpc.py``).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring_ascii as _json_str  # type: ignore[attr-defined]
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors, green, intparse, logs, policies, reserved
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.headers import X_BACKEND_TIMESTAMP
from swiftlite.common.http.listing import JSON, head_or_listing
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.names import BackendPath, split_backend_path
from swiftlite.common.storage_app import StorageServer, json_body
from swiftlite.common.timestamp import Timestamp, header_timestamp
from swiftlite.container.account_report import (
    AccountReporter,
    format_hint,
    nodes_from_headers,
)
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout, rpc
from swiftlite.db.conn_pool import ConnPool
from swiftlite.db.listing import Subdir, listing_request
from swiftlite.db.metadata import live_after, metadata_updates
from swiftlite.db.rpc import ReplicationRpc

# Stored as metadata beside X-Container-Meta-* and -Sysmeta-* (the proxy filters them).
SAVE_HEADERS = (
    "X-Container-Read",
    "X-Container-Write",
    "X-Container-Sync-To",
    "X-Container-Sync-Key",
    "X-Versions-Location",
    "X-History-Location",
)
POLICY_HEADER = "X-Backend-Storage-Policy-Index"


@dataclass(frozen=True)
class ContainerServerOptions(DeviceOptions):
    conn_timeout: float = 0.5
    node_timeout: float = 3.0
    db_lock_timeout: float = 25.0
    account_update_interval: float = 2.0
    account_update_concurrency: int = 8
    log_requests: bool = True


def policy_index(req: Request, header: str = POLICY_HEADER) -> int | None:
    """The policy index a header names (None without it); 400 unless a policy has it."""
    value = req.headers.get(header)
    if value is None:
        return None
    try:
        index = intparse.parse_uint(value, 10)
    except ValueError:
        raise errors.BadInput(f"Invalid {header}") from None
    if index not in policies.load():
        raise errors.BadInput(f"Invalid {header} {index}")
    return index


MAX_UPDATE_BODY = 8 << 20  # bytes of one UPDATE body (object servers send at most 1000 rows)


def update_rows(
    body: bytes, path: BackendPath, limits: constraints.Constraints, policy: int
) -> list[ListingUpdate]:
    """The object updates of an ``UPDATE`` body; BadInput (400) for anything malformed.

    The body is a JSON list of rows, ``[name, created_at, size, content_type, etag, deleted]``
    (``ListingUpdate.to_row``).
    """
    items = json_body(body, "UPDATE")
    if not isinstance(items, list) or not items:
        raise errors.BadInput("UPDATE body must be a non-empty list of rows")
    found = []
    for item in items:
        update = ListingUpdate.from_row(path.account, path.container or "", item, policy)
        constraints.check_object_name(update.obj, limits)
        found.append(update)
    return found


def object_row(row: Any) -> dict[str, Any]:
    """A broker row or Subdir as Swift's JSON listing shape."""
    if isinstance(row, Subdir):
        return {"subdir": row.name}
    name, created_at, size, content_type, etag = row
    return {
        "name": name,
        "hash": etag,
        "bytes": size,
        "content_type": content_type,
        "last_modified": _isoformat(created_at),
    }


def object_rows_json(rows: Sequence[Any]) -> bytes:
    """``json.dumps([object_row(r) for r in rows])``, byte for byte, about 2.4 times faster.

    A full page is 10,000 rows, and building a dict per row for ``json.dumps`` was the larger
    part of the container server's CPU for it. Each row is formatted as text instead; strings
    go through ``encode_basestring_ascii``, the escaper ``json.dumps`` itself uses, and a size
    that is not an int (a peer's odd row) through ``json.dumps``.
    """
    parts = []
    for row in rows:
        if isinstance(row, Subdir):
            parts.append(f'{{"subdir": {_json_str(row.name)}}}')
            continue
        name, created_at, size, content_type, etag = row
        size_text = size if type(size) is int else json.dumps(size)
        parts.append(
            f'{{"name": {_json_str(name)}, "hash": {_json_str(etag)}, "bytes": {size_text}, '
            f'"content_type": {_json_str(content_type)}, '
            f'"last_modified": "{_isoformat(created_at)}"}}'
        )
    return ("[" + ", ".join(parts) + "]").encode("ascii")


def _isoformat(internal: str) -> str:
    # "1700000000.12345[_offset]" -> "2023-11-14T22:13:20.123450" without Timestamp objects:
    # a listing page renders 10,000 of these, and many share their second.
    whole, _, rest = internal.partition(".")
    return f"{_iso_seconds(whole)}.{rest[:5]}0"


@functools.lru_cache(maxsize=4096)
def _iso_seconds(whole: str) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(whole)))


class ContainerServer(rpc.ReplicateVerb, StorageServer):
    server_type = "container"
    allowed_methods = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "REPLICATE", "UPDATE"})

    def __init__(
        self,
        options: ContainerServerOptions,
        logger: logging.Logger | None = None,
        limits: constraints.Constraints | None = None,
    ) -> None:
        logger = logger or logs.get_logger("container-server", options.log_file, options.log_level)
        super().__init__(options.devices, options.mount_check, logger, options.log_requests)
        self.options = options
        self.limits = limits or constraints.load()
        self.rpc = ReplicationRpc(
            layout.CONTAINER, ContainerBroker, options.db_lock_timeout, logger
        )
        self.reporter = AccountReporter(
            options.swift_dir, options.conn_timeout, options.node_timeout, logger
        )
        self._dirty: set[str] = set()  # database files whose totals may have changed
        self.db_pool = ConnPool()  # connections kept open between requests (db/conn_pool.py)
        self._flusher: Any = None

    # -- plumbing ---------------------------------------------------------------------------

    def _path(self, req: Request) -> BackendPath:
        path = split_backend_path(
            req.environ["PATH_INFO"], 4, 5, allow_reserved=reserved.allowed(req.headers)
        )
        if path.container is None:
            raise errors.BadInput("Invalid path: no container")
        constraints.check_account_name(path.account, self.limits)
        constraints.check_container_name(path.container, self.limits)
        if path.obj is not None:
            constraints.check_object_name(path.obj, self.limits)
        return path

    def _broker(self, path: BackendPath) -> ContainerBroker:
        return ContainerBroker.at(
            self.device_path(path.device),
            path.partition,
            path.account,
            path.container or "",
            timeout=self.options.db_lock_timeout,
            logger=self.logger,
            pool=self.db_pool,
        )

    def _info_headers(self, info: dict[str, Any], deleted: bool) -> dict[str, str]:
        headers = {
            X_BACKEND_TIMESTAMP: info["created_at"],
            "X-Backend-Put-Timestamp": info["put_timestamp"],
            "X-Backend-Delete-Timestamp": info["delete_timestamp"],
            "X-Backend-Status-Changed-At": info["status_changed_at"],
            POLICY_HEADER: str(info["storage_policy_index"]),
        }
        if deleted:
            headers["X-Backend-Deleted"] = "true"
        else:
            headers.update(
                {
                    "X-Container-Object-Count": str(info["object_count"]),
                    "X-Container-Bytes-Used": str(info["bytes_used"]),
                    "X-Timestamp": Timestamp(info["created_at"]).normal,
                    "X-Put-Timestamp": Timestamp(info["put_timestamp"]).normal,
                }
            )
        return headers

    def _metadata(self, req: Request, ts: Timestamp) -> dict[str, tuple[str, str]]:
        constraints.check_metadata(req.headers, "container", self.limits)
        return metadata_updates(req.headers, "container", ts, SAVE_HEADERS)

    def _store_metadata(self, broker: ContainerBroker, updates: dict[str, tuple[str, str]]) -> None:
        if updates:
            constraints.check_metadata(
                live_after(broker.metadata, updates), "container", self.limits
            )
            broker.update_metadata(updates)

    def _tell_account(self, req: Request, broker: ContainerBroker) -> Response | None:
        """Report to the account nodes named in the request; 404 if every one said 404."""
        nodes = nodes_from_headers(req.headers)
        if not nodes:
            return None
        broker.set_account_hint(format_hint(nodes))
        result = self.reporter.report(
            broker, nodes, trans_id=req.headers.get("X-Trans-Id", "-"), force=True
        )
        if result.all_not_found:
            return Response(status=404, body=b"Account not found")
        return None

    # -- batched account updates ------------------------------------------------------------

    def _mark_dirty(self, broker: ContainerBroker) -> None:
        self._dirty.add(broker.db_file)
        if self.options.account_update_interval > 0 and self._flusher is None:
            self._flusher = green.spawn(self._flush_forever)

    def _flush_forever(self) -> None:
        while True:
            green.sleep(self.options.account_update_interval)
            try:
                self.flush_account_updates()
            except Exception:
                self.logger.exception("batched account update failed")

    def flush_account_updates(self) -> int:
        """Report every container changed since the last flush; returns how many were sent."""
        dirty, self._dirty = self._dirty, set()
        pool = green.GreenPool(max(1, self.options.account_update_concurrency))
        sent = 0

        def one(db_file: str) -> None:
            nonlocal sent
            broker = ContainerBroker(
                db_file, timeout=self.options.db_lock_timeout, logger=self.logger, pool=self.db_pool
            )
            try:
                if broker.exists() and self.reporter.report(broker).sent:
                    sent += 1
            except errors.SwiftliteError as exc:
                self.logger.warning("account update for %s deferred: %s", db_file, exc)
            finally:
                broker.close()

        for db_file in dirty:
            pool.spawn_n(one, db_file)
        pool.waitall()
        return sent

    # -- object rows ------------------------------------------------------------------------

    def _object_update(self, req: Request, path: BackendPath) -> Response:
        """The object server's per-object PUT or DELETE: one row, journaled."""
        policy = policy_index(req) or 0
        update = ListingUpdate.from_headers(
            req.method, path.account, path.container or "", path.obj or "", req.headers
        )
        broker = self._broker(path)
        with broker:
            self._require_for_rows(broker, path, update.timestamp, policy)
            broker.put_records([replace(update, policy=policy).to_record()])
        self._mark_dirty(broker)
        return Response(status=201 if req.method == "PUT" else 204)

    def _require_for_rows(
        self, broker: ContainerBroker, path: BackendPath, ts: Timestamp, policy: int
    ) -> None:
        """The container must exist to take object rows (auto-created for hidden accounts)."""
        if not broker.exists():
            if not path.account.startswith(self.limits.auto_create_account_prefix):
                raise errors.NotFound("no such container")
            broker.initialize(ts, storage_policy_index=policy)

    # -- verbs ------------------------------------------------------------------------------

    def PUT(self, req: Request) -> Response:
        path = self._path(req)
        if path.obj is not None:
            return self._object_update(req, path)
        ts = header_timestamp(req.headers)
        updates = self._metadata(req, ts)
        requested = policy_index(req)
        default = policy_index(req, policies.DEFAULT_HEADER)
        if requested is not None:
            new_policy = requested
        else:
            new_policy = default if default is not None else policies.load().default.idx
        broker = self._broker(path)
        with broker:
            created = broker.initialize(ts, storage_policy_index=new_policy)
            if not created:
                conflict, created = self._update_existing(broker, ts, requested, new_policy)
                if conflict is not None:
                    return conflict
            self._store_metadata(broker, updates)
            refused = self._tell_account(req, broker)
            if refused is not None:
                return refused
        return Response(status=201 if created else 202)

    def _update_existing(
        self, broker: ContainerBroker, ts: Timestamp, requested: int | None, new_policy: int
    ) -> tuple[Response | None, bool]:
        """PUT onto an existing database: (a 409 to answer, or None; whether it was re-created).

        A deleted container comes back with ``new_policy`` (the requested or the default one);
        a live one keeps its policy, and a request for another is a 409.
        """
        info = broker.get_info()
        recreated = ContainerBroker.info_is_deleted(info)
        if recreated:
            if ts <= Timestamp(info["delete_timestamp"]):
                conflict = {X_BACKEND_TIMESTAMP: info["delete_timestamp"]}
                return Response(status=409, headers=conflict), False
            broker.recreate(ts, new_policy)
        elif requested is not None and requested != info["storage_policy_index"]:
            conflict = {POLICY_HEADER: str(info["storage_policy_index"])}
            return Response(status=409, headers=conflict), False
        broker.update_put_timestamp(ts)
        return None, recreated

    def HEAD(self, req: Request) -> Response:
        return self._get_or_head(req, listing=False)

    def GET(self, req: Request) -> Response:
        return self._get_or_head(req, listing=True)

    def _get_or_head(self, req: Request, listing: bool) -> Response:
        path = self._path(req)
        if path.obj is not None:
            raise errors.BadInput("Invalid path: listings have no object")
        allow = reserved.allowed(req.headers)
        listing_params, content_type = listing_request(
            req.query_string, req.headers.get("Accept"), self.limits.container_listing_limit, allow
        )
        if content_type is None:
            return Response(status=406)
        broker = self._broker(path)
        with broker:
            if not broker.exists():
                raise errors.NotFound("no such container")
            info = broker.get_info()
            deleted = ContainerBroker.info_is_deleted(info)
            headers = self._info_headers(info, deleted)
            if deleted:
                return Response(status=404, headers=headers)
            headers.update(broker.user_metadata())
            rows = broker.list_objects(listing_params, merge=False) if listing else None
        last_modified = Timestamp(info["put_timestamp"]).http_date
        listed: list[dict[str, Any]] | None = None
        rendered = None
        if rows is not None and content_type == JSON:
            listed, rendered = [], object_rows_json(rows)  # the JSON page as text (no dicts)
        elif rows is not None:
            listed = [object_row(r) for r in rows]
        return head_or_listing(
            "container",
            path.container or "",
            listed,
            content_type,
            headers,
            last_modified,
            rendered=rendered,
        )

    def POST(self, req: Request) -> Response:
        path = self._path(req)
        if path.obj is not None:
            raise errors.BadInput("Invalid path: POST has no object")
        ts = header_timestamp(req.headers)
        updates = self._metadata(req, ts)
        broker = self._broker(path)
        with broker:
            if not broker.exists() or broker.is_deleted():
                raise errors.NotFound("no such container")
            broker.update_put_timestamp(ts)
            self._store_metadata(broker, updates)
        self._mark_dirty(broker)
        return Response(status=204)

    def DELETE(self, req: Request) -> Response:
        path = self._path(req)
        if path.obj is not None:
            return self._object_update(req, path)
        ts = header_timestamp(req.headers)
        broker = self._broker(path)
        with broker:
            if not broker.exists():
                raise errors.NotFound("no such container")
            info = broker.get_info()
            if info["object_count"] + info["misplaced_object_count"] > 0:
                raise errors.Conflict("container not empty")
            existed = not ContainerBroker.info_is_deleted(info)
            broker.delete_db(ts)
            if not broker.is_deleted():
                raise errors.Conflict("container was put after this delete", info["put_timestamp"])
            refused = self._tell_account(req, broker)
            if refused is not None:
                return refused
        return Response(status=204 if existed else 404)

    def UPDATE(self, req: Request) -> Response:
        """Many object rows at once (``obj/update_batch.py``); 202, or 404 for no container."""
        path = self._path(req)
        ts = header_timestamp(req.headers)
        if path.obj is not None:
            raise errors.BadInput("UPDATE goes to a container, not an object")
        if (req.content_length or 0) > MAX_UPDATE_BODY:
            raise errors.TooLarge("UPDATE body too large")
        policy = policy_index(req) or 0
        rows = [u.to_record() for u in update_rows(req.body, path, self.limits, policy)]
        broker = self._broker(path)
        with broker:
            self._require_for_rows(broker, path, ts, policy)
            broker.put_records(rows)
        self._mark_dirty(broker)
        return Response(status=202)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> ContainerServer:
    options = config.parse_options(
        ContainerServerOptions, local_conf, global_conf, where="[app:container-server]"
    )
    return ContainerServer(options)
