"""A small WSGI app served by swiftlite.common.http.server, for the server's own tests.

Run as ``python tests/support/lean_http_app.py [--client-timeout S] ...`` (or with ``-m``): it
monkey-patches its own process, listens on 127.0.0.1 port 0, prints the port on one line and
serves until killed. Each route exercises one part of the WSGI contract:

- any path not listed below: ``echo``, JSON of selected environ keys and the body read with
  ``read(7)`` calls (small reads cross chunk boundaries);
- ``/echo-all``: the same, reading the body with one ``read()``;
- ``/echo-lines``: the same, reading the body with ``readline()``;
- ``/echo-mixed-lines``: the same, alternating ``readline()`` and ``readline(5)``;
- ``/read-sizes``: JSON list of the lengths ``read(65536)`` returned until the body ended;
- ``/nolength``: three chunks from a generator, no Content-Length;
- ``/list``: a list of three byte strings, no Content-Length;
- ``/raise``: raises before ``start_response``;
- ``/raise-late``: yields one chunk, then raises;
- ``/ignore-body``: answers 201 without touching ``wsgi.input``;
- ``/write``: sends its body through the ``write()`` callable and returns ``[]``;
- ``/status/NNN``: answers status NNN with a short body and no Content-Length;
- ``/date``: sets its own Date header;
- ``/split-header``: a buggy app: one header value holds CRLF and a forged header.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import sys

ECHO_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "RAW_PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "wsgi.url_scheme",
    "wsgi.input_terminated",
)
FIXED_DATE = "Tue, 01 Jan 2030 00:00:00 GMT"
NOLENGTH_CHUNKS = (b"first,", b"second,", b"third")
LIST_PARTS = (b"alpha", b"beta", b"gamma")
WRITE_PARTS = (b"written-", b"by-", b"write")
LATE_CHUNK = b"partial"


def _read_small(stream) -> bytes:
    parts = []
    while True:
        part = stream.read(7)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _read_all(stream) -> bytes:
    return stream.read()


def _read_lines(stream) -> bytes:
    parts = []
    while True:
        line = stream.readline()
        if not line:
            return b"".join(parts)
        parts.append(line)


def _read_mixed_lines(stream) -> bytes:
    parts = []
    for size in itertools.cycle((-1, 5)):
        line = stream.readline(size)
        if not line:
            return b"".join(parts)
        parts.append(line)


def _echo(environ, start_response, reader):
    body = reader(environ["wsgi.input"])
    sock = environ.get("swiftlite.socket")
    info = {key: environ[key] for key in ECHO_KEYS if key in environ}
    info["headers"] = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    info["socket_peer"] = list(sock.getpeername()) if sock is not None else None
    info["socket_fileno"] = sock.fileno() if sock is not None else None
    info["body_len"] = len(body)
    info["body_md5"] = hashlib.md5(body).hexdigest()
    info["body"] = body.decode("latin-1") if len(body) <= 4096 else None
    out = json.dumps(info).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    )
    return [out]


def _read_sizes(environ, start_response):
    sizes = []
    while True:
        part = environ["wsgi.input"].read(65536)
        if not part:
            break
        sizes.append(len(part))
    out = json.dumps(sizes).encode()
    start_response("200 OK", [("Content-Length", str(len(out)))])
    return [out]


def _nolength(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield from NOLENGTH_CHUNKS


def _list(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return list(LIST_PARTS)


def _raise(environ, start_response):
    raise RuntimeError("boom before start_response")


def _raise_late(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield LATE_CHUNK
    raise RuntimeError("boom after the first chunk")


def _cut_late(environ, start_response):
    from swiftlite.common.http.server import BodyCut  # imported once the process is patched

    start_response("200 OK", [("Content-Type", "text/plain")])
    yield LATE_CHUNK
    raise BodyCut("body cut after the first chunk (already logged)")


def _ignore_body(environ, start_response):
    start_response("201 Created", [("Content-Length", "7")])
    return [b"created"]


def _write(environ, start_response):
    write = start_response("200 OK", [("Content-Length", str(sum(len(p) for p in WRITE_PARTS)))])
    for part in WRITE_PARTS:
        write(part)
    return []


def _status(environ, start_response):
    code = environ["PATH_INFO"].rsplit("/", 1)[-1]
    start_response(f"{code} Status {code}", [("Content-Type", "text/plain")])
    return iter([b"body that must not be sent for 204 or 304"])


def _date(environ, start_response):
    start_response("200 OK", [("Date", FIXED_DATE), ("Content-Length", "2")])
    return [b"ok"]


def _split_header(environ, start_response):
    start_response(
        "200 OK",
        [("X-Echo", "a\r\nSet-Cookie: forged=1"), ("X-Fine", "yes"), ("Content-Length", "2")],
    )
    return [b"ok"]


ROUTES = {
    "/read-sizes": _read_sizes,
    "/split-header": _split_header,
    "/nolength": _nolength,
    "/list": _list,
    "/raise": _raise,
    "/raise-late": _raise_late,
    "/cut-late": _cut_late,
    "/ignore-body": _ignore_body,
    "/write": _write,
    "/date": _date,
    "/echo-all": lambda environ, start_response: _echo(environ, start_response, _read_all),
    "/echo-lines": lambda environ, start_response: _echo(environ, start_response, _read_lines),
    "/echo-mixed-lines": lambda environ, start_response: _echo(
        environ, start_response, _read_mixed_lines
    ),
}


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/status/"):
        return _status(environ, start_response)
    route = ROUTES.get(path)
    if route is None:
        return _echo(environ, start_response, _read_small)
    return route(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-clients", type=int, default=1024)
    parser.add_argument("--client-timeout", type=float, default=60.0)
    parser.add_argument("--keepalive-timeout", type=float, default=75.0)
    parser.add_argument("--max-header-line", type=int, default=8192)
    parser.add_argument("--max-request-line", type=int, default=8192)
    parser.add_argument("--max-idle-per-ip", type=int, default=0)
    args = parser.parse_args(argv)

    # Only this process is patched; the test process that starts it never is.
    from swiftlite.common import green

    green.monkey_patch()
    from swiftlite.common.http import server

    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    sock = green.listen(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    server.serve(
        sock,
        app,
        max_clients=args.max_clients,
        client_timeout=args.client_timeout,
        keepalive_timeout=args.keepalive_timeout,
        max_header_line=args.max_header_line,
        max_request_line=args.max_request_line,
        max_idle_per_ip=args.max_idle_per_ip,
        logger=logging.getLogger("lean-http-app"),
    )


if __name__ == "__main__":
    main()
