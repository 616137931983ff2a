"""Which servers and daemons a node has, and how a command line's names select them.

Servers (the ``main`` group) answer HTTP: proxy, account, container and object. Daemons (the
``rest`` group) are the background processes, each reading its ``[<kind>-<daemon>]`` section
of ``<kind>-server.conf``. ``all`` is both. A name may also be a glob (``object-*``).
A node has a server when ``<conf-dir>/<server>.conf`` exists, and a daemon when its server's
config holds the daemon's section, so one command line works on a proxy node and on a storage
node alike.
"""

from __future__ import annotations

import configparser
import fnmatch
import os
from dataclasses import dataclass

MAIN = ("proxy-server", "account-server", "container-server", "object-server")
REST = (
    "account-replicator",
    "account-auditor",
    "account-reaper",
    "container-replicator",
    "container-auditor",
    "container-updater",
    "object-replicator",
    "object-auditor",
    "object-updater",
    "object-expirer",
)
ALL = MAIN + REST
GROUPS = {"all": ALL, "main": MAIN, "rest": REST}


class UnknownName(ValueError):
    """A command line named something that is neither a group, a server nor a daemon."""


@dataclass(frozen=True)
class Target:
    """One server or daemon of this node: its name and the config file it reads."""

    name: str
    conf: str

    @property
    def is_server(self) -> bool:
        return self.name.endswith("-server")

    @property
    def command(self) -> str:
        return f"swiftlite-{self.name}"


def expand(names: list[str]) -> list[str]:
    """Groups and globs to names, in ``ALL`` order, each once; UnknownName otherwise."""
    chosen: set[str] = set()
    for name in names:
        if name in GROUPS:
            chosen.update(GROUPS[name])
            continue
        if name.startswith("swiftlite-"):
            name = name[len("swiftlite-") :]
        matched = [n for n in ALL if fnmatch.fnmatchcase(n, name)]
        if not matched:
            raise UnknownName(f"{name!r} is not a server, daemon, or one of all, main, rest")
        chosen.update(matched)
    return [n for n in ALL if n in chosen]


def conf_of(name: str, conf_dir: str) -> str:
    """The config a server or daemon reads: its server's ``<kind>-server.conf``."""
    kind = name.split("-", 1)[0]
    return os.path.join(conf_dir, f"{kind}-server.conf")


def present(name: str, conf_dir: str) -> Target | None:
    """The target when this node is configured for it, else None."""
    conf = conf_of(name, conf_dir)
    if not os.path.isfile(conf):
        return None
    if name.endswith("-server"):
        return Target(name, conf)
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(conf, encoding="utf-8")
    except configparser.Error:
        return Target(name, conf)  # let the daemon itself report what is wrong
    return Target(name, conf) if parser.has_section(name) else None


def select(names: list[str], conf_dir: str) -> tuple[list[Target], list[str]]:
    """(the targets configured here, the names asked for by name that are not configured).

    Names that came from a group or glob and have no config are skipped silently.
    """
    targets: list[Target] = []
    missing: list[str] = []
    explicit = {n[len("swiftlite-") :] if n.startswith("swiftlite-") else n for n in names}
    for name in expand(names):
        target = present(name, conf_dir)
        if target is not None:
            targets.append(target)
        elif name in explicit:
            missing.append(name)
    return targets, missing
