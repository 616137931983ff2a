"""read_only: refuse writes cluster-wide or for one account, 405.

As Swift's read_only: with ``read_only = true`` every ``PUT``, ``POST``, ``COPY`` and (unless
``allow_deletes = true``) ``DELETE`` is 405 ``Writes are disabled for this account.``. An
account's ``X-Account-Sysmeta-Read-Only`` overrides the cluster setting either way (``true``
makes that one account read-only, ``false`` keeps it writable in a read-only cluster). A COPY
is judged by its ``Destination-Account``.

Sysmeta never comes from clients (gatekeeper), so besides a direct backend write, a reseller
admin may set it with ``X-Account-Read-Only: true|false`` (empty removes) on an account PUT or
POST; that one request is let through even on a read-only account, so the flag can be lifted.
From anyone else the header is 403, and a value that is not a boolean 400.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request

from swiftlite.common import config
from swiftlite.common.errors import BadName
from swiftlite.common.names import wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, quotas, subrequest
from swiftlite.proxy import responses

SOURCE = "RO"
CLIENT_HEADER = "X-Account-Read-Only"
SYSMETA = "X-Account-Sysmeta-Read-Only"
BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"})


@dataclass(frozen=True)
class ReadOnlyOptions:
    read_only: bool = False
    allow_deletes: bool = False


class ReadOnlyMiddleware:
    def __init__(self, app: Callable[..., Any], options: ReadOnlyOptions) -> None:
        self.app = app
        self.options = options
        self.write_methods = {"PUT", "POST", "COPY"}
        if not options.allow_deletes:
            self.write_methods.add("DELETE")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        path = pathinfo.api_path(environ)
        if path is None or method not in self.write_methods:
            return self.app(environ, start_response)
        req = Request(environ)
        if path.container is None and CLIENT_HEADER in req.headers and method in ("PUT", "POST"):
            return self.set_flag(req, environ, start_response)
        account = path.account
        if method == "COPY" and req.headers.get("Destination-Account"):
            try:
                account = urllib.parse.unquote(wsgi_to_str(req.headers["Destination-Account"]))
            except BadName:
                return self.app(environ, start_response)  # the copy filter answers 412
        if self.account_read_only(environ, account):
            body = "Writes are disabled for this account."
            return responses.response(405, body)(environ, start_response)
        return self.app(environ, start_response)

    def set_flag(self, req: Request, environ: dict[str, Any], start_response: Any) -> Any:
        """A reseller admin's account write that sets the read-only flag."""
        if environ.get(quotas.RESELLER) is not True:
            return responses.response(403)(environ, start_response)
        value = req.headers.pop(CLIENT_HEADER).strip().lower()
        if value and value not in BOOLEANS:
            return responses.response(400, f"{CLIENT_HEADER} must be true or false")(
                environ, start_response
            )
        req.headers[SYSMETA] = ("true" if config.config_true(value) else "false") if value else ""
        return self.app(environ, start_response)

    def account_read_only(self, environ: dict[str, Any], account: str) -> bool:
        """The account's own flag when it has one, else the cluster's."""
        info = subrequest.get_account_info(environ, self.app, account, SOURCE)
        flag = quotas.lookup(info.get("sysmeta", {}), "Read-Only")
        if not flag:
            return self.options.read_only
        return config.config_true(flag)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#read_only``."""
    options = config.parse_options(
        ReadOnlyOptions, local_conf, global_conf, where="[filter:read_only]"
    )
    if options.read_only:
        register_info("read_only")  # as Swift: listed only when the cluster is read-only

    def make(app: Any) -> ReadOnlyMiddleware:
        return ReadOnlyMiddleware(app, options)

    return make
