"""A stand-in for the proxy app, for filter tests: dict storage, and the proxy's auth contract.

Like the real proxy it sets ``environ['swiftlite.acl']`` (X-Container-Read for object and
listing reads, X-Container-Write for object writes, None otherwise), calls
``environ['swiftlite.authorize']`` and returns its response when it denies, shows container
ACL headers only to owners, and returns account sysmeta on account HEAD/GET (gatekeeper strips
it on the way out).
"""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.common.errors import BadInput, BadName, NotFound
from swiftlite.common.names import split_api_path

ACL_HEADERS = ("X-Container-Read", "X-Container-Write")


class StubProxy:
    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, str]] = {}
        self.containers: dict[tuple[str, str], dict[str, str]] = {}
        self.objects: dict[tuple[str, str, str], bytes] = {}
        self.calls: list[tuple[str, str, str | None]] = []
        self.seen_environs: list[dict[str, Any]] = []
        self.last_headers: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        self.calls.append((req.method, environ["PATH_INFO"], environ.get("swiftlite.source")))
        self.seen_environs.append(environ)
        self.last_headers = dict(req.headers)
        try:
            path = split_api_path(environ["PATH_INFO"])
        except (BadInput, BadName, NotFound):
            return Response(status=404)(environ, start_response)
        environ["swiftlite.acl"] = self._acl_for(req, path)
        authorize = environ.get("swiftlite.authorize")
        if authorize is not None and not environ.get("swiftlite.authorize_override"):
            denial = authorize(req)
            if denial is not None:
                return denial(environ, start_response)
        if path.container is None:
            resp = self._account(req, path.account)
        elif path.obj is None:
            resp = self._container(req, path.account, path.container)
        else:
            resp = self._object(req, path.account, path.container, path.obj)
        return resp(environ, start_response)

    def _acl_for(self, req: Request, path: Any) -> str | None:
        if path.container is None:
            return None
        meta = self.containers.get((path.account, path.container), {})
        if path.obj is None:
            return meta.get("X-Container-Read") if req.method in ("GET", "HEAD") else None
        if req.method in ("GET", "HEAD"):
            return meta.get("X-Container-Read")
        return meta.get("X-Container-Write")

    def _account(self, req: Request, account: str) -> Response:
        meta = self.accounts.setdefault(account, {})
        if req.method in ("PUT", "POST"):
            for key, value in req.headers.items():
                if key.lower().startswith("x-account-"):
                    if value:
                        meta[key.title()] = value
                    else:
                        meta.pop(key.title(), None)
            return Response(status=204)
        if req.method in ("GET", "HEAD"):
            names = sorted(c for a, c in self.containers if a == account)
            body = "".join(f"{n}\n" for n in names).encode()
            resp = Response(status=200 if names else 204, headers=dict(meta))
            if names:
                resp.body = body
            return resp
        if req.method == "DELETE":
            self.accounts.pop(account, None)
            return Response(status=204)
        return Response(status=405)

    def _container(self, req: Request, account: str, container: str) -> Response:
        key = (account, container)
        if req.method in ("PUT", "POST"):
            if req.method == "POST" and key not in self.containers:
                return Response(status=404)
            meta = self.containers.setdefault(key, {})
            for header in ACL_HEADERS:
                if header in req.headers:
                    meta[header] = req.headers[header]
            return Response(status=201 if req.method == "PUT" else 204)
        if key not in self.containers:
            return Response(status=404)
        if req.method == "DELETE":
            del self.containers[key]
            return Response(status=204)
        names = sorted(o for a, c, o in self.objects if (a, c) == key)
        headers = {}
        if req.environ.get("swiftlite.owner"):
            headers = {k: v for k, v in self.containers[key].items() if k in ACL_HEADERS}
        resp = Response(status=200, headers=headers)
        resp.body = "".join(f"{n}\n" for n in names).encode()
        return resp

    def _object(self, req: Request, account: str, container: str, obj: str) -> Response:
        if (account, container) not in self.containers:
            return Response(status=404)
        key = (account, container, obj)
        if req.method == "PUT":
            self.objects[key] = req.body
            return Response(status=201)
        if key not in self.objects:
            return Response(status=404)
        if req.method == "DELETE":
            del self.objects[key]
            return Response(status=204)
        if req.method == "POST":
            return Response(status=202)
        resp = Response(status=200)
        resp.body = self.objects[key]
        return resp


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> StubProxy:
    return StubProxy()
