"""The load generator: many small requests at a fixed concurrency, cheaply.

Owns: the description of a run (``Job``: which requests, how many, how many connections), two
engines that execute the same ``Job`` and return the same ``RunResult`` — Debian's ``wrk`` (C)
driven by a generated Lua script, and a lean Python engine (raw keep-alive sockets, pre-built
request bytes, a ``selectors`` loop, optionally forked into several processes) — and latency
percentile math. Request number ``k`` always means the same request in both engines: connection
``c`` of ``C`` sends ``k = c, c + C, c + 2C, ...``, so a run is exact in count and reproducible.
Nothing here starts or inspects servers.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# -- results ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none).

    The smallest value such that at least ``pct`` percent of the values are at or below it.
    """
    if not sorted_values:
        return 0.0
    if not 0 < pct <= 100:
        raise ValueError("pct must be in (0, 100]")
    rank = math.ceil(pct / 100 * len(sorted_values))
    return float(sorted_values[max(rank, 1) - 1])


@dataclass
class RunResult:
    """What one run of a ``Job`` measured. Latencies are in milliseconds."""

    name: str
    requests: int  # responses received (any status)
    errors: int  # non-2xx responses plus requests lost to transport errors
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    client_cpu_s: float  # CPU of the load generator itself
    statuses: dict[str, int] = field(default_factory=dict)
    transport_errors: int = 0
    engine: str = ""
    bytes: int = 0

    @property
    def ops_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        keys = ("requests", "errors", "duration_s", "ops_per_s", "p50_ms", "p99_ms", "max_ms")
        out: dict[str, object] = {k: round(getattr(self, k), 4) for k in keys}
        out.update(
            client_cpu_s=round(self.client_cpu_s, 4),
            statuses=dict(sorted(self.statuses.items())),
            transport_errors=self.transport_errors,
            engine=self.engine,
        )
        return out


def make_result(
    name: str,
    statuses: dict[str, int],
    transport_errors: int,
    duration_s: float,
    percentiles_ms: tuple[float, float, float],
    client_cpu_s: float,
    engine: str,
) -> RunResult:
    """A ``RunResult``; ``percentiles_ms`` is (p50, p99, max)."""
    bad = sum(n for code, n in statuses.items() if not code.startswith("2"))
    return RunResult(
        name,
        sum(statuses.values()),
        bad + transport_errors,
        duration_s,
        *percentiles_ms,
        client_cpu_s,
        statuses,
        transport_errors,
        engine,
    )


def result_from_latencies(
    name: str,
    latencies_us: list[int],
    statuses: dict[str, int],
    transport_errors: int,
    duration_s: float,
    client_cpu_s: float,
    engine: str,
) -> RunResult:
    lat = sorted(latencies_us)
    pcts = (percentile(lat, 50) / 1000, percentile(lat, 99) / 1000, lat[-1] / 1000 if lat else 0.0)
    return make_result(name, statuses, transport_errors, duration_s, pcts, client_cpu_s, engine)


