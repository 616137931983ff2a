"""Byte ranges: parse a ``Range`` header the way Swift does and frame multipart/byteranges bodies.

Pure functions, no I/O: the caller supplies a ``read_range(start, stop)`` callable that yields the
bytes. WebOb parses only single ranges, so every storage server uses this module instead.

Swift's observable rules, kept here:

- The header must start with ``bytes=`` (spaces anywhere are ignored). Any syntactically invalid
  spec (no hyphen, non-numeric, ``b < a``, a bare ``-``) makes the *whole header* ignored (200).
- Each spec is resolved against the content length: ``a-b`` clips ``b`` to the end, ``a-`` runs
  to the end, ``-n`` is the last ``n`` bytes (all of them when ``n`` exceeds the length), ``-0``
  and specs starting at or past the end are dropped.
- Nothing left after resolving means 416 with ``Content-Range: bytes */<length>``; more than
  ``MAX_RANGES`` ranges, more than ``MAX_RANGE_OVERLAPS`` overlapping pairs, or at least
  ``MAX_NONASCENDING_RANGES`` ranges out of ascending order are refused the same way (416).
- A satisfiable range on a zero-length object gives the whole (empty) object with 200.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from swiftlite.common import intparse

MAX_RANGES = 50
MAX_RANGE_OVERLAPS = 2
MAX_NONASCENDING_RANGES = 8
MAX_RANGE_DIGITS = 64

Spec = tuple[int | None, int | None]  # (first, last) as written; inclusive, either may be absent
Span = tuple[int, int]  # resolved [start, stop): half-open byte offsets


def parse(header: str | None) -> list[Spec] | None:
    """The specs of a Range header, or None when the header is absent or must be ignored."""
    if not header:
        return None
    text = header.replace(" ", "").replace("\t", "")
    if text[:6].lower() != "bytes=":
        return None
    specs: list[Spec] = []
    for item in text[6:].split(","):
        first_text, hyphen, last_text = item.partition("-")
        if not hyphen:
            return None
        # ASCII digits only (str.isdigit() takes "²", which int() then refuses), and no more
        # than MAX_RANGE_DIGITS of them (int() refuses 4,300); either makes the header ignored
        if (first_text and not intparse.is_digits(first_text, MAX_RANGE_DIGITS)) or (
            last_text and not intparse.is_digits(last_text, MAX_RANGE_DIGITS)
        ):
            return None
        first = int(first_text) if first_text else None
        last = int(last_text) if last_text else None
        if first is None and last is None:
            return None
        if first is not None and last is not None and last < first:
            return None
        specs.append((first, last))
    return specs


def _overlap(a: Span, b: Span) -> bool:
    # Swift's test uses strict comparisons, so identical or merely touching ranges do not count.
    (s1, e1), (s2, e2) = a, b
    return s1 < s2 < e1 or s1 < e2 < e1 or s2 < s1 < e2 or s2 < e1 < e2


def resolve(specs: Iterable[Spec], length: int) -> list[Span]:
    """Resolve specs against ``length``; an empty list means "not satisfiable" (416)."""
    spans: list[Span] = []
    for first, last in specs:
        if first is None:
            suffix = last or 0
            if suffix == 0:
                continue
            spans.append((max(length - suffix, 0), length))
        elif first < length:
            stop = length if last is None else min(last + 1, length)
            spans.append((first, stop))
    if len(spans) > MAX_RANGES:
        return []
    overlaps = sum(1 for a, b in itertools.combinations(spans, 2) if _overlap(a, b))
    if overlaps > MAX_RANGE_OVERLAPS:
        return []
    ascending = all(a <= b for a, b in itertools.pairwise(spans))
    if not ascending and len(spans) >= MAX_NONASCENDING_RANGES:
        return []
    return spans


@dataclass(frozen=True)
class RangePlan:
    """What to send: ``status`` 200 (whole body), 206 (``spans``) or 416."""

    status: int
    spans: tuple[Span, ...] = ()


def plan(header: str | None, length: int) -> RangePlan:
    """Decide between the whole body, partial content and 416 for a body of ``length`` bytes."""
    specs = parse(header)
    if specs is None:
        return RangePlan(200)
    spans = resolve(specs, length)
    if not spans:
        return RangePlan(416)
    if length == 0:
        return RangePlan(200)
    return RangePlan(206, tuple(spans))


def content_range(start: int, stop: int, length: int) -> str:
    """``bytes a-b/len`` for the half-open span [start, stop)."""
    return f"bytes {start}-{stop - 1}/{length}"


def unsatisfied_range(length: int) -> str:
    """The Content-Range value sent with a 416."""
    return f"bytes */{length}"


def new_boundary() -> str:
    """A random 32-hex-digit multipart boundary."""
    return secrets.token_hex(16)


def _part_header(span: Span, content_type: str, boundary: str, length: int) -> bytes:
    text = (
        f"--{boundary}\r\nContent-Type: {content_type}\r\n"
        f"Content-Range: {content_range(span[0], span[1], length)}\r\n\r\n"
    )
    return text.encode("latin-1")


def multipart_length(spans: Iterable[Span], content_type: str, boundary: str, length: int) -> int:
    """The exact byte length of the body ``multipart_body`` yields (for Content-Length)."""
    total = 0
    for span in spans:
        total += len(_part_header(span, content_type, boundary, length)) + span[1] - span[0] + 2
    return total + len(boundary) + 4


def multipart_content_type(boundary: str) -> str:
    return f"multipart/byteranges;boundary={boundary}"


def multipart_body(
    spans: Iterable[Span],
    content_type: str,
    boundary: str,
    length: int,
    read_range: Callable[[int, int], Iterable[bytes]],
) -> Iterator[bytes]:
    """Yield a multipart/byteranges body; each part's bytes come from ``read_range``.

    ``content_type`` is the object's type as a WSGI string (one code point per byte).
    """
    for span in spans:
        yield _part_header(span, content_type, boundary, length)
        yield from read_range(span[0], span[1])
        yield b"\r\n"
    yield f"--{boundary}--".encode("latin-1")
