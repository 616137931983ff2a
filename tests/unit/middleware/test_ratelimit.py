"""ratelimit: Swift's booking of request slots in the cache, counted (no wall-clock timing)."""

from __future__ import annotations

import logging

import pytest
from webob import Request

from swiftlite.common.errors import ConfigError
from swiftlite.common.memcache import LocalCache, MemcacheConnectionError
from swiftlite.common.registry import registered
from swiftlite.middleware import ratelimit
from swiftlite.middleware.ratelimit import (
    MaxSleepTimeHit,
    RateCounter,
    RateLimitMiddleware,
    RateLimitOptions,
    global_rate,
    interpret_limits,
    limited_keys,
    max_rate,
)
from tests.unit.middleware.guard_backend import InfoProxy


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Sleeper:
    """Records sleeps (the fake clock stands still, so every booking is counted)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_interpret_limits_sorts_and_rejects_bad_keys():
    conf = {"container_ratelimit_50": "20", "container_ratelimit_0": "100", "other": "1"}
    assert interpret_limits(conf, "container_ratelimit_") == ((0, 100.0), (50, 20.0))
    for bad in (
        {"container_ratelimit_x": "1"},
        {"container_ratelimit_5": "fast"},
        {"container_ratelimit_5": "-1"},
        {"container_ratelimit_5": "nan"},
        {"container_ratelimit_\u0663": "1"},
    ):
        with pytest.raises(ConfigError):
            interpret_limits(bad, "container_ratelimit_")


def test_max_rate_interpolates_between_sizes_and_holds_past_the_last():
    limits = ((10, 100.0), (50, 20.0))
    assert max_rate(limits, 0) is None
    assert max_rate(limits, 5) is None
    assert max_rate(limits, 10) == 100.0
    assert max_rate(limits, 30) == 60.0
    assert max_rate(limits, 50) == 20.0
    assert max_rate(limits, 5000) == 20.0


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("10", 10.0),
        ("0.5", 0.5),
        ("0", None),
        ("-3", None),
        ("inf", None),
        ("nan", None),
        ("WHITELIST", None),
        ("1e400", None),
        (None, None),
    ],
)
def test_global_rate_only_positive_finite(value, rate):
    assert global_rate(value) == rate


def test_limited_keys_follow_swift_rules():
    opts = RateLimitOptions(
        account_ratelimit=5,
        container_ratelimits=((0, 10.0),),
        container_listing_ratelimits=((0, 7.0),),
    )
    size = lambda: 3  # noqa: E731
    assert limited_keys(opts, "PUT", "a", "c", None, size, None) == [("ratelimit/a", 5)]
    assert limited_keys(opts, "DELETE", "a", "c", "o", size, None) == [("ratelimit/a/c", 10.0)]
    assert limited_keys(opts, "GET", "a", "c", None, size, None) == [("ratelimit_listing/a/c", 7.0)]
    assert limited_keys(opts, "GET", "a", "c", "o", size, 2.0) == []
    assert limited_keys(opts, "POST", "a", None, None, size, 2.0) == [
        ("ratelimit/global-write/a", 2.0)
    ]


def test_counter_books_one_slot_per_request_at_the_rate():
    clock = Clock()
    counter = RateCounter(RateLimitOptions(max_sleep_time_seconds=60), clock)
    cache = LocalCache(clock=clock)
    sleeps = [counter.sleep_time(cache, "k", 10.0) for _ in range(5)]
    assert sleeps == [0.0, 0.1, 0.2, 0.3, 0.4]  # 10/s: each waits one more tenth


def test_counter_shared_cache_is_one_budget_for_every_worker():
    clock = Clock()
    cache = LocalCache(clock=clock)  # stands for memcached: both workers see the same key
    one, two = (RateCounter(RateLimitOptions(), clock) for _ in range(2))
    got = [c.sleep_time(cache, "k", 4.0) for c in (one, two, one, two)]
    assert got == [0.0, 0.25, 0.5, 0.75]


def test_counter_past_max_sleep_raises_and_gives_the_slot_back():
    clock = Clock()
    counter = RateCounter(RateLimitOptions(max_sleep_time_seconds=1), clock)
    cache = LocalCache(clock=clock)
    assert [counter.sleep_time(cache, "k", 4.0) for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]
    for _ in range(3):
        with pytest.raises(MaxSleepTimeHit):
            counter.sleep_time(cache, "k", 4.0)
    clock.now += 0.25  # one slot frees up: exactly one more request fits
    assert counter.sleep_time(cache, "k", 4.0) == 0.75
    with pytest.raises(MaxSleepTimeHit):
        counter.sleep_time(cache, "k", 4.0)


def test_counter_idle_key_resets_after_the_buffer():
    clock = Clock()
    counter = RateCounter(RateLimitOptions(rate_buffer_seconds=5), clock)
    cache = LocalCache(clock=clock)
    counter.sleep_time(cache, "k", 1.0)
    clock.now += 3  # within the buffer: up to 3 requests pass at once (the burst)
    assert [counter.sleep_time(cache, "k", 1.0) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    clock.now += 100
    assert counter.sleep_time(cache, "k", 1.0) == 0.0


def test_counter_without_memcached_does_not_limit():
    class Down(LocalCache):
        def incr(self, key, delta=1, time=0):
            raise MemcacheConnectionError("down")

    counter = RateCounter(RateLimitOptions(), Clock())
    assert counter.sleep_time(Down(), "k", 0.001) == 0.0


def test_counter_recovers_from_a_value_that_is_not_a_counter():
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.set("k", "junk")
    assert RateCounter(RateLimitOptions(), clock).sleep_time(cache, "k", 1.0) == 0.0
    assert isinstance(cache.get("k"), int)


def _middleware(
    options: RateLimitOptions, account_headers: dict[str, str] | None = None, objects: int = 5
):
    backend = InfoProxy()
    backend.accounts["AUTH_a"] = account_headers or {}
    backend.containers[("AUTH_a", "c")] = {"X-Container-Object-Count": str(objects)}
    clock = Clock()
    sleeper = Sleeper(clock)
    app = RateLimitMiddleware(backend, options, clock=clock, sleep=sleeper)
    return app, backend, sleeper, LocalCache(clock=clock)


def _send(app, cache, method: str, path: str):
    req = Request.blank(path, method=method)
    req.environ["swiftlite.cache"] = cache
    return req.get_response(app)


def test_middleware_sleeps_then_498_past_max_sleep():
    opts = RateLimitOptions(container_ratelimits=((0, 2.0),), max_sleep_time_seconds=1.0)
    app, _backend, sleeper, cache = _middleware(opts)
    statuses = [_send(app, cache, "PUT", "/v1/AUTH_a/c/o").status_int for _ in range(4)]
    assert statuses == [201, 201, 498, 498]
    assert sleeper.sleeps == [0.5]
    resp = _send(app, cache, "PUT", "/v1/AUTH_a/c/o")
    assert resp.status == "498 Rate Limited"
    assert resp.body == b"Slow down"
    assert _send(app, cache, "GET", "/v1/AUTH_a/c/o").status_int == 201  # reads are free


def test_middleware_small_container_is_not_limited():
    opts = RateLimitOptions(container_ratelimits=((100, 1.0),), max_sleep_time_seconds=1.0)
    app, _, sleeper, cache = _middleware(opts, objects=99)
    assert [_send(app, cache, "PUT", "/v1/AUTH_a/c/o").status_int for _ in range(5)] == [201] * 5
    assert sleeper.sleeps == []


def test_middleware_global_write_ratelimit_from_sysmeta():
    opts = RateLimitOptions(max_sleep_time_seconds=60)
    app, _, _sleeper, cache = _middleware(
        opts, {"X-Account-Sysmeta-Global-Write-Ratelimit": "0.01"}
    )
    assert _send(app, cache, "POST", "/v1/AUTH_a").status_int == 201
    assert _send(app, cache, "PUT", "/v1/AUTH_a/c").status_int == 498  # 100 s to wait
    assert _send(app, cache, "GET", "/v1/AUTH_a/c").status_int == 201


@pytest.mark.parametrize("how", ["config", "sysmeta"])
def test_middleware_whitelist_exempts_and_blacklist_refuses(how):
    limits = RateLimitOptions(container_ratelimits=((0, 0.01),))
    if how == "config":
        app, _, _, cache = _middleware(
            RateLimitOptions(**{**limits.__dict__, "account_whitelist": ("AUTH_a",)})
        )
    else:
        app, _, _, cache = _middleware(
            limits, {"X-Account-Sysmeta-Global-Write-Ratelimit": "WHITELIST"}
        )
    assert [_send(app, cache, "PUT", "/v1/AUTH_a/c/o").status_int for _ in range(3)] == [201] * 3
    if how == "config":
        app, _, sleeper, cache = _middleware(RateLimitOptions(account_blacklist=("AUTH_a",)))
    else:
        app, _, sleeper, cache = _middleware(
            RateLimitOptions(), {"X-Account-Sysmeta-Global-Write-Ratelimit": "BLACKLIST"}
        )
    resp = _send(app, cache, "GET", "/v1/AUTH_a/c")
    assert resp.status == "497 Blacklisted"
    assert sleeper.sleeps == [1.0]


def test_middleware_passes_paths_that_are_not_api_paths():
    app, _backend, _, cache = _middleware(RateLimitOptions(account_blacklist=("x",)))
    for path in ("/info", "/v1//c", "/auth/v1.0", "/v1/a\x00b"):
        assert _send(app, cache, "GET", path).status_int == 201


def test_factory_registers_swift_keys_and_reads_container_limits():
    make = ratelimit.filter_factory(
        {},
        container_ratelimit_10="5",
        container_listing_ratelimit_0="2",
        max_sleep_time_seconds="3",
    )
    info = registered()["ratelimit"]
    assert info == {
        "account_ratelimit": 0.0,
        "max_sleep_time_seconds": 3.0,
        "container_ratelimits": [[10, 5.0]],
        "container_listing_ratelimits": [[0, 2.0]],
    }
    assert make(lambda e, s: []).options.container_ratelimits == ((10, 5.0),)
    with pytest.raises(ConfigError):
        ratelimit.filter_factory({}, container_ratelimit_ten="5")


def test_factory_says_where_counters_live(tmp_path):
    conf = tmp_path / "proxy.conf"
    conf.write_text("[filter:cache]\nuse = egg:swiftlite#cache\n")
    seen = []

    class Catch(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("swiftlite.ratelimit")
    handler = Catch()
    logger.addHandler(handler)
    try:
        ratelimit.filter_factory({"__file__": str(conf)})
        conf.write_text("[filter:cache]\nmemcache_servers = 127.0.0.1:1\n")
        ratelimit.filter_factory({"__file__": str(conf)})
    finally:
        logger.removeHandler(handler)
    assert "in-process cache" in seen[0]
    assert "memcached" in seen[1]
    assert "shared" in seen[1]


def test_middleware_logs_sleeps_longer_than_log_sleep_time_seconds():
    opts = RateLimitOptions(
        container_ratelimits=((0, 4.0),), max_sleep_time_seconds=10, log_sleep_time_seconds=0.3
    )
    app, _backend, sleeper, cache = _middleware(opts)
    seen = []

    class Catch(logging.Handler):
        def emit(self, record):
            seen.append((record.levelname, record.getMessage()))

    handler = Catch()
    app.logger.addHandler(handler)
    try:
        for _ in range(3):
            assert _send(app, cache, "PUT", "/v1/AUTH_a/c/o").status_int == 201
    finally:
        app.logger.removeHandler(handler)
    assert sleeper.sleeps == [0.25, 0.5]  # the first went at once
    assert seen == [("WARNING", "Ratelimit sleep log: 0.5 for ratelimit/AUTH_a/c")]


def test_middleware_account_ratelimit_holds_container_puts_and_deletes_only():
    opts = RateLimitOptions(account_ratelimit=2.0, max_sleep_time_seconds=1.0)
    app, _backend, sleeper, cache = _middleware(opts)
    got = [_send(app, cache, m, "/v1/AUTH_a/c").status_int for m in ("PUT", "DELETE", "PUT")]
    assert got == [201, 201, 498]
    assert sleeper.sleeps == [0.5]
    others = (("POST", "/v1/AUTH_a/c"), ("PUT", "/v1/AUTH_a/c/o"), ("GET", "/v1/AUTH_a"))
    for method, path in others:
        assert _send(app, cache, method, path).status_int == 201
    assert sleeper.sleeps == [0.5]