# -- what to send ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One kind of request. Request ``k`` goes to ``prefix + str(n)``, where ``n`` is ``k``
    (a new name each time) or, with ``spread``, ``k * 7919 % spread`` (a name among
    ``0..spread-1`` that already exists)."""

    method: str
    prefix: str
    body: bytes = b""
    spread: int = 0
    # S3 workloads: (method, path) -> the path with its presigned query (Python engine only)
    sign: Callable[[str, str], str] | None = field(default=None, compare=False)

    def path(self, k: int) -> str:
        path = self.prefix + str((k * 7919) % self.spread if self.spread else k)
        return path if self.sign is None else self.sign(self.method, path)


@dataclass(frozen=True)
class Job:
    name: str
    host: str
    port: int
    ops: tuple[Op, ...]
    count: int
    connections: int = 32
    pattern: tuple[int, ...] = (0,)  # request k uses ops[pattern[k % len(pattern)]]
    headers: tuple[tuple[str, str], ...] = ()
    max_seconds: float = 900.0

    def op(self, k: int) -> Op:
        return self.ops[self.pattern[k % len(self.pattern)]]

    @property
    def conns(self) -> int:
        return max(1, min(self.connections, self.count))

    def request_bytes(self, k: int) -> bytes:
        op = self.op(k)
        lines = [f"{op.method} {op.path(k)} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if op.body or op.method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(op.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + op.body


# -- Python engine ---------------------------------------------------------------------------

NO_BODY_STATUSES = (204, 304)


def _chunked_end(buf: bytes | bytearray, pos: int) -> int:
    """Index just past a complete chunked body starting at ``pos``, or -1 if incomplete."""
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return -1
        size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)
            return end + 4 if end >= 0 else -1
        pos += size + 2
        if pos > len(buf):
            return -1


def response_end(buf: bytes | bytearray, method: str) -> tuple[int, int, bool] | None:
    """(status, end index, connection closes) of a complete response at the start of ``buf``.

    None while incomplete. A response framed by connection close is not supported (the
    servers measured here always send Content-Length or chunked).
    """
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buf[:head_end]).lower()
    status = int(head[9:12])
    close = b"\r\nconnection: close" in head
    body_at = head_end + 4
    if method == "HEAD" or status in NO_BODY_STATUSES or status < 200:
        return status, body_at, close
    if b"\r\ntransfer-encoding: chunked" in head:
        end = _chunked_end(buf, body_at)
        return (status, end, close) if end >= 0 else None
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    end = body_at + length
    return (status, end, close) if len(buf) >= end else None


class _Conn:
    """One keep-alive connection walking its share of request numbers."""

    def __init__(self, job: Job, index: int) -> None:
        self.job = job
        self.ks: Iterator[int] = iter(range(index, job.count, job.conns))
        self.sock: socket.socket | None = None
        self.buf = bytearray()
        self.out = memoryview(b"")
        self.method = ""
        self.started = 0

    def connect(self) -> None:
        sock = socket.create_connection((self.job.host, self.job.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.sock = sock

    def next_request(self) -> bool:
        k = next(self.ks, None)
        if k is None:
            return False
        self.method = self.job.op(k).method
        self.out = memoryview(self.job.request_bytes(k))
        self.buf.clear()
        self.started = time.perf_counter_ns()
        return True


class _Loop:
    """A ``selectors`` loop driving some connections of a job; counts what comes back."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.sel = selectors.DefaultSelector()
        self.latencies: list[int] = []
        self.statuses: dict[str, int] = {}
        self.transport = 0

    def drop(self, conn: _Conn) -> None:
        if conn.sock is not None:
            self.sel.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def begin(self, conn: _Conn) -> None:
        """Queue the connection's next request, (re)connecting if needed; a refused connect
        costs that request and moves on to the next."""
        while conn.next_request():
            if conn.sock is not None:
                self.sel.modify(conn.sock, selectors.EVENT_WRITE, conn)
                return
            try:
                conn.connect()
            except OSError:
                self.transport += 1
                continue
            self.sel.register(conn.sock, selectors.EVENT_WRITE, conn)  # type: ignore[arg-type]
            return
        self.drop(conn)

    def fail(self, conn: _Conn) -> None:
        self.transport += 1
        self.drop(conn)
        self.begin(conn)

    def on_event(self, conn: _Conn, events: int) -> None:
        sock = conn.sock
        if sock is None:
            return
        try:
            if events & selectors.EVENT_WRITE:
                conn.out = conn.out[sock.send(conn.out) :]
                if not conn.out:
                    self.sel.modify(sock, selectors.EVENT_READ, conn)
                return
            data = sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.fail(conn)
            return
        conn.buf += data
        done = response_end(conn.buf, conn.method)
        if done is None:
            return
        status, _end, close = done
        self.latencies.append((time.perf_counter_ns() - conn.started) // 1000)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if close:
            self.drop(conn)
        self.begin(conn)

    def run(self, indexes: Sequence[int]) -> dict[str, object]:
        started = time.monotonic()
        deadline = started + self.job.max_seconds
        for i in indexes:
            self.begin(_Conn(self.job, i))
        while self.sel.get_map() and time.monotonic() < deadline:
            for key, events in self.sel.select(timeout=1.0):
                self.on_event(key.data, events)
        return {
            "latencies": self.latencies,
            "statuses": self.statuses,
            "transport": self.transport,
            "start": started,
            "end": time.monotonic(),
        }


def run_python(job: Job, processes: int = 0) -> RunResult:
    """Run ``job`` with the Python engine: in this process (0) or forked into ``processes``."""
    conns = list(range(job.conns))
    if processes <= 0:
        cpu0 = time.process_time()
        part = _Loop(job).run(conns)
        return _merge(job, [part], time.process_time() - cpu0, "python")
    children: list[tuple[int, int]] = []
    for p in range(processes):
        mine = conns[p::processes]
        if not mine:
            continue
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: run, send JSON back, leave without cleanup handlers
            code = 0
            try:
                os.close(read_fd)
                payload = json.dumps(_Loop(job).run(mine)).encode()
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
            except BaseException:  # noqa: BLE001 - a child must never return into the caller
                code = 1
            os._exit(code)
        os.close(write_fd)
        children.append((pid, read_fd))
    parts, cpu = [], 0.0
    for pid, read_fd in children:
        with os.fdopen(read_fd, "rb") as inp:
            raw = inp.read()
        _, _, usage = os.wait4(pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        if raw:
            parts.append(json.loads(raw))
    return _merge(job, parts, cpu, f"python x{processes}")


def _merge(job: Job, parts: list[dict[str, Any]], cpu: float, engine: str) -> RunResult:
    latencies: list[int] = []
    statuses: dict[str, int] = {}
    transport = 0
    for part in parts:
        latencies += part["latencies"]
        transport += part["transport"]
        for code, n in part["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    lost = job.count - sum(statuses.values()) - transport  # children that died, or deadline
    duration = (max(p["end"] for p in parts) - min(p["start"] for p in parts)) if parts else 0.0
    return result_from_latencies(
        job.name, latencies, statuses, transport + max(lost, 0), duration, cpu, engine
    )


# -- wrk engine ------------------------------------------------------------------------------


def find_wrk(install: bool = False) -> str | None:
    """Path of ``wrk``; with ``install``, apt-get it when running as root and missing."""
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


def _lua_str(value: str | bytes) -> str:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return (
        '"'
        + "".join(
            c if (c.isascii() and c.isalnum()) or c in "/_-.:" else f"\\{ord(c):03d}" for c in text
        )
        + '"'
    )


def lua_script(job: Job) -> str:
    """A wrk script: one connection per thread, each walking ``k = id, id + C, ...``.

    A thread stops itself after its last response and writes ``DONE`` to stderr, so the caller
    can end wrk as soon as every thread is done (wrk otherwise runs for its full duration).
    """
    ops = ",\n".join(
        f"  {{m={_lua_str(op.method)}, p={_lua_str(op.prefix)}, s={op.spread}, "
        f"b={_lua_str(op.body) if op.body or op.method in ('PUT', 'POST') else 'nil'}}}"
        for op in job.ops
    )
    headers = ", ".join(f"[{_lua_str(k)}]={_lua_str(v)}" for k, v in job.headers)
    pattern = ", ".join(str(i + 1) for i in job.pattern)
    return f"""
local ops = {{
{ops}
}}
local pattern = {{{pattern}}}
local total, stride = {job.count}, {job.conns}
local base_headers = {{{headers}}}
local next_id = 0
local threads = {{}}
local cursor, statuses = 0, {{}}

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  cursor = id
end

-- request() must not move the cursor: wrk calls it once more on one thread to check the
-- script. The cursor moves on in response(), which runs before the next request() here.
function request()
  local k = cursor
  local op = ops[pattern[(k % #pattern) + 1]]
  local n = k
  if op.s > 0 then n = (k * 7919) % op.s end
  local h = {{}}
  for name, value in pairs(base_headers) do h[name] = value end
  return wrk.format(op.m, op.p .. n, h, op.b)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  cursor = cursor + stride
  if cursor >= total then
    local parts = {{}}
    for code, n in pairs(statuses) do table.insert(parts, code .. ":" .. n) end
    result = table.concat(parts, ",")
    io.stderr:write("DONE\\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local parts = {{}}
  for _, t in ipairs(threads) do
    local r = t:get("result")
    if r then table.insert(parts, r) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {{"duration_us": %d, "requests": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"statuses": "%s"}}\\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
"""


def parse_wrk_output(stdout: str) -> dict[str, object]:
    for line in stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data: dict[str, object] = json.loads(line[len("BENCHJSON ") :])
            statuses: dict[str, int] = {}
            for item in str(data.pop("statuses")).split(","):
                if item:
                    code, n = item.split(":")
                    statuses[code] = statuses.get(code, 0) + int(n)
            data["statuses"] = statuses
            return data
    raise RuntimeError(f"wrk printed no result: {stdout[-2000:]}")


def _interrupt_until_exit(proc: subprocess.Popen[bytes], limit: float = 60.0) -> str:
    """SIGINT wrk until it exits and return what it printed on stdout.

    wrk ends its run when SIGINT interrupts its main thread's sleep; a signal that arrives
    just before that sleep starts is lost, so it is repeated while wrk has not exited.
    """
    assert proc.stdout is not None
    fd, chunks = proc.stdout.fileno(), []
    deadline = time.monotonic() + limit
    proc.send_signal(signal.SIGINT)
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], 0.5)[0]:
            proc.send_signal(signal.SIGINT)
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def run_wrk(job: Job, wrk: str = "wrk") -> RunResult:
    """Run ``job`` with wrk, one thread per connection, and stop it when all threads are done."""
    conns = job.conns
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua_script(job))
        script = fh.name
    argv = [wrk, "-t", str(conns), "-c", str(conns), "-d", f"{int(job.max_seconds)}s"]
    argv += ["--timeout", "120s", "-s", script, f"http://{job.host}:{job.port}/"]
    proc = None
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        done, noise = 0, []
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.strip() != "DONE":
                noise.append(line)
                continue
            done += 1
            if done == conns:
                break
        stdout = _interrupt_until_exit(proc)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        os.unlink(script)
        if proc is not None and proc.returncode is None:  # never leave wrk running
            proc.kill()
            proc.wait()
    try:
        data = parse_wrk_output(stdout)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; wrk stderr: {''.join(noise)[-2000:]}") from None
    statuses: dict[str, int] = data["statuses"]  # type: ignore[assignment]
    num = {k: int(v) for k, v in data.items() if k != "statuses"}  # type: ignore[call-overload]
    transport = sum(num[k] for k in ("connect", "read", "write", "timeout"))
    transport += max(0, job.count - sum(statuses.values()) - transport)  # never answered
    pcts = (num["p50_us"] / 1000, num["p99_us"] / 1000, num["max_us"] / 1000)
    cpu = usage.ru_utime + usage.ru_stime
    return make_result(job.name, statuses, transport, num["duration_us"] / 1e6, pcts, cpu, "wrk")


def run(job: Job, engine: str, python_processes: int = 1) -> RunResult:
    """Run ``job`` with ``engine`` ("wrk" or "python").

    HEAD goes to the Python engine whatever is asked: wrk's parser is not told a request was
    HEAD, so it waits for the body that the Content-Length of the reply announces. So do
    signed requests (``Op.sign``): each has its own URL, which the Lua script cannot make.
    """
    if engine == "wrk" and all(op.method != "HEAD" and op.sign is None for op in job.ops):
        return run_wrk(job, find_wrk() or "wrk")
    return run_python(job, python_processes)
