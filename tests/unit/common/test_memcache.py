"""The memcached client against a real memcached, and the in-process fallback, on one contract."""

from __future__ import annotations

import os
import pathlib
import pwd
import signal
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from swiftlite.common.memcache import (
    LocalCache,
    MemcacheConnectionError,
    MemcacheRing,
    wire_key,
    wire_ttl,
)
from tests.support.wait import wait_until

MEMCACHED = "/usr/bin/memcached"
needs_memcached = pytest.mark.needs_memcached


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def memcached() -> Iterator[str]:
    """A memcached on 127.0.0.1 and a free port; killed by its pid afterwards."""
    if not pathlib.Path(MEMCACHED).exists():
        pytest.skip(f"{MEMCACHED} is not installed")
    port = free_port()
    cmd = [MEMCACHED, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16"]
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
            cmd += ["-u", "nobody"]
        except KeyError:
            cmd += ["-u", "root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _connectable(port), timeout=10, what="memcached to listen")
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["local", pytest.param("memcached", marks=needs_memcached)])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "local":
        yield LocalCache()
        return
    ring = MemcacheRing([request.getfixturevalue("memcached")])
    yield ring
    ring.close()


def unique(name: str) -> str:
    return f"{name}-{os.urandom(6).hex()}"


# -- the shared contract --------------------------------------------------------------------------
def test_set_then_get_returns_json_value(client: Any) -> None:
    key = unique("k/é ")
    client.set(key, {"a": [1, 2], "t": (3, 4), "s": "é"})
    assert client.get(key) == {"a": [1, 2], "t": [3, 4], "s": "é"}


def test_get_missing_key_is_none(client: Any) -> None:
    assert client.get(unique("missing")) is None


def test_delete_removes_value(client: Any) -> None:
    key = unique("d")
    client.set(key, 1)
    client.delete(key)
    client.delete(key)  # deleting a missing key is fine
    assert client.get(key) is None


def test_incr_creates_adds_and_floors_at_zero(client: Any) -> None:
    key = unique("n")
    assert client.incr(key) == 1
    assert client.incr(key, 5) == 6
    assert client.incr(key, -10) == 0
    assert client.get(key) == 0
    assert client.incr(unique("neg"), -3) == 0


def test_incr_after_set_of_int_counts_on(client: Any) -> None:
    key = unique("n2")
    client.set(key, 41)
    assert client.incr(key) == 42
    assert client.get(key) == 42


def test_incr_on_non_number_raises_value_error(client: Any) -> None:
    key = unique("s")
    client.set(key, "text")
    with pytest.raises(ValueError, match="cannot increment"):
        client.incr(key)


def test_get_multi_returns_values_in_key_order(client: Any) -> None:
    keys = [unique(f"m{i}") for i in range(20)]
    for i, key in enumerate(keys):
        if i % 3:
            client.set(key, i)
    values = client.get_multi([*keys, keys[1]])
    assert values == [i if i % 3 else None for i in range(20)] + [1]


def test_values_are_copies(client: Any) -> None:
    key = unique("c")
    value = {"list": [1]}
    client.set(key, value)
    value["list"].append(2)
    got = client.get(key)
    got["list"].append(3)
    assert client.get(key) == {"list": [1]}


# -- the in-process cache -------------------------------------------------------------------------
def test_local_ttl_expires_on_clock() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.set("a", 1, time=10)
    cache.set("b", 2)
    clock.now += 9.5
    assert cache.get("a") == 1
    clock.now += 1
    assert cache.get("a") is None
    assert cache.get("b") == 2


def test_local_ttl_over_30_days_is_absolute_time() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.set("a", 1, time=clock.now + 100)
    clock.now += 99
    assert cache.get("a") == 1
    clock.now += 2
    assert cache.get("a") is None


def test_local_lru_evicts_least_recently_used() -> None:
    cache = LocalCache(max_entries=3)
    for key in "abc":
        cache.set(key, key)
    cache.get("a")
    cache.set("d", "d")
    assert cache.get_multi(["a", "b", "c", "d"]) == ["a", None, "c", "d"]


def test_local_incr_keeps_ttl_of_existing_counter() -> None:
    clock = Clock()
    cache = LocalCache(clock=clock)
    cache.incr("n", time=10)
    clock.now += 5
    cache.incr("n", time=100)
    clock.now += 6
    assert cache.get("n") is None


# -- memcached specifics --------------------------------------------------------------------------
def test_wire_key_is_md5_hex_and_ttl_rules() -> None:
    assert wire_key("a") == b"0cc175b9c0f1b6a831c399e269772661"
    assert wire_ttl(0, 1000.0) == 0
    assert wire_ttl(0.2, 1000.0) == 1
    assert wire_ttl(31 * 24 * 3600, 1000.0) == 1000 + 31 * 24 * 3600


def test_ring_choice_is_stable_and_adding_a_server_moves_keys_only_to_it() -> None:
    three = MemcacheRing(["10.0.0.1", "10.0.0.2:11212", "10.0.0.3"])
    four = MemcacheRing(["10.0.0.1", "10.0.0.2:11212", "10.0.0.3", "10.0.0.4"])
    keys = [wire_key(f"key{i}") for i in range(2000)]
    before = [three.servers_for(k)[0].name for k in keys]
    assert before == [three.servers_for(k)[0].name for k in keys]
    assert len(set(before)) == 3
    after = [four.servers_for(k)[0].name for k in keys]
    moved = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert moved
    assert all(a == "10.0.0.4:11211" for _, a in moved)
    assert len(moved) < len(keys) / 2


def test_all_servers_down_reads_miss_writes_drop_incr_raises() -> None:
    ring = MemcacheRing([f"127.0.0.1:{free_port()}"], connect_timeout=0.2)
    assert ring.get("k") is None
    ring.set("k", 1)
    ring.delete("k")
    assert ring.get_multi(["a", "b"]) == [None, None]
    with pytest.raises(MemcacheConnectionError):
        ring.incr("k")


def test_server_erring_past_limit_is_skipped_for_interval() -> None:
    clock = Clock()
    ring = MemcacheRing([f"127.0.0.1:{free_port()}"], error_limit=2, error_interval=30, clock=clock)
    for _ in range(3):
        ring.get("k")
    assert ring.servers[0].dead_until == clock.now + 30
    assert ring.servers_for(wire_key("k")) == []
    clock.now += 31
    assert len(ring.servers_for(wire_key("k"))) == 1


def test_server_that_never_answers_times_out_quickly() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts at the TCP level, never reads or writes
        port = silent.getsockname()[1]
        ring = MemcacheRing([f"127.0.0.1:{port}"], io_timeout=0.2)
        assert ring.get("k") is None
        assert len(ring.servers[0].errors) == 1


@needs_memcached
def test_failover_to_next_server_when_first_is_down(memcached: str) -> None:
    dead = f"127.0.0.1:{free_port()}"
    ring = MemcacheRing([dead, memcached], connect_timeout=0.2, tries=2)
    keys = [f"fo{i}" for i in range(30)]
    for i, key in enumerate(keys):
        ring.set(key, i)
    assert ring.get_multi(keys) == list(range(30))
    assert [ring.get(k) for k in keys] == list(range(30))
    dead = ring.servers[0]
    assert dead.errors or dead.dead_until > 0  # keys hashed to it first: it erred


@needs_memcached
def test_ttl_expires_on_real_memcached(memcached: str) -> None:
    ring = MemcacheRing([memcached])
    ring.set("ttl-key", "v", time=1)
    assert ring.get("ttl-key") == "v"
    wait_until(lambda: ring.get("ttl-key") is None, timeout=5, what="the key to expire")


@needs_memcached
def test_connections_are_pooled_and_reused(memcached: str) -> None:
    ring = MemcacheRing([memcached], max_connections=2)
    for i in range(20):
        ring.set(f"pool{i}", i)
        assert ring.get(f"pool{i}") == i
    assert len(ring.servers[0].idle) == 1
