"""The verbs of ``swiftlite-init`` on one node: processes found by their pidfiles only.

Each started process gets ``<run-dir>/<name>.pid`` (its master's pid; a seamless reload keeps
it) and its own session, and writes what it prints to ``<log-dir>/<name>.out``. A process is
never looked up by name. Every verb returns a list of failures (empty: success), each a line
naming the process and the reason.

- ``start``: start what is not running (refusing a server whose port another process holds);
  a server counts as started once it answers HTTP, a daemon once it survived
  ``DAEMON_SETTLE`` seconds (a bad config exits sooner).
- ``stop``: servers get ``SIGINT`` (workers stop at once, cutting requests in flight, as
  Swift's ``stop``); ``shutdown``: ``SIGTERM`` (they finish requests in flight, up to
  ``graceful_shutdown_timeout``). Daemons get ``SIGTERM`` for both. Then wait up to
  ``kill_wait``, and ``SIGKILL`` the process group only when asked (``kill_after_timeout``).
- ``reload``: servers get ``SIGHUP`` (new workers with the re-read config, the same pid);
  daemons, which cannot reload, are restarted. ``reload-seamless``: ``SIGUSR1`` instead.
- ``status``, ``once`` (one pass of each daemon, in the foreground) and ``no-daemon`` (start in
  the foreground and stop everything on ``SIGTERM``/``SIGINT``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from swiftlite.aio.plan import port_free
from swiftlite.aio.procs import pid_alive
from swiftlite.init.names import Target

DAEMON_SETTLE = 1.0
POLL = 0.05


def command_path(name: str) -> str:
    """A console script of ours, from the same environment as the running interpreter."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.path.exists(beside) else (shutil.which(name) or name)


