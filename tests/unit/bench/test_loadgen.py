"""The load generator's pure parts, and both engines against tiny in-process servers."""

from __future__ import annotations

import http.server
import shutil
import threading
import warnings
from collections.abc import Iterator
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import ceilings, loadgen

# -- percentile math -------------------------------------------------------------------------


def test_percentile_known_values_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile(values, 100) == 100
    assert loadgen.percentile([7], 1) == 7


def test_percentile_of_nothing_is_zero() -> None:
    assert loadgen.percentile([], 99) == 0.0


@pytest.mark.parametrize("pct", [0, -1, 101])
def test_percentile_out_of_range_raises(pct: float) -> None:
    with pytest.raises(ValueError, match="pct"):
        loadgen.percentile([1, 2, 3], pct)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=300), st.floats(0.5, 100))
def test_percentile_any_sample_covers_at_least_pct(values: list[int], pct: float) -> None:
    ordered = sorted(values)
    p = loadgen.percentile(ordered, pct)
    assert p in ordered
    at_or_below = sum(1 for v in ordered if v <= p)
    assert at_or_below / len(ordered) >= pct / 100
    # and it is the smallest such value
    below = [v for v in ordered if v < p]
    assert len(below) / len(ordered) < pct / 100


def test_result_from_latencies_counts_non_2xx_and_transport_as_errors() -> None:
    res = loadgen.result_from_latencies(
        "x", [1000, 3000, 2000], {"200": 2, "404": 1}, 2, 1.5, 0.1, "python"
    )
    assert res.requests == 3
    assert res.errors == 3
    assert res.p50_ms == 2.0
    assert res.max_ms == 3.0
    assert res.ops_per_s == 2.0


# -- request and response framing ------------------------------------------------------------


def test_op_path_with_spread_visits_every_name_once() -> None:
    op = loadgen.Op("GET", "/v1/a/c/o", spread=300)
    paths = [op.path(k) for k in range(300)]
    assert sorted(paths) == sorted(f"/v1/a/c/o{i}" for i in range(300))
    assert paths[:3] != ["/v1/a/c/o0", "/v1/a/c/o1", "/v1/a/c/o2"]


