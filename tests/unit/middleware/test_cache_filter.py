"""cache filter: the configured client, or the in-process fallback, in the environ."""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.common.memcache import LocalCache, MemcacheRing
from swiftlite.common.near_cache import NearCache
from swiftlite.middleware.cache import filter_factory


class Grab:
    def __init__(self) -> None:
        self.cache: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.cache = environ["swiftlite.cache"]
        return Response(status=204)(environ, start_response)


def test_cache_without_servers_is_local_and_shared_across_requests() -> None:
    grab = Grab()
    mw = filter_factory({})(grab)
    Request.blank("/").get_response(mw)
    first = grab.cache
    assert isinstance(first, LocalCache)
    first.set("k", {"v": 1})
    Request.blank("/").get_response(mw)
    assert grab.cache is first
    assert grab.cache.get("k") == {"v": 1}


def test_cache_with_servers_is_memcache_ring() -> None:
    grab = Grab()
    mw = filter_factory({}, memcache_servers="127.0.0.1:1, 127.0.0.2:2", tries="2")(grab)
    Request.blank("/").get_response(mw)
    assert isinstance(grab.cache, NearCache)  # the workers' info cache in front of it
    ring = grab.cache.inner
    assert isinstance(ring, MemcacheRing)
    assert [s.name for s in ring.servers] == ["127.0.0.1:1", "127.0.0.2:2"]
    assert ring.tries == 2
