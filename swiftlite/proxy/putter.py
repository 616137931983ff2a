"""Writes fanned out to replicas: small requests (``fan_out``) and streamed object PUTs.

``fan_out`` sends one in-memory request per replica (account/container PUT, POST, DELETE and
object POST/DELETE). Each of the n greenthreads pulls nodes from one shared ``NodeIter`` until
a node gives an answer that is not a server error, so a down primary is replaced by a handoff.
Once a quorum of answers agrees, stragglers get ``post_quorum_timeout`` more; missing answers
count as 503, as in Swift.

``ObjectPut`` is the streamed object PUT: it connects to n nodes at once with ``Expect:
100-continue`` (handoffs replacing failures), streams the client's body chunk by chunk to every
node that said 100 (never holding the whole object), and collects the final answers. Fewer than
a quorum of ready nodes means no byte is sent and the client gets 503, so nothing half-written
can appear. Client trouble becomes ``UploadError`` (408 slow client, 499 gone client, 413 too
large); the controller turns it into a response. The proxy does not hash the body: each object
server checks the client's ETag and returns the MD5 it stored, as in Swift.

``put_whole`` is the small-object PUT (swiftlite's addition): the body is already in hand, so
the 100-continue round trip buys nothing but latency and CPU. It first checks out a connection
to each of n nodes without sending a byte; fewer than a quorum means nothing is sent, which
keeps the all-or-nothing rule of the streamed path. Then each node gets head and body in one
send, with handoffs replacing nodes that fail, as ``fan_out`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from swiftlite.common import green, logs
from swiftlite.common.errors import Timeout
from swiftlite.common.http.client import Connection, PutStream
from swiftlite.proxy.backend import Backend
from swiftlite.proxy.getter import backend_path, request_node
from swiftlite.proxy.nodes import NodeIter, RingLike
from swiftlite.proxy.quorum import Reply, have_quorum, quorum_size
from swiftlite.ring.node import Node


class UploadError(Exception):
    """The client's body could not be taken: ``status`` is what the client is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def gather(
    tasks: Sequence[Callable[[], Reply | None]], node_count: int, post_quorum_timeout: float
) -> list[Reply]:
    """Run ``tasks`` at once; return their replies once decided (quorum + a grace period).

    Tasks still running after the grace period keep running in the background; their answers
    are dropped and the slots are padded with 503 up to ``node_count``.
    """
    if len(tasks) == 1:
        reply = tasks[0]()
        return _padded([reply] if reply else [], node_count)
    queue: Any = green.Queue()

    def run(task: Callable[[], Reply | None]) -> None:
        try:
            queue.put(task())
        except BaseException:
            queue.put(None)
            raise

    for task in tasks:
        green.spawn_n(run, task)
    replies: list[Reply] = []
    pending = len(tasks)
    while pending:
        reply = queue.get()
        pending -= 1
        if reply is not None:
            replies.append(reply)
            if have_quorum([r.status for r in replies], node_count):
                break
    if pending:
        try:
            with green.Timeout(post_quorum_timeout):
                while pending:
                    reply = queue.get()
                    pending -= 1
                    if reply is not None:
                        replies.append(reply)
        except green.Timeout:
            pass
    return _padded(replies, node_count)


def _padded(replies: list[Reply], node_count: int) -> list[Reply]:
    out = list(replies)
    while len(out) < node_count:
        out.append(Reply(503, "Service Unavailable"))
    return out


def fan_out(
    backend: Backend,
    ring: RingLike,
    part: int,
    method: str,
    path: str,
    headers_list: Sequence[Mapping[str, str]],
    body: bytes = b"",
    query: str = "",
    server_type: str = "Container",
) -> list[Reply]:
    """One request per entry of ``headers_list``; see the module docstring."""
    node_iter = NodeIter(ring, part, backend.limiter, backend.node_count(ring))

    def one(headers: Mapping[str, str]) -> Reply | None:
        for node in node_iter:
            resp = request_node(
                backend, node, method, part, path, headers, query, body, server_type
            )
            if resp is None:
                continue
            if resp.status == 507 or resp.status >= 500:
                resp.close()
                continue
            try:
                data = resp.read_all()
            except (OSError, Timeout) as exc:
                backend.node_error(node, server_type, f"{method} {path} body: {exc!r}")
                continue
            return Reply(resp.status, resp.reason, resp.header_items, data)
        return None

    tasks = [lambda h=h: one(h) for h in headers_list]
    return gather(tasks, len(headers_list), backend.post_quorum_timeout)


