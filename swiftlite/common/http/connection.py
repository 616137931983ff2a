"""One TCP connection to a storage server, used by one request at a time.

The socket side of ``common.http.client``: sends (whole, or as chunks), buffered line and
exact reads with timeouts turned into ``errors.Timeout``, TCP_QUICKACK, and the check that an
idle pooled connection is still open. ``ProtocolError`` is what a garbled peer raises.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from swiftlite.common.errors import Timeout
from swiftlite.common.http import chunked

_MAX_LINE = 65536
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class ProtocolError(OSError):
    """The peer sent something that is not HTTP/1.x, or closed the connection early."""


class Connection:
    """One TCP connection to a backend; used by one request at a time."""

    __slots__ = ("addr", "reused", "rfile", "sock")

    def __init__(self, addr: tuple[str, int], sock: Any) -> None:
        self.addr = addr
        self.sock = sock
        self.rfile = sock.makefile("rb", 65536)
        self.reused = False

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise Timeout(f"send to {self.addr[0]}:{self.addr[1]} timed out") from None

    def send_chunk(self, data: bytes) -> None:
        """One chunk of a chunked request body (empty data is skipped: it would end the body)."""
        if data:
            self.send(chunked.frame(data))

    def end_chunks(self) -> None:
        self.send(chunked.LAST_CHUNK)

    def readline(self) -> bytes:
        try:
            line = self.rfile.readline(_MAX_LINE + 1)
        except TimeoutError:
            raise Timeout(f"read from {self.addr[0]}:{self.addr[1]} timed out") from None
        if len(line) > _MAX_LINE:
            raise ProtocolError("response line too long")
        return line

    def read(self, amount: int) -> bytes:
        try:
            return self.rfile.read(amount)
        except TimeoutError:
            raise Timeout(f"read from {self.addr[0]}:{self.addr[1]} timed out") from None

    def set_timeout(self, seconds: float) -> None:
        self.sock.settimeout(seconds)

    def quickack(self) -> None:
        """Ask Linux to ACK at once for a while (it falls back to delayed ACKs by itself).

        A server that writes a response's head and body in two sends (eventlet's sendfile
        path does) and has Nagle on waits for our ACK of the head before sending the body;
        with delayed ACKs that is ~40 ms per response on a reused connection.
        """
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def looks_alive(self) -> bool:
        """True when an idle connection has neither data nor EOF waiting (the peer kept it)."""
        raw = getattr(self.sock, "fd", self.sock)
        try:
            raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True  # nothing waiting: the server keeps it open
        except OSError:
            return False
        # EOF (the server closed it) or unsolicited bytes (the stream is out of step)
        return False

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()
