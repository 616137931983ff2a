"""AccountReaper: ``swiftlite-account-reaper CONF [once]`` empties accounts that were DELETEd.

A pass walks the account databases on this server's devices. An account is reaped here only
when its status is DELETED, its DELETE is older than ``delay_reaping`` seconds, and this device
is one of the primaries of its partition. The primaries share the work as Swift's reaper does:
the replica with index *i* takes the containers whose ``int(md5(name), 16) % replicas == i``, so
the replicas never race over one container and every container has one reaper.

Its containers are the account rows still live, or deleted since the account's DELETE (a
container deleted on some replicas only is reported deleted by those, and must still be reaped
on the others). For each container it takes:

1. list its objects from every container replica (``GET ...?format=json`` with a marker, page
   by page; the union, since one replica may still list what another saw deleted);
2. DELETE every object on every object replica of the container's policy (its ring, and
   ``X-Backend-Storage-Policy-Index`` as the listings gave it), straight to the object servers,
   with ``X-Timestamp`` now and ``X-Container-Host/-Partition/-Device`` naming container replica *i*
   for object replica *i*, so the listings empty as the objects go;
3. DELETE the container on every container replica with ``X-Account-Host/-Partition/-Device``
   (the container server reports the deletion even to a deleted account, see
   ``container/updater.py``). A replica still listing objects answers 409 and the container is
   retried on the next pass.

The account database itself stays DELETED; the account replicator removes it ``reclaim_age``
after the DELETE, once it lists no container.

Summary per pass: accounts (DELETED accounts whose share here is empty after the pass),
containers_deleted and objects_deleted (this pass), containers_remaining, objects_remaining,
failures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.account.broker import AccountBroker
from swiftlite.common import daemon, errors, fs, green, logs, reserved, update_targets
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.client import Response, direct_request
from swiftlite.common.policies import INDEX_HEADER, ring_name
from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout
from swiftlite.ring import Ring, RingError
from swiftlite.ring.local import is_local
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet

LISTING_LIMIT = 1000
STAT_KEYS = (
    "accounts",
    "containers_deleted",
    "objects_deleted",
    "containers_remaining",
    "objects_remaining",
    "failures",
)


@dataclass(frozen=True)
class AccountReaperOptions(DeviceOptions):
    bind_ip: str = "127.0.0.1"
    bind_port: int = 6202
    interval: float = 3600.0
    concurrency: int = 25
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    # Seconds after the account DELETE before its data is reaped (time to undo a mistake).
    delay_reaping: float = 0.0
    db_lock_timeout: float = 25.0
    recon_cache_path: str | None = None


def container_shard(container: str, replicas: int) -> int:
    """Which account replica reaps ``container`` (Swift's rule)."""
    digest = hashlib.md5(container.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest, 16) % replicas


class AccountReaper(daemon.Daemon):
    name = "account-reaper"
    recon_kind = "account"
    section = "account-reaper"
    options: AccountReaperOptions

    def __init__(self, options: AccountReaperOptions, logger: Any = None) -> None:
        super().__init__(options, logger)
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        self.rings = RingSet(options.swift_dir)

    def ring(self, kind: str) -> Ring:
        return self.rings.get(kind)

    # -- the pass ---------------------------------------------------------------------------

    def run_once(self) -> dict[str, Any]:
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        try:
            for kind in ("account", "container", "object"):
                self.ring(kind)
        except Exception as exc:  # noqa: BLE001 - a missing or bad ring ends the pass, logged
            self.logger.error("%s: cannot read the rings: %s", self.name, exc)
            return {**self.stats, "error": f"ring: {exc}"}
        for db_path, shard in self._deleted_accounts():
            try:
                self.reap_account(db_path, shard)
            except (errors.SwiftliteError, OSError) as exc:
                self.stats["failures"] += 1
                self.logger.error("%s: %s: %s", self.name, db_path, exc)
        return dict(self.stats)

    def _deleted_accounts(self) -> Iterator[tuple[str, int]]:
        """``(db path, replica index)`` of each DELETED account this server reaps."""
        ring = self.ring("account")
        horizon = Timestamp(max(0.0, time.time() - self.options.delay_reaping))
        for device, device_path in fs.local_devices(self.options.devices, self.options.mount_check):
            for db_path in layout.walk_db_files(device_path, layout.ACCOUNT):
                part = layout.parse_db_path(db_path).partition
                shard = self._my_index(ring.get_part_nodes(part), device)
                if shard is None:
                    continue  # a handoff copy: the primaries reap
                broker = AccountBroker(db_path, timeout=self.options.db_lock_timeout)
                try:
                    info = broker.get_info(merge=False)
                finally:
                    broker.close()
                if info["status"] == "DELETED" and Timestamp(info["delete_timestamp"]) <= horizon:
                    yield db_path, shard

    def _my_index(self, nodes: Sequence[Node], device: str) -> int | None:
        for index, node in enumerate(nodes):
            local = is_local(node, self.options.bind_ip, self.options.bind_port)
            if local and node.device == device:
                return index
        return None

    # -- one account ------------------------------------------------------------------------

    def reap_account(self, db_path: str, shard: int) -> bool:
        """Reap this replica's share of the account's containers; True when all are gone."""
        broker = AccountBroker(db_path, timeout=self.options.db_lock_timeout)
        try:
            info = broker.get_info()
            names = list(self._container_names(broker, info["delete_timestamp"]))
        finally:
            broker.close()
        account = info["account"]
        account_part, account_nodes = self.ring("account").get_nodes(account)
        replicas = len(account_nodes)
        mine = [c for c in names if container_shard(c, replicas) == shard]
        pool = green.GreenPool(max(1, self.options.concurrency))
        results = list(
            pool.imap(lambda c: self.reap_container(account, account_part, account_nodes, c), mine)
        )
        done = all(results)
        if done:
            self.stats["accounts"] += 1
            self.logger.info("%s: account %s: %d containers reaped", self.name, account, len(mine))
        return done

    @staticmethod
    def _container_names(broker: AccountBroker, since: str) -> Iterator[str]:
        marker = ""
        while names := broker.container_names_for_reaper(marker, LISTING_LIMIT, since):
            yield from names
            marker = names[-1]

    # -- one container ----------------------------------------------------------------------

    def reap_container(
        self, account: str, account_part: int, account_nodes: Sequence[Node], container: str
    ) -> bool:
        part, nodes = self.ring("container").get_nodes(account, container)
        objects_ok = True
        listed = False
        marker = ""
        while True:
            listing = self._list_objects(account, container, part, nodes, marker)
            if listing is None:
                self.stats["failures"] += 1
                self.stats["containers_remaining"] += 1
                return False
            names, policy = listing
            if not names:
                break
            try:
                self.object_ring(policy)
            except RingError as exc:
                self.logger.error("%s: no ring for policy %s: %s", self.name, policy, exc)
                self.stats["failures"] += 1
                self.stats["containers_remaining"] += 1
                return False
            listed = True
            pool = green.GreenPool(max(1, self.options.concurrency))
            for ok in pool.imap(
                lambda o, p=policy: self.reap_object(account, container, o, part, nodes, p),
                names,
            ):
                objects_ok = objects_ok and ok
            marker = names[-1]
        timestamp = Timestamp.now().internal
        statuses = []
        for i, node in enumerate(nodes):
            headers = {
                "X-Timestamp": timestamp,
                "X-Account-Override-Deleted": "yes",
                **update_targets.for_request(i, account_nodes, account_part, "Account"),
            }
            statuses.append(self._send(node, "DELETE", f"/{account}/{container}", part, headers))
        if objects_ok and all(_gone(s) for s in statuses):
            if listed or any(s != 404 for s in statuses):
                self.stats["containers_deleted"] += 1  # else it was gone before this pass
            return True
        self.stats["containers_remaining"] += 1
        self.stats["failures"] += 1
        return False

    def _list_objects(
        self, account: str, container: str, part: int, nodes: Sequence[Node], marker: str
    ) -> tuple[list[str], int] | None:
        """The next object names after ``marker`` by the union of every replica's listing (a
        replica may still list objects another has seen deleted) and the container's policy
        index (``X-Backend-Storage-Policy-Index`` of the listings); no names when every
        replica says 404; None when none could say."""
        query = urllib.parse.urlencode(
            {"format": "json", "limit": str(LISTING_LIMIT), "marker": marker}
        )
        pages: list[list[str]] = []
        missing = 0
        policy = 0
        for node in nodes:
            resp = self._request(node, "GET", f"/{account}/{container}", part, {}, query)
            if resp is not None and resp.status == 404:
                missing += 1
            elif resp is not None and 200 <= resp.status < 300:
                with contextlib.suppress(ValueError, TypeError):
                    policy = int(resp.header(INDEX_HEADER) or policy)
                try:
                    pages.append([item["name"] for item in json.loads(resp.body)])
                except (ValueError, TypeError, KeyError):
                    self.logger.warning(
                        "%s: bad listing of %s", self.name, logs.escape(f"{account}/{container}")
                    )
        if not pages:
            return ([], policy) if missing == len(nodes) else None
        names = sorted(set().union(*pages))
        full = [page[-1] for page in pages if len(page) >= LISTING_LIMIT]
        if full:  # beyond the shortest full page, some replica has not been asked yet
            names = [n for n in names if n <= min(full)]
        return names, policy

    # -- one object -------------------------------------------------------------------------

    def object_ring(self, policy: int) -> Ring:
        """A policy's object ring (``object.ring.gz``, ``object-N.ring.gz``)."""
        return self.ring(ring_name(policy))

    def reap_object(
        self,
        account: str,
        container: str,
        obj: str,
        cpart: int,
        cnodes: Sequence[Node],
        policy: int = 0,
    ) -> bool:
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        timestamp = Timestamp.now().internal
        ok = True
        for i, node in enumerate(nodes):
            headers = {
                "X-Timestamp": timestamp,
                INDEX_HEADER: str(policy),
                **update_targets.for_request(i, cnodes, cpart, "Container"),
            }
            status = self._send(node, "DELETE", f"/{account}/{container}/{obj}", part, headers)
            ok = ok and _gone(status)
        self.stats["objects_deleted" if ok else "objects_remaining"] += 1
        return ok

    # -- requests ---------------------------------------------------------------------------

    def _send(
        self, node: Node, method: str, path: str, part: int, headers: dict[str, str]
    ) -> int | None:
        resp = self._request(node, method, path, part, headers)
        return None if resp is None else resp.status

    def _request(
        self,
        node: Node,
        method: str,
        path: str,
        part: int,
        headers: dict[str, str],
        query: str = "",
    ) -> Response | None:
        # the reaper deletes everything, object versioning's reserved containers included
        headers = {
            **headers,
            "User-Agent": f"account-reaper {os.getpid()}",
            reserved.ALLOW_HEADER: "true",
        }
        full = f"/{node.device}/{part}{path}"
        try:
            return direct_request(
                node.ip,
                node.port,
                method,
                full,
                headers,
                conn_timeout=self.options.conn_timeout,
                node_timeout=self.options.node_timeout,
                query=query,
            )
        except (OSError, errors.Timeout) as exc:
            self.logger.warning(
                "%s: %s %s%s failed: %s", self.name, method, node.host, logs.escape(full), exc
            )
            return None


def _gone(status: int | None) -> bool:
    return status is not None and (200 <= status < 300 or status == 404)


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-account-reaper CONF [once]``."""
    return daemon.main(
        "swiftlite-account-reaper", AccountReaper.section, AccountReaperOptions, AccountReaper, argv
    )
