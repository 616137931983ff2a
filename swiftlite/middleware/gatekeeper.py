"""gatekeeper: keep internal headers out of client requests and out of client responses.

Clients may not send, and never see, ``X-Backend-*``, any ``X-<type>-Sysmeta-*`` and
``X-Object-Transient-Sysmeta-*`` headers. Filters inside the pipeline (tempauth, the proxy)
may set them on the request after this filter has run, and storage servers return them, so the
filter sits near the front of the pipeline and cleans both directions.

A client's ``X-Timestamp`` is moved aside to ``X-Backend-Inbound-X-Timestamp``
(``shunt_inbound_x_timestamp``, on by default as in Swift): a client must not choose the time
its write is stamped with, or a far-future stamp would make its object immortal. The proxy
stamps every client write itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config
from swiftlite.common.http.headers import is_any_sysmeta, is_backend

INBOUND_X_TIMESTAMP = "HTTP_X_BACKEND_INBOUND_X_TIMESTAMP"


@dataclass(frozen=True)
class GatekeeperOptions:
    shunt_inbound_x_timestamp: bool = True


def is_internal(header: str) -> bool:
    """True for a header name clients may neither send nor receive."""
    return is_backend(header) or is_any_sysmeta(header)


def _environ_header(key: str) -> str | None:
    """``HTTP_X_BACKEND_FOO`` -> ``x-backend-foo``; None for keys that are not headers."""
    if not key.startswith("HTTP_"):
        return None
    return key[5:].replace("_", "-").lower()


class GatekeeperMiddleware:
    def __init__(self, app: Callable[..., Any], options: GatekeeperOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        for key in [k for k in environ if k.startswith("HTTP_X_")]:
            name = _environ_header(key)
            if name is not None and is_internal(name):
                del environ[key]
        if self.options.shunt_inbound_x_timestamp and "HTTP_X_TIMESTAMP" in environ:
            environ[INBOUND_X_TIMESTAMP] = environ.pop("HTTP_X_TIMESTAMP")

        def cleaned(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if not is_internal(k)]
            return start_response(status, kept, exc_info)

        return self.app(environ, cleaned)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#gatekeeper``."""
    options = config.parse_options(
        GatekeeperOptions, local_conf, global_conf, where="[filter:gatekeeper]"
    )

    def make(app: Any) -> GatekeeperMiddleware:
        return GatekeeperMiddleware(app, options)

    return make
