"""ProxyApp: the proxy's WSGI app: options, rings, shared state, and routing to controllers.

``app_factory`` parses ``[app:proxy-server]`` once into ``ProxyOptions`` and builds one
``ProxyApp`` per worker. The app owns what lives as long as the worker: the three rings (each
reloads itself when its file changes), the backend connection pool, the error limiter and a
local info cache used when no ``cache`` filter put a client in the environ. Each request is
routed by its path to a fresh controller (``/info``, ``/v1/<a>``, ``/v1/<a>/<c>``,
``/v1/<a>/<c>/<o>``) whose verb method returns the response. Domain ``Invalid`` errors become
their 4xx here; anything unexpected is logged and answered 500 without a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, constraints, errors, logs, policies, reserved
from swiftlite.common.http.client import BackendPool
from swiftlite.common.memcache import LocalCache
from swiftlite.common.names import quote_text, split_api_path, wsgi_to_str
from swiftlite.common.storage_app import status_for
from swiftlite.proxy import cors, responses
from swiftlite.proxy.controllers.account import AccountController
from swiftlite.proxy.controllers.base import Controller
from swiftlite.proxy.controllers.container import ContainerController
from swiftlite.proxy.controllers.info import InfoController
from swiftlite.proxy.controllers.obj import ObjectController
from swiftlite.proxy.nodes import ErrorLimiter, request_node_count
from swiftlite.ring import Ring, RingError

RING_FILES = {
    "account": "account.ring.gz",
    "container": "container.ring.gz",
    "object": "object.ring.gz",
}


@dataclass(frozen=True)
class ProxyOptions:
    """``[app:proxy-server]`` options; names and defaults are Swift's where Swift has them."""

    swift_dir: str = "/etc/swiftlite"
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    # per-chunk read timeout while streaming a GET body; a stall fails over to another node
    recoverable_node_timeout: float | None = None
    client_timeout: float = 60.0
    post_quorum_timeout: float = 0.5
    error_suppression_interval: float = 60.0
    error_suppression_limit: int = 10
    request_node_count: str = "2 * replicas"
    recheck_account_existence: float = 60.0
    recheck_container_existence: float = 60.0
    account_autocreate: bool = False
    allow_account_management: bool = False
    max_containers_per_account: int = 0
    max_containers_whitelist: tuple[str, ...] = ()
    object_chunk_size: int = 65536
    client_chunk_size: int = 65536
    # swiftlite: object PUTs of at most this many bytes (known length) skip 100-continue and
    # send head and body at once, after a connection to a quorum of nodes is in hand; 0 = never
    put_whole_max: int = 65536
    sorting_method: str = "shuffle"
    backend_pool_size: int = 32
    expose_info: bool = True
    # CORS (proxy/cors.py): origins allowed for every container, headers always exposed
    cors_allow_origin: tuple[str, ...] = ()
    cors_expose_headers: tuple[str, ...] = ()
    strict_cors_mode: bool = True
    disallowed_sections: tuple[str, ...] = ()
    log_handoffs: bool = True
    log_name: str = "proxy-server"
    log_level: str = "INFO"
    log_file: str | None = None

    def __post_init__(self) -> None:
        if self.sorting_method not in ("shuffle", "none"):
            raise ValueError(f"sorting_method must be shuffle or none, not {self.sorting_method}")
        request_node_count(self.request_node_count, 3)  # validates the form


