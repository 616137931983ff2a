"""The rsync side of replication: command lines, the runner, and a real rsync daemon.

The last test is the whole path as the probe tests run it: object servers on real sockets,
one ``rsync --daemon`` with a module per node, and ``swiftlite-object-replicator CONF once``
(the module's ``main``) in its own, monkey-patched, process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest
from objtest_helpers import make_server

from swiftlite.common.http.client import direct_request
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import rsync
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder
from swiftlite.ring.node import Node
from tests.support.inproc import ServedApp, bound_socket
from tests.support.wait import wait_until

needs_rsync = [
    pytest.mark.needs_rsync,
    pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed"),
]


def test_command_pushes_suffixes_relative_to_the_device() -> None:
    argv = rsync.command("/srv/n1/sda", 17, ["fff", "abc"], "/srv/n2", "sdb", 30.0)
    assert argv[0] == "rsync"
    assert argv[-3:] == [
        "/srv/n1/sda/./objects/17/abc",
        "/srv/n1/sda/./objects/17/fff",
        "/srv/n2/sdb/",
    ]
    for flag in ("--relative", "--xattrs", "--ignore-existing", "--temp-dir=tmp", "--timeout=30"):
        assert flag in argv
    assert not any(a.startswith("--contimeout") for a in argv)  # local targets refuse it
    assert not any(a.startswith("--bwlimit") for a in argv)


def test_command_to_a_daemon_sets_connect_timeout_and_bandwidth() -> None:
    argv = rsync.command(
        "/d/sda", 3, ["abc"], "rsync://10.0.0.2:873/object", "sdb", 5, "1000", compress=True
    )
    assert "--contimeout=5" in argv
    assert "--bwlimit=1000" in argv
    assert "--compress" in argv
    assert argv[-1] == "rsync://10.0.0.2:873/object/sdb/"


def test_module_for_formats_node_fields_and_brackets_ipv6() -> None:
    node = Node(1, 1, 1, "fe80::1", 6200, "sdb", replication_ip="fe80::2", replication_port=6300)
    template = "rsync://{replication_ip}:{rsync_port}/object{replication_port}/"
    assert rsync.module_for(template, node, 873) == "rsync://[fe80::2]:873/object6300"
    assert rsync.module_for("{ip}::object", Node(2, 1, 1, "10.1.1.1", 1, "sdb"), 873) == (
        "10.1.1.1::object"
    )


def test_count_transferred_counts_new_files_only() -> None:
    output = "cd+++++++++ objects/\n<f+++++++++ objects/1/abc/h/1.data\n>f+++++++++ x.ts\n"
    assert rsync.count_transferred(output) == 2


def test_run_missing_binary_is_a_failed_result() -> None:
    result = rsync.run(["/nonexistent/rsync-binary"], 5)
    assert not result.ok
    assert result.code == 127


def test_run_kills_a_command_past_its_timeout() -> None:
    result = rsync.run([sys.executable, "-c", "import time; time.sleep(30)"], 0.3)
    assert result.code == -9
    assert "killed" in result.output


def test_run_exit_24_vanished_files_counts_as_success() -> None:
    assert rsync.run([sys.executable, "-c", "raise SystemExit(24)"], 10).ok


# -- a real rsync daemon ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def nodes(tmp_path):
    """Three object servers on real sockets, their ring, and an rsync daemon for all three."""
    served = []
    for _ in range(3):
        sock = bound_socket()
        port = sock.getsockname()[1]
        devices = tmp_path / f"node{port}"
        (devices / "sda").mkdir(parents=True)
        served.append(ServedApp(f"obj{port}", make_server(str(devices)), sock).start())
    swift_dir = tmp_path / "etc"
    swift_dir.mkdir()
    builder = RingBuilder(2, 3, 0)
    for zone, app in enumerate(served, start=1):
        dev = {"region": 1, "zone": zone, "ip": "127.0.0.1", "port": app.port, "device": "sda"}
        builder.add_dev({**dev, "weight": 100})
    builder.rebalance(seed=1)
    builder.write_ring(str(swift_dir / "object.ring.gz"))
    rsync_port = _free_port()
    lines = [
        f"uid = {os.getuid()}",
        f"gid = {os.getgid()}",
        "use chroot = no",
        "address = 127.0.0.1",
        f"port = {rsync_port}",
        f"pid file = {tmp_path}/rsyncd.pid",
        f"log file = {tmp_path}/rsyncd.log",
    ]
    for app in served:
        lines += [
            f"[object{app.port}]",
            f"path = {tmp_path}/node{app.port}",
            "read only = false",
            f"lock file = {tmp_path}/rsync{app.port}.lock",
        ]
    (tmp_path / "rsyncd.conf").write_text("\n".join(lines) + "\n")
    daemon = subprocess.Popen(
        ["rsync", "--daemon", "--no-detach", f"--config={tmp_path}/rsyncd.conf"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _accepts(rsync_port), timeout=10)
        yield {"root": tmp_path, "swift_dir": swift_dir, "rsync_port": rsync_port, "apps": served}
    finally:
        daemon.kill()
        daemon.wait()
        for app in served:
            app.stop()


@pytest.mark.needs_rsync
@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed")
def test_replicator_process_pushes_through_the_rsync_daemon(nodes) -> None:
    root, ports = nodes["root"], [app.port for app in nodes["apps"]]
    ring = Ring(str(nodes["swift_dir"] / "object.ring.gz"))
    part, primaries = ring.get_nodes("a", "c", "o")
    source = primaries[0].port
    stamp = Timestamp.now()
    headers = {
        "X-Timestamp": stamp.internal,
        "Content-Type": "text/plain",
        "X-Object-Meta-Kind": "probe",
    }
    path = f"/sda/{part}/a/c/o"
    assert direct_request("127.0.0.1", source, "PUT", path, headers, b"over rsync").status == 201
    conf = root / "object-server.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"devices = {root}/node{source}\n"
        "mount_check = false\n"
        f"swift_dir = {nodes['swift_dir']}\n"
        "bind_ip = 127.0.0.1\n"
        f"bind_port = {source}\n"
        "[object-replicator]\n"
        f"recon_cache_path = {root}/recon\n"
        "rsync_module = rsync://{replication_ip}:{rsync_port}/object{replication_port}\n"
        f"rsync_port = {nodes['rsync_port']}\n"
        "log_level = WARNING\n"
    )
    code = "import sys; from swiftlite.obj.replicator import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(conf), "once"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for port in ports:
        if port == source:
            continue
        resp = direct_request("127.0.0.1", port, "GET", path)
        assert (resp.status, resp.body) == (200, b"over rsync"), port
        assert resp.header("X-Object-Meta-Kind") == "probe"
        assert resp.header("X-Backend-Timestamp") == stamp.internal
        assert os.listdir(root / f"node{port}" / "sda" / "tmp") == []  # rsync staged, renamed
    recon = (root / "recon" / "object.recon").read_text()
    assert '"suffixes_synced": 2' in recon
