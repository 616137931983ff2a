"""Options: app_factory parses paste sections into ObjectServerOptions; the sample config loads."""

from __future__ import annotations

import dataclasses
import logging
import pathlib

import pytest
from objtest_helpers import put, request

from swiftlite.common import errors
from swiftlite.obj.server import ObjectServer, ObjectServerOptions, app_factory

SAMPLE = pathlib.Path(__file__).resolve().parents[3] / "etc" / "object-server.conf"


def test_app_factory_converts_types_and_applies_precedence(devices) -> None:
    app = app_factory(
        {"devices": "/elsewhere", "node_timeout": "9", "mount_check": "true"},
        devices=devices,
        mount_check="false",
        disk_chunk_size="4096",
        allowed_headers="content-encoding, x-delete-at",
        log_requests="no",
    )
    opts = app.options
    assert opts.devices == devices  # section beats [DEFAULT]
    assert opts.node_timeout == 9.0  # [DEFAULT] beats the built-in default
    assert opts.mount_check is False
    assert opts.disk_chunk_size == 4096
    assert opts.allowed_headers == ("content-encoding", "x-delete-at")
    assert opts.container_update_timeout == 1.0


def test_app_factory_bad_value_is_config_error() -> None:
    with pytest.raises(errors.ConfigError, match="client_timeout"):
        app_factory({}, client_timeout="soon")


def test_unknown_option_is_warned_about(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="swiftlite.config"):
        app_factory({}, devices="/tmp", no_such_option="1")
    assert "no_such_option" in caplog.text


def test_options_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ObjectServerOptions().devices = "x"  # type: ignore[misc]


def test_server_built_directly_from_options(devices) -> None:
    app = ObjectServer(ObjectServerOptions(devices=devices, mount_check=False, log_requests=False))
    assert put(app).status_int == 201
    assert request(app, "GET").body == b"hello world"


def test_sample_config_declares_only_known_keys() -> None:
    from swiftlite.common import config

    parser = config.read_file(str(SAMPLE), raw_sections=True)
    known = {f.name for f in dataclasses.fields(ObjectServerOptions)}
    runner_keys = {"bind_ip", "bind_port", "workers", "use", "pipeline"}
    for section in ("DEFAULT", "app:object-server"):
        assert set(dict(parser.items(section))) <= known | runner_keys, section


def test_sample_config_loads_with_paste(tmp_path) -> None:
    from paste.deploy import loadapp

    conf = tmp_path / "object-server.conf"
    conf.write_text(
        SAMPLE.read_text()
        .replace("devices = /srv/node", f"devices = {tmp_path}")
        .replace("mount_check = true", "mount_check = false")
    )
    pipeline = loadapp(f"config:{conf}")
    app = loadapp(f"config:{conf}", name="object-server")
    assert isinstance(app, ObjectServer)
    assert app.options.devices == str(tmp_path)
    assert app.options.mount_check is False
    assert pipeline is not None
