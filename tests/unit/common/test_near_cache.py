"""The workers' near cache of account and container info (``common/near_cache.py``).

The shared store behind it is a ``LocalCache`` counting its calls (one store that two
``NearCache`` objects, the "workers", both read): what is under test is when the near cache
asks the store and what it answers, not the memcached wire, which ``test_memcache`` covers.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from swiftlite.common import near_cache
from swiftlite.common.errors import ConfigError
from swiftlite.common.memcache import LocalCache, MemcacheRing
from swiftlite.common.near_cache import NearCache
from swiftlite.middleware import cache as cache_filter

INFO = "container/AUTH_test/c"
OTHER = "account/AUTH_test"


class CountingStore(LocalCache):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []
        self.writes: list[str] = []

    def set(self, key: str, value: Any, time: float = 0) -> None:
        self.writes.append(key)
        super().set(key, value, time=time)

    def get(self, key: str) -> Any:
        self.reads.append(key)
        return super().get(key)

    def get_multi(self, keys: Any) -> list[Any]:
        self.reads.extend(keys)
        return [LocalCache.get(self, k) for k in keys]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> CountingStore:
    shared = CountingStore()
    shared.set(INFO, {"status": 200, "read_acl": "", "meta": {"k": "v"}})
    shared.set(OTHER, {"status": 204, "meta": {}})
    return shared


def test_info_is_read_from_the_store_once_within_the_ttl(store: CountingStore) -> None:
    """Fails if every lookup still makes the memcached round trip the near cache removes."""
    worker = NearCache(store, ttl=1.0, clock=Clock())
    assert worker.get(INFO)["status"] == 200
    assert worker.get(INFO)["status"] == 200
    assert worker.get_multi([OTHER, INFO])[1]["meta"] == {"k": "v"}
    assert store.reads == [INFO, OTHER]  # the second get and INFO in get_multi were near


def test_an_entry_is_read_again_once_its_ttl_ends(store: CountingStore) -> None:
    """Fails if an entry outlives its ttl (another proxy's writes would never show)."""
    clock = Clock()
    worker = NearCache(store, ttl=1.0, clock=clock)
    worker.get(INFO)
    store.set(INFO, {"status": 200, "read_acl": ".r:*", "meta": {}})  # another proxy's write
    clock.now += 0.5
    assert worker.get(INFO)["read_acl"] == ""  # within the ttl: the kept answer
    clock.now += 0.6
    assert worker.get(INFO)["read_acl"] == ".r:*"
    assert store.reads == [INFO, INFO]


def test_a_delete_through_one_worker_is_seen_by_the_other_at_once(store: CountingStore) -> None:
    """Fails if a worker keeps serving info another worker of the same server has changed."""
    clock = Clock()
    one, two = NearCache(store, ttl=30.0, clock=clock), NearCache(store, ttl=30.0, clock=clock)
    assert one.get(INFO)["read_acl"] == ""
    assert two.get(INFO)["read_acl"] == ""
    store.set(INFO, {"status": 200, "read_acl": ".r:*", "meta": {}})  # the container POST ...
    one.delete(INFO)  # ... and its clear_info, through worker one
    assert store.get(INFO) is None
    store.set(INFO, {"status": 200, "read_acl": ".r:*", "meta": {}})  # a HEAD re-fills it
    assert two.get(INFO)["read_acl"] == ".r:*"
    assert one.get(INFO)["read_acl"] == ".r:*"


def test_a_set_drops_this_workers_entry(store: CountingStore) -> None:
    """Fails if a worker's own fresher answer (a container GET's) is hidden by an old one."""
    worker = NearCache(store, ttl=30.0, clock=Clock())
    worker.get(INFO)
    worker.set(INFO, {"status": 200, "read_acl": "x", "meta": {}}, time=60)
    assert worker.get(INFO)["read_acl"] == "x"


def test_a_set_of_the_value_it_holds_is_not_sent_and_keeps_it_near(store: CountingStore) -> None:
    """A container GET confirming the info its request just looked up: fails if that costs a
    memcached set and then the next request's read (two round trips per listing page)."""
    clock = Clock()
    worker = NearCache(store, ttl=1.0, clock=clock)
    held = worker.get(INFO)
    store.writes.clear()
    worker.set(INFO, dict(held), time=60)
    assert store.writes == []
    assert worker.get(INFO) == held
    assert store.reads == [INFO]
    clock.now += 1.0  # the ttl still ends when it would have: then the store is asked again
    worker.get(INFO)
    assert store.reads == [INFO, INFO]


def test_a_set_after_a_change_or_of_a_new_value_goes_to_the_store(store: CountingStore) -> None:
    """Fails if the skip above swallowed a write: a different value, a value held under an old
    generation (another worker's delete since) or one past its ttl is always sent."""
    clock = Clock()
    one, two = NearCache(store, ttl=1.0, clock=clock), NearCache(store, ttl=1.0, clock=clock)
    held = one.get(INFO)
    store.writes.clear()
    one.set(INFO, {**held, "read_acl": "x"}, time=60)  # a new value
    assert store.writes == [INFO]
    held = one.get(INFO)
    two.delete(OTHER)  # another worker's write: a new generation
    one.set(INFO, dict(held), time=60)
    assert store.writes == [INFO, INFO]
    held = one.get(INFO)
    clock.now += 1.0
    one.set(INFO, dict(held), time=60)  # past the ttl
    assert store.writes == [INFO, INFO, INFO]


def test_callers_get_their_own_copies(store: CountingStore) -> None:
    """Fails if one request's change to its info dict leaks into the next request's."""
    worker = NearCache(store, ttl=30.0, clock=Clock())
    first = worker.get(INFO)
    worker.get(INFO)["meta"]["k"] = "changed"
    assert worker.get(INFO)["meta"] == {"k": "v"}
    assert first["meta"] == {"k": "v"}


def test_other_keys_and_misses_always_go_to_the_store(store: CountingStore) -> None:
    """Fails if a counter (ratelimit) or a token were kept per worker, or a miss were kept."""
    worker = NearCache(store, ttl=30.0, clock=Clock())
    store.set("ratelimit/AUTH_test", 5)
    assert worker.get("ratelimit/AUTH_test") == 5
    assert worker.get("ratelimit/AUTH_test") == 5
    assert worker.get("container/AUTH_test/none") is None
    assert worker.get("container/AUTH_test/none") is None
    assert worker.incr("ratelimit/AUTH_test", delta=2) == 7
    assert store.reads == ["ratelimit/AUTH_test"] * 2 + ["container/AUTH_test/none"] * 2


def test_get_multi_asks_the_store_only_for_what_it_lacks(store: CountingStore) -> None:
    """Fails if a partly-near get_multi re-reads everything or mixes up the order."""
    worker = NearCache(store, ttl=30.0, clock=Clock())
    worker.get(INFO)
    assert [v["status"] for v in worker.get_multi([OTHER, INFO])] == [204, 200]
    assert store.reads == [INFO, OTHER]


def test_ttl_zero_is_a_plain_pass_through(store: CountingStore) -> None:
    worker = NearCache(store, ttl=0, clock=Clock())
    worker.get(INFO)
    worker.get_multi([INFO])
    assert store.reads == [INFO, INFO]


def test_the_shared_generation_crosses_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails if a worker's bump stays in its own memory (the other workers would not see it)."""
    monkeypatch.setattr(near_cache, "_shared", None)
    near_cache.share_generation()
    before = near_cache.generation()
    pid = os.fork()
    if pid == 0:  # the "worker": bump and leave without running any pytest teardown
        near_cache.bump()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert near_cache.generation() == before + 1


def test_the_cache_filter_puts_a_near_cache_before_memcached_only() -> None:
    ring = cache_filter.make_client(cache_filter.CacheOptions(memcache_servers=("127.0.0.1:1",)))
    assert isinstance(ring, NearCache)
    assert isinstance(ring.inner, MemcacheRing)
    off = cache_filter.CacheOptions(memcache_servers=("127.0.0.1:1",), near_cache_ttl=0)
    assert isinstance(cache_filter.make_client(off), MemcacheRing)
    assert isinstance(cache_filter.make_client(cache_filter.CacheOptions()), LocalCache)


@pytest.mark.parametrize("value", ["-1", "61", "soon"])
def test_a_bad_near_cache_ttl_stops_the_filter(value: str) -> None:
    with pytest.raises(ConfigError, match="near_cache_ttl"):
        cache_filter.filter_factory({}, near_cache_ttl=value)
