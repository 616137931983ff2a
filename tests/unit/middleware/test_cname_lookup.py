"""cname_lookup against a real (fake, local) DNS server: chains, depth, and Swift's 400s."""

from __future__ import annotations

from typing import Any

import pytest
from webob import Request, Response

from swiftlite.common.memcache import LocalCache
from swiftlite.middleware.cname_lookup import CnameLookupMiddleware, CnameLookupOptions
from tests.support.fakedns import FakeDns


@pytest.fixture
def dns_server():
    server = FakeDns(
        {
            "www.shop.test": "site.auth_a.storage.test",
            "deep.shop.test": "middle.shop.test",
            "middle.shop.test": "site.auth_a.storage.test",
            "loop.shop.test": "nowhere.shop.test",
        }
    )
    yield server
    server.stop()


def run(server: FakeDns, host: str, depth: int = 1, cache: Any = None) -> tuple[int, str, bytes]:
    seen: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen["host"] = environ.get("HTTP_HOST", "")
        return Response(status=200)(environ, start_response)

    options = CnameLookupOptions(
        storage_domain=("storage.test",),
        lookup_depth=depth,
        nameservers=(f"127.0.0.1:{server.port}",),
    )
    mw = CnameLookupMiddleware(app, options)
    env = {"swiftlite.cache": cache} if cache is not None else {}
    resp = Request.blank("/", headers={"Host": host}, environ=env).get_response(mw)
    return resp.status_int, seen.get("host", ""), resp.body


def test_cname_to_the_storage_domain_rewrites_the_host_and_keeps_the_port(dns_server):
    assert run(dns_server, "www.shop.test:8080")[:2] == (200, "site.auth_a.storage.test:8080")


def test_storage_and_ip_hosts_are_not_looked_up(dns_server):
    assert run(dns_server, "c.AUTH_a.storage.test")[:2] == (200, "c.AUTH_a.storage.test")
    assert run(dns_server, "127.0.0.1:80")[:2] == (200, "127.0.0.1:80")
    assert dns_server.asked == []


def test_chain_longer_than_lookup_depth_is_400(dns_server):
    status, _, body = run(dns_server, "deep.shop.test", depth=1)
    assert (status, body) == (400, b"CNAME lookup failed after 1 tries")
    assert run(dns_server, "deep.shop.test", depth=2)[:2] == (200, "site.auth_a.storage.test")


def test_no_cname_is_400(dns_server):
    status, _, body = run(dns_server, "unknown.shop.test", depth=3)
    assert (status, body) == (400, b"CNAME lookup failed to resolve to a valid domain")


def test_answers_are_cached(dns_server):
    cache = LocalCache()
    run(dns_server, "www.shop.test", cache=cache)
    run(dns_server, "www.shop.test", cache=cache)
    assert dns_server.asked == ["www.shop.test"]
