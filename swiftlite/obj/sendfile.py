"""Zero-copy GET bodies: send a byte span of an object file to the client socket with sendfile.

eventlet.wsgi exposes the client socket (``environ['eventlet.input'].get_socket()``) and the
WSGI ``write`` callable. For a single-span body we flush the headers through ``write`` and then
let the kernel copy file pages straight to the socket, so the bytes never pass through Python.
Anything else (no eventlet socket, TLS, multipart bodies, HEAD) keeps the ordinary iterator.

The socket is non-blocking under eventlet; on EAGAIN we wait with ``select`` for it to drain,
which is green in a monkey-patched server and a plain wait otherwise.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable, Iterator
from typing import Any

from swiftlite.obj.diskfile import ObjectBody

MAX_SEND = 1 << 24  # bytes per sendfile call: bounded so one client cannot hog the hub


def client_socket_fd(environ: dict[str, Any]) -> int | None:
    """The raw fd of a plain TCP client socket, or None when sendfile cannot be used."""
    wsgi_input = environ.get("eventlet.input")
    get_socket = getattr(wsgi_input, "get_socket", None)
    if get_socket is None or environ.get("wsgi.url_scheme") == "https":
        return None
    sock = get_socket()
    if sock is None or type(sock).__name__.startswith("GreenSSL"):
        return None
    try:
        return int(sock.fileno())
    except (OSError, ValueError, AttributeError):
        return None


def send_span(sock_fd: int, fd: int, offset: int, count: int, timeout: float) -> int:
    """sendfile ``count`` bytes at ``offset`` of ``fd`` to ``sock_fd``; the bytes sent.

    TimeoutError when the client does not drain its socket within ``timeout`` seconds.
    """
    sent_total = 0
    while count > 0:
        try:
            sent = os.sendfile(sock_fd, fd, offset, min(count, MAX_SEND))
        except BlockingIOError:
            _, writable, _ = select.select([], [sock_fd], [], timeout)
            if not writable:
                raise TimeoutError("client stopped reading") from None
            continue
        if sent == 0:
            raise OSError("object file ended early")
        offset += sent
        count -= sent
        sent_total += sent
    return sent_total


class SendfileBody:
    """The WSGI iterable for a sendfile response: sends when iterated, yields nothing."""

    def __init__(
        self,
        body: ObjectBody,
        write: Callable[[bytes], Any],
        sock_fd: int,
        timeout: float,
    ) -> None:
        self.body = body
        self.write = write
        self.sock_fd = sock_fd
        self.timeout = timeout

    def __iter__(self) -> Iterator[bytes]:
        span = self.body.span or (0, 0)
        self.write(b"")  # flushes the status line and headers
        self.body.sent_by_sendfile = True
        send_span(self.sock_fd, self.body.fd, span[0], span[1] - span[0], self.timeout)
        return iter(())

    def close(self) -> None:
        self.body.close()
