"""ContainerReconciler: ``swiftlite-container-reconciler CONF [once]`` moves misplaced objects.

The queue (``container/misplaced.py``) lives in the hidden account ``.misplaced_objects``; the
container replicators fill it (``enqueue``). A pass lists the queue's containers from the
account replicas and each container's rows from its replicas (the union), and for each row
``<policy>:/<a>/<c>/<o>`` at timestamp T:

1. asks every replica of ``/<a>/<c>`` for its state and settles the container's policy as
   replication does (``misplaced.best_policy``); when no replica answers the row waits;
2. if the row's policy is the container's, there is nothing to move;
3. otherwise finds the newest copy in the row's policy (a HEAD to each primary), opens a PUT
   to each of the container's policy's primaries (headers from that HEAD), then one GET of
   the copy, and streams it to every PUT in ``CHUNK_SIZE`` pieces: same content and
   metadata, at its own timestamp plus offset 1, updating the container replicas (the new
   row, newer than the misplaced one, carries the right policy); a 409 (something newer
   there) is fine too, and a quorum of 201s or 409s is a success;
4. then deletes the misplaced copy at offset 2, without a container update (the listing keeps
   the moved row), and finally drops the queue row.

A queued delete (``application/x-delete``: an object deleted under the wrong policy) is made
again in the container's policy at the tombstone's timestamp plus offset 1, with container
updates, so an older copy there cannot outlive it.

An object no longer in the row's policy (moved before, or deleted) just drops the row. A step
that fails leaves the row for the next pass (a source that breaks off mid-body aborts every
PUT, so no partial copy is committed). An object is never held whole in memory: at most one
piece per row in flight. The summary counts rows, objects moved, rows dropped and failures.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.common import daemon, errors, green, logs, policies, reserved, update_targets
from swiftlite.common.http.client import BackendPool, PutStream, Response, direct_request
from swiftlite.common.http.headers import TRANSIENT_SYSMETA_PREFIX, is_sys_or_user_meta
from swiftlite.common.policies import INDEX_HEADER
from swiftlite.common.timestamp import Timestamp
from swiftlite.container import misplaced
from swiftlite.ring import Ring
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet

LISTING_LIMIT = 1000
STAT_KEYS = ("rows", "moved", "dropped", "failures")
CHUNK_SIZE = 65536  # one piece of a moved object: read from the source, sent to each target
_UNAVAILABLE = (OSError, errors.Timeout, green.Timeout)
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
    ring: Ring,
    rows: Sequence[Sequence[Any]],
    account: str,
    container: str,
    send: Callable[[Node, str, str, dict[str, str]], int | None],
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
        self.request = request or direct_request
        self.pool = BackendPool(options.conn_timeout, options.node_timeout)
        self.rings = RingSet(options.swift_dir)
        self.stats = dict.fromkeys(STAT_KEYS, 0)

    def ring(self, name: str) -> Ring:
        return self.rings.get(name)

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
        newest = self._newest(policy, account, container, obj)
        if newest is None:
            return False
        node, head = newest
        if deleted:
            return self._repeat_delete(correct, account, container, obj, head)
        if node is None:
            self.stats["dropped"] += 1  # moved already, or deleted meanwhile
            return True
        data_ts = Timestamp(
            head.header("x-backend-data-timestamp") or head.header("x-backend-timestamp") or 0
        )
        if not self._move(node, policy, correct, account, container, obj, head, data_ts):
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
        source: Response,
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
            headers = {**base, **update_targets.for_request(i, cnodes, cpart, "Container")}
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

    def _newest(
        self, policy: int, account: str, container: str, obj: str
    ) -> tuple[Node | None, Response] | None:
        """The primary in ``policy`` holding the newest copy and its HEAD answer; when no
        primary has one, (None, a 404 carrying the newest tombstone's ``X-Backend-Timestamp``
        if any); None when some primary did not answer."""
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        best: tuple[Node, Response] | None = None
        missing: list[Response] = []
        path = f"/{part}/{account}/{container}/{obj}"
        for node in nodes:
            resp = self._call(node, "HEAD", path, {INDEX_HEADER: str(policy)})
            if resp is not None and resp.status == 404:
                missing.append(resp)
            elif resp is not None and resp.status == 200:
                stamp = Timestamp(resp.header("x-backend-timestamp") or 0)
                if best is None or stamp > Timestamp(best[1].header("x-backend-timestamp") or 0):
                    best = (node, resp)
        if best is None and len(missing) == len(nodes):
            stamps = [Timestamp(r.header("x-backend-timestamp") or 0) for r in missing]
            newest = max(stamps, default=Timestamp(0))
            headers = {"x-backend-timestamp": newest.internal} if newest > Timestamp(0) else {}
            return None, Response.complete(404, headers)
        return best

    def _open(
        self, node: Node, policy: int, account: str, container: str, obj: str, stamp: str
    ) -> Response | None:
        """A GET of the object on ``node`` with its body unread; None unless it is a 200 of
        the copy the HEAD saw (``X-Backend-Timestamp`` ``stamp``)."""
        part = self.object_ring(policy).get_part(account, container, obj)
        path = f"/{node.device}/{part}/{account}/{container}/{obj}"
        headers = {INDEX_HEADER: str(policy), reserved.ALLOW_HEADER: "true"}
        try:
            resp = self.pool.request(node.ip, node.port, "GET", path, headers)
        except _UNAVAILABLE as exc:
            self.logger.warning(
                "%s: GET %s:%s%s failed: %s", self.name, *_where(node), logs.escape(path), exc
            )
            return None
        if resp.status != 200 or resp.getheader("x-backend-timestamp") != stamp:
            resp.close()
            return None
        return resp

    def _move(
        self,
        node: Node,
        source_policy: int,
        policy: int,
        account: str,
        container: str,
        obj: str,
        head: Response,
        data_ts: Timestamp,
    ) -> bool:
        """Copy the object ``head`` describes on ``node`` to every primary of ``policy`` at
        ``data_ts`` offset 1; True when a quorum took it (201) or had something newer (409).

        The PUTs are opened (100 Continue) before the GET, so no source server is kept
        sending while the targets are still being asked."""
        part, nodes = self.object_ring(policy).get_nodes(account, container, obj)
        cpart, cnodes = self.ring("container").get_nodes(account, container)
        base = {k: v for k, v in head.headers.items() if _kept(k)}
        base["X-Timestamp"] = Timestamp(data_ts, 1).internal
        base[INDEX_HEADER] = str(policy)
        base[reserved.ALLOW_HEADER] = "true"
        length = head.header("content-length")
        if length is not None:
            base["Content-Length"] = length
        path = f"/{part}/{account}/{container}/{obj}"
        good = 0
        streams: list[PutStream] = []
        for i, target in enumerate(nodes):
            headers = {**base, **update_targets.for_request(i, cnodes, cpart, "Container")}
            stream = self._open_put(target, path, headers, chunked=length is None)
            if stream is not None and stream.final is not None:
                good += _accepted(stream.final.status)
                stream.final.close()
            elif stream is not None:
                streams.append(stream)
        stamp = head.header("x-backend-timestamp") or ""
        source = self._open(node, source_policy, account, container, obj, stamp)
        if source is None:
            for stream in streams:
                stream.abort()
            return False
        try:
            _feed(source, streams)
        except BaseException as exc:
            for stream in streams:  # a source cut short: no target may commit a partial copy
                stream.abort()
            if not isinstance(exc, _UNAVAILABLE):
                raise
            self.logger.warning("%s: reading %s broke off: %s", self.name, path, exc)
            return False
        finally:
            source.close()
        for stream in streams:
            try:
                resp = stream.finish()
            except _UNAVAILABLE:
                stream.abort()
                continue
            good += _accepted(resp.status)
            resp.close()
        return good >= len(nodes) // 2 + 1

    def _open_put(
        self, node: Node, path: str, headers: dict[str, str], chunked: bool
    ) -> PutStream | None:
        target = f"/{node.device}{path}"
        try:
            return self.pool.open_put(node.ip, node.port, target, headers, chunked)
        except _UNAVAILABLE as exc:
            self.logger.warning(
                "%s: PUT %s:%s%s failed: %s", self.name, *_where(node), logs.escape(path), exc
            )
            return None

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
    ) -> Response | None:
        headers = {**headers, reserved.ALLOW_HEADER: "true"}
        try:
            return self.request(
                node.ip,
                node.port,
                method,
                f"/{node.device}{path}",
                headers,
                body,
                self.options.conn_timeout,
                self.options.node_timeout,
                query,
            )
        except _UNAVAILABLE as exc:
            self.logger.warning(
                "%s: %s %s:%s%s failed: %s",
                self.name,
                method,
                *_where(node),
                logs.escape(path),
                exc,
            )
            return None


def _feed(source: Response, streams: list[PutStream]) -> None:
    """Send ``source``'s body piece by piece to every stream; a target that fails is dropped
    (aborted), and reading stops once none is left."""
    if not streams:
        return
    for piece in source.iter_body(CHUNK_SIZE):
        for stream in list(streams):
            try:
                stream.send(piece)
            except _UNAVAILABLE:
                stream.abort()
                streams.remove(stream)
        if not streams:
            return


def _where(node: Node) -> tuple[str, int]:
    return node.ip, node.port


def _kept(header: str) -> bool:
    """Whether a moved copy keeps this (lower-case) header of the source's GET."""
    return (
        header in _KEPT
        or is_sys_or_user_meta("object", header)
        or header.startswith(TRANSIENT_SYSMETA_PREFIX)
    )


def _accepted(status: int) -> bool:
    return 200 <= status < 300 or status == 409


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-reconciler CONF [once]``."""
    return daemon.main(
        "swiftlite-container-reconciler",
        ContainerReconciler.section,
        ContainerReconcilerOptions,
        ContainerReconciler,
        argv,
    )
