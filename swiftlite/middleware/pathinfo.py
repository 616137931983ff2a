"""The API path of a request as a filter sees it, or None when it is not one.

Filters that act only on ``/v1/<a>[/<c>[/<o>]]`` pass everything else (bad paths included) on
unchanged, so the proxy gives its own answer (412 for NUL or bad UTF-8, 404 for an empty
segment, 400 for an unknown version) exactly as without the filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swiftlite.common import errors
from swiftlite.common.names import ApiPath, split_api_path


def api_path(environ: Mapping[str, Any]) -> ApiPath | None:
    """``environ['PATH_INFO']`` split as an API path (real-str names), None if it is not one."""
    try:
        return split_api_path(environ.get("PATH_INFO", ""))
    except (errors.Invalid, errors.NotFound):
        return None
