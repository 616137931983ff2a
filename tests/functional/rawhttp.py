"""Raw HTTP against the real cluster: bytes in, the parsed answer and its raw head out.

http.client refuses non-ASCII request lines and control bytes, which are exactly what the
conformance tests send, so requests are written to a socket byte for byte. The answer is
parsed with http.client (``HTTPResponse`` over the socket) and the raw head is kept, so a test
can also assert what the wire held (one header block, no injected header).
"""

from __future__ import annotations

import http.client
import os
import re
import socket
from dataclasses import dataclass, field

from tests.support.cluster import Cluster


@dataclass
class RawReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes = b""
    lower: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.lower.get(name.lower())


def send(
    cluster: Cluster,
    method: bytes | str,
    target: bytes | str,
    headers: dict[str, bytes | str] | None = None,
    body: bytes = b"",
    *,
    until_closed: bool = True,
) -> RawReply:
    """One request to the proxy on a fresh connection, closed after the answer.

    ``until_closed`` (the default) waits for the server to close the connection: it writes the
    request's access-log line before that, so the log holds it when this returns and a
    ``LogWatch`` read after the last request sees every line.
    """
    return send_to(cluster.proxy, method, target, headers, body, until_closed=until_closed)


def send_to(
    addr: tuple[str, int],
    method: bytes | str,
    target: bytes | str,
    headers: dict[str, bytes | str] | None = None,
    body: bytes = b"",
    *,
    until_closed: bool = True,
) -> RawReply:
    """One request to any server of the cluster (the proxy or a storage server)."""
    method_b = method.encode("latin-1") if isinstance(method, str) else method
    target_b = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method_b + b" " + target_b + b" HTTP/1.1", b"Host: " + addr[0].encode()]
    given = {k.lower() for k in headers or {}}
    for key, value in (headers or {}).items():
        raw = value.encode("latin-1") if isinstance(value, str) else value
        lines.append(key.encode("latin-1") + b": " + raw)
    if "content-length" not in given and "transfer-encoding" not in given:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    lines.append(b"Connection: close")
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with socket.create_connection(addr, timeout=30) as sock:
        sock.sendall(data)
        resp = http.client.HTTPResponse(sock, method=method_b.decode("latin-1"))
        resp.begin()
        payload = resp.read()
        headers_out = resp.getheaders()
        while until_closed and sock.recv(65536):
            pass
    head = "".join(f"{k}: {v}\r\n" for k, v in headers_out).encode("latin-1")
    lower = {k.lower(): v for k, v in headers_out}
    return RawReply(resp.status, headers_out, payload, head, lower)


# A 5xx access line: a storage server's (client method path status) or the proxy's, in Swift's
# proxy-access order (client remote_addr datetime method path protocol status).
# The method must start with a letter, so a storage line's status (digits) is never taken for it.
_FIVE_XX = re.compile(r" INFO \S+ (?:\S+ \S+ )?[A-Za-z_][-A-Za-z0-9_]* \S+ (?:HTTP/\S+ )?5\d\d ")


def is_problem(line: str) -> bool:
    """A log line that must not appear: a traceback, or an access line with a 5xx status."""
    return "Traceback" in line or _FIVE_XX.search(line) is not None


class LogWatch:
    """What the cluster's logs gained since ``start``: no traceback and no 5xx line allowed.

    ``*.log`` are the servers' log files (access lines and errors); ``*.out`` are every
    process's captured stdout and stderr, where an exception that escaped logging would print
    its traceback. Both are read; only the log files hold access lines to check for a 5xx.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.log_dir = cluster.plan.log_dir
        self.offsets: dict[str, int] = {}

    def _files(self) -> list[str]:
        return [
            os.path.join(self.log_dir, name)
            for name in sorted(os.listdir(self.log_dir))
            if name.endswith((".log", ".out")) and "rsyncd" not in name
        ]

    def start(self) -> None:
        self.offsets = {path: os.path.getsize(path) for path in self._files()}

    def new_text(self) -> dict[str, str]:
        out = {}
        for path in self._files():
            with open(path, "rb") as fh:
                fh.seek(self.offsets.get(path, 0))
                out[os.path.basename(path)] = fh.read().decode("utf-8", "replace")
        return out

    def problems(self) -> list[str]:
        found = []
        for name, text in self.new_text().items():
            captured = name.endswith(".out")
            for line in text.splitlines():
                if ("Traceback" in line) if captured else is_problem(line):
                    found.append(f"{name}: {line}")
        return found
