"""One ``main`` per server and daemon console script.

Servers: ``swiftlite-<kind>-server CONF``. Daemons: ``swiftlite-<kind>-<daemon> CONF [once]``
(they arrive with the replication issue). Each returns the process exit code.
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


def container_updater(argv: list[str] | None = None) -> int:
    from swiftlite.container import updater

    return updater.main(argv)


if __name__ == "__main__":
    sys.exit(object_server())
