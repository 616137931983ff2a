"""name_check: refuse request paths with forbidden characters, too long, or with ``/./``.

As Swift's name_check, on the decoded request path (``/v1/AUTH_test/c/o``, percent-escapes
already undone): a character from ``forbidden_chars`` (default ``'"`<>``), more than
``maximum_length`` characters (default 255), or a match of ``forbidden_regexp`` (default: a
``.`` or ``..`` segment, ``/./``, ``/../`` or at the end) is 400 with a short body naming the
rule. Anything else passes unchanged. A path that is not UTF-8 is checked as its bytes and left
for the proxy to refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config
from swiftlite.common.errors import BadName
from swiftlite.common.names import wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.proxy import responses

FORBIDDEN_CHARS = "'\"`<>"
MAX_LENGTH = 255
FORBIDDEN_REGEXP = r"/\./|/\.\./|/\.$|/\.\.$"


@dataclass(frozen=True)
class NameCheckOptions:
    forbidden_chars: str = FORBIDDEN_CHARS
    maximum_length: int = MAX_LENGTH
    forbidden_regexp: str = FORBIDDEN_REGEXP

    def __post_init__(self) -> None:
        if self.maximum_length < 1:
            raise ValueError("maximum_length must be positive")
        try:
            re.compile(self.forbidden_regexp)
        except re.error as exc:
            raise ValueError(f"forbidden_regexp does not compile: {exc}") from None


def path_problem(path: str, options: NameCheckOptions, pattern: re.Pattern[str] | None) -> str:
    """Why ``path`` (decoded) is refused, or "" when it is fine (pure)."""
    if any(c in options.forbidden_chars for c in path):
        return f"Object/Container name contains forbidden chars from {options.forbidden_chars}"
    if len(path) > options.maximum_length:
        return f"Object/Container name longer than the allowed maximum {options.maximum_length}"
    if pattern is not None and pattern.search(path):
        return (
            "Object/Container name contains a forbidden substring from regular expression "
            f"{options.forbidden_regexp}"
        )
    return ""


class NameCheckMiddleware:
    def __init__(self, app: Callable[..., Any], options: NameCheckOptions) -> None:
        self.app = app
        self.options = options
        self.pattern = re.compile(options.forbidden_regexp) if options.forbidden_regexp else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        try:
            path = wsgi_to_str(raw)
        except BadName:
            path = raw  # each byte one character; the proxy refuses the name itself
        problem = path_problem(path, self.options, self.pattern)
        if problem:
            return responses.response(400, problem)(environ, start_response)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#name_check``."""
    options = config.parse_options(
        NameCheckOptions, local_conf, global_conf, where="[filter:name_check]"
    )
    register_info(
        "name_check",
        forbidden_chars=options.forbidden_chars,
        maximum_length=options.maximum_length,
        forbidden_regexp=options.forbidden_regexp,
    )

    def make(app: Any) -> NameCheckMiddleware:
        return NameCheckMiddleware(app, options)

    return make