@dataclass
class Node:
    """Where one node keeps its configs, pidfiles and process output."""

    conf_dir: str
    run_dir: str
    log_dir: str
    kill_wait: float = 15.0
    start_wait: float = 30.0
    kill_after_timeout: bool = False
    say: Callable[[str], None] = print
    prefix: str = ""  # before each pidfile and output name (the aio: "node1-")
    base_env: dict[str, str] | None = None  # the environment to start from (os.environ)

    def label(self, target: Target) -> str:
        """The name of ``target``'s pidfile and output file, and of it in messages."""
        return f"{self.prefix}{target.name}"

    # -- pidfiles ----------------------------------------------------------------------------
    def pidfile(self, target: Target) -> str:
        return os.path.join(self.run_dir, f"{self.label(target)}.pid")

    def pid(self, target: Target) -> int | None:
        """The recorded pid when that process is alive, else None (a stale file is removed)."""
        try:
            with open(self.pidfile(target), encoding="ascii") as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            return None
        if pid_alive(pid):
            return pid
        with contextlib.suppress(OSError):
            os.unlink(self.pidfile(target))
        return None

    def env(self) -> dict[str, str]:
        env = dict(os.environ if self.base_env is None else self.base_env)
        cluster_conf = os.path.join(self.conf_dir, "swiftlite.conf")
        if os.path.isfile(cluster_conf):
            env["SWIFTLITE_CONF"] = cluster_conf  # this node's hash secrets, not the caller's
        return env

    def argv(self, target: Target, *extra: str) -> list[str]:
        return [command_path(target.command), target.conf, *extra]

    # -- verbs -------------------------------------------------------------------------------
    def start(self, targets: list[Target]) -> list[str]:
        failures: list[str] = []
        launched: list[tuple[Target, subprocess.Popen[bytes], float]] = []
        for target in targets:
            pid = self.pid(target)
            if pid is not None:
                self.say(f"{self.label(target)} running ({pid} - {target.conf})")
                continue
            address = listen_address(target) if target.is_server else None
            if address and not port_free(address[1], address[0]):
                where = f"{address[0]}:{address[1]} (port {address[1]})"
                failures.append(
                    f"{self.label(target)}: {where} is already in use by another process"
                )
                continue
            try:
                launched.append((target, self.launch(target), time.monotonic()))
            except OSError as exc:
                failures.append(f"{self.label(target)}: cannot run {exc.filename}: {exc.strerror}")
        for target, proc, when in launched:
            why = self.wait_started(target, proc, when)
            if why:
                failures.append(f"{self.label(target)}: {why}")
            else:
                self.say(f"Starting {self.label(target)}...({target.conf}) pid {proc.pid}")
        return failures

    def launch(self, target: Target, foreground: bool = False) -> subprocess.Popen[bytes]:
        os.makedirs(self.run_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        out = None
        if not foreground:
            out = open(self.out_path(target), "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(  # noqa: S603 - our own console scripts
                self.argv(target),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                env=self.env(),
                start_new_session=not foreground,
            )
        finally:
            if out is not None:
                out.close()
        tmp = self.pidfile(target) + ".tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(f"{proc.pid}\n")
        os.replace(tmp, self.pidfile(target))
        return proc

    def out_path(self, target: Target) -> str:
        return os.path.join(self.log_dir, f"{self.label(target)}.out")

    def wait_started(
        self, target: Target, proc: subprocess.Popen[bytes], launched: float
    ) -> str | None:
        """None once started; else why not (its exit and last output, or silence)."""
        address = listen_address(target) if target.is_server else None
        deadline = launched + (self.start_wait if address else DAEMON_SETTLE)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.pidfile(target))
                return f"exited with status {proc.returncode}: {self.last_output(target)}"
            if address and answers(address):
                return None
            _pause(POLL)
        if address:
            return f"not answering on {address[0]}:{address[1]} after {self.start_wait:.0f}s"
        return None

    def last_output(self, target: Target) -> str:
        try:
            with open(self.out_path(target), "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 2048))
                lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return "no output"
        return " | ".join(lines[-3:]) or "no output"

    def stop(self, targets: list[Target], graceful: bool = False) -> list[str]:
        """``graceful``: ``shutdown`` (servers finish requests in flight) rather than ``stop``."""
        failures: list[str] = []
        waiting: list[tuple[Target, int]] = []
        for target in reversed(targets):
            pid = self.pid(target)
            if pid is None:
                self.say(f"No {self.label(target)} running")
                continue
            signo = signal.SIGINT if target.is_server and not graceful else signal.SIGTERM
            self.say(f"Signal {self.label(target)} pid: {pid} signal: {int(signo)}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signo)
            waiting.append((target, pid))
        deadline = time.monotonic() + self.kill_wait
        while waiting and time.monotonic() < deadline:
            _reap()
            waiting = [(t, p) for t, p in waiting if pid_alive(p)]
            if waiting:
                _pause(POLL)
        for target, pid in waiting:
            if not self.kill_after_timeout:
                failures.append(
                    f"{self.label(target)}: pid {pid} still running after {self.kill_wait}s"
                )
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            while pid_alive(pid):
                _reap()
                _pause(POLL)
        for target in targets:
            if self.pid(target) is None:
                with contextlib.suppress(OSError):
                    os.unlink(self.pidfile(target))
        return failures

    def reload(self, targets: list[Target], seamless: bool = False) -> list[str]:
        signo = signal.SIGUSR1 if seamless else signal.SIGHUP
        failures: list[str] = []
        daemons = [t for t in targets if not t.is_server]
        for target in (t for t in targets if t.is_server):
            pid = self.pid(target)
            if pid is None:
                failures += self.start([target])
                continue
            self.say(f"Signal {self.label(target)} pid: {pid} signal: {int(signo)}")
            os.kill(pid, signo)
            address = listen_address(target)
            if address and not self.answers_soon(pid, address):
                failures.append(f"{self.label(target)}: not accepting after reload")
        if daemons:
            failures += self.stop(daemons)
            failures += self.start(daemons)
        return failures

    def answers_soon(self, pid: int, address: tuple[str, int]) -> bool:
        deadline = time.monotonic() + self.start_wait
        while time.monotonic() < deadline and pid_alive(pid):
            if accepts(address):
                return True
            _pause(POLL)
        return False

    def status(self, targets: list[Target]) -> list[str]:
        failures = []
        for target in targets:
            pid = self.pid(target)
            if pid is None:
                self.say(f"No {self.label(target)} running")
                failures.append(f"{self.label(target)}: not running")
            else:
                self.say(f"{self.label(target)} running ({pid} - {target.conf})")
        return failures

    def once(self, targets: list[Target]) -> list[str]:
        failures = []
        for target in targets:
            if target.is_server:
                continue
            self.say(f"Running {self.label(target)} once...({target.conf})")
            argv = self.argv(target, "once")
            done = subprocess.run(argv, env=self.env(), check=False)  # noqa: S603
            if done.returncode:
                failures.append(f"{self.label(target)}: once exited with status {done.returncode}")
        return failures

    def no_daemon(self, targets: list[Target]) -> list[str]:
        """Run in the foreground until every process exits; TERM/INT are passed on."""
        procs = [(t, self.launch(t, foreground=True)) for t in targets if self.pid(t) is None]

        def forward(signo: int, frame: object) -> None:
            for _, proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        failures = []
        for target, proc in procs:
            code = proc.wait()
            with contextlib.suppress(OSError):
                os.unlink(self.pidfile(target))
            if code not in (0, -signal.SIGTERM):
                failures.append(f"{self.label(target)}: exited with status {code}")
        return failures


def listen_address(target: Target) -> tuple[str, int] | None:
    """The server's ``bind_ip``/``bind_port``, or None when its config cannot say."""
    from swiftlite.common.errors import ConfigError
    from swiftlite.common.wsgi import read_server_options

    try:
        options = read_server_options(target.conf)
    except ConfigError:
        return None
    ip = options.bind_ip.strip("[]")
    if ip in ("0.0.0.0", ""):  # noqa: S104 - a wildcard bind is reached on loopback
        ip = "127.0.0.1"
    elif ip == "::":
        ip = "::1"
    return ip, options.bind_port


def accepts(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1.0):
            return True
    except OSError:
        return False


def answers(address: tuple[str, int]) -> bool:
    """A worker answers HTTP there (any status): the app loaded, not just the port bound."""
    try:
        with socket.create_connection(address, timeout=2.0) as sock:
            sock.sendall(b"GET /healthcheck HTTP/1.0\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False


def _reap() -> None:
    """Collect our own children that exited (a start in this same process), if any."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _pause(seconds: float) -> None:
    import select

    select.select([], [], [], seconds)
