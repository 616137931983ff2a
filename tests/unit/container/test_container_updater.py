"""Container totals reaching the account: at PUT/DELETE, batched flushes, async and the daemon.

The account side is a real AccountServer served by wsgiref in a thread, so the container side's
blocking HTTP client and the server can both make progress without monkey-patching.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import wsgiref.simple_server

import pytest
from webob import Request

from swiftlite.account.server import AccountServer, AccountServerOptions
from swiftlite.common import green
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.account_report import AccountNode, format_hint, parse_hint
from swiftlite.container.broker import ContainerBroker
from swiftlite.container.updater import ContainerUpdater, ContainerUpdaterOptions
from swiftlite.db import layout
from tests.support.wait import wait_until


class _Quiet(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class AccountNodeServer:
    """An account server on 127.0.0.1 that counts the container reports it receives."""

    def __init__(self, root, port=0):
        (root / "adev").mkdir(parents=True, exist_ok=True)
        self.app = AccountServer(
            AccountServerOptions(devices=str(root), mount_check=False, log_requests=False),
            logger=logging.getLogger("test.account"),
        )
        self.reports = []

        def counting(environ, start_response):
            if environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].count("/") == 4:
                self.reports.append(environ["PATH_INFO"])
            return self.app(environ, start_response)

        self.httpd = wsgiref.simple_server.make_server(
            "127.0.0.1", port, counting, handler_class=_Quiet
        )
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def create_account(self, account="a"):
        req = Request.blank(f"/adev/7/{account}", method="PUT", headers={"X-Timestamp": "1"})
        assert req.get_response(self.app).status_int == 201

    def containers(self, account="a"):
        req = Request.blank(f"/adev/7/{account}?format=json")
        resp = req.get_response(self.app)
        return json.loads(resp.body) if resp.status_int == 200 else resp.status_int

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def account_node(tmp_path):
    node = AccountNodeServer(tmp_path / "acct-node")
    node.create_account()
    yield node
    node.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def account_headers(port, device="adev", part="7"):
    return {
        "X-Account-Host": f"127.0.0.1:{port}",
        "X-Account-Device": device,
        "X-Account-Partition": part,
    }


def put_container(call, port, ts=1000):
    return call("PUT", "a/c", {"X-Timestamp": Timestamp(ts).internal, **account_headers(port)})


def put_objects(call, count, size=10):
    for i in range(count):
        resp = call(
            "PUT",
            f"a/c/o{i}",
            {
                "X-Timestamp": Timestamp(1001 + i).internal,
                "X-Size": str(size),
                "X-Content-Type": "t",
                "X-Etag": "e",
            },
        )
        assert resp.status_int == 201


def container_info(devices):
    broker = ContainerBroker.at(os.path.join(devices, "sda"), 0, "a", "c")
    try:
        return broker.get_info()
    finally:
        broker.close()


def test_container_put_reports_to_account_and_marks_reported(call, devices, account_node):
    assert put_container(call, account_node.port).status_int == 201
    rows = account_node.containers()
    assert [(r["name"], r["count"], r["bytes"]) for r in rows] == [("c", 0, 0)]
    info = container_info(devices)
    assert info["reported_put_timestamp"] == info["put_timestamp"]
    assert parse_hint(info["account_hint"]) == [
        AccountNode("127.0.0.1", account_node.port, "adev", 7)
    ]


def test_container_put_into_missing_account_is_404(call, tmp_path):
    node = AccountNodeServer(tmp_path / "empty-node")  # no account created there
    try:
        assert put_container(call, node.port).status_int == 404
    finally:
        node.stop()


def test_container_delete_reports_deletion_to_account(call, account_node):
    put_container(call, account_node.port)
    resp = call(
        "DELETE",
        "a/c",
        {"X-Timestamp": Timestamp(1001).internal, **account_headers(account_node.port)},
    )
    assert resp.status_int == 204
    assert account_node.containers() == []  # the only container is gone


def test_mismatched_account_headers_are_400(call):
    headers = {
        "X-Timestamp": "1",
        "X-Account-Host": "127.0.0.1:1,127.0.0.1:2",
        "X-Account-Device": "d1",
        "X-Account-Partition": "0",
    }
    assert call("PUT", "a/c", headers).status_int == 400


def test_object_updates_are_reported_in_one_batched_request(call, app, account_node):
    put_container(call, account_node.port)
    assert len(account_node.reports) == 1
    put_objects(call, 50)
    assert app.flush_account_updates() == 1
    assert len(account_node.reports) == 2  # fifty updates, one report
    assert account_node.containers()[0]["count"] == 50
    assert account_node.containers()[0]["bytes"] == 500


def test_flush_with_nothing_changed_sends_nothing(call, app, account_node):
    put_container(call, account_node.port)
    assert app.flush_account_updates() == 0
    put_objects(call, 1)
    assert app.flush_account_updates() == 1
    assert app.flush_account_updates() == 0
    assert len(account_node.reports) == 2


def test_green_flusher_reports_after_its_interval(make_app, call, account_node):
    quick = make_app(account_update_interval=0.02)
    put_container(call, account_node.port)
    resp = call(
        "PUT",
        "a/c/o",
        {
            "X-Timestamp": Timestamp(1001).internal,
            "X-Size": "4",
            "X-Content-Type": "t",
            "X-Etag": "e",
        },
        target=quick,
    )
    assert resp.status_int == 201

    def reported():
        green.sleep(0.01)  # let the flusher green thread run
        return account_node.containers()[0]["count"] == 1

    try:
        wait_until(reported, timeout=10, what="the batched account report")
    finally:
        green.kill(quick._flusher)


def test_unreachable_account_saves_async_then_updater_delivers(call, devices, tmp_path):
    port = free_port()
    assert put_container(call, port).status_int == 201  # the container exists regardless
    name_hash = layout.db_hash("a", "c")
    async_path = layout.async_file(os.path.join(devices, "sda"), name_hash)
    with open(async_path, encoding="utf-8") as fh:
        record = json.load(fh)
    assert record["v"] == 1
    assert (record["account"], record["container"]) == ("a", "c")
    assert record["db"].endswith(name_hash + ".db")
    put_objects(call, 3)

    node = AccountNodeServer(tmp_path / "late-node", port=port)
    node.create_account()
    try:
        options = ContainerUpdaterOptions(
            devices=devices, mount_check=False, swift_dir=str(tmp_path), slowdown=0
        )
        stats = ContainerUpdater(options, logging.getLogger("test.updater")).run_once()
        assert stats["successes"] == 1
        assert stats["async_cleared"] == 1
        assert not os.path.exists(async_path)
        assert node.containers()[0]["count"] == 3
        again = ContainerUpdater(options, logging.getLogger("test.updater")).run_once()
        assert again == {
            "successes": 0,
            "failures": 0,
            "unchanged": 1,
            "async_cleared": 0,
            "reclaimed": 0,
        }
    finally:
        node.stop()


def test_updater_sweep_reports_containers_changed_since_last_report(
    call, devices, tmp_path, account_node
):
    put_container(call, account_node.port)
    put_objects(call, 4)  # no flush: only the daemon will tell the account
    options = ContainerUpdaterOptions(
        devices=devices, mount_check=False, swift_dir=str(tmp_path), slowdown=0
    )
    stats = ContainerUpdater(options, logging.getLogger("test.updater")).run_once()
    assert stats["successes"] == 1
    assert account_node.containers()[0]["count"] == 4


def test_updater_uses_account_ring_before_hint(call, devices, tmp_path, account_node):
    from swiftlite.ring import Ring
    from swiftlite.ring.builder import RingBuilder

    builder = RingBuilder(4, 1, 0)
    builder.add_dev(
        {
            "region": 1,
            "zone": 1,
            "ip": "127.0.0.1",
            "port": account_node.port,
            "device": "adev",
            "weight": 1.0,
        }
    )
    builder.rebalance(seed=1)
    swift_dir = tmp_path / "swift"
    swift_dir.mkdir()
    builder.write_ring(str(swift_dir / "account.ring.gz"))
    part, _ = Ring(str(swift_dir / "account.ring.gz")).get_nodes("a")
    create = Request.blank(f"/adev/{part}/a", method="PUT", headers={"X-Timestamp": "1"})
    assert create.get_response(account_node.app).status_int in (201, 202)

    put_container(call, free_port())  # the hint names a dead node
    put_objects(call, 2)
    options = ContainerUpdaterOptions(
        devices=devices, mount_check=False, swift_dir=str(swift_dir), slowdown=0
    )
    stats = ContainerUpdater(options, logging.getLogger("test.updater")).run_once()
    assert stats["successes"] == 1
    listing = Request.blank(f"/adev/{part}/a?format=json").get_response(account_node.app)
    assert json.loads(listing.body)[0]["count"] == 2


def test_hint_round_trips():
    nodes = [AccountNode("10.0.0.1", 6202, "d1", 3), AccountNode("10.0.0.2", 6202, "d2", 3)]
    assert parse_hint(format_hint(nodes)) == nodes
    assert parse_hint("garbage,,1.2.3.4:x/d/1") == []


def test_updater_from_conf_file_reads_its_section(tmp_path):
    conf = tmp_path / "container-server.conf"
    conf.write_text(
        "[DEFAULT]\ndevices = /srv/x\nmount_check = false\n"
        "[container-updater]\ninterval = 30\nconcurrency = 2\n"
    )
    updater = ContainerUpdater.from_conf_file(str(conf))
    assert updater.options.devices == "/srv/x"
    assert updater.options.interval == 30.0
    assert updater.options.concurrency == 2
    assert updater.options.mount_check is False


def test_updater_sweep_reclaims_old_deleted_rows(call, devices, tmp_path):
    put_container(call, free_port())
    call("DELETE", "a/c/old", {"X-Timestamp": Timestamp(1001).internal})
    call("DELETE", "a/c/fresh", {"X-Timestamp": Timestamp.now().internal})
    options = ContainerUpdaterOptions(
        devices=devices, mount_check=False, swift_dir=str(tmp_path), slowdown=0, reclaim_age=3600
    )
    stats = ContainerUpdater(options, logging.getLogger("test.updater")).run_once()
    assert stats["reclaimed"] == 1
    broker = ContainerBroker.at(os.path.join(devices, "sda"), 0, "a", "c")
    assert [r[0] for r in broker.get_object_rows()] == ["fresh"]
    broker.close()


def test_updater_console_entry_runs_one_pass_in_its_own_process(call, devices, tmp_path):
    port = free_port()
    put_container(call, port)  # account down: the report waits in an async record
    put_objects(call, 2)
    node = AccountNodeServer(tmp_path / "later-node", port=port)
    node.create_account()
    conf = tmp_path / "container-server.conf"
    conf.write_text(
        f"[DEFAULT]\ndevices = {devices}\nmount_check = false\nswift_dir = {tmp_path}\n"
        "[container-updater]\nslowdown = 0\n"
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from swiftlite.container.updater import main; "
                "sys.exit(main(sys.argv[1:]))",
                str(conf),
                "once",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert node.containers()[0]["count"] == 2
    finally:
        node.stop()
