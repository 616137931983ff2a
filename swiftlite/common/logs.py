"""Logger set-up and the storage servers' access-log line format.

Servers and daemons log through the standard ``logging`` module to one target per process:
``log_file`` (a watched file, reopened when logrotate moved it away; the access lines of
``info_line`` look once per wall-clock second, so a line written in the second of a move may
still land in the moved file), else syslog when the
process was configured for it (``log_facility``, ``log_address``, ``log_udp_host``/``_port``,
as Swift's servers), else stderr. ``configure_process`` takes those keys from a config's
``[DEFAULT]`` once at start; every ``get_logger`` after it uses them.

The storage servers' access line is ``client method path status bytes_in bytes_out duration
trans_id source``, fields separated by spaces and ``-`` for an empty one;
``format_access_line`` alone builds it. The proxy's line (Swift's ``proxy-access`` order) is
``middleware/proxy_access_line.py``.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import socket
import sys
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swiftlite.common.errors import ConfigError

_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# what Swift's servers send to syslog: the ident, a colon, the message
_SYSLOG_FORMAT = "%(swiftlite_ident)s: %(message)s"


@dataclass(frozen=True)
class SyslogTarget:
    """Where a process's syslog lines go: a UDP host, or a local socket path."""

    facility: str = "LOG_LOCAL0"
    address: str = "/dev/log"
    udp_host: str | None = None
    udp_port: int = logging.handlers.SYSLOG_UDP_PORT
    ident: str | None = None  # default: the logger's name (a server's log_name)


_process_syslog: SyslogTarget | None = None


def syslog_target(conf: Mapping[str, Any]) -> SyslogTarget | None:
    """The syslog target a config asks for, or None (no ``log_facility``, ``log_address``
    nor ``log_udp_host`` key: the process logs to its file or stderr)."""
    if not any(conf.get(key) for key in ("log_facility", "log_address", "log_udp_host")):
        return None
    facility = str(conf.get("log_facility") or "LOG_LOCAL0").strip().upper()
    if facility.removeprefix("LOG_").lower() not in logging.handlers.SysLogHandler.facility_names:
        raise ValueError(f"log_facility: unknown syslog facility {facility!r}")
    port = str(conf.get("log_udp_port") or logging.handlers.SYSLOG_UDP_PORT)
    return SyslogTarget(
        facility=facility,
        address=str(conf.get("log_address") or "/dev/log"),
        udp_host=str(conf["log_udp_host"]).strip() if conf.get("log_udp_host") else None,
        udp_port=int(port),
    )


def configure_process(conf: Mapping[str, Any]) -> None:
    """Take this process's syslog target from ``conf`` (a ``[DEFAULT]``); see module doc.

    A bad ``log_facility`` or ``log_udp_port`` raises ``ConfigError`` naming the key.
    """
    global _process_syslog
    try:
        _process_syslog = syslog_target(conf)
    except ValueError as exc:
        raise ConfigError(f"[DEFAULT]: {exc}") from None


def _syslog_handler(target: SyslogTarget) -> logging.Handler:
    code = logging.handlers.SysLogHandler.facility_names[
        target.facility.removeprefix("LOG_").lower()
    ]
    if target.udp_host:
        return logging.handlers.SysLogHandler(
            address=(target.udp_host, target.udp_port),
            facility=code,
            socktype=socket.SOCK_DGRAM,
        )
    return logging.handlers.SysLogHandler(address=target.address, facility=code)


class _Ident(logging.Filter):
    """Adds the syslog ident (``log_name``) to each record."""

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident = ident

    def filter(self, record: logging.LogRecord) -> bool:
        record.swiftlite_ident = self.ident
        return True


def _make_handler(name: str, log_file: str | None, syslog: SyslogTarget | None) -> logging.Handler:
    if log_file:
        handler: logging.Handler = logging.handlers.WatchedFileHandler(log_file)
        handler.setFormatter(logging.Formatter(_FORMAT))
        setattr(handler, "swiftlite_plain", True)  # noqa: B010 - see info_line
        return handler
    if syslog is not None:
        try:
            handler = _syslog_handler(syslog)
        except OSError as exc:  # no /dev/log (a container): say so on stderr, keep going
            sys.stderr.write(f"swiftlite: cannot log to syslog {syslog.address}: {exc}\n")
        else:
            handler.addFilter(_Ident(syslog.ident or name))
            handler.setFormatter(logging.Formatter(_SYSLOG_FORMAT))
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    setattr(handler, "swiftlite_plain", True)  # noqa: B010 - see info_line
    return handler


def get_logger(
    name: str,
    log_file: str | None = None,
    level: str = "INFO",
    *,
    syslog: SyslogTarget | None = None,
) -> logging.Logger:
    """A logger writing to ``log_file``, else syslog (``syslog`` or the process's target),
    else stderr; configured once per name and target."""
    logger = logging.getLogger(f"swiftlite.{name}")
    syslog = syslog or _process_syslog
    target = log_file or (repr(syslog) if syslog else "<stderr>")
    if getattr(logger, "_swiftlite_target", None) != target:
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        logger.addHandler(_make_handler(name, log_file, syslog))
        logger.propagate = False
        logger._swiftlite_target = target  # type: ignore[attr-defined]
    logger.setLevel(getattr(logging, str(level).upper(), logging.INFO))
    return logger


_clock = time.time  # the wall clock of the fast path (a test moves it)


class _Stamp:
    """``asctime`` as logging.Formatter writes it, with the seconds part formatted once."""

    second = -1
    text = ""

    @classmethod
    def now(cls) -> str:
        now = _clock()
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
    reopen = getattr(handler, "reopenIfNeeded", None)
    text = f"{_Stamp.now()} {logger.name} INFO {line}\n"
    with handler.lock:  # type: ignore[union-attr]
        try:
            # a watched file: logrotate may have moved it away. The stat costs about 2% of a
            # storage server's CPU per request when done per line, so once a second.
            if reopen is not None and getattr(handler, "swiftlite_seen", None) != _Stamp.second:
                handler.swiftlite_seen = _Stamp.second  # type: ignore[attr-defined]
                reopen()
            stream = handler.stream  # type: ignore[attr-defined]
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # a full disk, a closed stream or a lost directory must not fail the request


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


_PLAIN_BYTES = re.compile(_PLAIN.pattern.encode("ascii"))


def _field(value: object) -> str:
    """One access-line field: URL-quoted (bytes byte for byte), ``-`` when empty."""
    if isinstance(value, bytes):
        if not value:
            return "-"
        if _PLAIN_BYTES.fullmatch(value):  # nothing to quote
            return value.decode("ascii")
        return urllib.parse.quote(value, safe=_SAFE)
    text = "" if value is None else str(value)
    if not text:
        return "-"
    if _PLAIN.fullmatch(text):  # most fields: nothing to quote
        return text
    return urllib.parse.quote(text, safe=_SAFE)


access_field = _field


def wsgi_field(value: object) -> str:
    """An access-line field for a WSGI string from the client (a header value): its bytes
    quoted byte for byte, ``-`` when absent or empty."""
    if not value:
        return "-"
    text = str(value)
    if _PLAIN.fullmatch(text):  # the common case: nothing to quote, no encoding
        return text
    return urllib.parse.quote(_as_bytes(text), safe=_SAFE)


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
