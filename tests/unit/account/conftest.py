"""Fixtures for account tests: a device directory and an account server on it."""

from __future__ import annotations

import logging
import urllib.parse

import pytest
from webob import Request

from swiftlite.account.server import AccountServer, AccountServerOptions


@pytest.fixture
def devices(tmp_path):
    (tmp_path / "node" / "sda").mkdir(parents=True)
    return str(tmp_path / "node")


@pytest.fixture
def app(devices):
    options = AccountServerOptions(devices=devices, mount_check=False, log_requests=False)
    return AccountServer(options, logger=logging.getLogger("test.account"))


@pytest.fixture
def call(app):
    def do(method, path, headers=None, query=""):
        url = "/sda/0/" + urllib.parse.quote(path) + (f"?{query}" if query else "")
        return Request.blank(url, method=method, headers=headers or {}).get_response(app)

    return do
