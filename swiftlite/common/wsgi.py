"""Run a paste.deploy app: bind, check the app, drop privileges, fork workers.

``run_server(conf_path)`` is what every ``swiftlite-*-server`` command calls. In order, as
Swift's servers: read ``[DEFAULT]``; bind the listening socket (IPv4 or IPv6 ``bind_ip``, no
``SO_REUSEPORT``, so a port another process holds fails the start with an error naming it);
switch to ``user``; load the app once to check the pipeline (a broken one exits non-zero at
start, naming the section or option); then hand over to the master of
``common/supervisor.py``, which forks ``workers`` children (``auto``: one per CPU) that each
load the app and serve it with the lean HTTP server of ``common/http/server.py``.
``workers = 0`` serves in the master itself.

A worker serves until told to go (``SIGHUP``: a reload, ``SIGTERM``: a stop): it stops
accepting, closes idle keep-alive connections, and exits when its requests are done
(``common/http/drain.py``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import pwd
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, green, logs, near_cache, supervisor, telemetry
from swiftlite.common.addr import host_port
from swiftlite.common.errors import ConfigError
from swiftlite.common.http import server as http_server
from swiftlite.common.http.drain import Drain


@dataclass(frozen=True)
class ServerOptions:
    """The ``[DEFAULT]`` keys the runner itself reads (the app reads its own)."""

    bind_ip: str = "127.0.0.1"
    bind_port: int = 8080
    workers: int = 1
    backlog: int = 4096
    max_clients: int = 1024
    client_timeout: float = 60.0
    keepalive_timeout: float = 75.0
    max_header_line: int = 8192
    max_request_line: int = 8192
    # connections one client IP may hold waiting for a request head (0: no cap; see
    # common/http/server.py); the proxy sets it, storage servers serve the proxies' pools
    max_idle_per_ip: int = 0
    log_file: str | None = None
    log_level: str = "INFO"
    log_name: str = "server"
    log_requests: bool = False
    user: str | None = None
    swift_dir: str = "/etc/swiftlite"
    bind_timeout: float = 2.0  # how long to retry a port a dying process still holds
    graceful_shutdown_timeout: float = 30.0  # SIGTERM: time for requests in flight
    stale_worker_timeout: float = 86400.0  # SIGHUP/SIGUSR1: time old workers may finish in


def bind_socket(ip: str, port: int, backlog: int, timeout: float = 2.0) -> Any:
    """Listen on ip:port (IPv6 when ``ip`` has a colon) with SO_REUSEADDR, never SO_REUSEPORT.

    A port in use is retried for ``timeout`` seconds (a process that is exiting may still hold
    it), then fails with a ConfigError naming the address.
    """
    ip = ip.strip("[]")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = green.listen((ip, port), family=family, backlog=backlog, reuse_port=False)
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                where = host_port(ip, port)
                why = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise ConfigError(f"cannot bind {where} (port {port}): {why}") from None
            green.sleep(0.1)
    # Accepted sockets inherit this: without it, a response written as headers then a
    # sendfile body stalls ~40 ms on Nagle plus the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def load_app(conf_path: str) -> Any:
    from paste.deploy import loadapp

    return loadapp(f"config:{os.path.abspath(conf_path)}")


def check_app(conf_path: str) -> None:
    """Load the app once, as a worker will; ConfigError with paste's or the app's reason."""
    try:
        load_app(conf_path)
    except ConfigError as exc:
        raise ConfigError(f"{conf_path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - paste raises LookupError, ValueError...
        raise ConfigError(
            f"{conf_path}: cannot load the app: {type(exc).__name__}: {exc}"
        ) from None


def drop_privileges(user: str | None) -> None:
    """Become ``user`` (its uid, gid and groups); a no-op when already that user."""
    if not user:
        return
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ConfigError(f"user {user!r} does not exist") from None
    if os.getuid() == entry.pw_uid and os.geteuid() == entry.pw_uid:
        return
    if os.geteuid() != 0:
        raise ConfigError(f"cannot switch to user {user!r}: not running as root")
    os.setgroups(os.getgrouplist(user, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ["HOME"] = entry.pw_dir
    os.umask(0o022)


def run_worker(sock: Any, conf_path: str, options: ServerOptions, logger: logging.Logger) -> None:
    """A worker's life: load the app, serve until SIGHUP/SIGTERM, then drain and return."""
    green.fresh_hub()  # not the master's: see green.fresh_hub
    app = load_app(conf_path)
    drain = Drain()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # the hub sees a signal as a readable pipe
    for signo in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(signo, _noted)
    done = green.Event()
    serving = green.spawn(_serve_logged, sock, app, options, logger, drain)
    serving.link(lambda _gt: done.ready() or done.send(None))
    green.spawn_n(_wait_for_signal, wake_r, done)
    signo = done.wait()  # None: serving ended (the master shut the socket down for a stop)
    drain.begin()
    serving.kill()
    with contextlib.suppress(OSError):
        sock.close()
    grace = options.graceful_shutdown_timeout
    if signo == signal.SIGHUP:
        grace = options.stale_worker_timeout
    elif signo == signal.SIGINT:
        grace = 0.0
    if not drain.wait(grace):
        logger.warning("worker %d: requests still running after %.0fs", os.getpid(), grace)


