"""A cluster of four "machines" on loopback, each started with ``swiftlite-init start all``.

Three storage machines (127.0.0.2, .3, .4) and a proxy machine (127.0.0.1), each with its
own config, run and log directories and only copies of the rings (``tests/support/multihost``).
Client operations, the ``swift`` CLI, what each machine's ``swiftlite-init status`` shows, and
a rolling ``swiftlite-init reload`` of every machine under steady load with no client error.
The whole client suite runs against this cluster with ``SWIFTLITE_FUNCTIONAL_MULTIHOST=1``.
"""

from __future__ import annotations

import glob
import os
import pathlib
import subprocess
import sys
import threading

import pytest

from bench import loadgen
from tests.support.cluster import Auth
from tests.support.multihost import MultiHost, MultiHostCluster
from tests.support.wait import wait_until

SWIFT = str(pathlib.Path(sys.executable).with_name("swift"))


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory):
    hosts = MultiHost(str(tmp_path_factory.mktemp("multihost")))
    hosts.build()
    try:
        hosts.start()
        yield hosts
    finally:
        hosts.stop()


@pytest.fixture(scope="module")
def mh(hosts: MultiHost) -> MultiHostCluster:
    return hosts.cluster()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def user(mh: MultiHostCluster) -> Auth:
    return mh.auth()


def test_each_machine_runs_only_what_its_configs_ask_for(hosts: MultiHost) -> None:
    proxy = hosts.proxy.init("status", "all").stdout
    assert "proxy-server running" in proxy
    assert "object-server" not in proxy
    for machine in hosts.storage:
        out = machine.init("status", "all").stdout
        for name in ("account-server", "container-server", "object-server"):
            assert f"{name} running" in out
        for name in ("object-replicator", "object-expirer", "container-updater", "account-reaper"):
            assert f"{name} running" in out
        assert "proxy-server" not in out
        assert len(glob.glob(os.path.join(machine.run, "*.pid"))) == 13 + 1  # and rsyncd's


def test_object_round_trip_lands_one_replica_per_machine(mh, hosts, user) -> None:
    token = {"X-Auth-Token": user.token}
    assert mh.request("PUT", f"{user.path}/mhc", token)[0] == 201
    status, _, _ = mh.request("PUT", f"{user.path}/mhc/obj", token, b"across machines")
    assert status == 201
    status, _, body = mh.request("GET", f"{user.path}/mhc/obj", token)
    assert (status, body) == (200, b"across machines")
    assert [o["name"] for o in mh.json(f"{user.path}/mhc", user.token)] == ["obj"]  # type: ignore[index, union-attr]
    holders = [m.name for m in hosts.storage if glob.glob(os.path.join(m.srv, "*", "objects", "*"))]
    assert holders == [m.name for m in hosts.storage]  # three zones: one replica each
    assert mh.request("DELETE", f"{user.path}/mhc/obj", token)[0] == 204
    assert mh.request("GET", f"{user.path}/mhc/obj", token)[0] == 404
    assert mh.request("DELETE", f"{user.path}/mhc", token)[0] == 204


def test_swift_cli_upload_list_download_delete(mh, tmp_path) -> None:
    def swift(*args: str, cwd: pathlib.Path | None = None) -> str:
        cmd = [SWIFT, "-A", mh.auth_url, "-U", "test:tester", "-K", "testing", *args]
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout

    src = tmp_path / "src"
    (src / "dir").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"alpha\n")
    (src / "dir" / "b.bin").write_bytes(os.urandom(200_000))
    swift("upload", "cli", ".", cwd=src)
    assert set(swift("list", "cli").split()) == {"a.txt", "dir/b.bin"}
    out = tmp_path / "out"
    out.mkdir()
    swift("download", "cli", cwd=out)
    assert (out / "dir" / "b.bin").read_bytes() == (src / "dir" / "b.bin").read_bytes()
    swift("delete", "cli")
    assert "cli" not in swift("list").split()


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
        return {int(p) for p in fh.read().split()}


def _server_pids(machine) -> dict[str, int]:
    pids = {}
    for path in glob.glob(os.path.join(machine.run, "*-server.pid")):
        with open(path, encoding="ascii") as fh:
            pids[os.path.basename(path)[: -len(".pid")]] = int(fh.read())
    return pids


def test_rolling_reload_under_load_has_no_client_error(mh, hosts, user) -> None:
    token = {"X-Auth-Token": user.token}
    assert mh.request("PUT", f"{user.path}/load", token)[0] == 201
    for i in range(20):
        assert mh.request("PUT", f"{user.path}/load/o{i}", token, b"x" * 1024)[0] == 201
    job = loadgen.Job(
        name="rolling-reload",
        host=mh.plan.proxy_ip,
        port=mh.plan.proxy_port,
        ops=(
            loadgen.Op("GET", f"{user.path}/load/o", spread=20),
            loadgen.Op("PUT", f"{user.path}/load/new-", body=b"y" * 512),
        ),
        pattern=(0, 0, 0, 1),
        count=200,  # one round; rounds repeat until every machine has reloaded
        connections=6,
        headers=(("X-Auth-Token", user.token),),
        max_seconds=60.0,  # a round not done by then counts its missing requests as errors
    )
    rounds: list[loadgen.RunResult] = []
    done = threading.Event()

    def steady_load() -> None:
        while not done.is_set():
            rounds.append(loadgen.run_python(job))

    load = threading.Thread(target=steady_load)
    load.start()
    reloaded = []
    try:
        wait_until(lambda: rounds, timeout=60, what="a first round of load")
        for machine in hosts.machines:  # one machine at a time, the proxy last
            masters = _server_pids(machine)
            before = {name: _children(pid) for name, pid in masters.items()}
            machine.init("reload", "all")
            for name, pid in masters.items():
                wait_until(
                    lambda pid=pid, old=before[name]: (
                        not (_children(pid) & old) and len(_children(pid)) == 2
                    ),
                    timeout=60,
                    what=f"{machine.name} {name}: new workers only",
                )
            assert _server_pids(machine) == masters  # reloaded in place, same masters
            reloaded.append(machine.name)
        count = len(rounds)
        wait_until(lambda: len(rounds) > count, timeout=60, what="a round after the reloads")
    finally:
        done.set()
        load.join()
    requests = sum(r.requests for r in rounds)
    errors = sum(r.errors for r in rounds)
    statuses = {code for r in rounds for code in r.statuses}
    assert requests >= 400
    assert errors == 0, [r.to_dict() for r in rounds if r.errors]
    assert statuses <= {"200", "201"}
    assert reloaded == [m.name for m in hosts.machines]
