"""The faults of the fault matrix (``tests/support/fault_matrix.py``), one per ``Scenario``.

A ``Scenario`` is a name and an ``inject(ctx)`` returning an optional ``recover`` callable:
transient faults (a killed or stopped process, an unmounted or full device) are recovered in
the middle of the load; lasting ones (a flipped byte, a removed partition, a corrupted
database) are left for the daemons to repair.

Processes are signalled only through the pids the aio recorded (and, for a proxy worker, the
children of the recorded proxy master).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from swiftlite.aio import procs
from swiftlite.common import errors
from swiftlite.common.hashing import hash_path, suffix_of
from swiftlite.common.http.client import direct_request
from swiftlite.common.timestamp import Timestamp
from tests.support.cluster import Auth, Cluster
from tests.support.journal_load import Journal
from tests.support.proxy_workers import group_pids
from tests.support.wait import wait_until

ACCOUNT = "AUTH_test"


@dataclass
class Context:
    cluster: Cluster
    auth: Auth
    container: str
    journal: Journal
    seeds: list[str]
    full_device: tuple[str, str] | None  # (ip, device) on a small file system of its own
    notes: list[str] = field(default_factory=list)

    @property
    def container_path(self) -> str:
        return f"{self.auth.path}/{self.container}"


Recover = Callable[[], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    inject: Callable[[Context], Recover | None]
    needs_full_device: bool = False
    # daemon passes whose reported failure is the injected damage being found (recorded in
    # the figures, not fatal; the checks after repair decide)
    finds_damage: tuple[str, ...] = ()


# -- processes --------------------------------------------------------------------------------


def _server_pid(c: Cluster, node: int, kind: str) -> int:
    pid = procs.read_pid(c.plan.run_dir, c.server_name(node, kind))
    assert pid is not None, f"no pid recorded for the node{node} {kind} server"
    assert procs.pid_alive(pid), f"node{node} {kind} server is not running"
    return pid


def kill9_server(c: Cluster, node: int, kind: str) -> Recover:
    """SIGKILL the server's whole process group (master and workers); recovery restarts it."""
    pid = _server_pid(c, node, kind)
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not procs.pid_alive(pid), timeout=10, what=f"pid {pid} to die")
    return c.start_missing


def _children(pid: int) -> list[int]:
    """The workers of the master ``pid`` (its process group, the master left out)."""
    return [p for p in group_pids(pid) if p != pid]


def kill9_proxy_worker(c: Cluster) -> Recover:
    master = procs.read_pid(c.plan.run_dir, "proxy-server")
    assert master is not None
    workers = _children(master)
    assert workers, "the proxy master has no workers"
    os.kill(workers[0], signal.SIGKILL)

    def respawned() -> None:
        wait_until(
            lambda: (
                workers[0] not in _children(master)
                and len(_children(master)) == c.plan.proxy_workers
            ),
            timeout=20,
            what="the proxy master to respawn its worker",
        )

    return respawned


def stop_node(c: Cluster, node: int) -> Recover:
    """SIGSTOP every storage server of ``node``: it accepts connections and never answers."""
    pids = [_server_pid(c, node, kind) for kind in ("object", "container", "account")]
    for pid in pids:
        os.killpg(pid, signal.SIGSTOP)
    plan_node = c.plan.nodes[node - 1]
    try:
        direct_request(plan_node.ip, plan_node.object_port, "GET", "/healthcheck", node_timeout=1)
        answered = True
    except errors.Timeout:
        answered = False
    assert not answered, f"node{node} still answers after SIGSTOP"

    def resume() -> None:
        for pid in pids:
            os.killpg(pid, signal.SIGCONT)

    return resume


# -- devices ----------------------------------------------------------------------------------


def _expect_507(c: Context, ip: str, device: str, what: str) -> None:
    """A direct object PUT to the device must be refused with 507 (the proxy then hands off)."""
    node = next(n for n in c.cluster.plan.nodes if n.ip == ip)
    resp = direct_request(
        ip,
        node.object_port,
        "PUT",
        f"/{device}/0/{ACCOUNT}/{c.container}/direct-probe",
        {"X-Timestamp": Timestamp.now().internal, "Content-Type": "application/octet-stream"},
        b"x" * 65536,
    )
    c.notes.append(f"{what} {ip}/{device}: a direct object PUT is {resp.status}")
    assert resp.status == 507, f"object server on the {what} device answered {resp.status}"
    with c.cluster.own_conf():
        part, nodes = c.cluster.ring("container").get_nodes(ACCOUNT, c.container)
    if any((n.ip, n.device) == (ip, device) for n in nodes):
        listing = direct_request(
            ip, node.container_port, "GET", f"/{device}/{part}/{ACCOUNT}/{c.container}"
        )
        c.notes.append(f"its container DB answers a listing GET with {listing.status}")
        assert listing.status in (200, 204, 507), f"container listing GET: {listing.status}"


def unmount_device(c: Context, ip: str, device: str) -> Recover:
    """What the servers see of an unmounted device with mount_check off: no device directory
    (every request to it is 507). Recovery puts the directory back."""
    path = c.cluster.device_path(ip, device)
    away = path + ".unmounted"
    os.rename(path, away)
    _expect_507(c, ip, device, "unmounted")

    def remount() -> None:
        os.rename(away, path)

    return remount


