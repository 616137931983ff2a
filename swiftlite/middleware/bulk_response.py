"""bulk_response: the answer of Swift's bulk-style operations, and its heartbeats.

Bulk delete, archive extraction and SLO's ``multipart-manifest=delete`` all answer 200 at
once and say in the body how the work went, so a long job cannot time the client out: the
body is a dict of counts plus ``Response Status``, ``Response Body`` and the ``Errors`` list
(``[quoted name, status line]`` pairs), written as the ``Accept`` header asks (text/plain,
JSON, or XML under a root tag). While the job runs, a space goes out every
``yield_frequency`` seconds (the first heartbeat of an XML answer is its declaration), and the
body then follows a blank line. Pure functions, plus the small clock-driven ``Heartbeat``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from webob import Request
from webob.acceptparse import create_accept_header

ACCEPTABLE_FORMATS = ("text/plain", "application/json", "application/xml", "text/xml")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
SEPARATOR = b"\r\n\r\n"


def response_format(req: Request) -> str | None:
    """The body type the ``Accept`` header picks among ours: text/plain without one, None
    when it accepts none of them (the job then answers 406 in a text/plain body)."""
    accept = req.headers.get("Accept")
    if not accept:
        return "text/plain"
    try:
        offers = create_accept_header(accept).acceptable_offers(list(ACCEPTABLE_FORMATS))
    except ValueError:  # an unparsable Accept header is ignored, as Swift does
        return "text/plain"
    return offers[0][0] if offers else None


def response_body(
    content_type: str | None,
    data: Mapping[str, Any],
    errors: Sequence[Sequence[str]],
    root_tag: str,
) -> bytes:
    """The body Swift's bulk middleware writes: keys sorted, then the error list."""
    if content_type == "application/json":
        return json.dumps({**data, "Errors": [list(e) for e in errors]}).encode("utf-8")
    if content_type and content_type.endswith("/xml"):
        out = [f"<{root_tag}>\n"]
        for key in sorted(data):
            tag = key.replace(" ", "_").lower()
            out.append(f"<{tag}>{escape(str(data[key]))}</{tag}>\n")
        out.append("<errors>\n")
        for name, status in errors:
            out.append(
                f"<object><name>{escape(name)}</name><status>{escape(status)}</status></object>\n"
            )
        out.append(f"</errors>\n</{root_tag}>\n")
        return "".join(out).encode("utf-8")
    lines = [f"{key}: {data[key]}\n" for key in sorted(data)]
    lines.append("Errors:\n")
    lines.extend(f"{name}, {status}\n" for name, status in errors)
    return "".join(lines).encode("utf-8")


class Heartbeat:
    """When to send a heartbeat, and what goes before the final body.

    ``beat()`` is called between items: it gives the bytes to send when ``every`` seconds
    have passed since the last one (or the start), else None. ``final(body)`` is the body,
    after a blank line when any heartbeat went out.
    """

    def __init__(
        self, content_type: str | None, every: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.every = every
        self.clock = clock
        self.last = clock()
        xml = bool(content_type and content_type.endswith("/xml"))
        self.next_beat = XML_DECLARATION if xml else b" "
        self.separator = b""

    def beat(self) -> bytes | None:
        now = self.clock()
        if now - self.last <= self.every:
            return None
        self.last = now
        out, self.next_beat, self.separator = self.next_beat, b" ", SEPARATOR
        return out

    def final(self, body: bytes) -> bytes:
        return self.separator + body
