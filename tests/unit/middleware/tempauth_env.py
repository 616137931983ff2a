"""The tempauth test bench: gatekeeper -> cache -> tempauth -> a stub proxy, and its users.

Shared by ``test_tempauth.py`` (tokens, owners, realm, config) and ``test_tempauth_acls.py``
(container and account ACLs, service tokens); their fixtures build on ``Cluster``.
"""

from __future__ import annotations

from typing import Any

from webob import Request

from swiftlite.common.memcache import LocalCache
from swiftlite.middleware.cache import CacheMiddleware
from swiftlite.middleware.gatekeeper import GatekeeperMiddleware, GatekeeperOptions
from swiftlite.middleware.tempauth import TempAuthMiddleware, TempAuthOptions, parse_users
from tests.unit.middleware.stub_proxy import StubProxy


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Cluster:
    """gatekeeper -> cache -> tempauth -> stub proxy, as in the proxy pipeline."""

    def __init__(self, users: dict[str, str] | None = None, **options: Any) -> None:
        self.stub = StubProxy()
        self.clock = Clock()
        opts = TempAuthOptions(**options)
        self.auth = TempAuthMiddleware(
            self.stub, opts, parse_users(users or default_users(), opts.prefix), self.clock
        )
        self.cache = LocalCache()
        self.app = GatekeeperMiddleware(CacheMiddleware(self.auth, self.cache), GatekeeperOptions())
        self._tokens: dict[str, str] = {}

    def token(self, ident: str, key: str) -> str:
        if ident not in self._tokens:
            resp = self.request("/auth/v1.0", headers={"X-Auth-User": ident, "X-Auth-Key": key})
            assert resp.status_int == 200, resp.status
            self._tokens[ident] = resp.headers["X-Auth-Token"]
        return self._tokens[ident]

    def request(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        as_user: tuple[str, str] | None = None,
    ) -> Any:
        headers = dict(headers or {})
        if as_user is not None:
            headers["X-Auth-Token"] = self.token(*as_user)
        req = Request.blank(path, method=method, headers=headers)
        if body is not None:
            req.body = body
        return req.get_response(self.app)


def default_users() -> dict[str, str]:
    return {
        "user_admin_admin": "admin .admin .reseller_admin",
        "user_test_tester": "testing .admin",
        "user_test2_tester2": "testing2 .admin",
        "user_test_tester3": "testing3",
        "user_test5_tester5": "testing5 .admin",
    }


TESTER = ("test:tester", "testing")
TESTER2 = ("test2:tester2", "testing2")
TESTER3 = ("test:tester3", "testing3")
RESELLER = ("admin:admin", "admin")


def shared_cluster() -> Cluster:
    """A bench where test:tester has made AUTH_test/c with object o."""
    cluster = Cluster()
    assert cluster.request("/v1/AUTH_test/c", "PUT", as_user=TESTER).status_int == 201
    resp = cluster.request("/v1/AUTH_test/c/o", "PUT", body=b"data", as_user=TESTER)
    assert resp.status_int == 201
    return cluster


def set_read_acl(cluster: Cluster, value: str, header: str = "X-Container-Read") -> None:
    resp = cluster.request("/v1/AUTH_test/c", "POST", {header: value}, as_user=TESTER)
    assert resp.status_int == 204, resp.body
