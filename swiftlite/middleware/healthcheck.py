"""healthcheck: answer ``/healthcheck`` without touching anything below.

``/healthcheck`` answers 200 ``OK`` to any method, with no auth. When the ``disable_path``
option names a file that exists, it answers 503 ``DISABLED BY FILE`` instead, so an operator
can take a node out of a load balancer by touching a file. Every other path passes through.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Response

from swiftlite.common import config

HEALTHCHECK_PATH = "/healthcheck"


@dataclass(frozen=True)
class HealthcheckOptions:
    disable_path: str | None = None


class HealthcheckMiddleware:
    def __init__(self, app: Callable[..., Any], options: HealthcheckOptions) -> None:
        self.app = app
        self.disable_path = options.disable_path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != HEALTHCHECK_PATH:
            return self.app(environ, start_response)
        if self.disable_path and os.path.exists(self.disable_path):
            resp = Response(status=503, body=b"DISABLED BY FILE", content_type="text/plain")
        else:
            resp = Response(status=200, body=b"OK", content_type="text/plain")
        resp.charset = None
        return resp(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#healthcheck``."""
    options = config.parse_options(
        HealthcheckOptions, local_conf, global_conf, where="[filter:healthcheck]"
    )

    def make(app: Any) -> HealthcheckMiddleware:
        return HealthcheckMiddleware(app, options)

    return make
