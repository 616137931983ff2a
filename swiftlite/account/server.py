"""AccountServer: the account WSGI app (``egg:swiftlite#account``).

``/<dev>/<part>/<a>``: PUT creates (201) or updates (202) the account database; HEAD and GET
answer totals, metadata and the container listing; POST merges metadata; DELETE marks the
account DELETED (404 with ``X-Account-Status: Deleted`` afterwards; rows stay for the reaper).
``/<dev>/<part>/<a>/<c>``: a container server's report (``X-Put-Timestamp``,
``X-Delete-Timestamp``, ``X-Object-Count``, ``X-Bytes-Used``, ``X-Timestamp``), journaled and
answered 201, or 204 when it reports a deleted container. ``REPLICATE /<dev>/<part>/<hash>``:
database replication between account replicas (``db/rpc.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.account.broker import AccountBroker
from swiftlite.common import config, constraints, errors, intparse, logs, policies, reserved
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.headers import X_BACKEND_TIMESTAMP
from swiftlite.common.http.listing import head_or_listing
from swiftlite.common.names import BackendPath, split_backend_path
from swiftlite.common.storage_app import StorageServer
from swiftlite.common.timestamp import Timestamp, header_timestamp
from swiftlite.db import layout, rpc
from swiftlite.db.conn_pool import ConnPool
from swiftlite.db.listing import Subdir, listing_request
from swiftlite.db.metadata import live_after, metadata_updates
from swiftlite.db.rpc import ReplicationRpc

POLICY_HEADER = "X-Backend-Storage-Policy-Index"


@dataclass(frozen=True)
class AccountServerOptions(DeviceOptions):
    db_lock_timeout: float = 25.0
    log_requests: bool = True


def _count(req: Request, header: str) -> int:
    """A count or byte total from a container server: ASCII digits that fit SQLite's INTEGER
    (a larger one would be stored and then fail every read of the database)."""
    try:
        return intparse.parse_uint(req.headers[header], maximum=intparse.INT64_MAX)
    except (KeyError, ValueError):
        raise errors.BadInput(f"Missing or invalid {header}") from None


def container_row(row: Any, pols: policies.StoragePolicies | None = None) -> dict[str, Any]:
    """A broker row or Subdir as Swift's JSON account listing shape, with the container's
    ``storage_policy`` name (its index when no configured policy has it)."""
    if isinstance(row, Subdir):
        return {"subdir": row.name}
    name, count, used, put_timestamp, index = row
    policy = (pols or policies.load()).get_by_index(int(index))
    return {
        "name": name,
        "count": count,
        "bytes": used,
        "last_modified": Timestamp(put_timestamp).isoformat,
        "storage_policy": policy.name if policy is not None else str(index),
    }


def policy_stat_headers(stats: dict[int, tuple[int, int, int]]) -> dict[str, str]:
    """``X-Account-Storage-Policy-<Name>-Container-Count|Object-Count|Bytes-Used`` per policy
    holding containers, named as the config names it (policies no longer configured: none)."""
    pols = policies.load()
    headers = {}
    for index, (containers, objects, used) in sorted(stats.items()):
        policy = pols.get_by_index(index)
        if policy is None:
            continue
        prefix = f"X-Account-Storage-Policy-{policy.name}-"
        headers[prefix + "Container-Count"] = str(containers)
        headers[prefix + "Object-Count"] = str(objects)
        headers[prefix + "Bytes-Used"] = str(used)
    return headers


class AccountServer(rpc.ReplicateVerb, StorageServer):
    server_type = "account"
    allowed_methods = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "REPLICATE"})

    def __init__(
        self,
        options: AccountServerOptions,
        logger: logging.Logger | None = None,
        limits: constraints.Constraints | None = None,
    ) -> None:
        logger = logger or logs.get_logger("account-server", options.log_file, options.log_level)
        super().__init__(options.devices, options.mount_check, logger, options.log_requests)
        self.options = options
        self.limits = limits or constraints.load()
        self.rpc = ReplicationRpc(layout.ACCOUNT, AccountBroker, options.db_lock_timeout, logger)
        self.db_pool = ConnPool()  # connections kept open between requests (db/conn_pool.py)

    def _path(self, req: Request, allow_container: bool) -> BackendPath:
        path = split_backend_path(
            req.environ["PATH_INFO"], 3, 4, allow_reserved=reserved.allowed(req.headers)
        )
        if path.container is not None and not allow_container:
            raise errors.BadInput("Invalid path: no container expected")
        constraints.check_account_name(path.account, self.limits)
        if path.container is not None:
            constraints.check_container_name(path.container, self.limits)
        return path

    def _broker(self, path: BackendPath) -> AccountBroker:
        return AccountBroker.at(
            self.device_path(path.device),
            path.partition,
            path.account,
            timeout=self.options.db_lock_timeout,
            logger=self.logger,
            pool=self.db_pool,
        )

    def _metadata(self, req: Request, ts: Timestamp) -> dict[str, tuple[str, str]]:
        constraints.check_metadata(req.headers, "account", self.limits)
        return metadata_updates(req.headers, "account", ts)

    def _store_metadata(self, broker: AccountBroker, updates: dict[str, tuple[str, str]]) -> None:
        if updates:
            merged = live_after(broker.metadata, updates)
            constraints.check_metadata(merged, "account", self.limits)
            broker.update_metadata(updates)

    @staticmethod
    def _deleted_response(info: dict[str, Any]) -> Response:
        resp = Response(status=404, headers={X_BACKEND_TIMESTAMP: info["created_at"]})
        if info["status"] == "DELETED":
            resp.headers["X-Account-Status"] = "Deleted"
        return resp

    def _info_headers(self, info: dict[str, Any]) -> dict[str, str]:
        return {
            "X-Account-Container-Count": str(info["container_count"]),
            "X-Account-Object-Count": str(info["object_count"]),
            "X-Account-Bytes-Used": str(info["bytes_used"]),
            "X-Timestamp": Timestamp(info["created_at"]).normal,
            "X-Put-Timestamp": Timestamp(info["put_timestamp"]).normal,
            X_BACKEND_TIMESTAMP: info["created_at"],
            "X-Backend-Put-Timestamp": info["put_timestamp"],
            "X-Backend-Delete-Timestamp": info["delete_timestamp"],
            "X-Backend-Status-Changed-At": info["status_changed_at"],
        }

    # -- verbs ------------------------------------------------------------------------------

    def PUT(self, req: Request) -> Response:
        path = self._path(req, allow_container=True)
        if path.container is not None:
            return self._put_container(req, path)
        ts = header_timestamp(req.headers)
        updates = self._metadata(req, ts)
        broker = self._broker(path)
        with broker:
            created = broker.initialize(ts)
            if not created:
                info = broker.get_info(merge=False)
                if info["status"] == "DELETED":
                    return Response(status=403, body=b"Recently deleted")
                created = AccountBroker.info_is_deleted(info)
                broker.update_put_timestamp(ts)
                if broker.is_deleted():
                    raise errors.Conflict(
                        "account deleted after this put", info["delete_timestamp"]
                    )
            self._store_metadata(broker, updates)
        return Response(status=201 if created else 202)

    def _put_container(self, req: Request, path: BackendPath) -> Response:
        put_ts = header_timestamp(req.headers, "X-Put-Timestamp")
        delete_ts = header_timestamp(req.headers, "X-Delete-Timestamp")
        count = _count(req, "X-Object-Count")
        used = _count(req, "X-Bytes-Used")
        stats_ts = Timestamp.now()
        if "X-Timestamp" in req.headers:
            stats_ts = header_timestamp(req.headers)
        try:
            policy = intparse.parse_uint(req.headers.get(POLICY_HEADER, "0"), 10)
        except ValueError:
            raise errors.BadInput(f"Invalid {POLICY_HEADER}") from None
        broker = self._broker(path)
        with broker:
            if not broker.exists():
                if not path.account.startswith(self.limits.auto_create_account_prefix):
                    raise errors.NotFound("no such account")
                broker.initialize(stats_ts)
            override = req.headers.get("X-Account-Override-Deleted", "").lower() == "yes"
            if not override and AccountBroker.info_is_deleted(broker.get_info(merge=False)):
                raise errors.NotFound("account deleted")
            broker.put_container(
                path.container or "", put_ts, delete_ts, count, used, stats_ts, policy
            )
        return Response(status=204 if delete_ts > put_ts else 201)

    def HEAD(self, req: Request) -> Response:
        return self._get_or_head(req, listing=False)

    def GET(self, req: Request) -> Response:
        return self._get_or_head(req, listing=True)

    def _get_or_head(self, req: Request, listing: bool) -> Response:
        path = self._path(req, allow_container=False)
        allow = reserved.allowed(req.headers)
        listing_params, content_type = listing_request(
            req.query_string, req.headers.get("Accept"), self.limits.account_listing_limit, allow
        )
        if content_type is None:
            return Response(status=406)
        broker = self._broker(path)
        with broker:
            info = self._existing_info(broker)
            if AccountBroker.info_is_deleted(info):
                return self._deleted_response(info)
            headers = self._info_headers(info)
            headers.update(policy_stat_headers(broker.policy_stats()))
            headers.update(broker.user_metadata())
            rows = broker.list_containers(listing_params, merge=False) if listing else None
        listed = None
        if rows is not None:
            pols = policies.load()
            listed = [container_row(r, pols) for r in rows]
        last_modified = Timestamp(info["put_timestamp"]).http_date
        return head_or_listing(
            "account", path.account, listed, content_type, headers, last_modified
        )

    @staticmethod
    def _existing_info(broker: AccountBroker, merge: bool = True) -> dict[str, Any]:
        """The info row of an account that has a database (NotFound when it has none)."""
        if not broker.exists():
            raise errors.NotFound("no such account")
        return broker.get_info(merge=merge)

    def POST(self, req: Request) -> Response:
        path = self._path(req, allow_container=False)
        ts = header_timestamp(req.headers)
        updates = self._metadata(req, ts)
        broker = self._broker(path)
        with broker:
            info = self._existing_info(broker, merge=False)
            if AccountBroker.info_is_deleted(info):
                return self._deleted_response(info)
            self._store_metadata(broker, updates)
        return Response(status=204)

    def DELETE(self, req: Request) -> Response:
        path = self._path(req, allow_container=False)
        ts = header_timestamp(req.headers)
        broker = self._broker(path)
        with broker:
            info = self._existing_info(broker)
            if AccountBroker.info_is_deleted(info):
                return self._deleted_response(info)
            broker.delete_db(ts)
        return Response(status=204)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> AccountServer:
    options = config.parse_options(
        AccountServerOptions, local_conf, global_conf, where="[app:account-server]"
    )
    return AccountServer(options)
