"""bulk_delete: ``POST|DELETE /v1/<acct>?bulk-delete``, many objects and containers at once.

The body (``text/plain``, Content-Length or chunked) lists one URL-encoded
``/container/object`` or ``/container`` per line. Each becomes a DELETE subrequest with the
caller's token, so the auth filter below decides each one as if the client had sent it: an
item the caller may not delete is reported (``403 Forbidden``) and the others go on. Objects
go first, then containers (so a container emptied by the same request can go too),
``delete_concurrency`` at a time.

The answer is always 200 with the bulk body (``bulk_response.py``): ``Number Deleted``,
``Number Not Found``, ``Response Status`` (``200 OK``; ``400 Bad Request`` or ``502 Bad
Gateway`` when an item failed; the whole job's refusal otherwise) and ``Errors``. Swift's
refusals: more than ``max_deletes_per_request`` lines is 413, a line longer than twice the
longest path is 400 ``Invalid File Name``, an item that is not UTF-8 (or holds NUL) is a
``412 Precondition Failed`` item, and ``max_failed_deletes`` failures stop the job (400).
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from webob import Request, Response
from webob.util import status_reasons

from swiftlite.common import green
from swiftlite.common.names import str_to_wsgi
from swiftlite.middleware import subrequest
from swiftlite.middleware.bulk_response import Heartbeat, response_body

if TYPE_CHECKING:
    from swiftlite.middleware.bulk import BulkOptions

SOURCE = "BD"
TOKEN_HEADERS = ("X-Auth-Token", "X-Storage-Token", "X-Service-Token")
RETRY_INTERVAL = 1.5  # seconds, raised to the retry's number, between retries of a 409


def status_line(code: int) -> str:
    """Swift's status line for ``code`` (``500 Internal Error`` as swob words it)."""
    if code == 500:
        return "500 Internal Error"
    return f"{code} {status_reasons.get(code, 'Unknown')}"


class BulkAbort(Exception):
    """The whole job stops: its ``Response Status`` becomes ``code`` and its body ``body``."""

    def __init__(self, code: int, body: str = "") -> None:
        super().__init__(body)
        self.status = status_line(code)
        self.body = body


@dataclass(frozen=True)
class Target:
    """One line of the list: the name as given (real str; bytes that are not UTF-8 held as
    surrogates), its quoted form, and the error it earns before any request, if any."""

    name: str
    shown: str
    error: int | None = None


def token_headers(req: Request) -> dict[str, str]:
    """The caller's token headers, for subrequests sent from above the auth filter.

    Bulk sits before tempauth (as in Swift), so the request has no identity yet for
    ``auth=CARRY`` to copy; tempauth authenticates each subrequest by these headers instead.
    """
    return {name: req.headers[name] for name in TOKEN_HEADERS if name in req.headers}


def body_reader(environ: Mapping[str, Any]) -> Callable[[int], bytes]:
    """``read(n)`` over the request body, bounded by Content-Length; BulkAbort 411 when the
    body has neither a length nor chunked framing."""
    length_text = str(environ.get("CONTENT_LENGTH") or "")
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    stream = environ["wsgi.input"]
    if chunked:
        read_raw: Callable[[int], bytes] = stream.read
        return read_raw
    if not length_text:
        raise BulkAbort(411)
    if not length_text.isdigit() or not length_text.isascii():
        raise BulkAbort(400, "Invalid Content-Length")
    left = [int(length_text)]

    def read(size: int) -> bytes:
        if left[0] <= 0:
            return b""
        data: bytes = stream.read(min(size, left[0]))
        left[0] -= len(data)
        if not data:
            left[0] = 0
        return data

    return read


def _target(line: bytes) -> Target:
    raw = urllib.parse.unquote_to_bytes(line.strip())
    shown = urllib.parse.quote(raw)
    name = raw.decode("utf-8", "surrogateescape")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return Target(name, shown, 412)
    if "\x00" in name:
        return Target(name, shown, 412)
    return Target(name, shown)


def parse_names(read: Callable[[int], bytes], max_deletes: int, max_path: int) -> list[Target]:
    """The list in the body, one Target per line (blank lines too, as Swift counts them)."""
    targets: list[Target] = []
    pending = b""
    more = True
    while more:
        if b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            targets.append(_target(line))
        else:
            try:
                data = read(max_path)
            except (OSError, ValueError):
                raise BulkAbort(400, "Invalid request body") from None
            pending += data
            if not data:
                more = False
                if pending.strip():
                    targets.append(_target(pending))
        if len(targets) > max_deletes:
            raise BulkAbort(413, f"Maximum Bulk Deletes: {max_deletes} per request")
        if len(pending) > max_path * 2:
            raise BulkAbort(400, "Invalid File Name")
    return targets


def is_object(name: str) -> bool:
    """``/c/o`` names an object, ``/c`` (or ``c/``) a container."""
    return "/" in name.strip("/")


