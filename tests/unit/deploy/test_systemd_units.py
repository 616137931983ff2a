"""etc/systemd: a template unit per server and daemon that systemd accepts, reloading
through swiftlite-init; etc/logrotate.d/swiftlite rotates without copytruncate."""

from __future__ import annotations

import configparser
import logging
import pathlib
import re
import shutil
import subprocess
import tomllib

import pytest

from swiftlite.cli.show_config import COMPONENTS
from swiftlite.common import logs

ETC = pathlib.Path(__file__).resolve().parents[3] / "etc"
UNITS = ETC / "systemd"
PYPROJECT = ETC.parent / "pyproject.toml"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / f"swiftlite-{name}@.service")
    return parser


def test_every_server_and_daemon_command_has_a_template_unit() -> None:
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    commands = {
        name.removeprefix("swiftlite-")
        for name, target in scripts.items()
        if target.startswith("swiftlite.cli.servers:")
    }
    assert commands == set(COMPONENTS)
    units = {p.name[len("swiftlite-") : -len("@.service")] for p in UNITS.glob("*@.service")}
    assert units == commands


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_unit_starts_and_reloads_through_swiftlite_init(name: str) -> None:
    service = _unit(name)["Service"]
    start = service["ExecStart"].split()
    reload = service["ExecReload"].split()
    assert start[:3] == ["/usr/local/bin/swiftlite-init", "no-daemon", name]
    assert reload[:3] == ["/usr/local/bin/swiftlite-init", "reload", name]
    for command in (start, reload):  # the instance is the config dir
        assert command[command.index("--conf-dir") + 1] == "%f"
    assert _unit(name)["Install"]["WantedBy"] == "swiftlite.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_systemd_analyze_verify_accepts_the_unit(name: str, tmp_path: pathlib.Path) -> None:
    # verify checks that the binaries exist: point the unit at a stand-in swiftlite-init
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "swiftlite-init"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    text = (UNITS / f"swiftlite-{name}@.service").read_text()
    instance = tmp_path / f"swiftlite-{name}@etc-swiftlite.service"
    instance.write_text(text.replace("/usr/local/bin/", f"{bindir}/"))
    shutil.copy(UNITS / "swiftlite.target", tmp_path / "swiftlite.target")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(instance)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # unknown keys and bad values are warnings on stderr, with a zero exit status
    assert done.stderr.strip() == ""


def test_systemd_analyze_verify_would_catch_a_bad_key(tmp_path: pathlib.Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("needs systemd-analyze")
    unit = tmp_path / "x.service"
    unit.write_text("[Service]\nExecStart=/bin/true\nExecReloadd=/bin/true\n")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ExecReloadd" in done.stderr


def test_logrotate_config_rotates_without_copytruncate() -> None:
    text = (ETC / "logrotate.d" / "swiftlite").read_text()
    body = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "copytruncate" not in body
    assert "/var/log/swiftlite/*.log {" in body
    assert "}" in body


@pytest.mark.skipif(not shutil.which("logrotate"), reason="needs logrotate")
def test_logrotate_with_the_shipped_config_then_the_next_line_is_in_a_new_file(
    tmp_path: pathlib.Path,
) -> None:
    logdir = tmp_path / "log"
    logdir.mkdir()
    conf = (ETC / "logrotate.d" / "swiftlite").read_text()
    conf = conf.replace("/var/log/swiftlite", str(logdir))
    conf = re.sub(r"^\s*(su|create) .*$", "", conf, flags=re.M)  # no swift user here
    rules = tmp_path / "swiftlite.logrotate"
    rules.write_text(conf)
    logger = logs.get_logger("rotate-e2e", str(logdir / "object-server.log"))
    logger.info("before rotation")
    done = subprocess.run(
        ["logrotate", "-f", "-s", str(tmp_path / "state"), str(rules)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    logger.info("after rotation")
    for handler in logger.handlers:
        handler.flush()
    assert "before rotation" in (logdir / "object-server.log.1").read_text()
    assert "after rotation" in (logdir / "object-server.log").read_text()
    logging.getLogger("swiftlite.rotate-e2e").handlers.clear()
