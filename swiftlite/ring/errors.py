"""The ring's error classes.

``RingError`` is what callers catch: a ring or builder file that is missing, truncated, corrupt or
of an unknown version (the message always names the file), and, through ``RingBuilderError``, a
builder operation that cannot be done (bad device, duplicate device, too few devices).
"""

from __future__ import annotations

from swiftlite.common.errors import SwiftliteError


class RingError(SwiftliteError):
    """A ring or builder file cannot be used, or a ring operation is impossible."""


class RingBuilderError(RingError):
    """A builder change or rebalance that is not allowed (bad input, too few devices)."""
