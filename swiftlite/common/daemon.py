"""The Daemon base: run a pass once, or forever at an interval with jitter.

A daemon subclass implements ``run_once() -> dict`` (its pass summary). ``run_forever`` repeats
passes every ``interval`` seconds (a random start delay spreads daemons of many nodes), logs each
summary, stores it in the recon cache, and stops cleanly on SIGTERM between or during passes.
``main(...)`` is the console-script glue: ``swiftlite-<kind>-<daemon> CONF [once]``.
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from swiftlite.common import config, green, logs, recon_cache
from swiftlite.common.errors import ConfigError

T = TypeVar("T")


class Daemon:
    """Subclasses set ``name`` and ``recon_kind`` and implement ``run_once``."""

    name = "daemon"
    recon_kind = "object"

    def __init__(self, options: Any, logger: logging.Logger | None = None) -> None:
        self.options = options
        self.logger = logger or logs.get_logger(
            self.name, getattr(options, "log_file", None), getattr(options, "log_level", "INFO")
        )
        self.stopping = False

    def run_once(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def interval(self) -> float:
        return float(getattr(self.options, "interval", 30.0))

    def record(self, summary: dict[str, Any]) -> None:
        recon_dir = getattr(self.options, "recon_cache_path", None)
        if recon_dir:
            recon_cache.update(
                recon_cache.cache_path(recon_dir, self.recon_kind), {self.name: summary}
            )

    def run_pass(self) -> dict[str, Any]:
        started = time.time()
        summary = self.run_once()
        summary.setdefault("duration", round(time.time() - started, 3))
        summary.setdefault("finished", round(time.time(), 3))
        self.logger.info("%s pass: %s", self.name, summary)
        self.record(summary)
        return summary

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self._handle_term)
        green.sleep(random.random() * min(self.interval, 5.0))  # noqa: S311 - spread only
        while not self.stopping:
            started = time.monotonic()
            try:
                self.run_pass()
            except Exception:
                self.logger.exception("%s pass failed", self.name)
            remaining = self.interval - (time.monotonic() - started)
            while remaining > 0 and not self.stopping:
                green.sleep(min(remaining, 0.5))
                remaining -= 0.5

    def _handle_term(self, signum: int, frame: object) -> None:
        self.stopping = True


def main(
    prog: str,
    section: str,
    options_cls: type[T],
    factory: Callable[[T], Daemon],
    argv: list[str] | None = None,
    patch: bool = True,
) -> int:
    """Parse ``CONF [once]``, load ``[section]`` as ``options_cls``, run the daemon.

    ``patch`` monkey-patches the process for green I/O, as a daemon process needs; callers
    that run a daemon inside another program (tests) pass False, since patching is global.
    """
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("conf", help="config file holding the daemon's section")
    parser.add_argument("mode", nargs="?", choices=("once", "forever"), default="forever")
    args = parser.parse_args(argv)
    try:
        options = config.load_section(args.conf, section, options_cls)
    except ConfigError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        return 2
    if patch:
        green.monkey_patch()
    daemon = factory(options)
    if args.mode == "once":
        daemon.run_pass()
    else:
        daemon.run_forever()
    return 0
