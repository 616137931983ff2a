"""cache: put one cache client per worker into ``environ['swiftlite.cache']``.

With ``memcache_servers`` set (``host:port`` list) the client is a ``MemcacheRing``; without it,
an in-process ``LocalCache`` with the same API, which is right for one worker and merely
per-worker with several. Connections are opened lazily, so a client made before a fork holds
no socket that two processes could share.

In front of memcached each worker keeps account and container info for ``near_cache_ttl``
seconds (``common/near_cache.py``: a write through any worker of this server is seen at once,
one through another proxy server within that time); ``near_cache_ttl = 0`` turns it off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config
from swiftlite.common.memcache import CacheClient, LocalCache, MemcacheRing
from swiftlite.common.near_cache import NearCache

CACHE = "swiftlite.cache"


@dataclass(frozen=True)
class CacheOptions:
    memcache_servers: tuple[str, ...] = ()
    memcache_max_connections: int = 2
    connect_timeout: float = 0.3
    io_timeout: float = 2.0
    pool_timeout: float = 1.0
    tries: int = 3
    error_suppression_limit: int = 10
    error_suppression_interval: float = 60.0
    local_cache_max_entries: int = 10000
    near_cache_ttl: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.near_cache_ttl <= 60:
            raise ValueError("near_cache_ttl must be between 0 and 60 seconds")


def make_client(options: CacheOptions) -> CacheClient:
    """The memcached client when servers are configured, else the in-process cache."""
    if not options.memcache_servers:
        return LocalCache(options.local_cache_max_entries)
    ring = MemcacheRing(
        options.memcache_servers,
        max_connections=options.memcache_max_connections,
        connect_timeout=options.connect_timeout,
        io_timeout=options.io_timeout,
        pool_timeout=options.pool_timeout,
        tries=options.tries,
        error_limit=options.error_suppression_limit,
        error_interval=options.error_suppression_interval,
    )
    if options.near_cache_ttl <= 0:
        return ring
    return NearCache(ring, options.near_cache_ttl, options.local_cache_max_entries)


class CacheMiddleware:
    def __init__(self, app: Callable[..., Any], client: CacheClient) -> None:
        self.app = app
        self.client = client

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[CACHE] = self.client
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#cache``."""
    options = config.parse_options(CacheOptions, local_conf, global_conf, where="[filter:cache]")

    def make(app: Any) -> CacheMiddleware:
        return CacheMiddleware(app, make_client(options))

    return make
