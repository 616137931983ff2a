"""``swiftlite-init``: Swift's ``swift-init`` for a swiftlite node.

    swiftlite-init [options] <command> <server>...   (or <server>... <command>, as swift-init)

Commands: start, stop, restart, reload, reload-seamless, shutdown, status, once, no-daemon.
Servers: ``all``, ``main`` (the four servers), ``rest`` (the daemons), names such as
``object-server`` or ``container-updater``, or globs (``object-*``). Configs are read from
``--conf-dir`` (/etc/swiftlite), pidfiles written to ``--run-dir`` (/var/run/swiftlite), and
each process's output to ``--log-dir`` (/var/log/swiftlite). Exit status 0 when every
selected process did what was asked, 1 otherwise (each failure is printed with its reason),
2 for a bad command line.
"""

from __future__ import annotations

import argparse
import sys

from swiftlite.init import names
from swiftlite.init.manager import Node

COMMANDS = (
    "start",
    "stop",
    "restart",
    "reload",
    "reload-seamless",
    "shutdown",
    "status",
    "once",
    "no-daemon",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swiftlite-init",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("words", nargs="+", help="a command and the servers it acts on")
    parser.add_argument("--conf-dir", default="/etc/swiftlite")
    parser.add_argument("--run-dir", default="/var/run/swiftlite")
    parser.add_argument("--log-dir", default="/var/log/swiftlite")
    parser.add_argument("--kill-wait", type=float, default=15.0, help="seconds stop waits")
    parser.add_argument("--start-wait", type=float, default=30.0, help="seconds start waits")
    parser.add_argument(
        "--kill-after-timeout",
        action="store_true",
        help="SIGKILL what is still running after --kill-wait",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    verbs = [w for w in args.words if w in COMMANDS]
    servers = [w for w in args.words if w not in COMMANDS]
    if len(verbs) != 1 or not servers:
        parser.error(f"give one command ({', '.join(COMMANDS)}) and at least one server")
    try:
        targets, missing = names.select(servers, args.conf_dir)
    except names.UnknownName as exc:
        parser.error(str(exc))
    node = Node(
        args.conf_dir,
        args.run_dir,
        args.log_dir,
        kill_wait=args.kill_wait,
        start_wait=args.start_wait,
        kill_after_timeout=args.kill_after_timeout,
    )
    failures = [f"{name}: no config {names.conf_of(name, args.conf_dir)}" for name in missing]
    if not targets and not missing:
        failures.append(f"nothing configured in {args.conf_dir} for {' '.join(servers)}")
    failures += run(node, verbs[0], targets)
    for line in failures:
        print(f"swiftlite-init: {line}", file=sys.stderr)
    return 1 if failures else 0


def run(node: Node, verb: str, targets: list[names.Target]) -> list[str]:
    if verb == "start":
        return node.start(targets)
    if verb in ("stop", "shutdown"):
        return node.stop(targets, graceful=verb == "shutdown")
    if verb == "restart":
        return node.stop(targets) or node.start(targets)
    if verb in ("reload", "reload-seamless"):
        return node.reload(targets, seamless=verb == "reload-seamless")
    if verb == "status":
        return node.status(targets)
    if verb == "once":
        return node.once(targets)
    return node.no_daemon(targets)


if __name__ == "__main__":
    sys.exit(main())
