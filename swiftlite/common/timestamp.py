"""The Timestamp value type: Swift's X-Timestamp in its normal and internal forms.

A timestamp is held as an integer count of 10-microsecond ticks plus an integer offset, so
comparisons are exact. Normal form is ``%016.5f`` seconds (``0001700000000.12345``); internal
form appends ``_%016x`` when the offset is non-zero, to order events that share one instant.
Strings are parsed here and only here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping

from swiftlite.common import intparse
from swiftlite.common.errors import BadInput

TICKS_PER_SECOND = 100_000
_MAX_TICKS = 10**10 * TICKS_PER_SECOND  # year 2286: Swift's limit of 10 digits of seconds


@functools.total_ordering
class Timestamp:
    """An exact, ordered point in time with an optional tie-breaking offset."""

    __slots__ = ("offset", "ticks")
    ticks: int
    offset: int

    def __init__(self, value: float | int | str | Timestamp, offset: int = 0) -> None:
        if isinstance(value, Timestamp):
            ticks, base_offset = value.ticks, value.offset
        elif isinstance(value, str):
            ticks, base_offset = _parse(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ticks, base_offset = round(value * TICKS_PER_SECOND), 0
        else:
            raise ValueError(f"not a timestamp: {value!r}")
        if offset < 0:
            raise ValueError("timestamp offset must not be negative")
        if not 0 <= ticks < _MAX_TICKS:
            raise ValueError(f"timestamp out of range: {value!r}")
        self.ticks = ticks
        self.offset = base_offset + offset

    @classmethod
    def now(cls, offset: int = 0) -> Timestamp:
        return cls(time.time(), offset)

    @property
    def seconds(self) -> float:
        return self.ticks / TICKS_PER_SECOND

    @property
    def normal(self) -> str:
        whole, frac = divmod(self.ticks, TICKS_PER_SECOND)
        return f"{whole:010d}.{frac:05d}"

    @property
    def internal(self) -> str:
        if self.offset:
            return f"{self.normal}_{self.offset:016x}"
        return self.normal

    @property
    def http_date(self) -> str:
        """RFC 7231 date for Last-Modified: the next whole second, as Swift rounds up."""
        secs = -(-self.ticks // TICKS_PER_SECOND)
        return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(secs))

    @property
    def isoformat(self) -> str:
        """Listing form of last_modified: ``2024-01-02T03:04:05.123450``."""
        whole, frac = divmod(self.ticks, TICKS_PER_SECOND)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac * 10:06d}"

    def __str__(self) -> str:
        return self.internal

    def __repr__(self) -> str:
        return f"Timestamp({self.internal!r})"

    def __float__(self) -> float:
        return self.seconds

    def __int__(self) -> int:
        return self.ticks // TICKS_PER_SECOND

    def _key(self) -> tuple[int, int]:
        return (self.ticks, self.offset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timestamp):
            try:
                other = Timestamp(other)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Timestamp):
            other = Timestamp(other)  # type: ignore[arg-type]
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())


_MAX_WHOLE_DIGITS = 16  # leading zeros allowed (Swift sends 0001700000000.12345)
_MAX_FRAC_DIGITS = 16


def _parse(text: str) -> tuple[int, int]:
    """ASCII digits only: ``<seconds>[.<fraction>][_<1-16 hex digits>]`` (no sign, no space
    but at the edges, no ``_`` separators, no non-ASCII digits)."""
    text = text.strip(" \t")
    offset = 0
    if "_" in text:
        text, _, off = text.partition("_")
        try:
            offset = intparse.parse_hex(off, 16)
        except ValueError:
            raise ValueError(f"bad timestamp offset: {off[:24]!r}") from None
    whole, _, frac = text.partition(".")
    if not intparse.is_digits(whole, _MAX_WHOLE_DIGITS) or (
        frac and not intparse.is_digits(frac, _MAX_FRAC_DIGITS)
    ):
        raise ValueError(f"not a timestamp: {text[:40]!r}")
    ticks = int(whole) * TICKS_PER_SECOND + int((frac + "00000")[:5])
    # Swift rounds to 5 places; a sixth digit rounds the last tick.
    if frac[5:6] and int(frac[5]) >= 5:
        ticks += 1
    return ticks, offset


def parse(value: str | None) -> Timestamp | None:
    """Parse a header value; None or empty gives None; a bad value raises ValueError."""
    if value is None or value == "":
        return None
    return Timestamp(value)


def header_timestamp(headers: Mapping[str, str], name: str = "X-Timestamp") -> Timestamp:
    """The timestamp a request names in header ``name``, for every server's verbs.

    BadInput (400) with Swift's body when it is missing or empty ("Missing timestamp") or
    not a timestamp ("<name> should be a UNIX timestamp float value; was '...'").
    """
    value = headers.get(name)
    if not value:
        raise BadInput("Missing timestamp" if name == "X-Timestamp" else f"Missing {name}")
    try:
        return Timestamp(value)
    except ValueError:
        raise BadInput(f"{name} should be a UNIX timestamp float value; was {value!r}") from None
