"""The proxy's filter pipeline loaded by paste.deploy from egg entry points, end to end."""

from __future__ import annotations

import logging
import pathlib
import re
import uuid
from typing import Any

import pytest
from paste.deploy import loadapp
from webob import Request

from swiftlite.middleware import proxy_access_line

CONF = """\
[DEFAULT]
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy_logging cache tempauth proxy_logging stub

[filter:catch_errors]
use = egg:swiftlite#catch_errors

[filter:gatekeeper]
use = egg:swiftlite#gatekeeper

[filter:healthcheck]
use = egg:swiftlite#healthcheck

[filter:proxy_logging]
use = egg:swiftlite#proxy_logging
access_log_file = {log}
access_log_name = {name}

[filter:cache]
use = egg:swiftlite#cache

[filter:tempauth]
use = egg:swiftlite#tempauth
user_test_tester = testing .admin
user_test_tester3 = testing3

[app:stub]
paste.app_factory = tests.unit.middleware.stub_proxy:app_factory
"""


@pytest.fixture
def pipeline(tmp_path: pathlib.Path) -> tuple[Any, pathlib.Path]:
    log = tmp_path / "access.log"
    conf = tmp_path / "proxy-server.conf"
    # get_logger configures a name once per process, so each test logs under its own name
    name = f"access-{uuid.uuid4().hex}"
    conf.write_text(CONF.format(log=log, name=name))
    app = loadapp(f"config:{conf}")
    return app, log, name


def read_access_log(log: pathlib.Path, name: str) -> list[dict[str, str]]:
    """The access lines written so far, as named fields (the message after the level)."""
    for handler in logging.getLogger(f"swiftlite.{name}").handlers:
        handler.flush()
    lines = log.read_text().splitlines() if log.exists() else []
    return [proxy_access_line.parse_line(line.split(" INFO ", 1)[1]) for line in lines]


def test_pipeline_serves_auth_then_storage_with_trans_ids(pipeline: tuple[Any, ...]) -> None:
    app, _log, _name = pipeline
    assert Request.blank("/healthcheck").get_response(app).body == b"OK"
    auth = Request.blank(
        "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    ).get_response(app)
    token = auth.headers["X-Auth-Token"]
    put = Request.blank("/v1/AUTH_test/c", method="PUT", headers={"X-Auth-Token": token})
    resp = put.get_response(app)
    assert resp.status_int == 201
    assert re.match(r"^tx[0-9a-f]{21}-[0-9a-f]{10}$", resp.headers["X-Trans-Id"])
    denied = Request.blank("/v1/AUTH_test/c").get_response(app)
    assert denied.status_int == 401
    assert "X-Trans-Id" in denied.headers


def test_pipeline_logs_client_requests_once_and_subrequests(pipeline: tuple[Any, ...]) -> None:
    app, log, name = pipeline
    resp = Request.blank("/v1/AUTH_test/c", method="PUT").get_response(app)
    assert resp.status_int == 401
    resp.body  # noqa: B018  (the line is written when the body is closed)
    lines = read_access_log(log, name)
    assert len(lines) == 1
    first = lines[0]
    assert [first["request_method"], first["request_path"], first["status_int"]] == [
        "PUT",
        "/v1/AUTH_test/c",
        "401",
    ]
    assert first["bytes_recvd"] == "0"
    assert first["transaction_id"] == resp.headers["X-Trans-Id"]
    auth = Request.blank(
        "/auth/v1.0", headers={"X-Auth-User": "test:tester3", "X-Auth-Key": "testing3"}
    ).get_response(app)
    auth.body  # noqa: B018
    token = auth.headers["X-Auth-Token"]
    denied = Request.blank("/v1/AUTH_test", headers={"X-Auth-Token": token}).get_response(app)
    assert denied.status_int == 403
    denied.body  # noqa: B018
    lines = read_access_log(log, name)
    # the auth request, tempauth's account-ACL HEAD (inner copy), then the client's GET
    assert [[line["request_method"], line["request_path"]] for line in lines[1:]] == [
        ["GET", "/auth/v1.0"],
        ["HEAD", "/v1/AUTH_test"],
        ["GET", "/v1/AUTH_test"],
    ]
    assert lines[2]["transaction_id"] == denied.headers["X-Trans-Id"]
    assert lines[2]["source"] != "-"  # tempauth's subrequest names its source
    assert lines[3]["auth_token"] == token[:16] + "..."
