"""cache: put one cache client per worker into ``environ['swiftlite.cache']``.

With ``memcache_servers`` set (``host:port`` list) the client is a ``MemcacheRing``; without it,
an in-process ``LocalCache`` with the same API, which is right for one worker and merely
per-worker with several. Connections are opened lazily, so a client made before a fork holds
no socket that two processes could share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config
from swiftlite.common.memcache import CacheClient, LocalCache, MemcacheRing

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


def make_client(options: CacheOptions) -> CacheClient:
    """The memcached client when servers are configured, else the in-process cache."""
    if not options.memcache_servers:
        return LocalCache(options.local_cache_max_entries)
    return MemcacheRing(
        options.memcache_servers,
        max_connections=options.memcache_max_connections,
        connect_timeout=options.connect_timeout,
        io_timeout=options.io_timeout,
        pool_timeout=options.pool_timeout,
        tries=options.tries,
        error_limit=options.error_suppression_limit,
        error_interval=options.error_suppression_interval,
    )


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
