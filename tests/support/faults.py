"""A fault-injection WSGI filter for storage apps: delays, bodies cut short, and 507s.

``FaultInjector(app)`` passes requests through until a test adds a ``Fault``; the first fault
whose method and path fragment match a request acts on it (``times`` limits how often, None
for ever):

* ``delay``: wait that many seconds (green sleep) before the app runs;
* ``status``: answer that status at once (507 to fake a dead disk) without calling the app;
* ``drop_after``: let the app answer, then cut the body after that many bytes by closing the
  connection mid-body (the client sees a short read, as when a server dies).

Faults are added from the test's thread and read in the server's thread; a list append and a
scan are safe under the GIL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from swiftlite.common import green


@dataclass
class Fault:
    method: str | None = None
    path_contains: str = ""
    delay: float = 0.0
    status: int | None = None
    drop_after: int | None = None
    times: int | None = 1
    hits: int = 0

    def matches(self, environ: dict[str, Any]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and environ.get("REQUEST_METHOD") != self.method:
            return False
        return self.path_contains in environ.get("PATH_INFO", "")


class ConnectionDropped(Exception):
    """Raised inside the server to abort a response mid-body (the server closes the socket)."""


class FaultInjector:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        fault = next((f for f in self.faults if f.matches(environ)), None)
        if fault is None:
            return self.app(environ, start_response)
        fault.hits += 1
        if fault.delay:
            green.sleep(fault.delay)
        if fault.status is not None:
            body = f"injected {fault.status}".encode()
            start_response(
                f"{fault.status} Injected",
                [("Content-Length", str(len(body))), ("Content-Type", "text/plain")],
            )
            return [body]
        if fault.drop_after is None:
            return self.app(environ, start_response)
        inner = dict(environ)
        inner.pop("eventlet.input", None)  # no sendfile: every byte must pass through here
        return _cut(self.app(inner, start_response), fault.drop_after)


def _cut(body: Iterable[bytes], limit: int) -> Iterator[bytes]:
    sent = 0
    try:
        for chunk in body:
            if sent + len(chunk) > limit:
                yield chunk[: limit - sent]
                raise ConnectionDropped(f"fault injection: connection dropped after {limit} bytes")
            sent += len(chunk)
            yield chunk
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
