"""etag_quoter: double-quote object ETags (RFC 7232) where the account or container asks.

As Swift's etag_quoter:

* ``X-Account-Rfc-Compliant-Etags`` / ``X-Container-Rfc-Compliant-Etags`` on an account or
  container PUT/POST are stored as ``X-<Type>-Sysmeta-Rfc-Compliant-Etags`` (a true/false
  value; empty or the ``X-Remove-`` form removes it), and shown back under the client name.
* An object response's ``ETag`` is quoted (``"d41d8..."``, a value already quoted or weak is
  left alone) when the container's flag says so, else the account's, else
  ``enable_by_default``. So an account can turn quoting on and one container off again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request

from swiftlite.common import config
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, quotas, subrequest
from swiftlite.proxy.quorum import is_success

SOURCE = "EQ"
FLAG = "Rfc-Compliant-Etags"


@dataclass(frozen=True)
class EtagQuoterOptions:
    enable_by_default: bool = False


def quoted(value: str) -> str:
    """``value`` as an RFC 7232 entity tag: unchanged if already quoted (or weak)."""
    if value.startswith(('"', 'W/"')) and value.endswith('"') and len(value) > 1:
        return value
    return f'"{value}"'


def _translate_request(req: Request, kind: str) -> None:
    client, sysmeta = f"X-{kind}-{FLAG}", f"X-{kind}-Sysmeta-{FLAG}"
    if client in req.headers:
        value = req.headers[client]
        req.headers[sysmeta] = ("true" if config.config_true(value) else "false") if value else ""
    if req.headers.get(f"X-Remove-{kind}-{FLAG}"):
        req.headers[sysmeta] = ""


class EtagQuoterMiddleware:
    def __init__(self, app: Callable[..., Any], options: EtagQuoterOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = pathinfo.api_path(environ)
        if path is None:
            return self.app(environ, start_response)
        if path.obj is None:
            return self.handle_db(
                environ, start_response, "Container" if path.container else "Account"
            )
        if not self.wanted(environ, path.account, path.container or ""):
            return self.app(environ, start_response)

        def quoting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            fixed = [(k, quoted(v) if k.lower() == "etag" else v) for k, v in headers]
            return start_response(status, fixed, exc_info)

        return self.app(environ, quoting)

    def handle_db(
        self, environ: dict[str, Any], start_response: Callable[..., Any], kind: str
    ) -> Any:
        if environ.get("REQUEST_METHOD") in ("PUT", "POST"):
            _translate_request(Request(environ), kind)
        sysmeta = f"x-{kind.lower()}-sysmeta-{FLAG.lower()}"
        client = f"X-{kind}-{FLAG}"

        def showing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            shown = [(client if k.lower() == sysmeta else k, v) for k, v in headers]
            return start_response(status, shown, exc_info)

        return self.app(environ, showing)

    def wanted(self, environ: dict[str, Any], account: str, container: str) -> bool:
        """Whether this object's ETags are quoted: the container's flag, the account's, the
        default."""
        cinfo = subrequest.get_container_info(environ, self.app, account, container, SOURCE)
        if not is_success(cinfo.get("status", 0)):
            return False
        flag = quotas.lookup(cinfo.get("sysmeta", {}), FLAG)
        if flag is None:
            ainfo = subrequest.get_account_info(environ, self.app, account, SOURCE)
            if not is_success(ainfo.get("status", 0)):
                return False
            flag = quotas.lookup(ainfo.get("sysmeta", {}), FLAG)
        if flag is None:
            return self.options.enable_by_default
        return config.config_true(flag)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#etag_quoter``."""
    options = config.parse_options(
        EtagQuoterOptions, local_conf, global_conf, where="[filter:etag_quoter]"
    )
    register_info("etag_quoter", enable_by_default=options.enable_by_default)

    def make(app: Any) -> EtagQuoterMiddleware:
        return EtagQuoterMiddleware(app, options)

    return make
