"""Run one object server in a child process, for crash tests and bench/obj_bench.py.

As a script: ``python objserver_proc.py devices [key=value ...]`` builds the app with
``app_factory`` (mount_check off, the given options on top), serves it with eventlet on an
ephemeral 127.0.0.1 port and prints the port on stdout. ``start()`` runs that and returns a
handle that is stopped by its pid only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

HERE = os.path.abspath(__file__)


@dataclass
class ServerProc:
    proc: subprocess.Popen
    port: int

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


def start(devices: str, **options: object) -> ServerProc:
    """Start a server on ``devices``; options are ObjectServerOptions keys."""
    args = [sys.executable, HERE, devices, *(f"{k}={v}" for k, v in options.items())]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        raise RuntimeError(f"object server did not start: {line!r}")
    return ServerProc(proc, int(line))


def main(argv: list[str]) -> None:
    import warnings

    # eventlet warns about itself and about not capitalising headers (Swift does not either)
    warnings.simplefilter("ignore", DeprecationWarning)
    from swiftlite.common import green

    green.monkey_patch()
    from swiftlite.obj.server import app_factory

    local = {"devices": argv[0], "mount_check": "false", "log_requests": "false"}
    local.update(dict(arg.split("=", 1) for arg in argv[1:]))
    app = app_factory({}, **local)
    sock = green.listen(("127.0.0.1", 0), backlog=1024)
    print(sock.getsockname()[1], flush=True)
    null = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    green.wsgi.server(
        sock, app, log=null, max_size=1024, keepalive=True, capitalize_response_headers=False
    )


if __name__ == "__main__":
    main(sys.argv[1:])
