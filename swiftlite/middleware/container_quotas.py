"""container_quotas: a container's byte and object-count limits, set by whoever owns it.

As Swift's container_quotas:

* ``X-Container-Meta-Quota-Bytes`` and ``X-Container-Meta-Quota-Count`` are plain container
  metadata (so whoever may POST the container may set them). A container PUT or POST that sets
  one to anything but ASCII digits is 400 ``Invalid bytes quota.`` / ``Invalid count quota.``;
  an empty value removes it, as for any metadata.
* An object PUT whose container would then hold more than its quota, ``bytes used +
  Content-Length > Quota-Bytes`` or ``object count + 1 > Quota-Count``, is 413 ``Upload
  exceeds quota.`` (a total equal to the quota is allowed), after authorization (see
  ``quotas.refuse_after_auth``). Usage is the container info the proxy caches, so as in Swift
  it can lag behind writes by other proxies.
* COPY and ``X-Copy-From`` reach this filter as a plain PUT subrequest with the source's size
  as its Content-Length (the copy filter sits above), so copies are counted the same way.

It never reads a backend itself: the container's info comes through ``subrequest``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request

from swiftlite.common import config
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, quotas, subrequest
from swiftlite.proxy import responses
from swiftlite.proxy.quorum import is_success

SOURCE = "CQ"
CHECKED = (
    ("X-Container-Meta-Quota-Bytes", "Invalid bytes quota."),
    ("X-Container-Meta-Quota-Count", "Invalid count quota."),
)


@dataclass(frozen=True)
class ContainerQuotasOptions:
    pass


class ContainerQuotasMiddleware:
    def __init__(self, app: Callable[..., Any], options: ContainerQuotasOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        if method not in ("PUT", "POST"):
            return self.app(environ, start_response)
        path = pathinfo.api_path(environ)
        if path is None or path.container is None:
            return self.app(environ, start_response)
        req = Request(environ)
        if path.obj is None:
            for header, message in CHECKED:
                try:
                    quotas.parse_quota(req.headers.get(header, ""))
                except ValueError:
                    return responses.response(400, message)(environ, start_response)
        elif method == "PUT":
            refusal = self.check_upload(req, path.account, path.container)
            if refusal is not None:
                return refusal(environ, start_response)
        return self.app(environ, start_response)

    def check_upload(self, req: Request, account: str, container: str) -> Any:
        """The 413 to answer now, or None (a later 413 may be armed, see refuse_after_auth)."""
        length = quotas.upload_length(req.environ)
        if length is None:
            return None  # the proxy answers a bad Content-Length
        info = subrequest.get_container_info(req.environ, self.app, account, container, SOURCE)
        if not is_success(info.get("status", 0)):
            return None  # the proxy answers 404 (or 503)
        meta = info.get("meta", {})
        over = quotas.over(
            info.get("bytes"),
            info.get("object_count"),
            length,
            quotas.stored_quota(quotas.lookup(meta, "Quota-Bytes")),
            quotas.stored_quota(quotas.lookup(meta, "Quota-Count")),
        )
        if not over:
            return None
        return quotas.refuse_after_auth(req, quotas.OVER_QUOTA)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#container_quotas``."""
    options = config.parse_options(
        ContainerQuotasOptions, local_conf, global_conf, where="[filter:container_quotas]"
    )
    register_info("container_quotas")

    def make(app: Any) -> ContainerQuotasMiddleware:
        return ContainerQuotasMiddleware(app, options)

    return make
