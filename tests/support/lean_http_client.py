"""Raw-socket client and process helpers for the lean HTTP server's tests.

The server runs in its own monkey-patched process (``tests/support/lean_http_app.py``); these
helpers write exact request bytes and parse the exact response bytes, so framing mistakes (a
stray body byte, a missing last chunk) show up as a broken next response.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import socket
import subprocess
import sys

from tests.support.wait import wait_until

REPO = pathlib.Path(__file__).resolve().parents[2]
MAX_REQUEST_LINE = 4096
MAX_HEADER_LINE = 2048
DEFAULT_MAX_REQUEST_LINE = 8192  # short_server: the helper's default, as serve()'s
CLIENT_TIMEOUT = 0.3
KEEPALIVE_TIMEOUT = 1.5
SOCKET_TIMEOUT = 5.0


@dataclasses.dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: pathlib.Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(log: pathlib.Path, *options: str) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.lean_http_app", *options],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def port() -> int | None:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}:\n{log.read_text()}")
        first, newline, _ = log.read_text().partition("\n")
        return int(first) if newline else None

    try:
        return Server(wait_until(port, timeout=20, what="server port"), proc, log)
    except BaseException:
        proc.kill()
        proc.wait()
        raise


def stop_server(server: Server) -> None:
    server.proc.kill()
    server.proc.wait()


@dataclasses.dataclass
class Response:
    version: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool = False
    terminated: bool = True  # for a chunked body: did the last-chunk arrive?

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def json(self) -> dict:
        return json.loads(self.body)


class Client:
    """One raw connection: exact bytes out, exactly parsed responses in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str = "GET", path: str = "/", **kwargs) -> Response:
        self.send(build(method, path, **kwargs))
        return self.response(method)

    def response(self, method: str = "GET") -> Response:
        status_line = self.reader.readline()
        if not status_line:
            raise EOFError("connection closed before a response")
        version, status, _reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        headers = self._header_block()
        resp = Response(version, int(status), headers, b"")
        no_body = method == "HEAD" or resp.status in (204, 304) or resp.status < 200
        if no_body:
            return resp
        if (resp.header("transfer-encoding") or "").lower() == "chunked":
            self._read_chunked(resp)
        elif resp.header("content-length") is not None:
            length = int(resp.header("content-length"))
            resp.body = self.reader.read(length)
            assert len(resp.body) == length, "connection closed inside a Content-Length body"
        else:
            resp.body = self.reader.read()
        return resp

    def _header_block(self) -> list[tuple[str, str]]:
        headers = []
        while True:
            line = self.reader.readline()
            assert line.endswith(b"\r\n"), f"header line not CRLF-terminated: {line!r}"
            if line == b"\r\n":
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            assert colon, f"malformed header line {line!r}"
            headers.append((name, value.strip()))

    def _read_chunked(self, resp: Response) -> None:
        resp.chunked = True
        parts = []
        while True:
            size_line = self.reader.readline()
            if not size_line:
                resp.terminated = False
                break
            assert size_line.endswith(b"\r\n"), f"bad chunk-size line {size_line!r}"
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self._header_block()  # trailers, then the blank line
                break
            data = self.reader.read(size)
            crlf = self.reader.read(2)
            parts.append(data)
            if len(data) < size or not crlf:
                resp.terminated = False
                break
            assert crlf == b"\r\n", f"chunk of {size} not followed by CRLF: {crlf!r}"
        resp.body = b"".join(parts)

    def at_eof(self) -> bool:
        """True when the server closed the connection (waits up to SOCKET_TIMEOUT)."""
        try:
            return self.reader.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def read_to_eof(self) -> bytes:
        try:
            return self.reader.read()
        except ConnectionResetError:
            return b""


def build(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[str, str]] | tuple = (),
    body: bytes = b"",
    version: str = "HTTP/1.1",
    length: bool = True,
) -> bytes:
    lines = [f"{method} {path} {version}", "Host: test"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body and length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*parts: bytes, ext: str = "", trailers: str = "") -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext.encode(), p) for p in parts)
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


def echo(client: Client, path: str = "/echo", **kwargs) -> dict:
    resp = client.request(kwargs.pop("method", "GET"), path, **kwargs)
    assert resp.status == 200, resp
    return resp.json()