@dataclass
class Tally:
    """What the job has done so far: counts, failed items, and the status failures earn."""

    deleted: int = 0
    not_found: int = 0
    failed_code: int = 400
    failed: list[list[str]] = field(default_factory=list)

    def record(self, target: Target, status: int, line: str) -> None:
        if 200 <= status < 300:
            self.deleted += 1
        elif status == 404:
            self.not_found += 1
        else:
            if status >= 500:
                self.failed_code = 502
            self.failed.append([target.shown, status_line(401) if status == 401 else line])


class Job:
    """What a bulk job (delete or extract) holds, and how it sends one item's subrequest:
    through the rest of the pipeline with the caller's token headers, its ``source`` in the
    access log and ``agent`` after the client's User-Agent."""

    source = ""
    agent = ""

    def __init__(
        self,
        app: Callable[..., Any],
        req: Request,
        options: BulkOptions,
        logger: logging.Logger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.req = req
        self.options = options
        self.logger = logger
        self.clock = clock

    def send(self, method: str, path: str, **kwargs: Any) -> Response:
        """One subrequest, its body drained; ``headers`` are added to the token headers."""
        agent = f"{self.req.environ.get('HTTP_USER_AGENT', '')} {self.agent}".lstrip()
        headers = {**token_headers(self.req), "User-Agent": agent, **kwargs.pop("headers", {})}
        sub = subrequest.make_subrequest(
            self.req.environ,
            method,
            path,
            source=self.source,
            auth=subrequest.CARRY,
            headers=headers,
            **kwargs,
        )
        resp: Response = subrequest.send(sub, self.app)
        subrequest.drain(resp)
        return resp


class BulkDelete(Job):
    """One bulk-delete request: ``run()`` is the body of its 200 answer."""

    source = SOURCE
    agent = "BulkDelete"

    @property
    def prefix(self) -> str:
        """``/v1/<account>/`` as a WSGI string."""
        return "/".join(self.req.environ["PATH_INFO"].split("/", 3)[:3]) + "/"

    @property
    def has_account(self) -> bool:
        segs = self.req.environ["PATH_INFO"].split("/", 3)
        return len(segs) >= 3 and bool(segs[2])

    def run(self, fmt: str | None, max_path: int) -> Iterator[bytes]:
        beat = Heartbeat(fmt, self.options.yield_frequency, self.clock)
        tally = Tally()
        status, body = status_line(200), ""
        try:
            targets = self._targets(fmt, max_path)
            for phase in (True, False):
                todo = [t for t in targets if t.name and is_object(t.name) == phase]
                yield from self._delete_all(todo, tally, beat)
            if tally.failed:
                status = status_line(tally.failed_code)
            elif not (tally.deleted or tally.not_found):
                status, body = status_line(400), "Invalid bulk delete."
        except BulkAbort as abort:
            status, body = abort.status, abort.body
        except Exception:  # reported in the body, as Swift does
            self.logger.exception("Error in bulk delete.")
            status = status_line(500)
        data = {
            "Response Status": status,
            "Response Body": body,
            "Number Deleted": tally.deleted,
            "Number Not Found": tally.not_found,
        }
        yield beat.final(response_body(fmt, data, tally.failed, "delete"))

    def _targets(self, fmt: str | None, max_path: int) -> list[Target]:
        if fmt is None:
            raise BulkAbort(406)
        if not self.has_account:
            raise BulkAbort(404)
        incoming = self.req.environ.get("CONTENT_TYPE")
        if incoming and not incoming.startswith("text/plain"):
            raise BulkAbort(406)
        read = body_reader(self.req.environ)
        return parse_names(read, self.options.max_deletes_per_request, max_path)

    def _delete_all(self, todo: list[Target], tally: Tally, beat: Heartbeat) -> Iterator[bytes]:
        width = self.options.delete_concurrency
        pool = green.GreenPool(width)
        for start in range(0, len(todo), width):
            window = todo[start : start + width]
            for target, (status, line) in zip(window, pool.imap(self._delete, window), strict=True):
                tally.record(target, status, line)
                chunk = beat.beat()
                if chunk is not None:
                    yield chunk
            if len(tally.failed) >= self.options.max_failed_deletes:
                raise BulkAbort(400, "Max delete failures exceeded")

    def _delete(self, target: Target) -> tuple[int, str]:
        """DELETE one item; its status and status line."""
        if target.error is not None:
            return target.error, status_line(target.error)
        name = target.name.lstrip("/")
        if not name:
            return 400, status_line(400)
        path = self.prefix + str_to_wsgi(name)
        retries = self.options.delete_container_retry_count
        for attempt in range(retries + 1):
            resp = self.send("DELETE", path)
            if resp.status_int != 409 or attempt == retries:
                break
            green.sleep(RETRY_INTERVAL ** (attempt + 1))
        return resp.status_int, resp.status
