"""ratelimit: Swift's account and container write rate limits, counted in the shared cache.

What is limited (Swift's rules and option names, ``[filter:ratelimit]``):

* ``account_ratelimit`` (requests/s, 0 = off): container PUT and DELETE in one account.
* ``container_ratelimit_<size> = <rate>``: object PUT, POST, DELETE and COPY in a container of
  at least ``<size>`` objects; between two sizes the rate is interpolated on the line joining
  them, past the last size the last rate holds.
* ``container_listing_ratelimit_<size> = <rate>``: container GETs, the same way.
* An account's ``X-Account-Sysmeta-Global-Write-Ratelimit``: a positive number limits every
  write (PUT, POST, DELETE, COPY) in the account to that rate; ``WHITELIST`` exempts the
  account from all limits and ``BLACKLIST`` refuses all its requests (497 after a second), as
  do ``account_whitelist`` / ``account_blacklist`` in the config.

How: each limited key holds the time (in ``1/clock_accuracy`` s) up to which requests are
booked. A request adds its share (``1/rate`` s) with one ``incr`` and sleeps until its slot; a
key that lags more than ``rate_buffer_seconds`` behind now is reset (so an idle key allows at
most that burst). A request that would sleep ``max_sleep_time_seconds`` or more gets 498
``Slow down`` instead, and gives its share back. The counters live in
``environ['swiftlite.cache']``: memcached when ``[filter:cache]`` has ``memcache_servers``, so
every worker of every proxy shares them; otherwise each worker's in-process cache, which the
filter says in the log at start (N workers then allow up to N times the rates). If memcached
cannot be reached the request goes through unlimited, as in Swift.

The filter sits before tempauth, so it limits by the path's account whoever asks; the
account's and container's info come from ``subrequest`` (cached, like the proxy's).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, green, intparse, logs
from swiftlite.common.errors import ConfigError
from swiftlite.common.memcache import CacheClient, LocalCache, MemcacheConnectionError
from swiftlite.common.names import quote_text
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, subrequest
from swiftlite.proxy import responses

SOURCE = "RL"
CACHE = "swiftlite.cache"
WRITES = frozenset({"PUT", "POST", "DELETE", "COPY"})
CONTAINER_PREFIX = "container_ratelimit_"
LISTING_PREFIX = "container_listing_ratelimit_"
BLACKLIST_SLEEP = 1.0

Limits = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class RateLimitOptions:
    """``[filter:ratelimit]`` options (the ``container_*ratelimit_<size>`` keys beside these)."""

    account_ratelimit: float = 0.0
    max_sleep_time_seconds: float = 60.0
    log_sleep_time_seconds: float = 0.0
    clock_accuracy: int = 1000
    rate_buffer_seconds: int = 5
    account_whitelist: tuple[str, ...] = ()
    account_blacklist: tuple[str, ...] = ()
    container_ratelimits: Limits = ()
    container_listing_ratelimits: Limits = ()
    log_file: str | None = None
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.clock_accuracy < 1:
            raise ValueError("clock_accuracy must be at least 1")
        if self.account_ratelimit < 0 or self.max_sleep_time_seconds < 0:
            raise ValueError("rates and sleep times must not be negative")


class MaxSleepTimeHit(Exception):
    """The request would have to wait longer than max_sleep_time_seconds."""


def interpret_limits(conf: Mapping[str, Any], prefix: str) -> Limits:
    """``<prefix><size> = <rate>`` keys as sorted (size, rate) pairs; ConfigError if bad."""
    found = []
    for key, value in conf.items():
        if not key.startswith(prefix):
            continue
        try:
            size = intparse.parse_uint(key[len(prefix) :])
            rate = float(str(value).strip())
        except ValueError:
            raise ConfigError(f"[filter:ratelimit]: bad {key} = {value!r}") from None
        if not math.isfinite(rate) or rate < 0:
            raise ConfigError(f"[filter:ratelimit]: bad {key} = {value!r}")
        found.append((size, rate))
    return tuple(sorted(found))


def max_rate(limits: Limits, size: int) -> float | None:
    """The rate for a container of ``size`` objects (None: not limited), as Swift computes it."""
    if not size:
        return None
    rate = None
    for i, (at, value) in enumerate(limits):
        if size < at:
            break
        if i + 1 < len(limits):
            next_at, next_value = limits[i + 1]
            rate = value + (size - at) * (next_value - value) / (next_at - at)
        else:
            rate = value
    return rate or None


def global_rate(value: object) -> float | None:
    """The sysmeta global write rate when it is a positive finite number, else None."""
    if not isinstance(value, str):
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    return rate if math.isfinite(rate) and rate > 0 else None


class RateCounter:
    """Swift's sleep computation over a cache's ``incr`` (see the module doc)."""

    def __init__(self, options: RateLimitOptions, clock: Callable[[], float] = time.time) -> None:
        self.accuracy = options.clock_accuracy
        self.buffer_m = options.rate_buffer_seconds * options.clock_accuracy
        self.max_sleep_m = options.max_sleep_time_seconds * options.clock_accuracy
        self.clock = clock

    def sleep_time(self, cache: CacheClient, key: str, rate: float) -> float:
        """Seconds to wait before this request may proceed; MaxSleepTimeHit past the limit."""
        now_m = round(self.clock() * self.accuracy)
        share_m = round(self.accuracy / rate)
        try:
            running_m = cache.incr(key, delta=share_m)
        except MemcacheConnectionError:
            return 0.0
        except ValueError:  # not a counter (someone else's value): start it again
            running_m = 0
        need_m = 0
        if now_m - running_m > self.buffer_m:
            cache.set(key, now_m + share_m)
        else:
            need_m = max(running_m - now_m - share_m, 0)
        if self.max_sleep_m - need_m <= self.accuracy * 0.01:
            with contextlib.suppress(MemcacheConnectionError, ValueError):
                cache.incr(key, delta=-share_m)
            raise MaxSleepTimeHit(f"Max Sleep Time Exceeded: {need_m / self.accuracy:.2f}")
        return need_m / self.accuracy


def limited_keys(
    options: RateLimitOptions,
    method: str,
    account: str,
    container: str | None,
    obj: str | None,
    container_size: Callable[[], int],
    global_write: float | None,
) -> list[tuple[str, float]]:
    """The (counter key, rate) pairs a request is held to, in the order Swift checks them."""
    keys: list[tuple[str, float]] = []
    if options.account_ratelimit and container and not obj and method in ("PUT", "DELETE"):
        keys.append((f"ratelimit/{account}", options.account_ratelimit))
    if container and obj and method in WRITES and options.container_ratelimits:
        rate = max_rate(options.container_ratelimits, container_size())
        if rate:
            keys.append((f"ratelimit/{account}/{container}", rate))
    if container and not obj and method == "GET" and options.container_listing_ratelimits:
        rate = max_rate(options.container_listing_ratelimits, container_size())
        if rate:
            keys.append((f"ratelimit_listing/{account}/{container}", rate))
    if global_write and method in WRITES:
        keys.append((f"ratelimit/global-write/{account}", global_write))
    return keys


def _status(code: int, reason: str, body: str) -> Response:
    resp = Response(status=f"{code} {reason}", body=body.encode())
    resp.headers["Content-Type"] = responses.HTML  # swob's type, as Swift answers
    return resp


class RateLimitMiddleware:
    def __init__(
        self,
        app: Callable[..., Any],
        options: RateLimitOptions,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = green.sleep,
    ) -> None:
        self.app = app
        self.options = options
        self.counter = RateCounter(options, clock)
        self.sleep = sleep
        self.local = LocalCache()  # only when no cache filter runs above this one
        self.logger = logs.get_logger("ratelimit", options.log_file, options.log_level)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = pathinfo.api_path(environ)
        if path is None:
            return self.app(environ, start_response)
        refusal = self.handle_ratelimit(Request(environ), path.account, path.container, path.obj)
        if refusal is not None:
            return refusal(environ, start_response)
        return self.app(environ, start_response)

    def handle_ratelimit(
        self, req: Request, account: str, container: str | None, obj: str | None
    ) -> Response | None:
        """Sleep as the limits require; a 497/498 response when the request is refused."""
        environ = req.environ
        # the proxy looks the container up next (ACLs, existence): one memcached trip for both
        subrequest.prefetch_info(environ, account, container)
        info = subrequest.get_account_info(environ, self.app, account, SOURCE)
        flag = _lower_get(info.get("sysmeta", {}), "global-write-ratelimit")
        if account in self.options.account_whitelist or flag == "WHITELIST":
            return None
        if account in self.options.account_blacklist or flag == "BLACKLIST":
            self.logger.error("Returning 497 because of blacklisting: %s", quote_text(account))
            self.sleep(BLACKLIST_SLEEP)
            return _status(497, "Blacklisted", "Your account has been blacklisted")

        def container_size() -> int:
            if container is None:
                return 0
            cinfo = subrequest.get_container_info(environ, self.app, account, container, SOURCE)
            return int(cinfo.get("object_count", 0) or 0)

        keys = limited_keys(
            self.options, req.method, account, container, obj, container_size, global_rate(flag)
        )
        cache = environ.get(CACHE) or self.local
        for key, rate in keys:
            try:
                need = self.counter.sleep_time(cache, key, rate)
            except MaxSleepTimeHit as exc:
                self.logger.error(
                    "Returning 498 for %s to %s. Ratelimit (Max Sleep) %s",
                    req.method,
                    quote_text(key),
                    exc,
                )
                return _status(498, "Rate Limited", "Slow down")
            if self.options.log_sleep_time_seconds and need > self.options.log_sleep_time_seconds:
                self.logger.warning("Ratelimit sleep log: %s for %s", need, quote_text(key))
            if need > 0:
                self.sleep(need)
        return None


def _lower_get(meta: Mapping[str, Any], name: str) -> Any:
    for key, value in meta.items():
        if str(key).lower() == name:
            return value
    return None


def cache_servers(global_conf: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``memcache_servers`` of the config file's ``[filter:cache]``; None if unknown."""
    path = global_conf.get("__file__")
    if not path:
        return None
    try:
        parser = config.read_file(str(path))
    except ConfigError:
        return None
    if not parser.has_section("filter:cache"):
        return ()
    raw = parser.get("filter:cache", "memcache_servers", fallback="")
    return tuple(s.strip() for s in raw.replace("\n", ",").split(",") if s.strip())


