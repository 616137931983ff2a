"""The proxy's access line, in Swift's ``proxy-access`` field order (pure; no I/O).

Fields, space separated, URL-quoted, ``-`` for an empty one, so Swift's log parsers (which
split on whitespace and take the first N fields) read it::

    client_ip remote_addr datetime request_method request_path protocol status_int referer
    user_agent auth_token bytes_recvd bytes_sent client_etag transaction_id headers
    request_time source log_info request_start_time request_end_time policy_index

``datetime`` is the end time in UTC as ``day/month/year/hour/minute/second``; the auth token,
and the values of the query parameters a filter declared secret (``register_sensitive_param``
in ``common/registry.py``: tempurl's ``temp_url_sig``), show only their first
``reveal_sensitive_prefix`` characters, then ``...``, as Swift; ``headers`` (all request
headers, one ``Name: value`` a line, secret ones such as ``X-Auth-Token`` obscured the same
way) is ``-`` unless ``access_log_headers`` is on. Every
client-supplied value goes through ``logs`` quoting: no raw space, control byte or
non-ASCII byte reaches the line.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from swiftlite.common import logs
from swiftlite.common.registry import sensitive_headers, sensitive_params

FIELDS = (
    "client_ip",
    "remote_addr",
    "datetime",
    "request_method",
    "request_path",
    "protocol",
    "status_int",
    "referer",
    "user_agent",
    "auth_token",
    "bytes_recvd",
    "bytes_sent",
    "client_etag",
    "transaction_id",
    "headers",
    "request_time",
    "source",
    "log_info",
    "request_start_time",
    "request_end_time",
    "policy_index",
)

LOG_INFO = "swiftlite.log_info"  # environ key: a list of short diagnostic strings


def client_address(environ: Mapping[str, Any]) -> str | None:
    """X-Cluster-Client-Ip, else the first X-Forwarded-For hop, else REMOTE_ADDR."""
    forwarded = environ.get("HTTP_X_CLUSTER_CLIENT_IP")
    if not forwarded:
        forwarded = (environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")[0].strip()
    return forwarded or environ.get("REMOTE_ADDR")


def obscure(value: str, reveal: int) -> str:
    """``value`` cut to its first ``reveal`` characters plus ``...`` when longer."""
    return value[:reveal] + "..." if len(value) > reveal else value


def loggable_query(query: str, reveal: int = 16) -> str:
    """The query as text for the line, secret parameters' values obscured.

    Unquoted here because the line quotes every field once. A name is compared decoded
    (``temp%5Furl%5Fsig`` is the same parameter to the filter that reads it).
    """
    secret = sensitive_params()
    pieces = []
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and urllib.parse.unquote_plus(name, errors="replace") in secret:
            shown = obscure(urllib.parse.unquote(value, errors="replace"), reveal)
            pieces.append(urllib.parse.unquote(name, errors="replace") + "=" + shown)
        else:
            pieces.append(urllib.parse.unquote(piece, errors="replace"))
    return "&".join(pieces)


def request_path(environ: Mapping[str, Any], reveal: int = 16) -> str:
    """The path and query as the client sent them, as real text for quoting."""
    raw = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    text = raw.encode("latin-1", "replace").decode("utf-8", "replace")
    query = environ.get("QUERY_STRING")
    if query:
        text += "?" + loggable_query(str(query), reveal)
    return text


def _token(environ: Mapping[str, Any], reveal: int) -> str:
    token = environ.get("HTTP_X_AUTH_TOKEN") or environ.get("HTTP_X_STORAGE_TOKEN")
    return obscure(str(token), reveal) if token else ""


class _Clock:
    """``datetime`` for a second, formatted once per second (one line per request)."""

    second = -1
    text = ""

    @classmethod
    def stamp(cls, when: float) -> str:
        sec = int(when)
        if sec != cls.second:
            cls.text = time.strftime("%d/%b/%Y/%H/%M/%S", time.gmtime(sec))
            cls.second = sec
        return cls.text


def _headers(environ: Mapping[str, Any], reveal: int) -> bytes:
    secret = sensitive_headers()
    lines = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        if name.lower() in secret:
            value = obscure(str(value), reveal)
        lines.append(logs.wsgi_bytes(f"{name}: {value}"))
    return b"\n".join(lines)


def format_line(
    environ: Mapping[str, Any],
    status: int,
    bytes_in: int,
    bytes_out: int,
    start: float,
    end: float,
    *,
    policy_index: str | None = None,
    reveal_sensitive_prefix: int = 16,
    log_headers: bool = False,
) -> str:
    """One access line for a finished request; ``start``/``end`` are ``time.time()`` values."""
    field = logs.access_field
    client = logs.wsgi_field  # a WSGI string from the client: quoted byte for byte
    log_info = environ.get(LOG_INFO) or ()
    values = (
        client(client_address(environ)),
        client(environ.get("REMOTE_ADDR")),
        _Clock.stamp(end),
        client(environ.get("REQUEST_METHOD")),
        field(request_path(environ, reveal_sensitive_prefix)),
        client(environ.get("SERVER_PROTOCOL")),
        str(status),
        client(environ.get("HTTP_REFERER")),
        client(environ.get("HTTP_USER_AGENT")),
        client(_token(environ, reveal_sensitive_prefix)),
        str(bytes_in),
        str(bytes_out),
        client(environ.get("HTTP_ETAG")),
        client(environ.get("swiftlite.trans_id")),
        field(_headers(environ, reveal_sensitive_prefix)) if log_headers else "-",
        f"{end - start:.4f}",
        client(environ.get("swiftlite.source")),
        client(",".join(str(item) for item in log_info)),
        f"{start:.9f}",
        f"{end:.9f}",
        client(policy_index),
    )
    return " ".join(values)


def parse_line(line: str) -> dict[str, str]:
    """The named fields of a line (unquoted), for tests and log tools."""
    parts = line.split(" ")
    return {name: urllib.parse.unquote(value) for name, value in zip(FIELDS, parts, strict=True)}
