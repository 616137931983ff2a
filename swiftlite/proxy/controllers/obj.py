"""ObjectController: ``/v1/<a>/<c>/<o>``: GET, HEAD, PUT, POST, DELETE, COPY.

Every verb first looks up the container (cached) for its ACL and, for writes, its existence
(404 when missing) and replicas, and authorizes with ``X-Container-Read`` or
``X-Container-Write``. PUT then reads as its steps: check the request against the API limits
(``_check_put``), stamp it (``_timestamp``), build one header set per object replica naming
the container replica it must update (``_put_headers``), and stream the body to the replicas
(``store``: 201 on a quorum, 202 when a newer object exists, 412 for ``If-None-Match: *`` on an
existing object, 422 when the body does not match the ETag, 503 without a quorum). GET and HEAD
take the first good replica and resume elsewhere if it dies mid-body. Server-side copy (COPY,
PUT with ``X-Copy-From``) is the ``copy`` filter's (``middleware/copy.py``).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors, logs, policies, update_targets
from swiftlite.common.http.conditional import normalize_etag
from swiftlite.common.timestamp import Timestamp, header_timestamp
from swiftlite.proxy import info, responses
from swiftlite.proxy.controllers.base import (
    NOT_FORWARDED,
    Controller,
    client_content_type,
)
from swiftlite.proxy.getter import ResumableBody, fetch, good_object_status
from swiftlite.proxy.putter import ObjectPut, UploadError, fan_out, put_whole, read_whole
from swiftlite.proxy.quorum import Reply, best_reply, is_success

OWS = " \t"  # the only whitespace around a header value; str.strip() also eats \x85, \xa0

# environ key: set by internal callers whose X-Timestamp must be kept (never by a client)
KEEP_X_TIMESTAMP = "swiftlite.keep_x_timestamp"


def _text(status: int, text: str | None = None) -> Response:
    return responses.error(status, text)


def guess_content_type(name: str) -> str:
    """The type Swift would give ``name``: from its extension, else application/octet-stream."""
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def parse_length(req: Request) -> tuple[int | None, bool]:
    """(Content-Length, chunked) of a request body; Invalid for bad values (400/411/501)."""
    encoding = req.headers.get("Transfer-Encoding")
    chunked = False
    if encoding is not None:
        codings = [c.strip(OWS).lower() for c in encoding.split(",") if c.strip(OWS)]
        if codings != ["chunked"]:
            raise NotImplementedCoding()
        chunked = True
    length_text = req.headers.get("Content-Length")
    if chunked or length_text is None:
        return None, chunked
    text = length_text.strip(OWS)
    if not text.isascii() or not text.isdigit() or len(text) > 20:  # "²".isdigit() is True
        raise errors.BadInput("Invalid Content-Length")
    return int(text), False


class NotImplementedCoding(errors.Invalid):
    """A Transfer-Encoding other than chunked (501)."""


class ObjectController(Controller):
    server_type = "Object"
    allowed_methods = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"})

    def __init__(self, app: Any, account: str, container: str, obj: str) -> None:
        super().__init__(app)
        self.account = account
        self.container = container
        self.obj = obj
        self.ring = app.object_ring
        self.policy_index = "0"

    @property
    def path(self) -> str:
        return f"/{self.account}/{self.container}/{self.obj}"

    def container_info(self, req: Request) -> dict[str, Any]:
        return info.container_info(self.app, req.environ, self.account, self.container)

    def _use_policy(self, req: Request, container: dict[str, Any]) -> Response | None:
        """Aim at the container's policy ring (or the one an internal caller names); a 503
        when no policy has that index."""
        index = req.headers.get(policies.INDEX_HEADER) or container.get("storage_policy") or "0"
        ring = self.app.get_object_ring(index)
        if ring is None:
            return _text(503, "No policy with that index")
        self.ring, self.policy_index = ring, str(int(index))
        return None

    def forwarded_headers(self, req: Request, timestamp: Timestamp | None) -> dict[str, str]:
        headers = self.base_headers(req, timestamp)
        for key, value in req.headers.items():
            if key.lower() not in NOT_FORWARDED:
                headers[key] = value
        return headers

    # -- GET / HEAD --------------------------------------------------------------------------
    def GETorHEAD(self, req: Request) -> Response:
        container = self.container_info(req)
        denied = self.authorize(req, container["read_acl"]) or self._use_policy(req, container)
        if denied is not None:
            return denied
        ring = self.ring
        part = ring.get_part(self.account, self.container, self.obj)
        headers = self.forwarded_headers(req, None)
        headers[policies.INDEX_HEADER] = self.policy_index
        if "X-Newest" in req.headers:
            headers["X-Newest"] = req.headers["X-Newest"]
        fetched = fetch(
            self.app.backend, ring, part, req.method, self.path, headers, "", good_object_status
        )
        source = fetched.source
        if source is None:
            return self._no_source(req, fetched.replies)
        body: Any = None
        if req.method == "GET":
            if source.status in (200, 206):
                body = ResumableBody(self.app.backend, fetched, part, self.path, headers)
            else:
                body = source.iter_body()
        else:
            source.close()
        return self.client_response(
            req, source.status, source.reason, source.header_items, app_iter=body
        )

    def _no_source(self, req: Request, replies: list[Reply]) -> Response:
        chosen = best_reply(replies)
        if chosen is None:
            return self.best_response(req, replies)
        if chosen.status == 404:
            chosen = _newest_404(replies) or chosen
        return self.client_response(req, chosen.status, chosen.reason, chosen.headers, chosen.body)

    # -- writes: shared steps ----------------------------------------------------------------
    def _writable_container(self, req: Request) -> dict[str, Any] | Response:
        """The container's info after authorizing the write; a Response when refused."""
        container = self.container_info(req)
        denied = self.authorize(req, container["write_acl"])
        if denied is not None:
            return denied
        status = container["status"]
        if status >= 500:
            return _text(503)
        if not is_success(status):
            return _text(404)
        return self._use_policy(req, container) or container

    @staticmethod
    def request_timestamp(req: Request) -> Timestamp:
        """The time this write is stamped with: the proxy's own clock.

        A client's ``X-Timestamp`` is never used (valid, ``-1`` or garbage alike), or a
        far-future stamp would make an object no later write can replace; the gatekeeper moves
        it aside too. Only an internal caller that sets ``swiftlite.keep_x_timestamp`` in the
        environ (container sync, the reconciler) carries its valid X-Timestamp through.
        """
        given = req.headers.get("X-Timestamp")
        if given is None or not req.environ.get(KEEP_X_TIMESTAMP):
            return Timestamp.now()
        return header_timestamp(req.headers)

    def apply_delete_at(self, req: Request, headers: dict[str, str]) -> None:
        """X-Delete-After becomes an absolute X-Delete-At, so every replica gets one value."""
        delete_at = constraints.parse_delete_at(req.headers)
        if delete_at is not None:
            headers["X-Delete-At"] = str(delete_at)

    def _replica_headers(self, base: dict[str, str]) -> tuple[int, list[dict[str, str]]]:
        """(object partition, one header dict per object replica with its container update)."""
        ring = self.ring
        part = ring.get_part(self.account, self.container, self.obj)
        cring = self.app.container_ring
        cpart, containers = cring.get_nodes(self.account, self.container)
        updates = update_targets.spread(ring.replica_count, containers, cpart, "Container")
        base = {**base, policies.INDEX_HEADER: self.policy_index}
        return part, [{**base, **extra} for extra in updates]

    # -- PUT ---------------------------------------------------------------------------------
    def PUT(self, req: Request) -> Response:
        container = self._writable_container(req)
        if isinstance(container, Response):
            return container
        try:
            length, chunked = self._check_put(req)
        except NotImplementedCoding:
            return _text(501)
        headers = self._put_headers(req, self.request_timestamp(req))
        read = req.environ["wsgi.input"].read
        return self.store(req, headers, read, length, chunked)

    def _check_put(self, req: Request) -> tuple[int | None, bool]:
        limits = self.app.limits
        constraints.check_object_name(self.obj, limits)
        length, chunked = parse_length(req)
        constraints.check_content_length(length, chunked, limits)
        constraints.check_metadata(req.headers, "object", limits)
        if_none_match = req.headers.get("If-None-Match")
        if if_none_match is not None and if_none_match.strip(OWS) != "*":
            raise errors.BadInput("If-None-Match only supports *")
        return length, chunked

    def _put_headers(self, req: Request, timestamp: Timestamp) -> dict[str, str]:
        headers = self.forwarded_headers(req, timestamp)
        self.apply_delete_at(req, headers)
        content_type = client_content_type(req)
        detect = config.config_true(req.headers.get("X-Detect-Content-Type", "false"))
        if not content_type or detect:
            headers["Content-Type"] = guess_content_type(self.obj)
        return headers

    def store(
        self,
        req: Request,
        headers: dict[str, str],
        read: Callable[[int], bytes],
        length: int | None,
        chunked: bool,
        extra_headers: dict[str, str] | None = None,
    ) -> Response:
        """Send a body to the object replicas and answer as Swift's object PUT does."""
        if length is not None:
            headers["Content-Length"] = str(length)
        part, headers_list = self._replica_headers(headers)
        if length is not None and self._sent_whole(headers, length):
            try:
                body = read_whole(read, length, self.app.options.client_timeout)
            except UploadError as exc:
                return _text(exc.status, exc.message)
            replies = put_whole(self.app.backend, self.ring, part, self.path, headers_list, body)
        else:
            streamed = self._stream(req, part, headers_list, read, length, chunked)
            if isinstance(streamed, Response):
                return streamed
            replies = streamed
        if replies is None:
            self.app.logger.error(
                "Object PUT %s: too few object servers reachable", logs.escape(self.path)
            )
            return _text(503)
        return self._put_response(req, headers, replies, extra_headers)

    def _sent_whole(self, headers: dict[str, str], length: int) -> bool:
        """Small bodies of known length go in one send per node, without 100-continue.

        ``If-None-Match`` keeps the 100-continue path: a node holding the object must refuse
        before any other node stores a newer copy over the client's condition.
        """
        limit = self.app.options.put_whole_max
        return length <= limit and "If-None-Match" not in headers

    def _stream(
        self,
        req: Request,
        part: int,
        headers_list: list[dict[str, str]],
        read: Callable[[int], bytes],
        length: int | None,
        chunked: bool,
    ) -> list[Reply] | Response | None:
        """The streamed PUT: the final replies, a refusal, or None for too few nodes."""
        put = ObjectPut(self.app.backend, self.ring, part, self.path, headers_list, chunked)
        put.connect()
        early = put.early_statuses()
        if "If-None-Match" in headers_list[0] and 412 in early:
            put.abort()
            return _text(412)
        if 409 in early:
            put.abort()
            return _text(202)
        if put.usable < put.quorum:
            put.abort()
            chosen = best_reply(put.early_replies() + [Reply(503)] * len(put.ready))
            if chosen is not None and 400 <= chosen.status < 500:
                return self.client_response(req, chosen.status, chosen.reason, chosen.headers)
            return None
        try:
            put.copy_body(read, length, self.app.limits.max_file_size)
        except UploadError as exc:
            put.abort()
            return _text(exc.status, exc.message)
        self.app.logger.debug("PUT %s sent %d bytes", logs.escape(self.path), put.bytes_sent)
        return put.finish()

    def _put_response(
        self,
        req: Request,
        headers: dict[str, str],
        replies: list[Reply],
        extra_headers: dict[str, str] | None,
    ) -> Response:
        """202 when a newer object exists, else the best reply with the replicas' one ETag."""
        if any(r.status == 409 for r in replies):
            return _text(202)
        etags = {normalize_etag(r.header("ETag")) or "" for r in replies if is_success(r.status)}
        if len(etags) > 1:
            self.app.logger.error(
                "Object PUT %s: replicas returned ETags %s", logs.escape(self.path), etags
            )
            return _text(500, "Object servers returned mismatched ETags")
        etag = etags.pop() if etags else None
        resp = self.best_response(req, replies, etag=etag, what="Object PUT")
        if is_success(resp.status_int):
            resp.headers["Last-Modified"] = Timestamp(headers["X-Timestamp"]).http_date
            resp.headers.update(extra_headers or {})
        return resp

    # -- POST / DELETE -----------------------------------------------------------------------
    def POST(self, req: Request) -> Response:
        container = self._writable_container(req)
        if isinstance(container, Response):
            return container
        constraints.check_metadata(req.headers, "object", self.app.limits)
        headers = self.forwarded_headers(req, self.request_timestamp(req))
        self.apply_delete_at(req, headers)
        return self._send(req, "POST", headers)

    def DELETE(self, req: Request) -> Response:
        container = self._writable_container(req)
        if isinstance(container, Response):
            return container
        headers = self.forwarded_headers(req, self.request_timestamp(req))
        return self._send(req, "DELETE", headers)

    def _send(self, req: Request, method: str, headers: dict[str, str]) -> Response:
        part, headers_list = self._replica_headers(headers)
        replies = fan_out(
            self.app.backend,
            self.ring,
            part,
            method,
            self.path,
            headers_list,
            server_type="Object",
        )
        return self.best_response(req, replies, what=f"Object {method}")


def _newest_404(replies: list[Reply]) -> Reply | None:
    """Among 404s, the one whose tombstone is newest (carries the newest X-Backend-Timestamp)."""
    best: tuple[Timestamp, Reply] | None = None
    for reply in replies:
        if reply.status != 404:
            continue
        raw = reply.header("X-Backend-Timestamp")
        try:
            stamp = Timestamp(raw) if raw else None
        except ValueError:
            stamp = None
        if stamp is not None and (best is None or stamp > best[0]):
            best = (stamp, reply)
    return best[1] if best else None
