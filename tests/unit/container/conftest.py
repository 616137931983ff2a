"""Fixtures for container tests: a device directory and a container server on it."""

from __future__ import annotations

import logging
import urllib.parse

import pytest
from webob import Request

from swiftlite.container.server import ContainerServer, ContainerServerOptions

DEVICE = "sda"


@pytest.fixture
def devices(tmp_path):
    (tmp_path / "node" / DEVICE).mkdir(parents=True)
    return str(tmp_path / "node")


@pytest.fixture
def make_app(devices):
    def make(**overrides):
        settings = {
            "devices": devices,
            "mount_check": False,
            "account_update_interval": 0,
            "log_requests": False,
            **overrides,
        }
        options = ContainerServerOptions(**settings)
        return ContainerServer(options, logger=logging.getLogger("test.container"))

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def call(app):
    """``call(method, "a/c[/o]", headers, query)`` against the app on DEVICE, partition 0."""

    def do(method, path, headers=None, query="", target=None):
        url = f"/{DEVICE}/0/" + urllib.parse.quote(path) + (f"?{query}" if query else "")
        req = Request.blank(url, method=method, headers=headers or {})
        return req.get_response(target or app)

    return do
