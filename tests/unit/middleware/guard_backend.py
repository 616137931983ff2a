"""A fake proxy for the guard filters' tests: info dicts the test chooses, the auth contract.

``InfoProxy`` answers account and container HEADs from the ``accounts`` / ``containers``
header dicts the test fills (recording the info in the request memo as the real proxy does,
through ``proxy/info.py``'s own converters), calls ``swiftlite.authorize`` for everything else
unless the request has the override, and answers ``status`` (201 by default), recording each
request it saw.
"""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.middleware import pathinfo
from swiftlite.proxy.info import (
    INFOCACHE,
    account_info_from,
    account_key,
    container_info_from,
    container_key,
)


class InfoProxy:
    def __init__(self, status: int = 201) -> None:
        self.accounts: dict[str, dict[str, str]] = {}
        self.containers: dict[tuple[str, str], dict[str, str]] = {}
        self.status = status
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.reply_headers: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        self.seen.append((req.method, environ["PATH_INFO"], dict(req.headers)))
        path = pathinfo.api_path(environ)
        memo = environ.setdefault(INFOCACHE, {})
        if path is not None and req.method == "HEAD":
            if path.container is None:
                found = self.accounts.get(path.account)
                status = 200 if found is not None else 404
                info = account_info_from(status, list((found or {}).items()))
                memo[account_key(path.account)] = info
                return Response(status=info["status"], headers=found or {})(environ, start_response)
            if path.obj is None:
                found = self.containers.get((path.account, path.container))
                status = 200 if found is not None else 404
                info = container_info_from(status, list((found or {}).items()))
                memo[container_key(path.account, path.container)] = info
                return Response(status=status, headers=found or {})(environ, start_response)
        authorize = environ.get("swiftlite.authorize")
        if authorize is not None and not environ.get("swiftlite.authorize_override"):
            denied = authorize(req)
            if denied is not None:
                return denied(environ, start_response)
        headers = dict(self.reply_headers)
        if path is not None and path.container is None and path.account in self.accounts:
            headers.update(self.accounts[path.account])
        return Response(status=self.status, headers=headers)(environ, start_response)

    @property
    def writes(self) -> list[tuple[str, str, dict[str, str]]]:
        return [s for s in self.seen if s[0] != "HEAD"]
