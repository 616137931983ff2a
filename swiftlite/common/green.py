"""The one module that imports eventlet.

Everything green (spawning, pools, timeouts, sleeping, sockets, thread offload and the WSGI
server) is reached through these names, so a later move away from eventlet touches one file.
"""

from __future__ import annotations

import os
import warnings

# eventlet's green DNS resolver pulls in dnspython: 0.18 s of CPU at every process start (of
# 0.42 s for a daemon), paid some sixty times when a 4-node cluster starts. Backends are
# reached by the ring's IP addresses, so the few names resolved (a memcached or bind host
# given by name, at start-up or per new connection) use the system resolver and block for
# that lookup. EVENTLET_NO_GREENDNS=no in the environment brings the green resolver back.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")

with warnings.catch_warnings():
    # eventlet warns about its own maintenance status at import; we know, and keep it behind
    # this one module so that moving away from it stays a small job.
    warnings.simplefilter("ignore")
    import eventlet
    import eventlet.hubs
    import eventlet.patcher
import eventlet.debug
import eventlet.event
import eventlet.greenpool
import eventlet.queue
import eventlet.semaphore
import eventlet.timeout
import eventlet.tpool
import eventlet.wsgi
from eventlet.green import http as green_http  # noqa: F401  (re-exported for clients)
from eventlet.green import socket as green_socket  # noqa: F401

spawn = eventlet.spawn
spawn_n = eventlet.spawn_n
sleep = eventlet.sleep
GreenPool = eventlet.greenpool.GreenPool
GreenPile = eventlet.greenpool.GreenPile
Timeout = eventlet.timeout.Timeout
Event = eventlet.event.Event
Queue = eventlet.queue.Queue
LightQueue = eventlet.queue.LightQueue
Empty = eventlet.queue.Empty
Semaphore = eventlet.semaphore.Semaphore
listen = eventlet.listen
connect = eventlet.connect
wsgi = eventlet.wsgi
tpool_execute = eventlet.tpool.execute
trampoline = eventlet.hubs.trampoline
getcurrent = eventlet.getcurrent
kill = eventlet.kill
GreenletExit = eventlet.support.greenlets.GreenletExit


real_threading = eventlet.patcher.original("threading")  # OS-thread locks, even when patched
real_time = eventlet.patcher.original("time")  # a sleep that holds the whole process


def fresh_hub() -> None:
    """Give a forked child a hub of its own (call it first thing after ``fork``).

    A hub made before the fork (the master makes one when it binds) owns an epoll instance,
    and epoll instances survive fork shared. Its registrations are keyed by open file, so a
    child that stops listening (a retiring worker closing the listening socket) would drop
    the listening socket from every other child's poll as well: the new workers would never
    wake for another connection.
    """
    eventlet.hubs.use_hub()


def monkey_patch() -> None:
    """Patch the standard library for green I/O (servers and daemons call this first)."""
    eventlet.monkey_patch(os=False, thread=True, socket=True, select=True, time=True)


def is_monkey_patched(module: str) -> bool:
    return bool(eventlet.patcher.is_monkey_patched(module))


def hub_blocking_detection(enabled: bool) -> None:
    eventlet.debug.hub_blocking_detection(enabled)
