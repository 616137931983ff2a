"""Split and validate request paths: ``/v1/a/c/o`` for clients, ``/dev/part/a/c/o`` for backends.

WSGI hands us PATH_INFO as a latin-1 "WSGI string" (PEP 3333); names become real ``str`` here,
after a check that they are valid UTF-8 with no NUL. An invalid name raises BadName (412, as
Swift answers); a backend path with the wrong shape raises BadInput (400). A client path with
an empty segment (``/v1//c``, ``//v1/a``, ``/v1/a//o``) raises NotFound (404), as the proxy
answers for a path Swift's ``split_path`` refuses, and it is decided before any auth.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from swiftlite.common import intparse
from swiftlite.common.errors import BadInput, BadName, NotFound

VALID_API_VERSIONS = ("v1", "v1.0")


class EmptySegment(BadInput, NotFound):
    """A client path with an empty segment: 404 at the proxy, as Swift's ``split_path``
    refuses it. Still a BadInput, so code that only knew the old 400 keeps catching it."""


def wsgi_to_str(value: str) -> str:
    """Decode a WSGI string (latin-1 code points standing for bytes) as UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadName("Invalid UTF8 or contains NULL") from None


def str_to_wsgi(value: str) -> str:
    """The inverse of wsgi_to_str: UTF-8 bytes shown as latin-1 code points."""
    return value.encode("utf-8").decode("latin-1")


def quote_text(text: str) -> str:
    """``text`` percent-quoted (safe ``/``), fit for a response header or a log line."""
    return urllib.parse.quote(text, safe="/")


def check_name(name: str, allow_reserved: bool = False) -> str:
    """A real str name must hold no NUL and encode to UTF-8 (no lone surrogates).

    ``allow_reserved`` (set only for ``X-Backend-Allow-Reserved-Names: true``, which only
    filters send) admits the NUL of reserved names (``common/reserved.py``).
    """
    if "\x00" in name and not allow_reserved:
        raise BadName("Invalid UTF8 or contains NULL")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise BadName("Invalid UTF8 or contains NULL") from None
    return name


def _segments(path: str, min_segs: int, max_segs: int) -> list[str | None]:
    """Split ``/a/b/rest...``: the last segment keeps any further slashes (object names).

    A trailing slash after the minimum depth is ignored (``/v1/a/c/`` is the container ``c``);
    an empty segment anywhere else is invalid.
    """
    if not path.startswith("/"):
        raise BadInput(f"Invalid path: {path}")
    parts = path[1:].split("/", max_segs - 1)
    if len(parts) > min_segs and parts[-1] == "":
        parts.pop()
    if len(parts) < min_segs or "" in parts:
        raise BadInput(f"Invalid path: {path}")
    return [*parts, *([None] * (max_segs - len(parts)))]


@dataclass(frozen=True)
class BackendPath:
    device: str
    partition: int
    account: str
    container: str | None
    obj: str | None


def split_backend_path(
    path_info: str, min_segs: int = 3, max_segs: int = 5, allow_reserved: bool = False
) -> BackendPath:
    """``/device/partition/account[/container[/object]]`` from a WSGI PATH_INFO."""
    segs = [*_segments(wsgi_to_str(path_info), min_segs, max_segs), None, None, None]
    device, part_text = segs[0] or "", segs[1] or ""
    if not intparse.is_digits(part_text):  # ASCII: "²".isdigit() is True, int() refuses it
        raise BadInput("Invalid partition")
    names = [check_name(s, allow_reserved) if s is not None else None for s in segs[2:5]]
    if names[0] is None:
        raise BadInput(f"Invalid path: {path_info}")
    return BackendPath(device, int(part_text), names[0], names[1], names[2])


@dataclass(frozen=True)
class ApiPath:
    version: str
    account: str
    container: str | None
    obj: str | None


def split_api_path(path_info: str, allow_reserved: bool = False) -> ApiPath:
    """``/v1/account[/container[/object]]``.

    BadName (412) for a name that is not UTF-8 or holds NUL (checked first, as Swift does),
    EmptySegment (a NotFound, 404) for an empty segment, BadInput (400) for an unknown API
    version.
    """
    text = wsgi_to_str(path_info)
    if "\x00" in text and not allow_reserved:
        raise BadName("Invalid UTF8 or contains NULL")
    try:
        segs = _segments(text, 2, 4)
    except BadInput:
        raise EmptySegment(f"Invalid path: {quote_text(text)}") from None
    version = segs[0] or ""
    if version not in VALID_API_VERSIONS:
        raise BadInput(f"Invalid API version: {version}")
    account, container, obj = (
        check_name(s, allow_reserved) if s is not None else None for s in segs[1:4]
    )
    return ApiPath(version, account or "", container, obj)
