"""A small memcached client, and an in-process LRU cache with the same API.

Both offer ``get(key)``, ``set(key, value, time=0)``, ``delete(key)``,
``incr(key, delta=1, time=0)`` and ``get_multi(keys)``. Values are JSON (anything
``json.dumps`` takes); what comes back is what ``json.loads`` gives, so a tuple returns as a
list in both implementations. ``time`` is a TTL in seconds (0: no expiry); like memcached, a
value over 30 days is read as an absolute unix time.

``MemcacheRing`` speaks memcached's text protocol over green sockets. Keys go on the wire as
the MD5 hex of the UTF-8 key (no spaces, fixed length). A key maps to a server by a
ketama-style ring of points per server; when that server fails the next distinct server on the
ring is tried, up to ``tries`` servers. Each server has a small pool of kept-alive
connections. A server that errs more than ``error_limit`` times within
``error_interval`` seconds is skipped for ``error_interval`` seconds. Reads that cannot reach
any server return None (a cache miss) and writes are dropped; only ``incr`` raises
``MemcacheConnectionError``, because a counter that silently resets would be wrong.

This module owns the wire format and server choice; it must not know what callers cache.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import hashlib
import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from swiftlite.common import green
from swiftlite.common.errors import SwiftliteError

DEFAULT_PORT = 11211
JSON_FLAG = 2
MAX_RELATIVE_TTL = 30 * 24 * 3600
POINTS_PER_SERVER = 100

log = logging.getLogger("swiftlite.memcache")

T = TypeVar("T")


class MemcacheConnectionError(SwiftliteError):
    """No memcached server could be reached for an operation that must not fail silently."""


class CacheClient(Protocol):
    """What ``environ['swiftlite.cache']`` offers, whichever implementation is behind it."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, time: float = 0) -> None: ...

    def delete(self, key: str) -> None: ...

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int: ...

    def get_multi(self, keys: Sequence[str]) -> list[Any]: ...


def wire_key(key: str) -> bytes:
    """The key as sent to memcached: MD5 hex of its UTF-8 bytes."""
    return hashlib.md5(key.encode("utf-8")).hexdigest().encode("ascii")


def wire_ttl(ttl: float, now: float) -> int:
    """memcached's exptime: 0 for none, whole seconds, absolute beyond 30 days."""
    if ttl <= 0:
        return 0
    seconds = max(1, math.ceil(ttl))
    if seconds > MAX_RELATIVE_TTL:
        return int(now + seconds)
    return seconds