def read_client(read: Callable[[int], bytes], want: int, timeout: float) -> bytes:
    """Up to ``want`` bytes of the client's body; UploadError 408 (too slow) or 499 (gone)."""
    try:
        with green.Timeout(timeout):
            return read(want)
    except green.Timeout:
        raise UploadError(408, "Request Timeout") from None
    except (OSError, ValueError) as exc:
        raise UploadError(499, f"Client disconnected: {exc!r}") from None


def read_whole(read: Callable[[int], bytes], length: int, timeout: float) -> bytes:
    """The client's whole body of ``length`` bytes; UploadError (408/499) when it falls short."""
    parts = []
    remaining = length
    while remaining > 0:
        chunk = read_client(read, remaining, timeout)
        if not chunk:
            raise UploadError(499, "Client disconnected before the whole body arrived")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def put_whole(
    backend: Backend,
    ring: RingLike,
    part: int,
    path: str,
    headers_list: Sequence[Mapping[str, str]],
    body: bytes,
) -> list[Reply] | None:
    """PUT ``body`` to ``len(headers_list)`` nodes; None when too few nodes could be reached."""
    node_iter = NodeIter(ring, part, backend.limiter, backend.node_count(ring))
    picked = _checkout(backend, node_iter, len(headers_list), path)
    if len(picked) < quorum_size(len(headers_list)):
        for _node, conn in picked:
            conn.close()
        return None

    def one(node: Node | None, conn: Connection | None, headers: Mapping[str, str]) -> Reply | None:
        while node is not None:
            resp = request_node(backend, node, "PUT", part, path, headers, body=body, conn=conn)
            conn = None
            if resp is not None and resp.status != 507 and resp.status < 500:
                try:
                    return Reply(resp.status, resp.reason, resp.header_items, resp.read_all())
                except (OSError, Timeout) as exc:
                    backend.node_error(node, "Object", f"PUT {path} answer: {exc!r}")
            elif resp is not None:
                resp.close()
            node = _next_node(backend, node_iter, path)
        return None

    tasks = [
        lambda n=node, c=conn, h=headers: one(n, c, h)
        for (node, conn), headers in zip(picked, headers_list, strict=False)
    ]
    return gather(tasks, len(headers_list), backend.post_quorum_timeout)


def _checkout(
    backend: Backend, node_iter: NodeIter, count: int, path: str
) -> list[tuple[Node, Connection]]:
    """Up to ``count`` (node, connection) pairs: pooled ones at once, new ones in parallel."""
    picked: list[tuple[Node, Connection]] = []
    to_connect = []
    for _ in range(count):
        node = _next_node(backend, node_iter, path)
        if node is None:
            break
        conn = backend.pool.checkout_idle(node.ip, node.port)
        if conn is None:
            to_connect.append(node)
        else:
            picked.append((node, conn))

    def connect_from(node: Node | None) -> tuple[Node, Connection] | None:
        while node is not None:
            try:
                return node, backend.pool.connect(node.ip, node.port)
            except (OSError, Timeout, green.Timeout) as exc:
                backend.node_error(node, "Object", f"PUT {path}: {exc!r}")
            node = _next_node(backend, node_iter, path)
        return None

    if len(to_connect) == 1:
        found = connect_from(to_connect[0])
        picked.extend([found] if found else [])
    elif to_connect:
        pile = green.GreenPile(len(to_connect))
        for node in to_connect:
            pile.spawn(connect_from, node)
        picked.extend(pair for pair in pile if pair is not None)
    return picked


def _next_node(backend: Backend, node_iter: NodeIter, path: str) -> Node | None:
    """The next node to try for an object PUT (None when none is left); logs handoffs."""
    node = next(node_iter, None)
    if node is not None and node.index is None and backend.log_handoffs:
        backend.logger.info(
            "handoff requested for PUT %s: %s:%s/%s",
            logs.escape(path),
            node.ip,
            node.port,
            node.device,
        )
    return node


