"""ContainerReconciler: ``swiftlite-container-reconciler CONF [once]`` moves misplaced objects.

The queue (``container/misplaced.py``) lives in the hidden account ``.misplaced_objects``; the
container replicators fill it (``enqueue``). A pass lists the queue's containers from the
account replicas and each container's rows from its replicas (the union), and for each row
``<policy>:/<a>/<c>/<o>`` at timestamp T:

1. asks every replica of ``/<a>/<c>`` for its state and settles the container's policy as
   replication does (``misplaced.best_policy``); when no replica answers the row waits;
2. if the row's policy is the container's, there is nothing to move;
3. otherwise reads the object from the row's policy (its primaries, newest answer first), and
   writes it to the container's policy with the same content and metadata at its own
   timestamp plus offset 1, updating the container replicas (the new row, newer than the
   misplaced one, carries the right policy); a 409 (something newer there) is fine too;
4. then deletes the misplaced copy at offset 2, without a container update (the listing keeps
   the moved row), and finally drops the queue row.

A queued delete (``application/x-delete``: an object deleted under the wrong policy) is made
again in the container's policy at the tombstone's timestamp plus offset 1, with container
updates, so an older copy there cannot outlive it.

An object no longer in the row's policy (moved before, or deleted) just drops the row. A step
that fails leaves the row for the next pass. Objects travel whole in memory (``direct_client``
reads whole bodies), which suits the small objects misplacement leaves; the summary counts
rows, objects moved, rows dropped and failures.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.common import daemon, direct_client, errors, green, logs, policies, reserved
from swiftlite.common.http.headers import is_sys_or_user_meta
from swiftlite.common.policies import INDEX_HEADER
from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.obj.expirer import container_headers
from swiftlite.ring import Ring

Node = Mapping[str, Any]
LISTING_LIMIT = 1000
STAT_KEYS = ("rows", "moved", "dropped", "failures")
# object headers a moved copy keeps besides user metadata and sysmeta
_KEPT = ("content-type", "etag", "x-delete-at", "content-encoding", "content-disposition")


@dataclass(frozen=True)
class ContainerReconcilerOptions:
    swift_dir: str = "/etc/swiftlite"
    interval: float = 30.0
    concurrency: int = 4
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    recon_cache_path: str | None = None
    log_level: str = "INFO"
    log_file: str | None = None


def enqueue(
    ring: Ring, rows: Sequence[Sequence[Any]], account: str, container: str, send: Any
) -> int:
    """Queue misplaced container rows ``(name, created_at, size, type, etag, deleted,
    policy)`` on every replica of their queue container; how many every replica took."""
    queued = 0
    for name, created_at, size, _ctype, etag, deleted, policy in rows:
        qcont = misplaced.queue_container(created_at)
        qname = misplaced.queue_name(int(policy), account, container, name)
        part, nodes = ring.get_nodes(misplaced.MISPLACED_ACCOUNT, qcont)
        headers = {
            "X-Timestamp": Timestamp(created_at).internal,
            "X-Size": str(size),
            "X-Content-Type": misplaced.DELETE_OP if deleted else misplaced.PUT_OP,
            "X-Etag": etag,
        }
        path = f"/{part}/{misplaced.MISPLACED_ACCOUNT}/{qcont}/{qname}"
        statuses = [send(node, "PUT", path, headers) for node in nodes]
        queued += all(s is not None and 200 <= s < 300 for s in statuses)
    return queued


class ContainerReconciler(daemon.Daemon):
    name = "container-reconciler"
    recon_kind = "container"
    section = "container-reconciler"
    options: ContainerReconcilerOptions

    def __init__(
        self, options: ContainerReconcilerOptions, logger: Any = None, request: Any = None
    ) -> None:
        super().__init__(options, logger)
        self.request = request or direct_client.direct_request
        self._rings: dict[str, Ring] = {}
        self.stats = dict.fromkeys(STAT_KEYS, 0)

    def ring(self, name: str) -> Ring:
        if name not in self._rings:
            self._rings[name] = Ring(os.path.join(self.options.swift_dir, f"{name}.ring.gz"))
        return self._rings[name]

    def object_ring(self, policy: int) -> Ring:
        return self.ring(policies.ring_name(policy))

    # -- the pass ---------------------------------------------------------------------------

    def run_once(self) -> dict[str, Any]:
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        queue = misplaced.MISPLACED_ACCOUNT
        apart, anodes = self.ring("account").get_nodes(queue)
        containers = self._listing(anodes, f"/{apart}/{queue}") or []
        pool = green.GreenPool(max(1, self.options.concurrency))
        for qcont in containers:
            cpart, cnodes = self.ring("container").get_nodes(queue, qcont)
            rows = self._listing(cnodes, f"/{cpart}/{queue}/{qcont}", full=True) or []
            for row in rows:
                pool.spawn_n(self._one_safely, qcont, cpart, cnodes, row)
        pool.waitall()
        return dict(self.stats)

    def _listing(self, nodes: Sequence[Node], path: str, full: bool = False) -> list[Any] | None:
        """The union of every replica's JSON listing of ``path`` (names, or rows if
        ``full``); None when no replica answered."""
        found: dict[str, Any] = {}
        answered = False
        marker = ""
        while True:
            query = urllib.parse.urlencode(
                {"format": "json", "limit": str(LISTING_LIMIT), "marker": marker}
            )
            page: dict[str, Any] = {}
            for node in nodes:
                resp = self._call(node, "GET", path, {}, query=query)
                if resp is None or resp.status not in (200, 204, 404):
                    continue
                answered = True
                if resp.status == 200:
                    for item in json.loads(resp.body or b"[]"):
                        page.setdefault(item["name"], item)
            found.update(page)
            if len(page) < LISTING_LIMIT:
                break
            marker = max(page)
        if not answered:
            return None
        return [found[n] for n in sorted(found)] if full else sorted(found)

    def _one_safely(self, qcont: str, cpart: int, cnodes: Sequence[Node], row: Any) -> None:
        self.stats["rows"] += 1
        try:
            done = self.reconcile(row["name"], row.get("content_type") == misplaced.DELETE_OP)
        except Exception:
            self.logger.exception("%s: cannot reconcile %r", self.name, row.get("name"))
            done = False
        if not done:
            self.stats["failures"] += 1
            return
        headers = {"X-Timestamp": Timestamp.now().internal}
        path = f"/{cpart}/{misplaced.MISPLACED_ACCOUNT}/{qcont}/{row['name']}"
        for node in cnodes:
            self._call(node, "DELETE", path, headers)

    # -- one row ----------------------------------------------------------------------------

    def reconcile(self, qname: str, deleted: bool = False) -> bool:
        """Move one queued object (or repeat its delete); True when the row is done with."""
        parsed = misplaced.parse_queue_name(qname)
        if parsed is None:
            self.logger.warning("%s: dropping malformed queue row %r", self.name, qname)
            self.stats["dropped"] += 1
            return True
        policy, account, container, obj = parsed
        correct = self.container_policy(account, container)
        if correct is None:
            return False
        if correct == policy:
            self.stats["dropped"] += 1
            return True
        source = self._read(policy, account, container, obj)
        if source is None:
            return False
        if deleted:
            return self._repeat_delete(correct, account, container, obj, source)
        if source.status == 404:
            self.stats["dropped"] += 1  # moved already, or deleted meanwhile
            return True
        data_ts = Timestamp(
            source.header("x-backend-data-timestamp") or source.header("x-backend-timestamp") or 0
        )
        if not self._write(correct, account, container, obj, source, Timestamp(data_ts, 1)):
            return False
        if not self._delete(policy, account, container, obj, Timestamp(data_ts, 2)):
            return False
        self.stats["moved"] += 1
        return True

    def _repeat_delete(
        self,
        policy: int,
        account: str,
        container: str,
        obj: str,
        source: direct_client.DirectResponse,
    ) -> bool:
        """A delete made under the wrong policy, made again in ``policy`` (offset 1, so its
        listing row outranks the misplaced one); an object there newer than it stays (409)."""
        stamp = source.header("x-backend-timestamp")
        if source.status != 404 or not stamp:
            self.stats["dropped"] += 1  # recreated in the wrong policy since: its PUT row moves
            return True
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        cpart, cnodes = self.ring("container").get_nodes(account, container)
        base = {"X-Timestamp": Timestamp(stamp, 1).internal, INDEX_HEADER: str(policy)}
        path = f"/{part}/{account}/{container}/{obj}"
        good = 0
        for i, node in enumerate(nodes):
            headers = {**base, **container_headers(cpart, list(cnodes), i)}
            resp = self._call(node, "DELETE", path, headers)
            good += resp is not None and resp.status in (204, 404, 409)
        if good < len(nodes) // 2 + 1:
            return False
        self.stats["moved"] += 1
        return True

    def container_policy(self, account: str, container: str) -> int | None:
        part, nodes = self.ring("container").get_nodes(account, container)
        infos = []
        for node in nodes:
            resp = self._call(node, "HEAD", f"/{part}/{account}/{container}", {})
            if resp is None or resp.status not in (204, 404) or not resp.header(INDEX_HEADER):
                continue
            infos.append(
                {
                    "storage_policy_index": int(resp.header(INDEX_HEADER) or 0),
                    "put_timestamp": resp.header("x-backend-put-timestamp") or "0",
                    "delete_timestamp": resp.header("x-backend-delete-timestamp") or "0",
                    "status_changed_at": resp.header("x-backend-status-changed-at") or "0",
                    "object_count": int(resp.header("x-container-object-count") or 0),
                }
            )
        return misplaced.best_policy(infos)

    def _read(
        self, policy: int, account: str, container: str, obj: str
    ) -> direct_client.DirectResponse | None:
        """The newest copy in ``policy``; when no primary has one, a 404 carrying the newest
        tombstone's ``X-Backend-Timestamp`` if any; None when some primary did not answer."""
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        best = None
        missing: list[direct_client.DirectResponse] = []
        for node in nodes:
            resp = self._call(
                node, "GET", f"/{part}/{account}/{container}/{obj}", {INDEX_HEADER: str(policy)}
            )
            if resp is not None and resp.status == 404:
                missing.append(resp)
            elif resp is not None and resp.status == 200:
                stamp = Timestamp(resp.header("x-backend-timestamp") or 0)
                if best is None or stamp > Timestamp(best.header("x-backend-timestamp") or 0):
                    best = resp
        if best is None and len(missing) == len(nodes):
            stamps = [Timestamp(r.header("x-backend-timestamp") or 0) for r in missing]
            newest = max(stamps, default=Timestamp(0))
            headers = {"x-backend-timestamp": newest.internal} if newest > Timestamp(0) else {}
            return direct_client.DirectResponse(404, headers)
        return best

    def _write(
        self,
        policy: int,
        account: str,
        container: str,
        obj: str,
        source: direct_client.DirectResponse,
        stamp: Timestamp,
    ) -> bool:
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        cpart, cnodes = self.ring("container").get_nodes(account, container)
        base = {
            k: v
            for k, v in source.headers.items()
            if k in _KEPT or is_sys_or_user_meta("object", k)
        }
        base.update({"X-Timestamp": stamp.internal, INDEX_HEADER: str(policy)})
        base["Content-Length"] = str(len(source.body))
        path = f"/{part}/{account}/{container}/{obj}"
        good = 0
        for i, node in enumerate(nodes):
            headers = {**base, **container_headers(cpart, list(cnodes), i)}
            resp = self._call(node, "PUT", path, headers, source.body)
            good += resp is not None and (200 <= resp.status < 300 or resp.status == 409)
        return good >= len(nodes) // 2 + 1

    def _delete(
        self, policy: int, account: str, container: str, obj: str, stamp: Timestamp
    ) -> bool:
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        headers = {"X-Timestamp": stamp.internal, INDEX_HEADER: str(policy)}
        path = f"/{part}/{account}/{container}/{obj}"
        statuses = [self._call(node, "DELETE", path, headers) for node in nodes]
        return all(r is not None and r.status in (204, 404, 409) for r in statuses)

    def _call(
        self,
        node: Node,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
        query: str = "",
    ) -> direct_client.DirectResponse | None:
        headers = {**headers, reserved.ALLOW_HEADER: "true"}
        try:
            return self.request(
                node["ip"],
                int(node["port"]),
                method,
                f"/{node['device']}{path}",
                headers,
                body,
                self.options.conn_timeout,
                self.options.node_timeout,
                query,
            )
        except (OSError, errors.Timeout, green.Timeout) as exc:
            self.logger.warning(
                "%s: %s %s:%s%s failed: %s",
                self.name,
                method,
                node["ip"],
                node["port"],
                logs.escape(path),
                exc,
            )
            return None


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-reconciler CONF [once]``."""
    return daemon.main(
        "swiftlite-container-reconciler",
        ContainerReconciler.section,
        ContainerReconcilerOptions,
        ContainerReconciler,
        argv,
    )
