"""The proxy's own responses, shaped as Swift's swob shapes them.

Clients that parse strictly look at the content type and body of an error. Swift's request
layer gives every response ``Content-Type: text/html; charset=UTF-8`` unless a handler sets
another, and a response with no body gets a short HTML page naming the status and explaining
it. ``response`` (alias ``error``) builds such a response; ``shaped`` says which responses
relayed from a backend get the same shape (errors and the answers to writes; listings and
object reads keep their own types). The explanations are ours; the statuses and the page's
form follow swob.
"""

from __future__ import annotations

from collections.abc import Mapping

from webob import Response
from webob.util import status_reasons

HTML = "text/html; charset=UTF-8"

# status -> the sentence a body-less response of that status carries
EXPLANATIONS: dict[int, str] = {
    202: "The request is accepted for processing.",
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
    "requested.",
    402: "Access was denied for financial reasons.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    406: "The resource is not available in a format acceptable to your browser.",
    408: "The server has waited too long for the request to be sent by the client.",
    409: "There was a conflict when trying to complete your request.",
    410: "This resource is no longer available.",
    411: "Content-Length header required.",
    412: "A precondition for this request was not met.",
    413: "The body of your request was too large for this server.",
    414: "The request URI was too long for this server.",
    415: "The request media type is not supported by this server.",
    416: "The Range requested is not available.",
    417: "Expectation failed.",
    422: "Unable to process the contained instructions",
    499: "The client was disconnected during request.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    501: "The requested method is not implemented by this server.",
    502: "Bad gateway.",
    503: "The server is currently unavailable. Please try again at a later time.",
    504: "A timeout has occurred speaking to a backend server.",
    507: "There was not enough space to save the resource.",
}

# swob's titles where they differ from webob's reason phrases
TITLES = {500: "Internal Error", 414: "Request URI Too Long", 413: "Request Entity Too Large"}


def title(status: int) -> str:
    return TITLES.get(status) or status_reasons.get(status, "Unknown")


def default_body(status: int) -> bytes:
    """The HTML page of a body-less response (empty for statuses without an explanation)."""
    explanation = EXPLANATIONS.get(status)
    if not explanation:
        return b""
    return f"<html><h1>{title(status)}</h1><p>{explanation}</p></html>".encode()


def response(
    status: int, body: str | bytes | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A response of ``status`` with swob's content type and, without ``body``, its page."""
    if body is None:
        data = default_body(status)
    else:
        data = body.encode("utf-8") if isinstance(body, str) else body
    resp = Response(status=f"{status} {status_reasons.get(status, 'Unknown')}")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    resp.headers["Content-Type"] = HTML
    resp.body = data
    return resp


error = response  # the name reads better where the status is an error


def shaped(status: int, method: str) -> bool:
    """Whether a relayed response gets swob's content type: errors and answers to writes.

    GET and HEAD successes (listings, objects) and 304s keep their own headers.
    """
    if status == 304:
        return False
    return status >= 400 or method not in ("GET", "HEAD", "OPTIONS")