def test_job_put_request_carries_length_and_body() -> None:
    job = loadgen.Job(
        "put",
        "127.0.0.1",
        8080,
        (loadgen.Op("PUT", "/c/o", b"abcd"), loadgen.Op("PUT", "/c/empty")),
        4,
        pattern=(0, 1),
        headers=(("X-Auth-Token", "t"),),
    )
    first = job.request_bytes(0)
    assert first.startswith(b"PUT /c/o0 HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 4\r\n" in first
    assert b"\r\nX-Auth-Token: t\r\n" in first
    assert first.endswith(b"\r\n\r\nabcd")
    assert b"Content-Length: 0" in job.request_bytes(1)


def test_job_connections_never_exceed_requests() -> None:
    job = loadgen.Job("x", "h", 1, (loadgen.Op("GET", "/"),), 5, connections=32)
    assert job.conns == 5


def test_response_end_waits_for_the_whole_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    assert loadgen.response_end(head + b"abc", "GET") is None
    assert loadgen.response_end(head + b"abcde", "GET") == (200, len(head) + 5, False)


def test_response_end_head_and_204_have_no_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"
    assert loadgen.response_end(head, "HEAD") == (200, len(head), False)
    no_content = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    assert loadgen.response_end(no_content, "DELETE") == (204, len(no_content), True)


def test_response_end_chunked_needs_the_last_chunk() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"3\r\nabc\r\n"
    assert loadgen.response_end(head + body, "GET") is None
    whole = head + body + b"0\r\n\r\n"
    assert loadgen.response_end(whole, "GET") == (200, len(whole), False)


def test_lua_strings_are_ascii_and_escape_binary() -> None:
    text = loadgen._lua_str(bytes(range(256)))
    assert text.isascii()
    assert "\\034" in text  # a double quote cannot end the literal early
    assert text.count("\\") == 256 - sum(chr(i).isalnum() or chr(i) in "/_-.:" for i in range(128))


def test_parse_wrk_output_sums_thread_statuses() -> None:
    out = 'noise\nBENCHJSON {"duration_us": 10, "requests": 3, "statuses": "200:2,404:1,200:1"}\n'
    data = loadgen.parse_wrk_output(out)
    assert data["statuses"] == {"200": 3, "404": 1}
    with pytest.raises(RuntimeError, match="no result"):
        loadgen.parse_wrk_output("nothing here")


# -- engines against tiny servers ------------------------------------------------------------


class _Store(http.server.BaseHTTPRequestHandler):
    """A keep-alive object store in a dict: PUT, GET, HEAD, DELETE."""

    protocol_version = "HTTP/1.1"
    objects: ClassVar[dict[str, bytes]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes = b"", length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_PUT(self) -> None:
        self.objects[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self._reply(201)

    def do_GET(self) -> None:
        if self.path in self.objects:
            self._reply(200, self.objects[self.path])
        else:
            self._reply(404, b"missing")

    def do_HEAD(self) -> None:
        body = self.objects.get(self.path)
        self._reply(200 if body is not None else 404, length=len(body or b""))

    def do_DELETE(self) -> None:
        self._reply(204 if self.objects.pop(self.path, None) is not None else 404)


@pytest.fixture
def store() -> Iterator[tuple[int, dict[str, bytes]]]:
    objects: ClassVar[dict[str, bytes]] = {}
    handler = type("Store", (_Store,), {"objects": objects})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], objects
    server.shutdown()
    server.server_close()


def _job(port: int, op: loadgen.Op, count: int, conns: int = 4) -> loadgen.Job:
    return loadgen.Job(op.method.lower(), "127.0.0.1", port, (op,), count, conns, max_seconds=30)


def test_run_python_put_then_get_hits_every_object(store: tuple[int, dict[str, bytes]]) -> None:
    port, objects = store
    put = loadgen.run_python(_job(port, loadgen.Op("PUT", "/c/o", b"x" * 4096), 12))
    assert put.statuses == {"201": 12}
    assert sorted(objects) == sorted(f"/c/o{i}" for i in range(12))
    get = loadgen.run_python(_job(port, loadgen.Op("GET", "/c/o", spread=12), 12))
    assert get.statuses == {"200": 12}
    assert get.errors == 0
    assert get.p50_ms > 0


def test_run_python_counts_missing_objects_as_errors(store: tuple[int, dict[str, bytes]]) -> None:
    port, _ = store
    res = loadgen.run_python(_job(port, loadgen.Op("HEAD", "/c/nothing"), 5, conns=2))
    assert res.statuses == {"404": 5}
    assert res.errors == 5


def test_run_python_refused_connection_is_a_transport_error() -> None:
    listener = ceilings.listen_local()
    port = listener.getsockname()[1]
    listener.close()
    res = loadgen.run_python(_job(port, loadgen.Op("GET", "/x"), 3, conns=1))
    assert res.requests == 0
    assert res.transport_errors == 3
    assert res.errors == 3


def test_run_python_forked_processes_merge_counts(store: tuple[int, dict[str, bytes]]) -> None:
    port, objects = store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with a server thread alive
        res = loadgen.run_python(_job(port, loadgen.Op("PUT", "/f/o", b"y"), 10), processes=2)
    assert res.statuses == {"201": 10}
    assert res.engine == "python x2"
    assert len([p for p in objects if p.startswith("/f/")]) == 10


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_run_wrk_puts_the_same_names_as_python(store: tuple[int, dict[str, bytes]]) -> None:
    port, objects = store
    res = loadgen.run_wrk(_job(port, loadgen.Op("PUT", "/w/o", bytes(range(256))), 9, conns=3))
    assert res.statuses == {"201": 9}
    assert res.errors == 0
    assert objects["/w/o8"] == bytes(range(256))
    empty = loadgen.run_wrk(_job(port, loadgen.Op("PUT", "/w/empty"), 2, conns=2))
    assert empty.statuses == {"201": 2}
    assert objects["/w/empty1"] == b""
    get = loadgen.run_python(_job(port, loadgen.Op("GET", "/w/o", spread=9), 9))
    assert get.statuses == {"200": 9}


def test_run_sends_head_to_python_even_when_wrk_asked(store: tuple[int, dict[str, bytes]]) -> None:
    port, objects = store
    objects["/h/o0"] = b"abc"
    res = loadgen.run(_job(port, loadgen.Op("HEAD", "/h/o", spread=1), 3, conns=1), "wrk")
    assert res.engine.startswith("python")
    assert res.statuses == {"200": 3}


def test_canned_server_answers_every_request() -> None:
    listener = ceilings.listen_local()
    port = listener.getsockname()[1]
    stop = threading.Event()
    thread = threading.Thread(target=ceilings.serve_canned, args=(listener, stop), daemon=True)
    thread.start()
    try:
        res = loadgen.run_python(_job(port, loadgen.Op("PUT", "/x", b"z" * 100), 40))
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert res.statuses == {"200": 40}


def test_complete_requests_waits_for_bodies() -> None:
    buf = bytearray(b"PUT /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nab")
    assert ceilings._complete_requests(buf) == 0
    buf += b"cGET /b HTTP/1.1\r\n\r\n"
    assert ceilings._complete_requests(buf) == 2
    assert buf == bytearray()
