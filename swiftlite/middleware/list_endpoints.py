"""list_endpoints: where an account, container or object lives, as backend URLs in JSON.

As Swift's list_endpoints, for services inside the cluster that want data locality:

* ``GET /endpoints/v2/<a>[/<c>[/<o>]]`` is ``{"endpoints": [...], "headers": {...}}``, each
  endpoint ``http://<ip>:<port>/<device>/<partition>/<a>[/<c>[/<o>]]`` (names percent-quoted),
  one per primary node; for an object ``headers`` holds the ``X-Backend-Storage-Policy-Index``
  of its container. ``/endpoints/v1/...`` and ``/endpoints/<a>/...`` are the bare list.
* Another method is 405 (``Allow: GET``), a missing account or an unknown ``v<N>`` 400.

It is not authenticated (as in Swift): enable it only on a proxy that untrusted clients cannot
reach. Rings are read from ``swift_dir`` (reloaded when they change, like the proxy's).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Response

from swiftlite.common import config
from swiftlite.common.errors import BadName
from swiftlite.common.names import quote_text, wsgi_to_str
from swiftlite.middleware import subrequest
from swiftlite.proxy import responses
from swiftlite.ring import Ring
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet

SOURCE = "LE"
VERSIONS = {"v1": 1, "v1.0": 1, "v2": 2, "v2.0": 2}


@dataclass(frozen=True)
class ListEndpointsOptions:
    swift_dir: str = "/etc/swiftlite"
    list_endpoints_path: str = "/endpoints/"

    @property
    def prefix(self) -> str:
        path = self.list_endpoints_path
        return path if path.endswith("/") else path + "/"


class BadEndpointPath(ValueError):
    pass


def parse_path(rest: str) -> tuple[int, str, str | None, str | None]:
    """``[v<N>/]<a>[/<c>[/<o>]]`` (after the prefix, real str) -> (version, a, c, o) (pure)."""
    first, _, tail = rest.partition("/")
    version = 1
    if first in VERSIONS:
        version, rest = VERSIONS[first], tail
    elif first.startswith("v") and "_" not in first and first[1:2].isdigit():
        raise BadEndpointPath(f"Unsupported version {quote_text(first)!r}")
    account, _, tail = rest.partition("/")
    if not account:
        raise BadEndpointPath("No account specified")
    if not tail:
        return version, account, None, None
    container, _, obj = tail.partition("/")
    if not container:
        raise BadEndpointPath("Bad path: empty container name")
    return version, account, container, obj or None


def endpoint(node: Node, part: int, *names: str) -> str:
    quoted = "/".join(urllib.parse.quote(n) for n in names)
    return f"http://{node.host}/{node.device}/{part}/{quoted}"


class ListEndpointsMiddleware:
    def __init__(self, app: Callable[..., Any], options: ListEndpointsOptions) -> None:
        self.app = app
        self.options = options
        self.rings = RingSet(options.swift_dir)

    def ring(self, name: str) -> Ring:
        return self.rings.get(name)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ.get("PATH_INFO", "")
        prefix = self.options.prefix
        if not raw.startswith(prefix):
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "GET":
            return responses.response(405, None, {"Allow": "GET"})(environ, start_response)
        try:
            version, account, container, obj = parse_path(wsgi_to_str(raw[len(prefix) :]))
        except (BadEndpointPath, BadName) as exc:
            return responses.response(400, str(exc) or "Bad path")(environ, start_response)
        return self.answer(environ, version, account, container, obj)(environ, start_response)

    def answer(
        self,
        environ: dict[str, Any],
        version: int,
        account: str,
        container: str | None,
        obj: str | None,
    ) -> Response:
        policy: str | None = None
        if obj is not None and container is not None:
            info = subrequest.get_container_info(environ, self.app, account, container, SOURCE)
            policy = str(info.get("storage_policy", "0") or "0")
            ring_name = "object" if policy == "0" else f"object-{policy}"
            part, nodes = self.ring(ring_name).get_nodes(account, container, obj)
            names = [account, container, obj]
        elif container is not None:
            part, nodes = self.ring("container").get_nodes(account, container)
            names = [account, container]
        else:
            part, nodes = self.ring("account").get_nodes(account)
            names = [account]
        endpoints = [endpoint(node, part, *names) for node in nodes]
        if version == 1:
            body: Any = endpoints
        else:
            headers = {"X-Backend-Storage-Policy-Index": policy} if policy is not None else {}
            body = {"endpoints": endpoints, "headers": headers}
        return Response(body=json.dumps(body).encode(), content_type="application/json")


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#list_endpoints``."""
    options = config.parse_options(
        ListEndpointsOptions, local_conf, global_conf, where="[filter:list_endpoints]"
    )

    def make(app: Any) -> ListEndpointsMiddleware:
        return ListEndpointsMiddleware(app, options)

    return make
