"""Run several daemons' ``once`` passes in one process, in order: ``python -m
tests.support.daemon_batch KIND-DAEMON=CONF ...``.

Each pass is the daemon's own console-script ``main`` with ``CONF once``, exactly what
``swiftlite-<kind>-<daemon> CONF once`` runs; batching only saves the interpreter and eventlet
start-up (about a second of CPU per process), which dominates a fault-matrix repair of 52
passes on two cores. Exit status: 0 when every pass returned 0; otherwise 1, after running the
rest, with the failed ones named on stderr. Each pass's wall time is printed
(``pass KIND-DAEMON SECONDS``).
"""

from __future__ import annotations

import sys
import time

from swiftlite.cli import servers


def main(argv: list[str]) -> int:
    failed = []
    for item in argv:
        name, _, conf = item.partition("=")
        entry = getattr(servers, name.replace("-", "_"))
        started = time.monotonic()
        if entry([conf, "once"]) != 0:
            failed.append(name)
        print(f"pass {name} {time.monotonic() - started:.2f}", flush=True)
    if failed:
        sys.stderr.write(f"failed once passes: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
