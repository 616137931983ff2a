"""ObjectServer: the object storage WSGI app (PUT GET HEAD POST DELETE REPLICATE).

Paths are ``/<device>/<partition>/<account>/<container>/<object>`` (REPLICATE:
``/<device>/<partition>[/<sfx>-<sfx>...]``, or ``/<device>`` with a JSON list of partitions).
Each verb reads as a short list of steps: check the request and the device, look at what is
stored (``DiskFile.probe``), refuse early (before the body is read, so ``Expect: 100-continue``
clients never send it), then write through a ``Writer`` (the body read by ``put_body``) and
tell the container servers the write's ``ListingUpdate`` (``notify``). Handlers return webob
responses; the disk layer raises domain errors, mapped once by ``storage_app``.
Options are parsed once into ``ObjectServerOptions`` by ``app_factory``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors, green, intparse, logs, reserved
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http import conditional, ranges
from swiftlite.common.http.client import BackendPool, Requester
from swiftlite.common.http.headers import (
    TRANSIENT_SYSMETA_PREFIX,
    X_BACKEND_TIMESTAMP,
    is_sys_or_user_meta,
    title,
)
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.names import split_backend_path
from swiftlite.common.policies import backend_policy
from swiftlite.common.storage_app import StorageServer
from swiftlite.common.timestamp import Timestamp, header_timestamp
from swiftlite.obj import expiry_queue, hash_batch, hashes, layout, notify, updates
from swiftlite.obj.diskfile import (
    DiskConfig,
    DiskFile,
    DiskFileManager,
    ObjectBody,
    OpenObject,
    Probe,
    delete_at,
)
from swiftlite.obj.notify import ContainerNotifier
from swiftlite.obj.put_body import ClientDisconnect, read_body
from swiftlite.obj.sendfile import SendfileBody, client_socket_fd

DEFAULT_ALLOWED_HEADERS = (
    "content-disposition",
    "content-encoding",
    "x-delete-at",
    "x-object-manifest",
    "x-static-large-object",
    "cache-control",
    "content-language",
    "expires",
    "x-robots-tag",
)


@dataclass(frozen=True)
class ObjectServerOptions(DeviceOptions):
    """``[app:object-server]`` options (Swift's names and defaults)."""

    disk_chunk_size: int = 65536
    network_chunk_size: int = 65536
    client_timeout: float = 60.0
    conn_timeout: float = 0.5
    node_timeout: float = 3.0
    container_update_timeout: float = 1.0
    # Coalesce concurrent updates to one container replica into one UPDATE request
    # (obj/update_batch.py); a lone update still goes as Swift's per-object PUT/DELETE.
    # Stays a switch: Swift's container servers take UPDATE for shard ranges, not rows.
    container_update_batch: bool = True
    max_upload_time: float = 86400.0
    reclaim_age: int = 604800
    fallocate_reserve: int = 0
    mb_per_sync: int = 512
    keep_cache_size: int = 5242880
    allowed_headers: tuple[str, ...] = DEFAULT_ALLOWED_HEADERS
    log_name: str = "object-server"
    log_requests: bool = True
    # zero-copy GET bodies when the socket allows it (see bench/obj_bench.py)
    use_sendfile: bool = True
    # fsync and rename in eventlet's thread pool, so one PUT's fsync does not stall the others
    fsync_in_threads: bool = True
    # commit object files with syncfs calls shared by concurrent writers (obj/groupsync.py)
    # instead of per-file and per-directory fsyncs; off, or where syncfs is missing: fsyncs
    group_sync: bool = True


class ObjectServer(StorageServer):
    """Serves object files on the devices under ``options.devices``."""

    server_type = "object"
    allowed_methods = frozenset({"PUT", "GET", "HEAD", "POST", "DELETE", "REPLICATE"})

    def __init__(
        self,
        options: ObjectServerOptions,
        logger: Any = None,
        request: Requester | None = None,
    ) -> None:
        logger = logger or logs.get_logger(options.log_name, options.log_file, options.log_level)
        super().__init__(options.devices, options.mount_check, logger, options.log_requests)
        self.options = options
        if request is None:
            # keep-alive connections to the container servers (bench/README.md: PUT CPU)
            pool = BackendPool(options.conn_timeout, options.container_update_timeout)
            request = pool.direct_request
        self.notifier = ContainerNotifier(  # container updates go out through this
            request,
            options.conn_timeout,
            options.container_update_timeout,
            options.container_update_batch,
            self.logger,
        )
        self.limits = constraints.load()
        disk = DiskConfig(
            disk_chunk_size=options.disk_chunk_size,
            reclaim_age=float(options.reclaim_age),
            fallocate_reserve=options.fallocate_reserve,
            mb_per_sync=options.mb_per_sync,
            keep_cache_size=options.keep_cache_size,
        )
        self.disk = DiskFileManager(
            disk,
            green.tpool_execute if options.fsync_in_threads else None,
            group_sync=options.group_sync,
        )
        self.allowed_headers = frozenset(h.strip().lower() for h in options.allowed_headers)

    # -- WSGI edge -------------------------------------------------------------------------

    def respond(
        self,
        req: Request,
        resp: Response,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        body = resp.app_iter
        if (
            self.options.use_sendfile
            and req.method == "GET"
            and isinstance(body, ObjectBody)
            and body.span is not None
        ):
            sock_fd = client_socket_fd(environ)
            if sock_fd is not None:
                write = start_response(resp.status, resp.headerlist)
                return SendfileBody(body, write, sock_fd, self.options.client_timeout)
        return resp(environ, start_response)

    # -- request checks --------------------------------------------------------------------

    def _diskfile(self, req: Request) -> DiskFile:
        path = split_backend_path(
            req.environ["PATH_INFO"], 5, 5, allow_reserved=reserved.allowed(req.headers)
        )
        constraints.check_object_name(path.obj or "", self.limits)
        policy = backend_policy(req.headers)
        dev_path = self.device_path(path.device)
        container, obj = path.container or "", path.obj or ""  # both present: 5 segments
        return self.disk.get(dev_path, path.partition, path.account, container, obj, policy)

    def _user_metadata(self, req: Request, with_sysmeta: bool) -> dict[str, str]:
        """User meta, transient sysmeta, allowed headers (and sysmeta on PUT), title-cased."""
        meta = {}
        for key, value in req.headers.items():
            low = key.lower()
            if low == "x-delete-at":
                continue  # parsed and stored by the caller
            if (
                low.startswith("x-object-meta-")
                or low.startswith(TRANSIENT_SYSMETA_PREFIX)
                or low in self.allowed_headers
                or (with_sysmeta and is_sys_or_user_meta("object", low))
            ):
                meta[title(key)] = value
        return meta

    # -- PUT -------------------------------------------------------------------------------

    def PUT(self, req: Request) -> Response:
        df = self._diskfile(req)
        ts = header_timestamp(req.headers)
        declared, expires = self._check_create(req)
        plan = updates.plan_from_headers(req.headers)
        stored = df.probe()
        refusal = self._refuse_put(req, ts, stored)
        if refusal is not None:
            return refusal
        with df.writer(declared) as writer:
            try:
                source = req.environ["wsgi.input"]
                read_body(source, writer, declared, self.options, self.limits.max_file_size)
            except ClientDisconnect:
                return Response(status="499 Client Disconnect", body=b"Client disconnected")
            except green.Timeout:
                return Response(status=408, body=b"Timeout reading the request body")
            etag = writer.etag
            sent_etag = conditional.normalize_etag(req.headers.get("ETag"))
            if sent_etag and sent_etag.lower() != etag:
                return Response(status=422, body=b"ETag does not match the body's MD5")
            meta = {
                **self._user_metadata(req, with_sysmeta=True),
                "name": df.name,
                "X-Timestamp": ts.internal,
                "Content-Type": req.headers["Content-Type"],
                "Content-Length": str(writer.bytes_written),
                "ETag": etag,
            }
            if expires is not None:
                meta["X-Delete-At"] = str(expires)
                self._queue_expiry(df, expires)
            writer.commit(meta)
        self._tell_containers(plan, df, notify.put_update(df, ts, req.headers, meta))
        return Response(status=201, headers={"ETag": etag, "X-Backend-Timestamp": ts.internal})

    def _queue_expiry(self, df: DiskFile, delete_at: int) -> None:
        """Queue the object for the expirer before the write that sets X-Delete-At lands."""
        entry = expiry_queue.Entry(df.account, df.container, df.obj, delete_at, df.policy)
        self.disk.run_blocking(expiry_queue.record, df.dev_path, df.name_hash, entry)

    def _check_create(self, req: Request) -> tuple[int | None, int | None]:
        """(declared length or None when chunked, X-Delete-At) after Swift's object-creation checks.

        The HTTP server has already refused any framing but a lone ``chunked`` or an ASCII
        Content-Length; the same rule holds here for a request from elsewhere. Every backend
        header is checked now, before anything touches the disk.
        """
        coding = req.headers.get("Transfer-Encoding")
        chunked = coding is not None
        if chunked and coding.strip(" \t").lower() != "chunked":
            raise errors.BadInput("Unsupported Transfer-Encoding")
        declared = None
        if not chunked and req.headers.get("Content-Length") is not None:
            try:
                declared = intparse.parse_uint(req.headers["Content-Length"])
            except ValueError:
                raise errors.BadInput("Invalid Content-Length") from None
        override = req.headers.get("X-Backend-Container-Update-Override-Size")
        if override is not None and not intparse.is_digits(override):
            raise errors.BadInput("Invalid X-Backend-Container-Update-Override-Size")
        constraints.check_content_length(declared, chunked, self.limits)
        if not req.headers.get("Content-Type"):
            raise errors.BadInput("No content type")
        constraints.check_metadata(req.headers, "object", self.limits)
        return declared, constraints.parse_delete_at(req.headers)

    @staticmethod
    def _refuse_put(req: Request, ts: Timestamp, stored: Probe) -> Response | None:
        """412 for If-None-Match on an existing object, 409 when something newer is stored."""
        if_none_match = req.headers.get("If-None-Match")
        if (
            if_none_match is not None
            and stored.state == "live"
            and conditional.etag_matches(if_none_match, stored.metadata.get("ETag"))
        ):
            return Response(status=412, body=b"The object already exists")
        if stored.timestamp is not None and stored.timestamp >= ts:
            return Response(status=409, headers={X_BACKEND_TIMESTAMP: stored.timestamp.internal})
        return None

    def _tell_containers(
        self, plan: updates.UpdatePlan | None, df: DiskFile, update: ListingUpdate
    ) -> None:
        """Send the write's listing update to the replicas the proxy named, if it named any."""
        if plan is not None and self.notifier.tell(update, plan, df):
            self.metrics.increment("async_pendings")

    # -- GET / HEAD ------------------------------------------------------------------------

    def _object_headers(self, opened: OpenObject) -> list[tuple[str, str]]:
        meta = opened.metadata
        ts = opened.timestamp
        headers = [
            ("Content-Type", meta.get("Content-Type", "application/octet-stream")),
            ("ETag", opened.etag),
            ("Last-Modified", ts.http_date),
            ("X-Timestamp", ts.normal),
            (X_BACKEND_TIMESTAMP, ts.internal),
            ("X-Backend-Data-Timestamp", opened.data_timestamp.internal),
            ("Accept-Ranges", "bytes"),
        ]
        for key, value in meta.items():
            low = key.lower()
            if (
                is_sys_or_user_meta("object", low)
                or low.startswith(TRANSIENT_SYSMETA_PREFIX)
                or low in self.allowed_headers
            ):
                headers.append((key, value))
        return headers

    def _open_for_read(self, req: Request) -> OpenObject | Response:
        """The open object, or the 412 a missing one gets with ``If-Match: *``."""
        df = self._diskfile(req)
        try:
            return df.open()
        except errors.NotFound as exc:
            if conditional.evaluate_missing(req.headers) != 412:
                raise
            resp = Response(status=412, body=b"If-Match: * on a missing object")
            when = getattr(exc, "timestamp", None)
            if isinstance(when, Timestamp):
                resp.headers[X_BACKEND_TIMESTAMP] = when.internal
            return resp

    def HEAD(self, req: Request) -> Response:
        opened = self._open_for_read(req)
        if isinstance(opened, Response):
            return opened
        opened.close()
        headers = self._object_headers(opened)
        status = self._conditional_status(req, opened)
        length = 0 if status else opened.content_length
        # app_iter=[]: a body of b"" would make webob rewrite Content-Length to 0
        return Response(
            status=status or 200,
            headerlist=[*headers, ("Content-Length", str(length))],
            app_iter=[],
        )

    @staticmethod
    def _conditional_status(req: Request, opened: OpenObject) -> int | None:
        last_modified = -(-opened.timestamp.ticks // 100_000)  # Last-Modified rounds up
        return conditional.evaluate(req.headers, opened.etag, last_modified)

    def GET(self, req: Request) -> Response:
        opened = self._open_for_read(req)
        if isinstance(opened, Response):
            return opened
        headers = self._object_headers(opened)
        status = self._conditional_status(req, opened)
        if status:
            opened.close()
            return Response(
                status=status, headerlist=[*headers, ("Content-Length", "0")], app_iter=[]
            )
        length = opened.content_length
        plan = ranges.plan(req.headers.get("Range"), length)
        if plan.status == 416:
            opened.close()
            body = b"Requested Range Not Satisfiable"
            headers += [
                ("Content-Range", ranges.unsatisfied_range(length)),
                ("Content-Length", str(len(body))),
            ]
            return Response(status=416, headerlist=headers, body=body)
        if plan.status == 200:
            headers.append(("Content-Length", str(length)))
            body_iter = ObjectBody(opened, opened.read_all_checked(), (0, length))
            return Response(status=200, headerlist=headers, app_iter=body_iter)
        if len(plan.spans) == 1:
            start, stop = plan.spans[0]
            headers += [
                ("Content-Range", ranges.content_range(start, stop, length)),
                ("Content-Length", str(stop - start)),
            ]
            body_iter = ObjectBody(opened, opened.read_range(start, stop), (start, stop))
            return Response(status=206, headerlist=headers, app_iter=body_iter)
        return self._multipart(opened, headers, plan.spans, length)

    @staticmethod
    def _multipart(
        opened: OpenObject,
        headers: list[tuple[str, str]],
        spans: tuple[ranges.Span, ...],
        length: int,
    ) -> Response:
        content_type = headers[0][1]
        boundary = ranges.new_boundary()
        parts = ranges.multipart_body(spans, content_type, boundary, length, opened.read_range)
        headers = [
            ("Content-Type", ranges.multipart_content_type(boundary)),
            *headers[1:],
            ("Content-Length", str(ranges.multipart_length(spans, content_type, boundary, length))),
        ]
        return Response(status=206, headerlist=headers, app_iter=ObjectBody(opened, parts, None))

    # -- POST / DELETE ---------------------------------------------------------------------

    def POST(self, req: Request) -> Response:
        df = self._diskfile(req)
        ts = header_timestamp(req.headers)
        constraints.check_metadata(req.headers, "object", self.limits)
        expires = constraints.parse_delete_at(req.headers)
        stored = df.probe()
        if stored.state == "deleted":
            raise errors.Deleted(stored.timestamp)
        if stored.state == "expired":
            raise errors.Expired(stored.timestamp)
        if stored.state != "live" or stored.meta_timestamp is None:
            raise errors.NotFound(df.name)
        if stored.meta_timestamp >= ts:
            return Response(
                status=409, headers={X_BACKEND_TIMESTAMP: stored.meta_timestamp.internal}
            )
        plan = updates.plan_from_headers(req.headers)
        meta = {"name": df.name, "X-Timestamp": ts.internal}
        meta.update(self._user_metadata(req, with_sysmeta=False))
        old_type = stored.metadata.get("Content-Type")
        new_type = req.headers.get("Content-Type") or None
        if new_type or old_type:
            # a .meta replaces everything but the data's keys: carry the current type forward
            meta["Content-Type"] = new_type or old_type or ""
        if expires is not None:
            meta["X-Delete-At"] = str(expires)
            self._queue_expiry(df, expires)
        df.write_metadata(meta)
        if new_type is not None and new_type != old_type:
            # the listing row shows the new type, last modified at this POST, as Swift's does
            update = notify.post_update(df, ts, req.headers, stored.metadata, new_type)
            self._tell_containers(plan, df, update)
        return Response(status=202, headers={X_BACKEND_TIMESTAMP: ts.internal})

    def DELETE(self, req: Request) -> Response:
        df = self._diskfile(req)
        ts = header_timestamp(req.headers)
        plan = updates.plan_from_headers(req.headers)
        stored = df.probe()
        orig = stored.timestamp
        status = 404
        if stored.state == "live" and orig is not None:
            status = 204 if orig < ts else 409
        if_delete_at = req.headers.get("X-If-Delete-At")
        if if_delete_at is not None:
            try:
                wanted = intparse.parse_uint(if_delete_at)
            except ValueError:
                raise errors.BadInput("Bad X-If-Delete-At header value") from None
            if orig is None:
                raise errors.NotFound(df.name)
            if orig >= ts:
                return Response(status=409, headers={X_BACKEND_TIMESTAMP: orig.internal})
            if delete_at(stored.metadata) != wanted:
                return Response(status=412, body=b"X-If-Delete-At and X-Delete-At do not match")
        if orig is None or orig < ts:
            df.delete(ts)
            self._tell_containers(plan, df, notify.delete_update(df, ts, req.headers))
        newest = ts if orig is None or orig < ts else orig
        return Response(status=status, headers={X_BACKEND_TIMESTAMP: newest.internal})

    # -- REPLICATE -------------------------------------------------------------------------

    def REPLICATE(self, req: Request) -> Response:
        parts = req.environ["PATH_INFO"].strip("/").split("/")
        if len(parts) == 1 and parts[0]:
            return self._replicate_many(req, parts[0])
        if len(parts) not in (2, 3) or not intparse.is_digits(parts[1]):
            raise errors.BadInput("REPLICATE needs /<device>/<partition>[/<suffixes>]")
        policy = backend_policy(req.headers)
        dev_path = self.device_path(parts[0])
        # the replicator's rsync stages files in tmp/ (--temp-dir); a wiped device needs it back
        os.makedirs(layout.tmp_dir(dev_path, policy), exist_ok=True)
        suffixes = parts[2].split("-") if len(parts) == 3 and parts[2] else []
        result = hashes.get_hashes(
            layout.partition_dir(dev_path, int(parts[1]), policy),
            recalculate=suffixes,
            reclaim_age=float(self.options.reclaim_age),
        )
        body = json.dumps(result, sort_keys=True).encode("ascii")
        return Response(status=200, body=body, content_type="application/json", charset=None)

    def _replicate_many(self, req: Request, device: str) -> Response:
        """``REPLICATE /<device>`` with ``{"partitions": [N, ...]}``: every partition's hashes
        in one answer, ``{"N": {suffix: hash}}`` (the replicator's batched form)."""
        partitions = hash_batch.parse_request(req.body_file.read(hash_batch.MAX_BODY + 1))
        policy = backend_policy(req.headers)
        dev_path = self.device_path(device)
        os.makedirs(layout.tmp_dir(dev_path, policy), exist_ok=True)
        reclaim_age = float(self.options.reclaim_age)
        result = {
            str(part): hashes.get_hashes(
                layout.partition_dir(dev_path, part, policy), reclaim_age=reclaim_age
            )
            for part in partitions
        }
        body = json.dumps(result, sort_keys=True).encode("ascii")
        return Response(status=200, body=body, content_type="application/json", charset=None)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> ObjectServer:
    """paste.deploy entry point (``egg:swiftlite#object``)."""
    options = config.parse_options(
        ObjectServerOptions, local_conf, global_conf, where="[app:object-server]"
    )
    return ObjectServer(options)