class ProxyApp:
    """The proxy WSGI app. ``rings`` may be injected (tests); otherwise read from swift_dir."""

    def __init__(
        self,
        options: ProxyOptions,
        rings: dict[str, Any] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.options = options
        self.logger = logger or logs.get_logger(
            options.log_name, options.log_file, options.log_level
        )
        self.policies = policies.load()
        if rings is None:
            rings = load_rings(options.swift_dir, self.policies)
        self.account_ring = rings["account"]
        self.container_ring = rings["container"]
        self.object_ring = rings["object"]
        # one ring per policy; injected rings without ``object-N`` serve policy N from ``object``
        self.object_rings = {p.idx: rings.get(p.ring_name, self.object_ring) for p in self.policies}
        self.limits = constraints.load()
        self.pool = BackendPool(
            conn_timeout=options.conn_timeout,
            node_timeout=options.node_timeout,
            max_idle_per_node=options.backend_pool_size,
        )
        self.limiter = ErrorLimiter(
            options.error_suppression_interval, options.error_suppression_limit
        )
        self.local_cache = LocalCache()
        self.recoverable_node_timeout = (
            options.recoverable_node_timeout
            if options.recoverable_node_timeout is not None
            else options.node_timeout
        )

    # -- helpers the controllers share ---------------------------------------------------------
    def get_object_ring(self, policy_index: int | str | None) -> Any:
        """The object ring of a policy; None for an index no policy has."""
        policy = self.policies.get_by_index(policy_index)
        return None if policy is None else self.object_rings.get(policy.idx)

    def node_count(self, ring: Any) -> int:
        return request_node_count(self.options.request_node_count, ring.replica_count)

    def node_error(self, node: Any, server_type: str, what: str, status: int | None = None) -> None:
        """Charge a failure to a node: a 507 suppresses it at once, anything else counts one."""
        where = f"{node['ip']}:{node['port']}/{node['device']}"
        what = logs.escape(what)  # it names the client's path: a line break in it is quoted
        if status == 507:
            self.limiter.limit(node)
            self.logger.error(
                "ERROR Insufficient Storage %s server %s re: %s", server_type, where, what
            )
            return
        if self.limiter.increment(node):
            self.logger.error("ERROR %s server %s is now error-limited", server_type, where)
        detail = f" (status {status})" if status else ""
        self.logger.warning("ERROR with %s server %s re: %s%s", server_type, where, what, detail)

    def cache(self, environ: dict[str, Any]) -> Any:
        """``swiftlite.cache`` (memcached or the cache filter's local one), else our own."""
        cache = environ.get("swiftlite.cache")
        return self.local_cache if cache is None else cache

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        req = Request(environ)
        return self.handle(req)(environ, start_response)

    def handle(self, req: Request) -> Response:
        """Route and answer, in Swift's order: path (412, 404, 400), then 405, then the verb.

        The path and the method are judged before any authorization, so a bad path or an
        unknown method gets the same answer with or without a token.
        """
        if req.environ.get("PATH_INFO", "") in ("", "/"):
            return responses.error(404)
        try:
            controller = self.get_controller(req)
            if controller is None:
                return responses.error(412, "Bad URL")
            method = req.method
            if method not in controller.allowed_methods:
                allow = ", ".join(sorted(controller.allowed_methods))
                return responses.error(405, headers={"Allow": allow})
            resp = getattr(controller, method)(req)
            if isinstance(controller, ContainerController | ObjectController):
                resp = cors.actual(controller, req, resp)
            return resp
        except errors.NotFound:
            return responses.error(404)
        except errors.Invalid as exc:
            return invalid_response(exc)
        except Exception:
            self.logger.exception(
                "ERROR unhandled exception in %s %s (trans %s)",
                req.method,
                quote_text(req.environ.get("PATH_INFO", "")),
                req.environ.get("swiftlite.trans_id", "-"),
            )
            return responses.error(500)

    def get_controller(self, req: Request) -> Controller | None:
        """The controller for the path; None for a path with no account (412 Bad URL).

        Raises BadName (412) for names that are not UTF-8 or hold NUL, NotFound (404) for a
        path with an empty segment and BadInput (400) for an unknown API version, as Swift
        answers.
        """
        path_info = req.environ.get("PATH_INFO", "")
        if path_info == "/info":
            return InfoController(self)
        if "/" not in path_info.strip("/"):
            wsgi_to_str(path_info)  # an invalid name is 412 even here
            if "//" in path_info:
                raise errors.NotFound("Invalid path")  # /v1// or //v1: an empty segment
            return None
        path = split_api_path(path_info, allow_reserved=reserved.allowed(req.headers))
        if path.obj is not None:
            return ObjectController(self, path.account, path.container, path.obj)  # type: ignore[arg-type]
        if path.container is not None:
            return ContainerController(self, path.account, path.container)
        return AccountController(self, path.account)


def invalid_response(exc: errors.Invalid) -> Response:
    """A domain error's status with its message as the body, shaped as swob shapes errors."""
    status = status_for(exc)
    body = str(exc) if status != 404 else None
    return responses.error(status, body)


def load_rings(swift_dir: str, pols: policies.StoragePolicies = policies.DEFAULT) -> dict[str, Any]:
    """The account and container rings and each policy's object ring, by ring name."""
    rings = {}
    files = dict(RING_FILES)
    files.update({p.ring_name: f"{p.ring_name}.ring.gz" for p in pols})
    for kind, name in files.items():
        path = os.path.join(swift_dir, name)
        try:
            rings[kind] = Ring(path)
        except RingError as exc:
            raise errors.ConfigError(f"cannot load the {kind} ring {path}: {exc}") from None
    return rings


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> ProxyApp:
    """paste.deploy entry point (``egg:swiftlite#proxy``)."""
    options = config.parse_options(
        ProxyOptions, local_conf, global_conf, where="[app:proxy-server]"
    )
    return ProxyApp(options)
