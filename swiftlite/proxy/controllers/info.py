"""InfoController: ``GET|HEAD|OPTIONS /info``, the cluster's capabilities in Swift's format.

The body is JSON: ``{"swift": {...}, "<filter>": {...}}``. The ``swift`` section holds the API
limits (``Constraints.info()``), the version, the storage policies that are not deprecated
(``common/policies.py``) and the proxy's account options. Filters add their own sections with
``register_info(name, **data)`` from ``common/registry.py`` (tempauth:
``register_info("tempauth", account_acls=True)``).
``expose_info = false`` makes ``/info`` a 403; ``disallowed_sections`` hides sections.
"""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

from webob import Request, Response

from swiftlite.common.registry import registered
from swiftlite.proxy.controllers.base import Controller


def swift_version() -> str:
    try:
        return importlib.metadata.version("swiftlite")
    except importlib.metadata.PackageNotFoundError:  # odd install: /info still works
        return "0.0.0"


class InfoController(Controller):
    server_type = "Info"
    allowed_methods = frozenset({"GET", "HEAD", "OPTIONS"})

    def info(self) -> dict[str, Any]:
        options = self.app.options
        swift = dict(self.app.limits.info())
        swift.update(
            version=swift_version(),
            policies=self.app.policies.info(),
            strict_cors_mode=options.strict_cors_mode,
            allow_account_management=options.allow_account_management,
            account_autocreate=options.account_autocreate,
            max_containers_per_account=options.max_containers_per_account,
        )
        out: dict[str, Any] = {"swift": swift}
        for name, data in registered().items():
            if name == "swift":
                swift.update(data)
            else:
                out[name] = data
        for name in options.disallowed_sections:
            out.pop(name, None)
        return out

    def GET(self, req: Request) -> Response:
        if not self.app.options.expose_info:
            return Response(status=403, body=b"Forbidden", content_type="text/plain")
        body = json.dumps(self.info(), sort_keys=True).encode("utf-8")
        resp = Response(status=200, content_type="application/json", charset="utf-8")
        if req.method == "HEAD":
            resp.content_length = len(body)
        else:
            resp.body = body
        return resp

    def HEAD(self, req: Request) -> Response:
        return self.GET(req)

    def OPTIONS(self, req: Request) -> Response:
        return Response(status=200, headers={"Allow": "GET, HEAD, OPTIONS"})
