"""The API's limits, read from ``[swift-constraints]``, and the checks that enforce them.

Defaults are Swift's; an operator may override any of them in the cluster config, and the proxy
publishes them under ``/info``. Checks raise Invalid subclasses (400/411/412/413), never HTTP.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass

from swiftlite.common import config
from swiftlite.common.errors import BadInput, BadName, LengthRequired, TooLarge


@dataclass(frozen=True)
class Constraints:
    max_file_size: int = 5368709122
    max_meta_name_length: int = 128
    max_meta_value_length: int = 256
    max_meta_count: int = 90
    max_meta_overall_size: int = 4096
    max_header_size: int = 8192
    max_request_line: int = 8192
    extra_header_count: int = 0
    max_object_name_length: int = 1024
    container_listing_limit: int = 10000
    account_listing_limit: int = 10000
    max_account_name_length: int = 256
    max_container_name_length: int = 256
    valid_api_versions: tuple[str, ...] = ("v1", "v1.0")
    auto_create_account_prefix: str = "."

    @property
    def max_header_count(self) -> int:
        return self.max_meta_count + 36 + self.extra_header_count

    def info(self) -> dict[str, object]:
        """The ``swift`` section of ``/info`` (limits only; the proxy adds the rest)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


DEFAULT = Constraints()


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Constraints:
    section = config.cluster_section("swift-constraints")
    return config.parse_options(Constraints, section, where=f"{path} [swift-constraints]")


def load() -> Constraints:
    """The cluster's constraints (cached by the config file's mtime); defaults with no file."""
    return config.load_by_mtime(_load, DEFAULT)


def _len(text: str) -> int:
    """Byte length of a header string (WSGI strings are one code point per byte already)."""
    try:
        return len(text.encode("latin-1"))
    except UnicodeEncodeError:
        return len(text.encode("utf-8"))


def check_metadata(headers: Mapping[str, str], target: str, limits: Constraints = DEFAULT) -> None:
    """Check ``X-<target>-Meta-*`` headers against the name, value, count and size limits."""
    prefix = f"x-{target}-meta-"
    count = 0
    size = 0
    for key, value in headers.items():
        low = key.lower()
        if _len(value) > limits.max_header_size:
            raise BadInput(f"Header value too long: {key[: limits.max_meta_name_length]}")
        if not low.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if not name:
            raise BadInput("Metadata name cannot be empty")
        count += 1
        size += _len(name) + _len(value)
        if _len(name) > limits.max_meta_name_length:
            raise BadInput(f"Metadata name too long: {key}")
        if _len(value) > limits.max_meta_value_length:
            raise BadInput(f"Metadata value longer than {limits.max_meta_value_length}: {key}")
        if count > limits.max_meta_count:
            raise BadInput(f"Too many metadata items; max {limits.max_meta_count}")
        if size > limits.max_meta_overall_size:
            raise BadInput(f"Total metadata too large; max {limits.max_meta_overall_size}")


def check_account_name(name: str, limits: Constraints = DEFAULT) -> None:
    if _len_utf8(name) > limits.max_account_name_length:
        raise BadInput(
            f"Account name length of {_len_utf8(name)} longer than {limits.max_account_name_length}"
        )


def check_container_name(name: str, limits: Constraints = DEFAULT) -> None:
    if "/" in name:
        raise BadName("Container name cannot contain slashes")
    if _len_utf8(name) > limits.max_container_name_length:
        raise BadInput(
            f"Container name length of {_len_utf8(name)} longer than "
            f"{limits.max_container_name_length}"
        )


def check_object_name(name: str, limits: Constraints = DEFAULT) -> None:
    if _len_utf8(name) > limits.max_object_name_length:
        raise BadInput(
            f"Object name length of {_len_utf8(name)} longer than {limits.max_object_name_length}"
        )


def _len_utf8(name: str) -> int:
    return len(name.encode("utf-8"))


def check_content_length(
    content_length: int | None, chunked: bool, limits: Constraints = DEFAULT
) -> None:
    """An object body needs a length or chunked encoding, and must fit max_file_size."""
    if content_length is None and not chunked:
        raise LengthRequired("Missing Content-Length or Transfer-Encoding: chunked")
    if content_length is not None and content_length > limits.max_file_size:
        raise TooLarge("Your request is too large.")


# Swift normalises every expiry to ten digits: later than this is stored as this
MAX_DELETE_AT = 9999999999
# digits past this many are over any time we store; int() of 5000 digits would raise instead
_MAX_INT_DIGITS = 20


def parse_ascii_int(text: str, message: str) -> int:
    """An integer written in ASCII digits with an optional ``-``; BadInput(``message``) else.

    Python's ``int()`` also takes ``٣``, ``1_000``, ``+5`` and surrounding whitespace, and
    fails past its digit cap; header numbers are plain ASCII here. A run of more than 20
    digits stands for a number too large for any field (its sign kept), not an error.
    """
    digits = text[1:] if text.startswith("-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        raise BadInput(message)
    value = int(digits) if len(digits) <= _MAX_INT_DIGITS else 10**_MAX_INT_DIGITS
    return -value if text.startswith("-") else value


def clamp_delete_at(when: float) -> int:
    """An expiry time as Swift stores it: at least 0, at most ``MAX_DELETE_AT``."""
    return int(min(max(0.0, when), MAX_DELETE_AT))


def parse_delete_at(headers: Mapping[str, str], now: float | None = None) -> int | None:
    """X-Delete-At / X-Delete-After as an absolute int time; BadInput for bad or past values.

    X-Delete-After wins when both are present, as in Swift. Both are clamped to
    ``[0, MAX_DELETE_AT]`` (a 100-digit X-Delete-At is stored as 9999999999), and an
    X-Delete-After that lands at or before now is in the past, as Swift answers.
    """
    now = time.time() if now is None else now
    after = headers.get("X-Delete-After")
    if after is not None:
        secs = parse_ascii_int(after, "Non-integer X-Delete-After")
        when = clamp_delete_at(now + secs)
        if when <= now:
            raise BadInput("X-Delete-After in past")
        return when
    at = headers.get("X-Delete-At")
    if at is None:
        return None
    when = clamp_delete_at(parse_ascii_int(at, "Non-integer X-Delete-At"))
    if when < now:
        raise BadInput("X-Delete-At in past")
    return when
