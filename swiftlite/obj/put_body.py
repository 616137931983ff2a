"""An object PUT's body, read off the client connection into a diskfile ``Writer``.

``read_body`` copies the declared length (or, for a chunked body, whatever comes, up to the
largest object allowed) from the WSGI input in ``network_chunk_size`` reads, each within
``client_timeout`` and all within ``max_upload_time``, and hands it to the writer in pieces of
about ``WRITE_BATCH`` bytes. The object server answers what it raises: ``ClientDisconnect``
499, ``green.Timeout`` 408, ``errors.TooLarge`` 413.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from swiftlite.common import errors, green
from swiftlite.obj.diskfile import Writer

# A large body reaches the disk layer in pieces of this size, which it hashes and writes in a
# pool thread (Writer.write): fewer, bigger hand-offs than one per network chunk.
WRITE_BATCH = 1 << 20


class ClientDisconnect(Exception):
    """The client went away before sending the whole body (answered 499)."""


class BodyOptions(Protocol):
    """The object server's options that bound a body read."""

    @property
    def network_chunk_size(self) -> int: ...
    @property
    def client_timeout(self) -> float: ...
    @property
    def max_upload_time(self) -> float: ...


def read_body(
    source: Any, writer: Writer, declared: int | None, options: BodyOptions, max_file_size: int
) -> None:
    """Copy the body into ``writer``; ClientDisconnect, green.Timeout or TooLarge."""
    chunk_size = options.network_chunk_size
    remaining = declared
    received = 0
    batch: list[bytes] = []  # network chunks joined into WRITE_BATCH-sized disk writes
    batched = 0
    deadline = time.monotonic() + options.max_upload_time
    while remaining is None or remaining > 0:
        want = chunk_size if remaining is None else min(chunk_size, remaining)
        try:
            with green.Timeout(options.client_timeout):
                chunk = source.read(want)
        except (OSError, ValueError) as exc:  # reset socket or broken chunked framing
            raise ClientDisconnect(str(exc)) from None
        if not chunk:
            break
        received += len(chunk)
        batch.append(chunk)
        batched += len(chunk)
        if batched >= WRITE_BATCH:
            writer.write(b"".join(batch))
            batch.clear()
            batched = 0
        if remaining is not None:
            remaining -= len(chunk)
        elif received > max_file_size:
            raise errors.TooLarge("Your request is too large.")
        if time.monotonic() > deadline:
            raise green.Timeout()
    if batch:
        writer.write(b"".join(batch))
    if remaining:
        raise ClientDisconnect(f"body ended {remaining} bytes short")
