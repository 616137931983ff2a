"""Run a paste.deploy app: bind before fork, pre-fork workers, supervise them.

``run_server(conf_path)`` is what every ``swiftlite-*-server`` command calls. The master binds
the listening socket once, forks ``workers`` children that each load the app and serve it with
the lean HTTP server of ``common/http/server.py`` (``http_server = eventlet`` picks
eventlet.wsgi), re-spawns a worker that dies, and on SIGTERM/SIGINT stops them all.
``workers = 0`` serves in the master process itself (handy for debugging and small tests).
The supervision loop reads from its method names: spawn_worker, reap_workers, handle_term.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, green, logs, telemetry
from swiftlite.common.errors import ConfigError
from swiftlite.common.http import server as http_server


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
    http_server: str = "swiftlite"  # or "eventlet": eventlet.wsgi, kept for A/B measurement


def bind_socket(ip: str, port: int, backlog: int) -> socket.socket:
    """Listen on ip:port with SO_REUSEADDR, retrying briefly while a dying process holds it."""
    last: OSError | None = None
    for _ in range(50):
        try:
            sock = green.listen((ip, port), backlog=backlog)
            # Accepted sockets inherit this: without it, a response written as headers then a
            # sendfile body stalls ~40 ms on Nagle plus the client's delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            last = exc
            green.sleep(0.1)
    raise ConfigError(f"cannot bind {ip}:{port}: {last}")


def load_app(conf_path: str) -> Any:
    from paste.deploy import loadapp

    return loadapp(f"config:{os.path.abspath(conf_path)}")


class Supervisor:
    """The master process: owns the socket and the worker pids."""

    def __init__(self, conf_path: str, options: ServerOptions, logger: logging.Logger) -> None:
        self.conf_path = conf_path
        self.options = options
        self.logger = logger
        self.sock: socket.socket | None = None
        self.children: set[int] = set()
        self.running = True

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self) -> int:
        self.sock = bind_socket(self.options.bind_ip, self.options.bind_port, self.options.backlog)
        if self.options.workers <= 0:
            return self.serve_in_process()
        signal.signal(signal.SIGTERM, self.handle_term)
        signal.signal(signal.SIGINT, self.handle_term)
        signal.signal(signal.SIGHUP, self.handle_term)
        while self.running:
            while self.running and len(self.children) < self.options.workers:
                self.spawn_worker()
            self.reap_workers(block=True)
        self.stop_workers()
        return 0

    def serve_in_process(self) -> int:
        green.monkey_patch()
        app = load_app(self.conf_path)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve(self.sock, app, self.options, self.logger)  # type: ignore[arg-type]
        return 0

    # -- workers -----------------------------------------------------------------------------
    def spawn_worker(self) -> None:
        pid = os.fork()
        if pid == 0:
            self.run_worker()
            os._exit(0)
        self.children.add(pid)

    def run_worker(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            green.monkey_patch()
            app = load_app(self.conf_path)
            serve(self.sock, app, self.options, self.logger)  # type: ignore[arg-type]
        except Exception:
            self.logger.exception("worker %d failed", os.getpid())
            os._exit(1)

    def reap_workers(self, block: bool) -> None:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        except InterruptedError:
            return
        if pid and pid in self.children:
            self.children.discard(pid)
            if self.running:
                self.logger.warning("worker %d exited (status %d); starting another", pid, status)

    def handle_term(self, signum: int, frame: object) -> None:
        self.running = False
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.discard(pid)

    def stop_workers(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.children.discard(pid)


def serve(sock: socket.socket, app: Any, options: ServerOptions, logger: logging.Logger) -> None:
    """Serve ``app`` on ``sock`` until the process ends (``common/http/server.py``)."""
    if options.http_server != "eventlet":
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
        )
        return
    green.wsgi.MAX_HEADER_LINE = options.max_header_line
    green.wsgi.server(
        sock,
        app,
        log=_WsgiLog(logger) if options.log_requests else None,
        log_output=options.log_requests,
        max_size=options.max_clients,
        url_length_limit=options.max_request_line,
        socket_timeout=options.client_timeout,
        keepalive=options.keepalive_timeout,
        debug=False,
        capitalize_response_headers=False,
    )


class _WsgiLog:
    """eventlet's request log writes to a file-like object; route it to our logger."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(self, text: str) -> None:
        text = text.rstrip()
        if text:
            self.logger.info(text)


def read_server_options(conf_path: str) -> ServerOptions:
    parser = config.read_file(conf_path, raw_sections=True)
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    # [DEFAULT] holds every server and app key; warn only about keys nobody could want.
    options = config.parse_options(ServerOptions, {}, defaults, where=f"{conf_path} [DEFAULT]")
    if options.http_server not in ("swiftlite", "eventlet"):
        raise ConfigError(
            f"{conf_path}: http_server must be swiftlite or eventlet, not {options.http_server!r}"
        )
    return options


def run_server(conf_path: str, name: str) -> int:
    """Entry point of a server command: returns the process exit code."""
    try:
        options = read_server_options(conf_path)
        telemetry.configure_from_file(conf_path)  # syslog and StatsD targets (h6b)
    except ConfigError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    logger = logs.get_logger(name, options.log_file, options.log_level)
    logger.info(
        "%s starting on %s:%d with %d workers",
        name,
        options.bind_ip,
        options.bind_port,
        options.workers,
    )
    try:
        return Supervisor(conf_path, options, logger).run()
    except ConfigError as exc:
        logger.error("%s", exc)
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
