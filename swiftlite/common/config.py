"""Config parsing: the cluster file, paste sections, and typed option dataclasses.

Each server or daemon declares its options once as a frozen dataclass (``*Options``). This
module turns the raw strings of a config section into an instance: it converts types, applies
defaults, warns about keys nobody declared, and raises ``ConfigError`` for a bad value. Nothing
below a constructor reads raw config dicts.

Precedence: section value > ``[DEFAULT]`` value > dataclass default.
"""

from __future__ import annotations

import configparser
import dataclasses
import functools
import logging
import os
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from swiftlite.common.errors import ConfigError

DEFAULT_CONF_PATH = "/etc/swiftlite/swiftlite.conf"
CONF_ENV = "SWIFTLITE_CONF"

# Keys paste.deploy or our own runner put into every section; never warned about.
ALWAYS_ALLOWED = frozenset(
    {
        "__file__",
        "here",
        "use",
        "paste.app_factory",
        "set",
        "log_name",
        "log_level",
        "log_facility",
        "log_file",
        "log_address",
        "log_format",
        "log_udp_host",
        "log_udp_port",
        "log_statsd_host",
        "log_statsd_port",
        "log_statsd_metric_prefix",
        "log_statsd_default_sample_rate",
        "log_statsd_sample_rate_factor",
        "workers",
        "bind_ip",
        "bind_port",
        "swift_dir",
        "user",
        "pipeline",
        "backlog",
        "keepalive_timeout",
        "max_clients",
        "client_timeout",
    }
)

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n", ""})

log = logging.getLogger("swiftlite.config")

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class DeviceOptions:
    """The keys every storage server and daemon that works on ``devices`` reads; their own
    ``*Options`` add theirs after these."""

    devices: str = "/srv/node"
    mount_check: bool = True
    swift_dir: str = "/etc/swiftlite"
    log_level: str = "INFO"
    log_file: str | None = None


def config_true(value: object) -> bool:
    """Swift's truthiness for config strings: true/1/yes/on (any case)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _to_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _to_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


def _convert(kind: Any, text: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if text.strip().lower() in ("", "none"):
            return None
        return _convert(args[0], text)
    if kind is bool:
        return _to_bool(text)
    if kind is int:
        return int(text.strip())
    if kind is float:
        return float(text.strip())
    if kind is str:
        return text
    if origin in (tuple, list) or kind in (tuple, list):
        return _to_list(text)
    raise ValueError(f"unsupported option type {kind!r}")


def parse_options(
    cls: type[T],
    local: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    *,
    where: str = "config",
) -> T:
    """Build ``cls`` (an options dataclass) from a section and its ``[DEFAULT]``.

    Unknown keys in ``local`` are logged as warnings; ``defaults`` may hold keys meant for other
    sections and is not warned about. A value that does not convert raises ConfigError naming
    the key and ``where``.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    merged: dict[str, Any] = {}
    for source in (defaults or {}), local:
        for key, value in source.items():
            if key in known:
                merged[key] = value
    for key in local:
        if key not in known and key not in ALWAYS_ALLOWED:
            log.warning("%s: unknown option %r ignored", where, key)
    values: dict[str, Any] = {}
    for key, raw in merged.items():
        if not isinstance(raw, str):
            values[key] = raw
            continue
        try:
            values[key] = _convert(hints[key], raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: bad value for {key!r}: {raw!r} ({exc})") from None
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def read_file(path: str, *, raw_sections: bool = False) -> configparser.ConfigParser:
    """Read an ini file, raising ConfigError (naming the file) when it is missing or broken.

    With ``raw_sections`` the ``[DEFAULT]`` section is not folded into the others, so each
    section holds only the keys it sets itself.
    """
    kwargs: dict[str, Any] = {"interpolation": None}
    if raw_sections:
        kwargs["default_section"] = "\x00no-default"
    parser = configparser.ConfigParser(**kwargs)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise ConfigError(f"cannot parse config {path}: {exc}") from None
    return parser


def load_section(path: str, section: str, cls: type[T]) -> T:
    """Options for a daemon from ``[section]`` of ``path``, merged over ``[DEFAULT]``."""
    parser = read_file(path, raw_sections=True)
    if not parser.has_section(section):
        raise ConfigError(f"{path}: no [{section}] section")
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    local = dict(parser.items(section))
    return parse_options(cls, local, defaults, where=f"{path} [{section}]")


def swiftlite_conf_path() -> str:
    """The cluster-wide config file: ``$SWIFTLITE_CONF`` or /etc/swiftlite/swiftlite.conf."""
    return os.environ.get(CONF_ENV) or DEFAULT_CONF_PATH


def load_by_mtime(load: Callable[[str, float], T], default: T) -> T:
    """``load(path, mtime)`` of the cluster config (callers cache it on both arguments, so an
    edited file is read again); ``default`` when there is no file."""
    path = swiftlite_conf_path()
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return default
    return load(path, mtime)


@functools.lru_cache(maxsize=8)
def _cluster_conf(path: str, mtime: float) -> configparser.ConfigParser:
    return read_file(path)


def cluster_conf() -> configparser.ConfigParser:
    """The parsed cluster config (``[swift-hash]``, ``[swift-constraints]``), cached by mtime."""
    path = swiftlite_conf_path()
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    return _cluster_conf(path, mtime)


def cluster_section(name: str) -> dict[str, str]:
    """One section of the cluster config as a dict; empty when the section is absent."""
    parser = cluster_conf()
    if not parser.has_section(name):
        return {}
    return dict(parser.items(name))
