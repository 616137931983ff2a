"""Domain errors: the few categories storage and ring code raise.

Storage and ring code never builds HTTP responses. It raises one of these, and the one table in
``swiftlite.common.storage_app`` (for storage servers) or the proxy maps them to statuses. Callers
branch on the class, never on the message.
"""

from __future__ import annotations


class SwiftliteError(Exception):
    """Base of every domain error."""


class ConfigError(SwiftliteError):
    """A config file is missing, unreadable, or has a bad value."""


class NotFound(SwiftliteError):
    """The thing asked for does not exist."""


class Deleted(NotFound):
    """The thing was deleted; ``timestamp`` is the tombstone's time (a Timestamp)."""

    def __init__(self, timestamp: object, message: str = "deleted") -> None:
        super().__init__(message)
        self.timestamp = timestamp


class Expired(NotFound):
    """The object's X-Delete-At has passed."""

    def __init__(self, timestamp: object = None, message: str = "expired") -> None:
        super().__init__(message)
        self.timestamp = timestamp


class Conflict(SwiftliteError):
    """A write carries a timestamp not newer than what is stored (or a non-empty container)."""

    def __init__(self, message: str = "conflict", timestamp: object = None) -> None:
        super().__init__(message)
        self.timestamp = timestamp


class DiskFull(SwiftliteError):
    """No space left on the device."""


class DeviceUnavailable(SwiftliteError):
    """The device is not mounted (mount_check) or not usable."""


class Unavailable(SwiftliteError):
    """This server cannot serve the request as configured (HTTP 503), e.g. an unknown policy."""


class Corrupt(SwiftliteError):
    """Stored bytes or metadata fail their checksum or format check."""


class Timeout(SwiftliteError):
    """A peer did not answer within its timeout."""


class Invalid(SwiftliteError):
    """Input that breaks an API rule. Subclasses pick the status the API gives for it."""


class BadInput(Invalid):
    """Malformed or over-limit headers, metadata, or values (HTTP 400)."""


class BadName(Invalid):
    """A name that is not valid UTF-8, holds NUL, or breaks a naming rule (HTTP 412)."""


class TooLarge(Invalid):
    """A body larger than the limit (HTTP 413)."""


class LengthRequired(Invalid):
    """Neither Content-Length nor chunked transfer encoding (HTTP 411)."""


class PreconditionFailed(Invalid):
    """A request precondition does not hold (HTTP 412)."""