def _announce(logger: logging.Logger, servers: tuple[str, ...] | None) -> None:
    if servers:
        logger.info("ratelimit: counters in memcached (%s), shared by every worker", servers)
    else:
        logger.warning(
            "ratelimit: no memcache_servers in [filter:cache]; counters are in each worker's "
            "in-process cache, so every worker allows the full rate"
        )


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#ratelimit``."""
    merged = {**global_conf, **local_conf}
    limits = {
        "container_ratelimits": interpret_limits(merged, CONTAINER_PREFIX),
        "container_listing_ratelimits": interpret_limits(merged, LISTING_PREFIX),
    }
    plain = {
        k: v for k, v in local_conf.items() if not k.startswith((CONTAINER_PREFIX, LISTING_PREFIX))
    }
    options = config.parse_options(
        RateLimitOptions, {**plain, **limits}, global_conf, where="[filter:ratelimit]"
    )
    # not every option is shown, as in Swift
    register_info(
        "ratelimit",
        account_ratelimit=options.account_ratelimit,
        max_sleep_time_seconds=options.max_sleep_time_seconds,
        container_ratelimits=[list(p) for p in options.container_ratelimits],
        container_listing_ratelimits=[list(p) for p in options.container_listing_ratelimits],
    )
    _announce(
        logs.get_logger("ratelimit", options.log_file, options.log_level),
        cache_servers(global_conf),
    )

    def make(app: Any) -> RateLimitMiddleware:
        return RateLimitMiddleware(app, options)

    return make
