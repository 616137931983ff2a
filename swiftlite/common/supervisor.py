"""The master process of a pre-fork server: workers, signals, reloads, stops.

The master owns the listening socket and forks ``workers`` children (``common/wsgi.py`` tells
it how a worker runs). It waits for signals synchronously (``sigtimedwait`` on a blocked set),
so a signal is handled between two steps of the loop, never in the middle of one:

- ``SIGCHLD``: a worker died. It is replaced, after a back-off that doubles (up to
  ``MAX_BACKOFF``) while workers keep dying young, so a worker that cannot serve does not
  fork in a tight loop.
- ``SIGHUP``: graceful reload. The config is read again and the app checked; if both are
  good, a new generation of workers starts with them and the old workers get ``SIGHUP``: they
  stop accepting and finish their requests (up to ``stale_worker_timeout``). The socket stays
  open unless ``bind_ip``/``bind_port`` changed. A bad new config is logged and ignored.
- ``SIGUSR1``: seamless reload. After the same check, the master re-executes itself (new code
  too, e.g. after an upgrade), passing the listening socket and its workers' pids in the
  environment; the new image starts workers on the same socket, then retires the old ones.
  The pid stays the same, so pidfiles stay right.
- ``SIGTERM``: graceful stop. The socket is shut down (new connections are refused at once),
  workers finish their requests, and any still running after ``graceful_shutdown_timeout``
  are killed. ``SIGINT``: the same without the grace.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

LISTEN_FD_ENV = "SWIFTLITE_LISTEN_FD"
RETIRE_ENV = "SWIFTLITE_RETIRE_WORKERS"
MASTER_SIGNALS = frozenset(
    {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1}
)
MAX_BACKOFF = 30.0
YOUNG = 5.0  # a worker dying sooner than this after its start counts toward the back-off

#: How a worker runs: (listening socket, options) -> never returns (the child exits).
WorkerFn = Callable[[Any, Any], None]
#: Reads the config again and checks the app: returns new options, or raises with the reason.
ReloadFn = Callable[[], Any]
#: Binds a new listening socket for new options.
BindFn = Callable[[Any], Any]


class Master:
    """One server's master: ``run()`` returns the process exit status."""

    def __init__(
        self,
        sock: socket.socket,
        options: Any,
        logger: logging.Logger,
        worker: WorkerFn,
        reload: ReloadFn,
        bind: BindFn,
    ) -> None:
        self.sock = sock
        self.options = options
        self.logger = logger
        self.worker = worker
        self.reload_options = reload
        self.bind = bind
        self.workers: dict[int, float] = {}  # current generation: pid -> start time
        self.retiring: dict[int, float] = {}  # older workers finishing: pid -> kill deadline
        self.backoff = 0.0
        self.next_spawn = 0.0
        self.stopping = False
        self.inherited: tuple[int, ...] = ()  # a seamless reload's old workers, not yet retired

    # -- the loop ----------------------------------------------------------------------------
    def run(self, inherited: tuple[int, ...] = ()) -> int:
        """Supervise until stopped; ``inherited`` workers retire once new ones are up."""
        self.inherited = inherited
        signal.signal(signal.SIGCHLD, _ignore)  # a handler, so SIGCHLD is queued while blocked
        signal.pthread_sigmask(signal.SIG_BLOCK, MASTER_SIGNALS)
        while not self.stopping or self.workers or self.retiring:
            if not self.stopping:
                self.fill()
                if self.inherited and len(self.workers) >= self.options.workers:
                    grace = self.options.stale_worker_timeout
                    self.retire(self.inherited, signal.SIGHUP, grace)
                    self.inherited = ()
            info = signal.sigtimedwait(MASTER_SIGNALS, self.wait_time())
            if info is not None:
                self.handle(info.si_signo)
            self.reap()
            self.enforce_deadlines()
        return 0

    def wait_time(self) -> float:
        now = time.monotonic()
        waits = [1.0]
        if not self.stopping and len(self.workers) < self.options.workers:
            waits.append(self.next_spawn - now)
        waits.extend(deadline - now for deadline in self.retiring.values())
        return max(0.01, min(waits))

    def handle(self, signo: int) -> None:
        if signo == signal.SIGHUP:
            self.graceful_reload()
        elif signo == signal.SIGUSR1:
            self.seamless_reload()
        elif signo in (signal.SIGTERM, signal.SIGINT):
            grace = self.options.graceful_shutdown_timeout if signo == signal.SIGTERM else 0.0
            self.stop(grace)

    # -- workers -----------------------------------------------------------------------------
    def fill(self) -> None:
        """Start workers up to the configured count, unless backing off."""
        while len(self.workers) < self.options.workers and time.monotonic() >= self.next_spawn:
            self.spawn()

    def spawn(self) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, MASTER_SIGNALS)
                self.worker(self.sock, self.options)
                code = 0
            except BaseException:
                with contextlib.suppress(Exception):
                    self.logger.exception("worker %d failed", os.getpid())
            finally:
                os._exit(code)
        self.workers[pid] = time.monotonic()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.retiring.pop(pid, None)
            started = self.workers.pop(pid, None)
            if started is None or self.stopping:
                continue
            lived = time.monotonic() - started
            self.backoff = min(max(self.backoff * 2, 0.1), MAX_BACKOFF) if lived < YOUNG else 0.0
            self.next_spawn = time.monotonic() + self.backoff
            self.logger.warning(
                "worker %d exited (%s) after %.1fs; starting another in %.1fs",
                pid,
                _describe(status),
                lived,
                self.backoff,
            )

    def retire(self, pids: Any, signo: int, grace: float) -> None:
        """Ask workers to finish and go; kill them if still there after ``grace`` seconds."""
        deadline = time.monotonic() + grace
        for pid in pids:
            self.retiring[pid] = deadline
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signo)

    def enforce_deadlines(self) -> None:
        now = time.monotonic()
        for pid, deadline in list(self.retiring.items()):
            if now >= deadline:
                self.logger.warning("worker %d did not finish in time; killing it", pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self.retiring[pid] = now + 3600.0  # reaped soon; do not signal it again

    # -- signals -----------------------------------------------------------------------------
    def stop(self, grace: float) -> None:
        self.logger.info("stopping (%.0fs for requests in flight)", grace)
        self.stopping = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes every worker's accept, refuses new
        with contextlib.suppress(OSError):
            self.sock.close()
        everyone = [*self.workers, *self.retiring, *self.inherited]
        self.retire(everyone, signal.SIGTERM, grace)
        self.workers.clear()
        self.inherited = ()

    def _checked_options(self) -> Any | None:
        try:
            return self.reload_options()
        except Exception as exc:  # noqa: BLE001 - a bad new config must not stop the server
            self.logger.error("reload refused, keeping the running config: %s", exc)
            return None

    def graceful_reload(self) -> None:
        options = self._checked_options()
        if options is None:
            return
        if (options.bind_ip, options.bind_port) != (self.options.bind_ip, self.options.bind_port):
            try:
                new_sock = self.bind(options)
            except Exception as exc:  # noqa: BLE001 - logged, the old socket stays
                self.logger.error("reload refused: %s", exc)
                return
            old_sock, self.sock = self.sock, new_sock
            old_sock.close()
        self.logger.info(
            "reloading: %d new workers, retiring %d", options.workers, len(self.workers)
        )
        self.options = options
        self.retire(list(self.workers), signal.SIGHUP, options.stale_worker_timeout)
        self.workers.clear()
        self.backoff = self.next_spawn = 0.0

    def seamless_reload(self) -> None:
        if self._checked_options() is None:
            return
        fd = self.sock.fileno()
        os.set_inheritable(fd, True)
        pids = ",".join(str(pid) for pid in [*self.workers, *self.retiring, *self.inherited])
        env = {**os.environ, LISTEN_FD_ENV: str(fd), RETIRE_ENV: pids}
        self.logger.info("seamless reload: re-executing with socket fd %d", fd)
        for handler in self.logger.handlers:
            handler.flush()
        try:
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)  # noqa: S606
        except OSError as exc:
            self.logger.error("seamless reload failed: %s", exc)


def inherited_socket(wanted: tuple[str, int], family: int) -> tuple[Any, tuple[int, ...]]:
    """The socket and workers a seamless reload handed over (and clears them from the env).

    Returns (None, pids) when nothing was handed over or the socket is not bound to ``wanted``
    (the reload changed bind_ip/bind_port: the caller binds anew, the old socket is closed).
    """
    from swiftlite.common import green

    fd_text = os.environ.pop(LISTEN_FD_ENV, "")
    pids = tuple(int(p) for p in os.environ.pop(RETIRE_ENV, "").split(",") if p.isdigit())
    if not fd_text.isdigit():
        return None, pids
    sock = green.green_socket.socket(fileno=int(fd_text))
    os.set_inheritable(sock.fileno(), False)
    if tuple(sock.getsockname()[:2]) != wanted or sock.family != family:
        sock.close()
        return None, pids
    return sock, pids


def _ignore(signo: int, frame: object) -> None:
    """SIGCHLD's handler: installed so the signal queues; sigtimedwait takes it."""


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"status {os.waitstatus_to_exitcode(status)}"
