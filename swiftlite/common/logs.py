"""Logger set-up and the one access-log line format.

Servers and daemons log through the standard ``logging`` module to a file or stderr. The access
line is ``client method path status bytes_in bytes_out duration trans_id source``, fields
separated by spaces and ``-`` for an empty one; ``format_access_line`` alone builds it.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import urllib.parse

_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def get_logger(name: str, log_file: str | None = None, level: str = "INFO") -> logging.Logger:
    """A logger writing to ``log_file`` (or stderr), configured once per name."""
    logger = logging.getLogger(f"swiftlite.{name}")
    target = log_file or "<stderr>"
    if getattr(logger, "_swiftlite_target", None) != target:
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        handler: logging.Handler
        handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        setattr(handler, "swiftlite_plain", True)  # noqa: B010 - see info_line
        logger.addHandler(handler)
        logger.propagate = False
        logger._swiftlite_target = target  # type: ignore[attr-defined]
    logger.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    return logger


class _Stamp:
    """``asctime`` as logging.Formatter writes it, with the seconds part formatted once."""

    second = -1
    text = ""

    @classmethod
    def now(cls) -> str:
        now = time.time()
        sec = int(now)
        if sec != cls.second:
            cls.text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
            cls.second = sec
        return f"{cls.text},{int((now - sec) * 1000):03d}"


def info_line(logger: logging.Logger, line: str) -> None:
    """``logger.info(line)`` for the hottest lines (one access line per request), cheaper.

    When the logger has only the handler ``get_logger`` gave it, the line is written in the
    same format straight to its stream: no LogRecord, no Formatter, about a tenth of the cost.
    Any other set-up (a test's handler, filters) takes the ordinary path.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    handlers = logger.handlers
    if len(handlers) != 1 or logger.filters or not getattr(handlers[0], "swiftlite_plain", False):
        logger.info(line)
        return
    handler = handlers[0]
    stream = handler.stream  # type: ignore[attr-defined]
    text = f"{_Stamp.now()} {logger.name} INFO {line}\n"
    with handler.lock:  # type: ignore[union-attr]
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # a full disk or closed stream must not fail the request


_SAFE = "/:=,@!$&'()*+;~?"
_PLAIN = re.compile(r"[A-Za-z0-9_.\-" + re.escape(_SAFE) + "]*")


# printable ASCII but "%": what ``escape`` leaves alone
_VISIBLE = "".join(chr(c) for c in range(0x20, 0x7F) if c != 0x25)


def _as_bytes(value: str | bytes) -> bytes:
    """A WSGI string's bytes (one code point per byte); UTF-8 for any other text."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace")


def wsgi_bytes(value: str) -> bytes:
    """The bytes a WSGI string stands for, for an access-log field."""
    return _as_bytes(value)


def escape(value: object) -> str:
    """A client-supplied value (a path, a header) made safe to put in a log line.

    Every byte outside printable ASCII, and ``%`` itself, is percent-encoded: a decoded
    ``%0a`` in a path cannot forge a log line, and no terminal escape reaches a log reader.
    """
    if value is None:
        return "-"
    text = value if isinstance(value, (str, bytes)) else str(value)
    return urllib.parse.quote(_as_bytes(text), safe=_VISIBLE)


def _field(value: object) -> str:
    if isinstance(value, bytes):
        return urllib.parse.quote(value, safe=_SAFE) if value else "-"
    text = "" if value is None else str(value)
    if not text:
        return "-"
    if _PLAIN.fullmatch(text):  # most fields: nothing to quote
        return text
    return urllib.parse.quote(text, safe=_SAFE)


def format_access_line(
    client: str | None,
    method: str,
    path: str | bytes,
    status: int,
    bytes_in: int,
    bytes_out: int,
    duration: float,
    trans_id: str | None,
    source: str | None = None,
) -> str:
    """One access-log line; fields are URL-quoted so a line never holds a raw space.

    ``path`` may be text (quoted as UTF-8) or the request's raw bytes (quoted byte for byte, so
    a path that is not UTF-8 is logged, not refused).

    ``source`` names who made the request when it was not a client (e.g. ``tempauth`` for an
    internal subrequest); it is ``-`` for client requests.
    """
    return " ".join(
        [
            _field(client),
            _field(method),
            _field(path),
            str(status),
            str(bytes_in),
            str(bytes_out),
            f"{duration:.4f}",
            _field(trans_id),
            _field(source),
        ]
    )
