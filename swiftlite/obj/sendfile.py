"""Zero-copy GET bodies: send a byte span of an object file to the client socket with sendfile.

The server exposes the client socket (``environ['swiftlite.socket']``; under eventlet.wsgi,
``environ['eventlet.input'].get_socket()``) and the WSGI ``write`` callable. For a single-span
body we flush the headers through ``write`` and then let the kernel copy file pages straight
to the socket, so the bytes never pass through Python.
Anything else (no eventlet socket, TLS, multipart bodies, HEAD) keeps the ordinary iterator.

The socket is non-blocking under eventlet; on EAGAIN we wait with ``select`` for it to drain,
which is green in a monkey-patched server and a plain wait otherwise.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Callable, Iterator
from typing import Any

from swiftlite.common import fs
from swiftlite.obj.diskfile import ObjectBody

MAX_SEND = 1 << 24  # bytes per sendfile call: bounded so one client cannot hog the hub
# Large objects are read with drop-behind: pages more than this far behind are freed.
DROP_BEHIND = 8 << 20


def client_socket_fd(environ: dict[str, Any]) -> int | None:
    """The raw fd of a plain TCP client socket, or None when sendfile cannot be used."""
    sock = environ.get("swiftlite.socket")
    if sock is None:  # eventlet.wsgi
        get_socket = getattr(environ.get("eventlet.input"), "get_socket", None)
        sock = get_socket() if get_socket is not None else None
    if environ.get("wsgi.url_scheme") == "https":
        return None
    if sock is None or type(sock).__name__.startswith("GreenSSL"):
        return None
    try:
        return int(sock.fileno())
    except (OSError, ValueError, AttributeError):
        return None


def send_span(
    sock_fd: int, fd: int, offset: int, count: int, timeout: float, drop_behind: bool = False
) -> int:
    """sendfile ``count`` bytes at ``offset`` of ``fd`` to ``sock_fd``; the bytes sent.

    ``drop_behind`` (large objects, as Swift's ``keep_cache_size``) asks for sequential
    readahead and frees the pages already sent, so a big read recycles a few MiB of page cache
    instead of filling it: new pages cost far more than reused ones (bench/README.md).
    TimeoutError when the client does not drain its socket within ``timeout`` seconds.
    """
    start = offset
    dropped_at = offset
    if drop_behind:
        with contextlib.suppress(OSError):
            os.posix_fadvise(fd, offset, count, os.POSIX_FADV_SEQUENTIAL)
    sent_total = 0
    while count > 0:
        if drop_behind and offset - dropped_at >= 2 * DROP_BEHIND:
            dropped_at = offset - DROP_BEHIND
            fs.drop_cache(fd, start, dropped_at - start)
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
    if drop_behind:
        fs.drop_cache(fd, start, offset - start)
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
        opened = self.body.opened
        large = opened.content_length > opened.diskfile.config.keep_cache_size
        send_span(self.sock_fd, self.body.fd, span[0], span[1] - span[0], self.timeout, large)
        return iter(())

    def close(self) -> None:
        self.body.close()