def fill_device(c: Context, ip: str, device: str) -> Recover:
    """Fill a device on its own small file system until ENOSPC; recovery frees the space."""
    filler = os.path.join(c.cluster.device_path(ip, device), "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError:
                    break
    finally:
        os.close(fd)
    assert os.statvfs(os.path.dirname(filler)).f_bavail == 0, "the device is not full"
    _expect_507(c, ip, device, "full")
    return lambda: os.unlink(filler)


def mount_small_fs(path: str, size: str = "256m") -> bool:
    """Mount a tmpfs of ``size`` on ``path`` (root only); False when that is not possible."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    os.makedirs(path, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def unmount_small_fs(path: str) -> None:
    if os.path.ismount(path):
        subprocess.run(["umount", path], check=False)
        if os.path.ismount(path):
            subprocess.run(["umount", "-l", path], check=False)


# -- lasting damage ---------------------------------------------------------------------------


def _object_file(c: Context, name: str, ext: str) -> tuple[str, str, str]:
    """(ip, device, path) of ``name``'s newest ``ext`` file on its first primary."""
    ip, device = c.cluster.primaries("object", ACCOUNT, c.container, name)[0]
    with c.cluster.own_conf():
        name_hash = hash_path(ACCOUNT, c.container, name)
        part = c.cluster.ring("object").get_part(ACCOUNT, c.container, name)
    hash_dir = os.path.join(
        c.cluster.device_path(ip, device), "objects", str(part), suffix_of(name_hash), name_hash
    )
    files = sorted(f for f in os.listdir(hash_dir) if f.endswith(ext))
    assert files, f"no {ext} file for {name} in {hash_dir}"
    return ip, device, os.path.join(hash_dir, files[-1])


def flip_byte(c: Context) -> None:
    name = next(n for n in c.seeds if os.path.getsize(_object_file(c, n, ".data")[2]) > 0)
    ip, device, path = _object_file(c, name, ".data")
    with open(path, "r+b") as fh:
        fh.seek(os.path.getsize(path) // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0x5A]))
    c.notes.append(f"flipped a byte of {name} on {ip}/{device}")


def remove_partition(c: Context) -> None:
    """Remove the partition directory holding the first seed's replica on its first primary."""
    ip, device, path = _object_file(c, c.seeds[0], ".data")
    part_dir = os.path.dirname(os.path.dirname(os.path.dirname(path)))
    # moved aside in one step (the servers keep writing into it), then deleted
    aside = os.path.join(c.cluster.device_path(ip, device), "removed-partition")
    os.rename(part_dir, aside)
    held = sum(len(files) for _, _, files in os.walk(aside))
    shutil.rmtree(aside)
    c.notes.append(f"removed {ip}/{device} objects/{os.path.basename(part_dir)} ({held} files)")


def corrupt_container_db(c: Context) -> None:
    """Overwrite the SQLite header and a page of the scenario container's DB on one primary."""
    ip, device = c.cluster.primaries("container", ACCOUNT, c.container)[0]
    root = os.path.join(c.cluster.device_path(ip, device), "containers")
    dbs = [
        os.path.join(d, f)
        for d, _, files in os.walk(root)
        for f in files
        if f.endswith(".db") and _db_is_for(os.path.join(d, f), c)
    ]
    assert len(dbs) == 1, f"container DB of {c.container} on {ip}/{device}: {dbs}"
    size = os.path.getsize(dbs[0])
    with open(dbs[0], "r+b") as fh:
        fh.write(os.urandom(100))
        if size > 8192:
            fh.seek(4096)
            fh.write(os.urandom(4096))
    c.notes.append(f"corrupted the container DB on {ip}/{device} ({size} bytes)")


def _db_is_for(path: str, c: Context) -> bool:
    with c.cluster.own_conf():
        return os.path.basename(path) == hash_path(ACCOUNT, c.container) + ".db"


# -- the matrix -------------------------------------------------------------------------------


def _lasting(damage: Callable[[Context], None]) -> Callable[[Context], Recover | None]:
    def inject(c: Context) -> None:
        damage(c)

    return inject


def _primary_node(c: Context, kind: str, replica: int) -> int:
    """The node index of one primary of the scenario's account (or container)."""
    names = (ACCOUNT,) if kind == "account" else (ACCOUNT, c.container)
    ip, _ = c.cluster.primaries(kind, *names)[replica]
    return next(n.index for n in c.cluster.plan.nodes if n.ip == ip)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("kill -9 object server", lambda c: kill9_server(c.cluster, 1, "object")),
    Scenario(
        "kill -9 container server",
        lambda c: kill9_server(c.cluster, _primary_node(c, "container", 0), "container"),
    ),
    Scenario(
        "kill -9 account server",
        lambda c: kill9_server(c.cluster, _primary_node(c, "account", 0), "account"),
    ),
    Scenario("kill -9 proxy worker", lambda c: kill9_proxy_worker(c.cluster)),
    Scenario(
        "node SIGSTOP then SIGCONT",
        lambda c: stop_node(c.cluster, _primary_node(c, "container", 1)),
    ),
    Scenario(
        "device unmounted",
        lambda c: unmount_device(c, *c.cluster.all_devices()[2]),
    ),
    Scenario(
        "device full (ENOSPC)",
        lambda c: fill_device(c, *c.full_device),  # type: ignore[misc]
        needs_full_device=True,
    ),
    Scenario("byte flipped in a .data", _lasting(flip_byte)),
    Scenario("partition directory removed", _lasting(remove_partition)),
    # Found by a request (the server quarantines it) or by the container auditor's check,
    # whichever comes first: in one suite run the server's listings of that database kept
    # answering 200 until the auditor found it "malformed" and quarantined it.
    Scenario(
        "container DB corrupted",
        _lasting(corrupt_container_db),
        finds_damage=("container-auditor",),
    ),
)
