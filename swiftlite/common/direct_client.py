"""One request to one backend node, for daemons, info tools, updates and tests.

Paths are given as real ``str`` and quoted here. Under a monkey-patched process the sockets are
green. A connect or read that takes longer than its timeout raises ``errors.Timeout``; a refused
or reset connection raises ``OSError``: callers treat both as "node unavailable".
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from swiftlite.common.errors import Timeout


@dataclass
class DirectResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def direct_request(
    ip: str,
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | Iterable[bytes] | None = None,
    conn_timeout: float = 0.5,
    node_timeout: float = 10.0,
    query: str = "",
) -> DirectResponse:
    """Send one request and read the whole response body."""
    target = quote_path(path) + (f"?{query}" if query else "")
    conn = http.client.HTTPConnection(ip, port, timeout=conn_timeout)
    try:
        try:
            conn.connect()
        except TimeoutError:
            raise Timeout(f"connect to {ip}:{port} timed out") from None
        if conn.sock is not None:
            conn.sock.settimeout(node_timeout)
        send_headers = dict(headers or {})
        if isinstance(body, bytes | bytearray):
            send_headers.setdefault("Content-Length", str(len(body)))
        elif body is None and method in ("PUT", "POST"):
            send_headers.setdefault("Content-Length", "0")
        try:
            conn.request(method, target, body=body, headers=send_headers)
            resp = conn.getresponse()
            data = resp.read()
        except TimeoutError:
            raise Timeout(f"{method} {ip}:{port}{target} timed out") from None
        return DirectResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()
