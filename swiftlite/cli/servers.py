"""One ``main`` per server and daemon console script.

Servers: ``swiftlite-<kind>-server CONF``. Daemons: ``swiftlite-<kind>-<daemon> CONF [once]``,
each reading its ``[<kind>-<daemon>]`` section of the server's config. Each returns the process
exit code.
"""

from __future__ import annotations

import argparse
import sys

from swiftlite.common.wsgi import run_server


def _server_main(name: str, argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog=name, description=f"Run the {name} WSGI server.")
    parser.add_argument(
        "conf", help="paste.deploy config file, e.g. /etc/swiftlite/object-server.conf"
    )
    args = parser.parse_args(argv)
    return run_server(args.conf, name)


def proxy_server(argv: list[str] | None = None) -> int:
    return _server_main("swiftlite-proxy-server", argv)


def object_server(argv: list[str] | None = None) -> int:
    return _server_main("swiftlite-object-server", argv)


def container_server(argv: list[str] | None = None) -> int:
    return _server_main("swiftlite-container-server", argv)


def account_server(argv: list[str] | None = None) -> int:
    return _server_main("swiftlite-account-server", argv)


def _daemon_main(module: str, argv: list[str] | None) -> int:
    """Import the daemon's module only when its command runs (keeps start-up light)."""
    import importlib

    return int(importlib.import_module(module).main(argv))


def object_replicator(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.obj.replicator", argv)


def object_auditor(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.obj.auditor", argv)


def object_updater(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.obj.updater", argv)


def object_expirer(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.obj.expirer", argv)


def container_replicator(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.container.replicator", argv)


def container_auditor(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.container.auditor", argv)


def container_updater(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.container.updater", argv)


def container_reconciler(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.container.reconciler", argv)


def account_replicator(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.account.replicator", argv)


def account_auditor(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.account.auditor", argv)


def account_reaper(argv: list[str] | None = None) -> int:
    return _daemon_main("swiftlite.account.reaper", argv)


if __name__ == "__main__":
    sys.exit(object_server())