def _serve_logged(
    sock: Any, app: Any, options: ServerOptions, logger: logging.Logger, drain: Drain
) -> None:
    try:
        serve(sock, app, options, logger, drain)
    except Exception:  # the worker then drains and exits; the master respawns it
        logger.exception("worker %d stopped serving", os.getpid())


def _noted(signo: int, frame: object) -> None:
    """A worker's signal handler: the wake-up pipe carries the signal to the hub."""


def _wait_for_signal(fd: int, done: Any) -> None:
    while not done.ready():
        green.trampoline(fd, read=True)
        try:
            data = os.read(fd, 16)
        except BlockingIOError:
            continue
        for signo in data:
            if signo in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT) and not done.ready():
                done.send(signo)


def serve_in_process(sock: Any, conf_path: str, options: ServerOptions, logger: Any) -> int:
    """``workers = 0``: serve in the master itself (debugging, small tests)."""
    app = load_app(conf_path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(sock, app, options, logger)
    return 0


def serve(
    sock: Any, app: Any, options: ServerOptions, logger: logging.Logger, drain: Drain | None = None
) -> None:
    """Serve ``app`` on ``sock`` until the process ends or ``drain`` begins."""
    http_server.serve(
        sock,
        app,
        max_clients=options.max_clients,
        client_timeout=options.client_timeout,
        keepalive_timeout=options.keepalive_timeout,
        max_header_line=options.max_header_line,
        max_request_line=options.max_request_line,
        max_idle_per_ip=options.max_idle_per_ip,
        logger=logger,
        drain=drain,
    )


def read_server_options(conf_path: str) -> ServerOptions:
    parser = config.read_file(conf_path, raw_sections=True)
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    if defaults.get("workers", "").strip().lower() == "auto":
        defaults["workers"] = str(os.cpu_count() or 1)
    # [DEFAULT] holds every server and app key; warn only about keys nobody could want.
    options = config.parse_options(ServerOptions, {}, defaults, where=f"{conf_path} [DEFAULT]")
    return options


def _reloaded(conf_path: str) -> ServerOptions:
    options = read_server_options(conf_path)
    check_app(conf_path)
    return options


def _bind(options: ServerOptions) -> Any:
    return bind_socket(options.bind_ip, options.bind_port, options.backlog, options.bind_timeout)


def run_server(conf_path: str, name: str) -> int:
    """Entry point of a server command: returns the process exit code (2: bad config)."""
    try:
        options = read_server_options(conf_path)
        telemetry.configure_from_file(conf_path)  # syslog and StatsD targets (h6b)
    except ConfigError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    logger = logs.get_logger(name, options.log_file, options.log_level)
    green.monkey_patch()
    try:
        family = socket.AF_INET6 if ":" in options.bind_ip else socket.AF_INET
        wanted = (options.bind_ip.strip("[]"), options.bind_port)
        sock, inherited = supervisor.inherited_socket(wanted, family)
        if sock is None:
            sock = _bind(options)
        # paste.deploy (and the importlib.metadata it reads entry points with) is imported
        # while still root: an interpreter installed where the user cannot read (a root-only
        # home) could not import it after the switch
        import paste.deploy  # noqa: F401

        drop_privileges(options.user)
        check_app(conf_path)
    except ConfigError as exc:
        logger.error("%s", exc)
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    logger.info(
        "%s starting on %s:%d with %d workers",
        name,
        options.bind_ip,
        options.bind_port,
        options.workers,
    )
    if options.workers <= 0:
        return serve_in_process(sock, conf_path, options, logger)
    near_cache.share_generation()  # before the fork: the workers' info caches share it
    master = supervisor.Master(
        sock,
        options,
        logger,
        worker=lambda s, o: run_worker(s, conf_path, o, logger),
        reload=lambda: _reloaded(conf_path),
        bind=_bind,
    )
    return master.run(inherited)
