"""What container_quotas and account_quotas share: quota numbers and the over-quota answer.

* ``parse_quota`` reads a quota a client sets (a header value): ASCII digits only, at most
  ``INT64_MAX``; ``""`` means "remove". Anything else is a ``ValueError`` (the filters' 400).
* ``stored_quota`` reads a quota already stored in metadata: a value that is not a clean
  number (set before the filter was in the pipeline, say) is no quota at all, as in Swift.
* ``upload_length`` is the object PUT's size as the proxy will see it: its Content-Length, 0
  for a chunked upload (Swift's rule: an upload of unknown size is allowed while the current
  usage is within the quota), None when the header is not a clean number (the proxy answers
  that 400 itself).
* ``refuse_after_auth`` answers 413 only once the caller would have been allowed to write:
  the 401/403 of an unauthorized caller comes first, so a quota never tells a stranger that a
  container exists (Swift does the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from webob import Request, Response

from swiftlite.common import intparse
from swiftlite.proxy import responses

AUTHORIZE = "swiftlite.authorize"
OVERRIDE = "swiftlite.authorize_override"
RESELLER = "swiftlite.reseller_request"
OVER_QUOTA = "Upload exceeds quota."
OVER_POLICY_QUOTA = "Upload exceeds policy quota."


def parse_quota(value: str) -> int | None:
    """A client's quota header: None for ``""`` (remove), else its number; ValueError if bad."""
    if value == "":
        return None
    return intparse.parse_uint(value, max_digits=19, maximum=intparse.INT64_MAX)


def stored_quota(value: object) -> int | None:
    """A quota read back from metadata; None when unset or not a clean number."""
    if not isinstance(value, str) or not intparse.is_digits(value, 19):
        return None
    return int(value)


def lookup(meta: Mapping[str, Any], name: str) -> Any:
    """``meta[name]`` ignoring case (info dicts title-case their keys)."""
    low = name.lower()
    for key, value in meta.items():
        if key.lower() == low:
            return value
    return None


def upload_length(environ: Mapping[str, Any]) -> int | None:
    """The PUT's declared size (0 when chunked), None when Content-Length is not a number."""
    text = environ.get("CONTENT_LENGTH")
    if text in (None, ""):
        return 0
    try:
        return intparse.parse_uint(str(text))
    except ValueError:
        return None


def exceeds(used: int, adding: int, quota: int | None) -> bool:
    """True when ``used + adding`` is over ``quota`` (a quota equal to the total is met)."""
    return quota is not None and used + adding > quota


def over(
    used_bytes: Any,
    used_count: Any,
    length: int,
    byte_quota: int | None,
    count_quota: int | None,
) -> bool:
    """True when one more object of ``length`` bytes passes either quota."""
    return exceeds(int(used_bytes or 0), length, byte_quota) or exceeds(
        int(used_count or 0), 1, count_quota
    )


def too_large(body: str) -> Response:
    return responses.response(413, body)


def refuse_after_auth(req: Request, body: str) -> Response | None:
    """Make the proxy answer 413 ``body`` for this request once it has authorized it.

    Returns the 413 to send now when no authorization will run (no auth filter, or an
    authorize-override subrequest); otherwise wraps ``swiftlite.authorize`` and returns None.
    The wrapper refuses PUTs only: the upload itself, wherever a lower filter sends it (a
    versioning filter writes it under another name), but not the HEADs and GETs that lower
    filters make with the caller's identity (SLO's segment checks).
    """
    environ = req.environ
    original: Callable[[Request], Response | None] | None = environ.get(AUTHORIZE)
    if original is None or environ.get(OVERRIDE):
        return too_large(body)

    def authorize_then_refuse(inner: Request) -> Response | None:
        denied = original(inner)
        if denied is not None:
            return denied
        if inner.environ.get("REQUEST_METHOD") == "PUT":
            return too_large(body)
        return None

    environ[AUTHORIZE] = authorize_then_refuse
    return None
