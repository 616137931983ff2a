"""The API path of a request as a filter sees it, or None when it is not one.

Filters that act only on ``/v1/<a>[/<c>[/<o>]]`` pass everything else (bad paths included) on
unchanged, so the proxy gives its own answer (412 for NUL or bad UTF-8, 404 for an empty
segment, 400 for an unknown version) exactly as without the filter.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from swiftlite.common import errors
from swiftlite.common.names import ApiPath, split_api_path

# (PATH_INFO, allow_reserved, result) of the last split of this environ's path: a GET meets
# about fifteen filters that each want it, and a filter that rewrites PATH_INFO is seen here
# as a new path
_SPLIT = "swiftlite.api_path"


def api_path(environ: MutableMapping[str, Any], allow_reserved: bool = False) -> ApiPath | None:
    """``environ['PATH_INFO']`` split as an API path (real-str names), None if it is not one;
    ``allow_reserved`` as ``split_api_path`` takes it (``reserved.allowed`` of the request)."""
    path_info = environ.get("PATH_INFO", "")
    last = environ.get(_SPLIT)
    if last is not None and last[0] == path_info and last[1] == allow_reserved:
        return last[2]  # type: ignore[no-any-return]
    try:
        found: ApiPath | None = split_api_path(path_info, allow_reserved)
    except (errors.Invalid, errors.NotFound):
        found = None
    environ[_SPLIT] = (path_info, allow_reserved, found)
    return found


def object_path(environ: MutableMapping[str, Any]) -> tuple[str, str, str] | None:
    """``(account, container, object)`` when the API path names an object, else None."""
    path = api_path(environ)
    if path is None or path.container is None or path.obj is None:
        return None
    return path.account, path.container, path.obj
