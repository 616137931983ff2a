"""GET and HEAD against replicas: try nodes in turn, and resume a broken body elsewhere.

``fetch`` walks a ``NodeIter`` (primaries in random order, then handoffs) and stops at the
first good answer: any 2xx, or for objects also 304, 412 and 416 (the object server has
decided the conditional or the range; another replica would say the same). Errors, timeouts
and 5xx count against the node (``ErrorLimiter``) and move on; a 507 suppresses the node at
once. 404s are kept and the walk goes on, but when every primary answered a clean 404 there is
no handoff worth asking (a handoff holds data only when a primary failed a write), so the walk
stops there. ``X-Newest: true`` asks all primaries at once and keeps the newest good answer.

``ResumableBody`` streams the chosen source to the client. If the source dies or stalls
(``recoverable_node_timeout``) mid-body, it asks the next node for
``Range: bytes=<offset>-<end>`` with ``If-Match: <etag>`` and carries on, so the client sees
one unbroken body; when no node can continue it raises, which drops the client connection
rather than end a short body as if it were whole. This module only moves bytes and picks
sources; controllers turn the result into client responses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from swiftlite.common import green, logs
from swiftlite.common.errors import Timeout
from swiftlite.common.http.client import Connection
from swiftlite.common.http.client import Response as BackendResponse
from swiftlite.common.timestamp import Timestamp
from swiftlite.proxy.backend import Backend
from swiftlite.proxy.nodes import NodeIter, RingLike
from swiftlite.proxy.quorum import Reply
from swiftlite.ring.node import Node

_NOT_RESENT = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range")


def good_object_status(status: int) -> bool:
    return 200 <= status < 300 or status in (304, 412, 416)


def good_db_status(status: int) -> bool:
    return 200 <= status < 400


@dataclass
class Fetch:
    """The outcome of a walk: the good source (if any) and every other answer seen."""

    source: BackendResponse | None
    node: Node | None
    replies: list[Reply] = field(default_factory=list)
    node_iter: NodeIter | None = None


def backend_path(node: Node, part: int, path: str) -> str:
    return f"/{node.device}/{part}{path}"


def request_node(
    backend: Backend,
    node: Node,
    method: str,
    part: int,
    path: str,
    headers: Mapping[str, str],
    query: str = "",
    body: bytes = b"",
    server_type: str = "Object",
    conn: Connection | None = None,
) -> BackendResponse | None:
    """One request to one node; None (and the node charged an error) when it failed.

    ``conn`` is a connection to the node already checked out from ``backend.pool``.
    """
    try:
        resp = backend.pool.request(
            node.ip,
            node.port,
            method,
            backend_path(node, part, path),
            headers,
            body,
            query,
            conn=conn,
        )
    except (OSError, Timeout, green.Timeout) as exc:
        backend.node_error(node, server_type, f"{method} {path}: {exc!r}")
        return None
    if resp.status == 507 or resp.status >= 500:
        backend.node_error(node, server_type, f"{method} {path}", status=resp.status)
    return resp


def _reply_of(resp: BackendResponse) -> Reply:
    try:
        body = resp.read_all()
    except (OSError, Timeout):
        body = b""
    return Reply(resp.status, resp.reason, resp.header_items, body)


def fetch(
    backend: Backend,
    ring: RingLike,
    part: int,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: str = "",
    good: Callable[[int], bool] = good_object_status,
    server_type: str = "Object",
) -> Fetch:
    """Walk the nodes of ``part`` for a GET or HEAD; see the module docstring."""
    node_iter = NodeIter(
        ring,
        part,
        backend.limiter,
        backend.node_count(ring),
        shuffle=backend.shuffle,
    )
    if headers.get("X-Newest", "").lower() in ("true", "1", "yes", "on"):
        return _fetch_newest(
            backend, node_iter, part, method, path, headers, query, good, server_type
        )
    replies: list[Reply] = []
    clean_primary_404s = 0
    for node in node_iter:
        resp = request_node(backend, node, method, part, path, headers, query, b"", server_type)
        if resp is None:
            replies.append(Reply(503, "Service Unavailable"))
            continue
        if good(resp.status):
            return Fetch(resp, node, replies, node_iter)
        reply = _reply_of(resp)
        if resp.status == 507:
            continue  # not an answer about the data: Swift leaves it out
        replies.append(reply)
        if resp.status == 404 and node.index is not None:
            clean_primary_404s += 1
            if clean_primary_404s >= len(node_iter.primaries):
                break
    return Fetch(None, None, replies, node_iter)


def _fetch_newest(
    backend: Backend,
    node_iter: NodeIter,
    part: int,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: str,
    good: Callable[[int], bool],
    server_type: str,
) -> Fetch:
    """Ask every primary at once; the good answer with the newest timestamp wins."""
    nodes = list(node_iter.primaries)
    pile = green.GreenPile(len(nodes) or 1)
    for node in nodes:
        pile.spawn(
            request_node, backend, node, method, part, path, headers, query, b"", server_type
        )
    best: BackendResponse | None = None
    best_node: Node | None = None
    best_ts: Timestamp | None = None
    replies: list[Reply] = []
    for node, resp in zip(nodes, pile, strict=True):  # a pile yields in spawn order
        if resp is None:
            replies.append(Reply(503, "Service Unavailable"))
            continue
        if not good(resp.status):
            replies.append(_reply_of(resp))
            continue
        stamp = _timestamp_of(resp)
        if best is None or (stamp is not None and (best_ts is None or stamp > best_ts)):
            if best is not None:
                best.close()
            best, best_node, best_ts = resp, node, stamp
        else:
            resp.close()
    return Fetch(best, best_node, replies, node_iter)


def _timestamp_of(resp: BackendResponse) -> Timestamp | None:
    raw = resp.getheader("x-backend-timestamp") or resp.getheader("x-timestamp")
    try:
        return Timestamp(raw) if raw else None
    except ValueError:
        return None


def _span_of(resp: BackendResponse) -> tuple[int, int] | None:
    """The inclusive byte span a 200 or single-range 206 carries; None when not resumable."""
    if resp.status == 200:
        length = resp.getheader("content-length")
        if length is None or not length.isdigit():
            return None
        return (0, int(length) - 1)
    if resp.status != 206:
        return None
    value = resp.getheader("content-range") or ""
    unit, _, rest = value.partition(" ")
    span, _, _total = rest.partition("/")
    first, _, last = span.partition("-")
    if unit != "bytes" or not first.isdigit() or not last.isdigit():
        return None  # multipart/byteranges bodies are not resumed
    return (int(first), int(last))


class ResumableBody:
    """The client body of a GET, failing over to other replicas mid-stream."""

    def __init__(
        self,
        backend: Backend,
        fetched: Fetch,
        part: int,
        path: str,
        headers: Mapping[str, str],
        query: str = "",
        server_type: str = "Object",
    ) -> None:
        source = fetched.source
        if source is None:
            raise ValueError("no source to stream")
        self.backend = backend
        self.source: BackendResponse = source
        self.node = fetched.node
        self.node_iter = fetched.node_iter
        self.part = part
        self.path = path
        self.headers = headers
        self.query = query
        self.server_type = server_type
        self.span = _span_of(source)
        self.etag = source.getheader("etag")
        self.sent = 0
        self.resumes = 0
        self.chunk_size = backend.client_chunk_size
        source.set_timeout(backend.recoverable_node_timeout)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                data = self.source.read(self.chunk_size)
            except (OSError, Timeout) as exc:
                if self.node is not None:
                    self.backend.node_error(
                        self.node, self.server_type, f"GET {self.path} body: {exc!r}"
                    )
                self.source.close()
                if not self._resume():
                    raise
                continue
            if not data:
                return
            self.sent += len(data)
            yield data

    def _resume(self) -> bool:
        if self.span is None or self.node_iter is None or self.etag is None:
            return False
        start = self.span[0] + self.sent
        end = self.span[1]
        if start > end:
            return False
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_RESENT}
        headers["Range"] = f"bytes={start}-{end}"
        headers["If-Match"] = f'"{self.etag}"'
        for node in self.node_iter:
            if node is self.node:
                continue
            resp = request_node(
                self.backend,
                node,
                "GET",
                self.part,
                self.path,
                headers,
                self.query,
                b"",
                self.server_type,
            )
            if resp is None:
                continue
            span = _span_of(resp)
            if resp.status == 206 and span is not None and span[0] == start:
                self.backend.logger.info(
                    "resuming GET %s at byte %d from %s:%s/%s",
                    logs.escape(self.path),
                    start,
                    node.ip,
                    node.port,
                    node.device,
                )
                resp.set_timeout(self.backend.recoverable_node_timeout)
                self.source, self.node = resp, node
                self.resumes += 1
                return True
            resp.close()
        return False

    def close(self) -> None:
        self.source.close()
