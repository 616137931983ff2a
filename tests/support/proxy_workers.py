"""Which proxy worker serves a connection: found from ``/proc``, not guessed.

The kernel hands each new connection to whichever worker accepts first, so a test that must
write through one worker and read through another pins its connections by looking up the
process that holds the server side of each one.
"""

from __future__ import annotations

import os

from swiftlite.aio import procs
from tests.support.cluster import Cluster


def group_pids(leader: int) -> list[int]:
    """The live processes of ``leader``'s process group: the master and its workers."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == leader and fields[0] != "Z":
            found.append(int(entry))
    return found


def serving_pids(cluster: Cluster, client_ports: set[int]) -> dict[int, int]:
    """{client port: pid of the proxy process holding the server side of that connection}."""
    inodes: dict[str, int] = {}
    with open("/proc/net/tcp", encoding="ascii") as fh:
        for line in fh.readlines()[1:]:
            parts = line.split()
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            remote_port = int(parts[2].rsplit(":", 1)[1], 16)
            if local_port == cluster.plan.proxy_port and remote_port in client_ports:
                inodes[f"socket:[{parts[9]}]"] = remote_port
    leader = procs.read_pid(cluster.plan.run_dir, "proxy-server")
    assert leader is not None
    owners: dict[int, int] = {}
    for pid in group_pids(leader):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in inodes:
                owners[inodes[target]] = pid
    return owners
