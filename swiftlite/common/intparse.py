"""Numbers in headers and paths: ASCII digits only, with a length cap.

Python's ``int()`` accepts far more than HTTP does: surrounding whitespace (including 0x85 and
0xA0, which occur inside UTF-8), ``+``/``-`` signs, ``_`` separators, non-ASCII digits such as
``²`` or ``٣``, and it raises on more than 4,300 digits. Every header or path segment that holds
a number (Content-Length, X-Timestamp, X-Delete-At, chunk sizes, ranges, partitions, sizes and
counts from other servers) is parsed here instead, and anything else is a ``ValueError`` the
caller turns into a 400.
"""

from __future__ import annotations

_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
MAX_DIGITS = 20  # enough for any unsigned 64-bit value
INT64_MAX = (1 << 63) - 1


def is_digits(text: str | bytes, max_digits: int = MAX_DIGITS) -> bool:
    """True when ``text`` is 1 to ``max_digits`` ASCII decimal digits."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return 0 < len(text) <= max_digits and _DIGITS.issuperset(text)


def parse_uint(text: str | bytes, max_digits: int = MAX_DIGITS, maximum: int | None = None) -> int:
    """A non-negative decimal integer of at most ``max_digits`` ASCII digits (and ``maximum``)."""
    if not is_digits(text, max_digits):
        raise ValueError(f"not a number: {_show(text)}")
    value = int(text)
    if maximum is not None and value > maximum:
        raise ValueError(f"number too large: {_show(text)}")
    return value


def parse_int(text: str | bytes, max_digits: int = MAX_DIGITS) -> int:
    """A decimal integer with an optional leading ``-``; no other sign or space."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if text[:1] == "-":
        return -parse_uint(text[1:], max_digits)
    return parse_uint(text, max_digits)


def parse_hex(text: str | bytes, max_digits: int = 16) -> int:
    """A hexadecimal integer of 1 to ``max_digits`` ASCII hex digits (chunk sizes): no ``0x``."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if not (0 < len(text) <= max_digits and _HEX.issuperset(text)):
        raise ValueError(f"not a hex number: {_show(text)}")
    return int(text, 16)


def _show(text: str | bytes) -> str:
    return repr(text[:24]) + ("..." if len(text) > 24 else "")