class ObjectPut:
    """A streamed object PUT to ``len(headers_list)`` nodes; see the module docstring."""

    def __init__(
        self,
        backend: Backend,
        ring: RingLike,
        part: int,
        path: str,
        headers_list: Sequence[Mapping[str, str]],
        chunked: bool,
    ) -> None:
        self.backend = backend
        self.ring = ring
        self.part = part
        self.path = path
        self.headers_list = headers_list
        self.chunked = chunked
        self.node_count = len(headers_list)
        self.quorum = quorum_size(self.node_count)
        self.streams: list[PutStream] = []
        self.ready: list[PutStream] = []
        self.node_of: dict[PutStream, Node] = {}  # which node each stream writes to
        # Nodes that stored the object without waiting for a body (an empty one): their
        # final 2xx came instead of 100 Continue, and counts towards the quorum as it is.
        self.done: list[Reply] = []
        self.bytes_sent = 0

    # -- 1. connect ----------------------------------------------------------------------------
    def connect(self) -> None:
        node_iter = NodeIter(
            self.ring, self.part, self.backend.limiter, self.backend.node_count(self.ring)
        )
        if self.node_count == 1:
            found = [self._connect_one(node_iter, self.headers_list[0])]
        else:
            pile = green.GreenPile(self.node_count)
            for headers in self.headers_list:
                pile.spawn(self._connect_one, node_iter, headers)
            found = list(pile)
        self.node_of = dict(f for f in found if f is not None)
        self.streams = list(self.node_of)
        self.ready = [s for s in self.streams if s.final is None]
        self.done = [
            Reply(s.final.status, s.final.reason, s.final.header_items, b"")
            for s in self.streams
            if s.final is not None and 200 <= s.final.status < 300
        ]

    @property
    def usable(self) -> int:
        """Nodes still able to succeed: ready for the body, or already done."""
        return len(self.ready) + len(self.done)

    def _connect_one(
        self, node_iter: NodeIter, headers: Mapping[str, str]
    ) -> tuple[PutStream, Node] | None:
        backend = self.backend
        while (node := _next_node(backend, node_iter, self.path)) is not None:
            try:
                stream = backend.pool.open_put(
                    node.ip,
                    node.port,
                    backend_path(node, self.part, self.path),
                    headers,
                    self.chunked,
                )
            except (OSError, Timeout, green.Timeout) as exc:
                backend.node_error(node, "Object", f"PUT {self.path}: {exc!r}")
                continue
            final = stream.final
            if final is not None and (final.status == 507 or final.status >= 500):
                backend.node_error(node, "Object", f"PUT {self.path}", status=final.status)
                stream.abort()
                continue
            return stream, node
        return None

    def early_statuses(self) -> list[int]:
        """Statuses of the nodes that refused at once instead of answering 100 Continue."""
        return [r.status for r in self.early_replies()]

    def early_replies(self) -> list[Reply]:
        out = []
        for stream in self.streams:
            final = stream.final
            if final is not None and not 200 <= final.status < 300:
                out.append(Reply(final.status, final.reason, final.header_items, b""))
        return out

    # -- 2. stream the body --------------------------------------------------------------------
    def send(self, chunk: bytes) -> None:
        """Send one chunk to every ready node; fewer than a quorum left is an UploadError."""
        self.bytes_sent += len(chunk)
        for stream in list(self.ready):
            try:
                stream.send(chunk)
            except (OSError, Timeout, green.Timeout) as exc:
                self._lose(stream, exc)
        if self.usable < self.quorum:
            raise UploadError(503, "Too few object servers took the body")

    def _lose(self, stream: PutStream, exc: BaseException) -> None:
        self.backend.node_error(self.node_of[stream], "Object", f"PUT {self.path} body: {exc!r}")
        stream.abort()
        self.ready.remove(stream)

    def copy_body(
        self, read: Callable[[int], bytes], content_length: int | None, max_size: int
    ) -> None:
        """Pull the client's body through ``read`` and send it on, chunk by chunk."""
        chunk_size = self.backend.client_chunk_size
        timeout = self.backend.client_timeout
        remaining = content_length
        while remaining is None or remaining > 0:
            want = chunk_size if remaining is None else min(chunk_size, remaining)
            chunk = read_client(read, want, timeout)
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            elif self.bytes_sent + len(chunk) > max_size:
                raise UploadError(413, "Your request is too large.")
            self.send(chunk)
        if remaining:
            raise UploadError(499, "Client disconnected before the whole body arrived")

    # -- 3. answers ----------------------------------------------------------------------------
    def finish(self) -> list[Reply]:
        """End the body on every ready node and collect the final answers (padded with 503)."""

        def one(stream: PutStream) -> Reply | None:
            try:
                resp = stream.finish()
                data = resp.read_all()
            except (OSError, Timeout, green.Timeout) as exc:
                self.backend.node_error(
                    self.node_of[stream], "Object", f"PUT {self.path} answer: {exc!r}"
                )
                stream.abort()
                return None
            if resp.status == 507 or resp.status >= 500:
                self.backend.node_error(
                    self.node_of[stream], "Object", f"PUT {self.path}", status=resp.status
                )
            return Reply(resp.status, resp.reason, resp.header_items, data)

        tasks = [lambda s=s: one(s) for s in self.ready]
        if not tasks:
            return _padded(list(self.done), self.node_count)
        waiting = self.node_count - len(self.done)
        return self.done + gather(tasks, waiting, self.backend.post_quorum_timeout)

    def abort(self) -> None:
        """Drop every connection: a node that never gets the end of its body stores nothing."""
        for stream in self.streams:
            stream.abort()
        self.ready = []
