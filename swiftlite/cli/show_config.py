"""``swiftlite-config``: the effective configuration of one server or daemon, key by key.

``swiftlite-config object-replicator [--conf FILE | --conf-dir DIR] [--json]`` reads the file
the component reads (``<conf-dir>/object-server.conf`` for the object daemons), applies the
same precedence (section value > ``[DEFAULT]`` > built-in default) to every option the
component declares, and prints each value with where it came from. A server also shows the
runner's ``[DEFAULT]`` options and every filter of its pipeline. Keys a section sets that
nobody reads are listed as ignored, so a typo shows. A value that does not parse exits 2
with the error the component would give at start.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from swiftlite.common import config
from swiftlite.common.errors import ConfigError

# component -> (config file, section, "module:OptionsClass")
COMPONENTS: dict[str, tuple[str, str, str]] = {
    "proxy-server": (
        "proxy-server.conf",
        "app:proxy-server",
        "swiftlite.proxy.server:ProxyOptions",
    ),
    "object-server": (
        "object-server.conf",
        "app:object-server",
        "swiftlite.obj.server:ObjectServerOptions",
    ),
    "container-server": (
        "container-server.conf",
        "app:container-server",
        "swiftlite.container.server:ContainerServerOptions",
    ),
    "account-server": (
        "account-server.conf",
        "app:account-server",
        "swiftlite.account.server:AccountServerOptions",
    ),
    "object-replicator": (
        "object-server.conf",
        "object-replicator",
        "swiftlite.obj.replicator:ObjectReplicatorOptions",
    ),
    "object-auditor": (
        "object-server.conf",
        "object-auditor",
        "swiftlite.obj.auditor:ObjectAuditorOptions",
    ),
    "object-updater": (
        "object-server.conf",
        "object-updater",
        "swiftlite.obj.updater:ObjectUpdaterOptions",
    ),
    "object-expirer": (
        "object-server.conf",
        "object-expirer",
        "swiftlite.obj.expirer:ObjectExpirerOptions",
    ),
    "container-replicator": (
        "container-server.conf",
        "container-replicator",
        "swiftlite.container.replicator:ContainerReplicatorOptions",
    ),
    "container-updater": (
        "container-server.conf",
        "container-updater",
        "swiftlite.container.updater:ContainerUpdaterOptions",
    ),
    "container-auditor": (
        "container-server.conf",
        "container-auditor",
        "swiftlite.container.auditor:ContainerAuditorOptions",
    ),
    "container-reconciler": (
        "container-server.conf",
        "container-reconciler",
        "swiftlite.container.reconciler:ContainerReconcilerOptions",
    ),
    "account-replicator": (
        "account-server.conf",
        "account-replicator",
        "swiftlite.account.replicator:AccountReplicatorOptions",
    ),
    "account-auditor": (
        "account-server.conf",
        "account-auditor",
        "swiftlite.account.auditor:AccountAuditorOptions",
    ),
    "account-reaper": (
        "account-server.conf",
        "account-reaper",
        "swiftlite.account.reaper:AccountReaperOptions",
    ),
}
SERVERS = tuple(name for name in COMPONENTS if name.endswith("-server"))
# Filters that read families of keys beyond their options dataclass (tempauth's users and
# group rules): shown as set, the user keys' values hidden (they hold passwords).
_FAMILIES = {"tempauth": (("user_", "user64_"), ("require_group",))}
_SECRET_PREFIXES = ("user_", "user64_")
HIDDEN = "(set, not shown)"


def is_secret(key: str) -> bool:
    """Keys whose values are passwords or signing secrets: printed as set, never shown."""
    return key.startswith(_SECRET_PREFIXES) or any(
        word in key for word in ("secret", "password", "_key")
    )


RUNNER_OPTIONS = "swiftlite.common.wsgi:ServerOptions"
TELEMETRY_OPTIONS = "swiftlite.common.telemetry:TelemetryOptions"


@dataclasses.dataclass(frozen=True)
class Setting:
    key: str
    value: Any
    source: str  # "<file> [<section>]" or "default"


@dataclasses.dataclass(frozen=True)
class Block:
    """The settings of one section (or of the runner's ``[DEFAULT]``)."""

    title: str
    settings: tuple[Setting, ...]
    ignored: tuple[str, ...] = ()
    extra: tuple[Setting, ...] = ()


def options_class(spec: str) -> type:
    module, name = spec.split(":")
    cls = getattr(importlib.import_module(module), name)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{spec} is not an options dataclass")
    return cls  # type: ignore[return-value]


def resolve(
    cls: type,
    path: str,
    section: str,
    local: Mapping[str, str],
    defaults: Mapping[str, str],
) -> Block:
    """Each field of ``cls`` with its effective value and source; ConfigError for a bad one."""
    quiet = logging.getLogger("swiftlite.config")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # unknown keys are listed in the output instead
    try:
        parsed: Any = config.parse_options(cls, local, defaults, where=f"{path} [{section}]")
    finally:
        quiet.setLevel(level)
    settings = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in local:
            source = f"{path} [{section}]"
        elif field.name in defaults:
            source = f"{path} [DEFAULT]"
        else:
            source = "default"
        settings.append(Setting(field.name, getattr(parsed, field.name), source))
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    ignored = tuple(sorted(k for k in local if k not in known and k not in config.ALWAYS_ALLOWED))
    return Block(f"[{section}]", tuple(settings), ignored)


def _split_families(name: str, local: dict[str, str]) -> tuple[dict[str, str], list[Setting]]:
    """``local`` without a filter's key families, and those keys as settings to show."""
    prefixes, suffixes = _FAMILIES.get(name, ((), ()))
    plain, extra = {}, []
    for key, value in local.items():
        if key.startswith(prefixes) or key.endswith(suffixes):
            extra.append(Setting(key, value, "file"))
        else:
            plain[key] = value
    return plain, extra


def _filter_options(use: str) -> type | None:
    """The options dataclass of ``use = egg:swiftlite#<name>``, found by entry point."""
    from importlib.metadata import entry_points

    if not use.startswith("egg:swiftlite#"):
        return None
    name = use.split("#", 1)[1]
    for point in entry_points(group="paste.filter_factory"):
        if point.name == name and point.value.startswith("swiftlite."):
            module = importlib.import_module(point.value.split(":")[0])
            for attr in vars(module).values():
                if (
                    isinstance(attr, type)
                    and dataclasses.is_dataclass(attr)
                    and attr.__name__.endswith("Options")
                    and attr.__module__ == module.__name__
                ):
                    return attr
    return None


def effective(name: str, path: str) -> list[Block]:
    """The blocks ``swiftlite-config`` prints for component ``name`` read from ``path``."""
    _file, section, spec = COMPONENTS[name]
    parser = config.read_file(path, raw_sections=True)
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    if not parser.has_section(section):
        raise ConfigError(f"{path}: no [{section}] section")
    telemetry = resolve(options_class(TELEMETRY_OPTIONS), path, "DEFAULT", {}, defaults)
    blocks = [dataclasses.replace(telemetry, title="[DEFAULT] (syslog and StatsD)")]
    if name in SERVERS:
        runner = resolve(options_class(RUNNER_OPTIONS), path, "DEFAULT", {}, defaults)
        blocks.append(dataclasses.replace(runner, title="[DEFAULT] (the server runner)"))
        pipeline = parser.get("pipeline:main", "pipeline", fallback="").split()
        for item in pipeline[:-1]:
            filter_section = f"filter:{item}"
            if not parser.has_section(filter_section):
                raise ConfigError(
                    f"{path}: pipeline names {item!r} but there is no [{filter_section}]"
                )
            local = dict(parser.items(filter_section))
            use = local.get("use", "")
            cls = _filter_options(use)
            if cls is not None:
                plain, extra = _split_families(use.rsplit("#", 1)[-1], local)
                block = resolve(cls, path, filter_section, plain, defaults)
                where = f"{path} [{filter_section}]"
                extra = [dataclasses.replace(e, source=where) for e in extra]
                blocks.append(dataclasses.replace(block, extra=tuple(extra)))
    blocks.append(
        resolve(options_class(spec), path, section, dict(parser.items(section)), defaults)
    )
    return [_hide_secrets(block) for block in blocks]


def _hide_secrets(block: Block) -> Block:
    def hide(items: tuple[Setting, ...]) -> tuple[Setting, ...]:
        return tuple(
            dataclasses.replace(s, value=HIDDEN) if is_secret(s.key) and s.value else s
            for s in items
        )

    return dataclasses.replace(block, settings=hide(block.settings), extra=hide(block.extra))


def render_text(name: str, path: str, blocks: list[Block]) -> str:
    out = [f"# {name}: effective configuration from {path}"]
    for block in blocks:
        out.append("")
        out.append(block.title)
        width = max((len(s.key) for s in block.settings), default=0)
        for s in block.settings + block.extra:
            out.append(f"{s.key.ljust(width)} = {_show(s.value)}    ; {s.source}")
        for key in block.ignored:
            out.append(f"; {key}: set but not an option here (ignored)")
    return "\n".join(out) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_json(name: str, path: str, blocks: list[Block]) -> str:
    doc = {
        "component": name,
        "conf": path,
        "sections": [
            {
                "section": b.title,
                "options": {
                    s.key: {"value": s.value, "source": s.source} for s in b.settings + b.extra
                },
                "ignored": list(b.ignored),
            }
            for b in blocks
        ],
    }
    return json.dumps(doc, indent=2, default=str) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="swiftlite-config",
        description="Print the effective configuration of a server or daemon, and where "
        "each value came from.",
    )
    parser.add_argument("component", choices=sorted(COMPONENTS), metavar="SERVER-OR-DAEMON")
    parser.add_argument("--conf", help="the config file (default: <conf-dir>/<kind>-server.conf)")
    parser.add_argument("--conf-dir", default="/etc/swiftlite")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    path = args.conf or os.path.join(args.conf_dir, COMPONENTS[args.component][0])
    try:
        blocks = effective(args.component, path)
    except ConfigError as exc:
        sys.stderr.write(f"swiftlite-config: {exc}\n")
        return 2
    render = render_json if args.json else render_text
    sys.stdout.write(render(args.component, path, blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
