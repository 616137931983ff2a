"""Start, stop and inspect an all-in-one cluster's processes, by pidfile only.

Every process is started in its own session (so its workers share its process group), its pid
written to ``<root>/run/<name>.pid``, and its output sent to ``<root>/log/<name>.out``. Stop
signals exactly the recorded process groups — TERM, then KILL after a grace period — and never
looks processes up by name.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from swiftlite.common import fs, green


@dataclass(frozen=True)
class ProcSpec:
    name: str  # unique in the cluster, e.g. "node1-object-server"
    argv: tuple[str, ...]
    health: tuple[str, int] | None  # (ip, port) answering GET /healthcheck, or None
    tcp: tuple[str, int] | None = None  # (ip, port) that only needs to accept a connection


@dataclass
class ProcStatus:
    name: str
    pid: int | None
    alive: bool
    healthy: bool


def pidfile(run_dir: str, name: str) -> str:
    return os.path.join(run_dir, f"{name}.pid")


def read_pid(run_dir: str, name: str) -> int | None:
    try:
        with open(pidfile(run_dir, name), encoding="ascii") as fh:
            return int(fh.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); treat it as gone (the state follows the name, which may
    # hold spaces and parentheses itself)
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def is_healthy(spec: ProcSpec, timeout: float = 1.0) -> bool:
    if spec.health is not None:
        ip, port = spec.health
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
        try:
            conn.request("GET", "/healthcheck")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()
    if spec.tcp is not None:
        try:
            with socket.create_connection(spec.tcp, timeout=timeout):
                return True
        except OSError:
            return False
    return True


def start(spec: ProcSpec, run_dir: str, log_dir: str, env: dict[str, str]) -> int:
    """Start ``spec`` unless its recorded pid is alive; returns the pid."""
    pid = read_pid(run_dir, spec.name)
    if pid_alive(pid):
        return pid  # type: ignore[return-value]
    os.makedirs(run_dir, exist_ok=True)
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, f"{spec.name}.out"), "ab") as out:
        proc = subprocess.Popen(
            list(spec.argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    fs.write_file_durable(pidfile(run_dir, spec.name), f"{proc.pid}\n".encode())
    return proc.pid


def wait_healthy(specs: Sequence[ProcSpec], run_dir: str, timeout: float) -> list[str]:
    """Wait until every spec answers; returns the names that did not (dead or silent)."""
    deadline = time.monotonic() + timeout
    waiting = list(specs)
    while waiting and time.monotonic() < deadline:
        waiting = [
            s for s in waiting if not (pid_alive(read_pid(run_dir, s.name)) and is_healthy(s))
        ]
        if any(not pid_alive(read_pid(run_dir, s.name)) for s in waiting):
            break  # a process died: waiting longer will not help
        if waiting:
            _pause(0.1)
    return [s.name for s in waiting]


def stop(name: str, run_dir: str, grace: float = 10.0) -> bool:
    """Stop the recorded process group; True when something was running."""
    pid = read_pid(run_dir, name)
    path = pidfile(run_dir, name)
    if pid is None or not pid_alive(pid):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        _pause(0.05)
    if pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while pid_alive(pid):
            _reap(pid)
            _pause(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # workers left behind by a killed master
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True


def status(spec: ProcSpec, run_dir: str) -> ProcStatus:
    pid = read_pid(run_dir, spec.name)
    alive = pid_alive(pid)
    return ProcStatus(spec.name, pid, alive, alive and is_healthy(spec))


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _pause(seconds: float) -> None:
    green.sleep(seconds)