def encode_value(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def decode_value(flags: int, data: bytes) -> Any:
    """JSON when flagged so; counters made by ``incr`` come back as ints."""
    if flags & JSON_FLAG:
        return json.loads(data)
    text = data.decode("utf-8", "replace")
    try:
        return int(text)
    except ValueError:
        return text


def parse_server(text: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port else DEFAULT_PORT
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, DEFAULT_PORT


class _ReplyError(Exception):
    """memcached answered, but with an error line (the server itself is fine)."""


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        raw = self.rfile.readline()
        if not raw.endswith(b"\r\n"):
            raise ConnectionError("memcached closed the connection")
        line = raw[:-2]
        if line == b"ERROR" or line.startswith((b"SERVER_ERROR", b"CLIENT_ERROR")):
            raise _ReplyError(line.decode("ascii", "replace"))
        return line

    def block(self, size: int) -> bytes:
        data = self.rfile.read(size + 2)
        if len(data) != size + 2 or not data.endswith(b"\r\n"):
            raise ConnectionError("short read from memcached")
        return data[:-2]

    def close(self) -> None:
        for closer in (self.rfile.close, self.sock.close):
            with contextlib.suppress(OSError):
                closer()


class _Server:
    """One memcached server: its address, idle connections and error record."""

    def __init__(self, host: str, port: int, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.idle: collections.deque[_Connection] = collections.deque()
        self.slots = green.Semaphore(max_connections)
        self.errors: list[float] = []
        self.dead_until = 0.0

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


class MemcacheRing:
    """A memcached client over a consistent-hash ring of servers (see the module docstring)."""

    def __init__(
        self,
        servers: Iterable[str],
        *,
        max_connections: int = 2,
        connect_timeout: float = 0.3,
        io_timeout: float = 2.0,
        pool_timeout: float = 1.0,
        tries: int = 3,
        error_limit: int = 10,
        error_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.servers = [_Server(*parse_server(s), max_connections) for s in servers if s.strip()]
        if not self.servers:
            raise ValueError("MemcacheRing needs at least one server")
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.pool_timeout = pool_timeout
        self.tries = tries
        self.error_limit = error_limit
        self.error_interval = error_interval
        self.clock = clock
        points: list[tuple[int, int]] = []
        for index, server in enumerate(self.servers):
            for i in range(POINTS_PER_SERVER):
                digest = hashlib.md5(f"{server.name}-{i}".encode()).digest()
                points.append((int.from_bytes(digest[:4], "big"), index))
        points.sort()
        self._points = [p for p, _ in points]
        self._owners = [i for _, i in points]

    # -- server choice ----------------------------------------------------------------------
    def servers_for(self, key: bytes) -> list[_Server]:
        """Distinct live servers in ring order from the key's point, at most ``tries``."""
        now = self.clock()
        start = bisect.bisect(self._points, int(key[:8], 16))
        chosen: list[_Server] = []
        seen: set[int] = set()
        for step in range(len(self._points)):
            index = self._owners[(start + step) % len(self._points)]
            if index in seen:
                continue
            seen.add(index)
            server = self.servers[index]
            if server.dead_until <= now:
                chosen.append(server)
                if len(chosen) >= self.tries:
                    break
            if len(seen) == len(self.servers):
                break
        return chosen

    def _record_error(self, server: _Server, exc: BaseException) -> None:
        now = self.clock()
        server.errors = [t for t in server.errors if t > now - self.error_interval]
        server.errors.append(now)
        if len(server.errors) > self.error_limit:
            server.errors = []
            server.dead_until = now + self.error_interval
            log.error("memcached %s error limited for %ss", server.name, self.error_interval)
        else:
            log.warning("memcached %s: %s", server.name, exc or type(exc).__name__)

    # -- connections --------------------------------------------------------------------------
    def _checkout(self, server: _Server) -> _Connection:
        if not server.slots.acquire(timeout=self.pool_timeout):
            raise TimeoutError("no free connection in the pool")
        if server.idle:
            return server.idle.pop()
        try:
            sock = green.green_socket.create_connection(
                (server.host, server.port), timeout=self.connect_timeout
            )
            sock.settimeout(self.io_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            server.slots.release()
            raise
        return _Connection(sock)

    def _checkin(self, server: _Server, conn: _Connection | None) -> None:
        if conn is not None:
            server.idle.append(conn)
        server.slots.release()

    def _call(self, key: bytes, op: Callable[[_Connection], T]) -> T:
        """Run ``op`` on the key's server, failing over to the next; raise if none answers."""
        for server in self.servers_for(key):
            try:
                conn = self._checkout(server)
            except (OSError, green.Timeout) as exc:
                self._record_error(server, exc)
                continue
            try:
                result = op(conn)
            except _ReplyError:
                self._checkin(server, conn)
                raise
            except (OSError, ValueError, green.Timeout) as exc:
                conn.close()
                self._checkin(server, None)
                self._record_error(server, exc)
                continue
            self._checkin(server, conn)
            return result
        raise MemcacheConnectionError("no memcached server answered")

    def close(self) -> None:
        """Close every idle connection (tests and shutdown)."""
        for server in self.servers:
            while server.idle:
                server.idle.pop().close()

    # -- operations ---------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        wkey = wire_key(key)

        def op(conn: _Connection) -> Any:
            conn.send(b"get " + wkey + b"\r\n")
            return _read_values(conn).get(wkey)

        try:
            return self._call(wkey, op)
        except (MemcacheConnectionError, _ReplyError) as exc:
            log.debug("memcache get %s: %s", key, exc)
            return None

    def set(self, key: str, value: Any, time: float = 0) -> None:
        wkey = wire_key(key)
        data = encode_value(value)
        header = b"set %s %d %d %d\r\n" % (wkey, JSON_FLAG, wire_ttl(time, self.clock()), len(data))

        def op(conn: _Connection) -> None:
            conn.send(header + data + b"\r\n")
            conn.line()

        try:
            self._call(wkey, op)
        except (MemcacheConnectionError, _ReplyError) as exc:
            log.warning("memcache set %s dropped: %s", key, exc)

    def delete(self, key: str) -> None:
        wkey = wire_key(key)

        def op(conn: _Connection) -> None:
            conn.send(b"delete " + wkey + b"\r\n")
            conn.line()

        try:
            self._call(wkey, op)
        except (MemcacheConnectionError, _ReplyError) as exc:
            log.warning("memcache delete %s dropped: %s", key, exc)

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        """Add ``delta`` (may be negative; floors at 0) and return the new value.

        A missing key is created as ``max(delta, 0)`` with TTL ``time``. Raises ValueError when
        the stored value is not a number and MemcacheConnectionError when no server answers.
        """
        wkey = wire_key(key)
        verb = b"incr" if delta >= 0 else b"decr"
        start = encode_value(max(delta, 0))
        ttl = wire_ttl(time, self.clock())

        def op(conn: _Connection) -> int:
            for _ in range(2):
                conn.send(b"%s %s %d\r\n" % (verb, wkey, abs(delta)))
                line = conn.line()
                if line != b"NOT_FOUND":
                    return int(line)
                conn.send(b"add %s %d %d %d\r\n%s\r\n" % (wkey, JSON_FLAG, ttl, len(start), start))
                if conn.line() == b"STORED":
                    return max(delta, 0)
                # another client added it first: go round once more and increment theirs
            raise ConnectionError("incr raced with add twice")

        try:
            return self._call(wkey, op)
        except _ReplyError as exc:
            raise ValueError(f"cannot increment {key!r}: {exc}") from None

    def get_multi(self, keys: Sequence[str]) -> list[Any]:
        """Values for ``keys`` in order, None for misses; one request per server."""
        wkeys = [wire_key(k) for k in keys]
        groups: dict[int, list[bytes]] = {}
        for wkey in wkeys:
            servers = self.servers_for(wkey)
            if servers:
                groups.setdefault(self.servers.index(servers[0]), []).append(wkey)
        found: dict[bytes, Any] = {}
        for batch in groups.values():

            def op(conn: _Connection, batch: list[bytes] = batch) -> dict[bytes, Any]:
                conn.send(b"get " + b" ".join(batch) + b"\r\n")
                return _read_values(conn)

            try:
                found.update(self._call(batch[0], op))
            except (MemcacheConnectionError, _ReplyError) as exc:
                log.debug("memcache get_multi: %s", exc)
        return [found.get(w) for w in wkeys]


def _read_values(conn: _Connection) -> dict[bytes, Any]:
    """Read ``VALUE <key> <flags> <bytes>`` blocks up to ``END``."""
    values: dict[bytes, Any] = {}
    while True:
        line = conn.line()
        if line == b"END":
            return values
        parts = line.split()
        if len(parts) < 4 or parts[0] != b"VALUE":
            raise ValueError(f"unexpected memcached reply {line[:40]!r}")
        data = conn.block(int(parts[3]))
        try:
            values[parts[1]] = decode_value(int(parts[2]), data)
        except ValueError:
            log.warning("memcache: undecodable value for %s", parts[1])


class LocalCache:
    """An in-process LRU cache with TTLs and the MemcacheRing API (one worker's view only).

    Values are stored as JSON text, so callers get fresh copies and the same types that
    memcached would give back.
    """

    def __init__(self, max_entries: int = 10000, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max(1, max_entries)
        self.clock = clock
        self._data: collections.OrderedDict[str, tuple[float, str]] = collections.OrderedDict()

    def _expiry(self, ttl: float) -> float:
        if ttl <= 0:
            return 0.0
        now = self.clock()
        return float(ttl) if ttl > MAX_RELATIVE_TTL else now + ttl

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        expiry, text = item
        if expiry and expiry <= self.clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return text

    def _store(self, key: str, expiry: float, text: str) -> None:
        self._data[key] = (expiry, text)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def get(self, key: str) -> Any:
        text = self._live(key)
        return None if text is None else json.loads(text)

    def set(self, key: str, value: Any, time: float = 0) -> None:
        self._store(key, self._expiry(time), json.dumps(value, separators=(",", ":")))

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        text = self._live(key)
        if text is None:
            value = max(delta, 0)
            self._store(key, self._expiry(time), str(value))
            return value
        current = json.loads(text)
        if isinstance(current, bool) or not isinstance(current, int) or current < 0:
            raise ValueError(f"cannot increment {key!r}: not a counter")
        value = max(current + delta, 0)
        self._store(key, self._data[key][0], str(value))
        return value

    def get_multi(self, keys: Sequence[str]) -> list[Any]:
        return [self.get(k) for k in keys]

    def close(self) -> None:
        self._data.clear()
