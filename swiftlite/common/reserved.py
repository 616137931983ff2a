"""The reserved namespace: names whose first byte is NUL, which clients can never address.

Filters keep what clients must not name directly there (object versioning's hidden
``\\x00versions\\x00<container>`` containers and their ``\\x00<object>\\x00<inverted ts>``
objects), built and split as Swift builds them: a NUL, then the parts joined by NUL.
``common/names.py`` refuses any NUL in a name unless the request carries
``X-Backend-Allow-Reserved-Names: true``; ``gatekeeper`` strips every ``X-Backend-*`` header
from clients, so only a filter inside the pipeline (or a storage daemon) can send it. This
module owns the header's name and the name format; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

RESERVED = "\x00"
ALLOW_HEADER = "X-Backend-Allow-Reserved-Names"


def reserved_name(*parts: str) -> str:
    """``\\x00part1\\x00part2...``; ValueError when a part itself holds a NUL."""
    if not parts or any(RESERVED in part for part in parts):
        raise ValueError("Invalid reserved part in components")
    return RESERVED + RESERVED.join(parts)


def split_reserved_name(name: str) -> list[str]:
    """The parts of a reserved name; ValueError for a name outside the namespace."""
    if not is_reserved(name):
        raise ValueError("Invalid reserved name")
    return name[1:].split(RESERVED)


def is_reserved(name: str | None) -> bool:
    return bool(name) and name.startswith(RESERVED)  # type: ignore[union-attr]


def allowed(headers: Mapping[str, str]) -> bool:
    """True when the request may name reserved names (``X-Backend-Allow-Reserved-Names``)."""
    return headers.get(ALLOW_HEADER, "").strip().lower() in ("true", "1", "yes", "on", "t", "y")
