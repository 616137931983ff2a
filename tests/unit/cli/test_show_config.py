"""swiftlite-config: every effective value of a component, and where it came from."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from swiftlite.cli import show_config

REPO = pathlib.Path(__file__).resolve().parents[3]

CONF = """\
[DEFAULT]
bind_port = 6200
devices = /srv/node
log_statsd_host = 10.0.0.5
concurrency = 7

[pipeline:main]
pipeline = healthcheck object-server

[filter:healthcheck]
use = egg:swiftlite#healthcheck

[app:object-server]
use = egg:swiftlite#object
node_timeout = 4
nodee_timeout = 5

[object-replicator]
concurrency = 3
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swiftlite.cli.show_config", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )


def _options(doc: dict, title: str) -> dict:
    (section,) = [s for s in doc["sections"] if s["section"] == title]
    return section


def test_daemon_shows_section_default_and_built_in_sources(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text(CONF)
    done = run("object-replicator", "--conf-dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    options = _options(doc, "[object-replicator]")["options"]
    assert options["concurrency"] == {"value": 3, "source": f"{conf} [object-replicator]"}
    assert options["devices"] == {"value": "/srv/node", "source": f"{conf} [DEFAULT]"}
    assert options["reclaim_age"]["source"] == "default"
    statsd = _options(doc, "[DEFAULT] (syslog and StatsD)")["options"]
    assert statsd["log_statsd_host"]["value"] == "10.0.0.5"
    assert statsd["log_statsd_port"] == {"value": 8125, "source": "default"}


def test_server_lists_runner_filters_app_and_ignored_keys(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text(CONF)
    done = run("object-server", "--conf", str(conf))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "[DEFAULT] (the server runner)" in text
    assert "[filter:healthcheck]" in text
    lines = text.splitlines()
    assert any(
        line.startswith("node_timeout")
        and line.endswith(f"; {conf} [app:object-server]")
        and "= 4.0" in line
        for line in lines
    )
    assert "; nodee_timeout: set but not an option here (ignored)" in lines


def test_bad_value_exits_2_naming_key(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text(CONF.replace("node_timeout = 4", "node_timeout = soon"))
    done = run("object-server", "--conf", str(conf))
    assert done.returncode == 2
    assert "node_timeout" in done.stderr
    assert "Traceback" not in done.stderr


def test_secrets_are_shown_as_set_only(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "proxy-server.conf"
    conf.write_text(
        "[pipeline:main]\npipeline = tempauth proxy-server\n"
        "[filter:tempauth]\nuse = egg:swiftlite#tempauth\n"
        "user_admin_admin = hunter2 .admin\ntoken_secret = s3cr3t\n"
        "[app:proxy-server]\nuse = egg:swiftlite#proxy\n"
    )
    blocks = show_config.effective("proxy-server", str(conf))
    text = show_config.render_text("proxy-server", str(conf), blocks)
    assert "hunter2" not in text
    assert "s3cr3t" not in text
    assert "user_admin_admin" in text
    assert show_config.HIDDEN in text


def test_missing_section_is_an_error_not_a_traceback(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text("[DEFAULT]\n")
    done = run("object-auditor", "--conf", str(conf))
    assert done.returncode == 2
    assert "[object-auditor]" in done.stderr
