"""A worker's near cache of account and container info, in front of memcached.

Every object request reads its account's and its container's info (``proxy/info.py``). From
memcached that is a round trip per request: about a tenth of a GET's server CPU in the proxy
and memcached together (``bench/README.md``, steps on the misses). ``NearCache`` wraps the
shared client and keeps what memcached answered for an info key (``account/...``,
``container/...``) in the worker for ``ttl`` seconds; every other key, and every write, goes
straight through.

What a reader may see, by where the write came from:

* this worker: ``delete`` (``proxy/info.clear_info``, after every account or container write)
  drops the entry at once, and ``set`` of a different value drops it too, so the next read
  asks memcached. A ``set`` of the very value the entry holds (a container GET or HEAD
  confirming the info the request had just looked up) is not sent at all: memcached gave
  that value within the ttl and nothing here has changed it since. It saves each listing
  page two round trips (the set, and the next page's read it would have forced), at the cost
  of memcached's copy not having its expiry pushed back: it lapses at its own time, and the
  next lookup reads the backend again;
* another worker of the same server: each info ``delete`` also bumps a generation counter in
  memory the server's master shares with its workers (``share_generation``, called before the
  fork). An entry keeps the generation it was read under and is used only while that has not
  changed, so a write through any worker is seen by the next request on every worker, as with
  memcached alone. (Two workers bumping at the same instant may count once; the entries then
  live out their ``ttl``, as below.)
* another proxy server: its delete reaches memcached, not this memory, so its write shows
  here at most ``ttl`` seconds later. Swift's proxies, sharing memcached, see it at once.

Entries are kept as JSON text and decoded on each read, so callers get their own copies, as
memcached gives them. ``ttl = 0`` turns the near cache off.
"""

from __future__ import annotations

import json
import mmap
import time
from collections.abc import Callable, Sequence
from typing import Any

from swiftlite.common.memcache import CacheClient

INFO_PREFIXES = ("account/", "container/")
_COUNTER = 8  # bytes of the shared generation counter

_shared: mmap.mmap | None = None
_local_generation = 0


def share_generation() -> None:
    """Make the generation counter shared memory; the master calls this before it forks, so
    every worker (and a worker forked later) bumps and reads the same counter."""
    global _shared
    if _shared is None:
        _shared = mmap.mmap(-1, _COUNTER)  # anonymous and MAP_SHARED: inherited by children


def generation() -> int:
    """The current generation: shared across the server's workers when it was shared."""
    if _shared is None:
        return _local_generation
    return int.from_bytes(_shared[:_COUNTER], "little")


def bump() -> None:
    """Mark every worker's entries stale (an account or container changed)."""
    global _local_generation
    if _shared is None:
        _local_generation += 1
        return
    value = (int.from_bytes(_shared[:_COUNTER], "little") + 1) % (1 << 63)
    _shared[:_COUNTER] = value.to_bytes(_COUNTER, "little")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def is_info_key(key: str) -> bool:
    return key.startswith(INFO_PREFIXES)


class NearCache:
    """``CacheClient`` over ``inner`` that keeps info keys' values for ``ttl`` seconds."""

    def __init__(
        self,
        inner: CacheClient,
        ttl: float = 1.0,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, int, str]] = {}  # key -> (until, generation, json)

    def _near(self, key: str, now: float, gen: int) -> Any:
        """The kept value (a fresh copy), or None when absent, expired or of an old generation."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        until, entry_gen, text = entry
        if until <= now or entry_gen != gen:
            del self._entries[key]
            return None
        return json.loads(text)

    def _keep(self, key: str, value: Any, now: float, gen: int) -> None:
        if value is None or not is_info_key(key):
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # rare (that many containers within a second): start over
        self._entries[key] = (now + self.ttl, gen, _dumps(value))

    def get(self, key: str) -> Any:
        if self.ttl <= 0 or not is_info_key(key):
            return self.inner.get(key)
        now, gen = self.clock(), generation()  # before the read: a bump during it wins
        found = self._near(key, now, gen)
        if found is None:
            found = self.inner.get(key)
            self._keep(key, found, now, gen)
        return found

    def get_multi(self, keys: Sequence[str]) -> list[Any]:
        if self.ttl <= 0:
            return self.inner.get_multi(keys)
        now, gen = self.clock(), generation()
        found = [self._near(k, now, gen) if is_info_key(k) else None for k in keys]
        missing = [k for k, v in zip(keys, found, strict=True) if v is None]
        if missing:
            fetched = dict(zip(missing, self.inner.get_multi(missing), strict=True))
            for key, value in fetched.items():
                self._keep(key, value, now, gen)
            found = [fetched[k] if v is None else v for k, v in zip(keys, found, strict=True)]
        return found

    def set(self, key: str, value: Any, time: float = 0) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and self.ttl > 0:
            until, entry_gen, text = entry
            if until > self.clock() and entry_gen == generation() and text == _dumps(value):
                self._entries[key] = entry  # memcached has this value already: keep it near
                return
        self.inner.set(key, value, time=time)

    def delete(self, key: str) -> None:
        self._entries.pop(key, None)
        self.inner.delete(key)
        if is_info_key(key):
            bump()  # after memcached forgot it: a worker that re-reads gets the new state

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        return self.inner.incr(key, delta=delta, time=time)

    def close(self) -> None:
        self._entries.clear()
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
