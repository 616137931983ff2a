"""etc/deploy: the proxy-node and storage-node sample configs load as the servers and
daemons load them, with no unknown key, and serve /healthcheck and /metrics."""

from __future__ import annotations

import configparser
import logging
import pathlib

import pytest
from paste.deploy import loadapp
from prometheus_client.parser import text_string_to_metric_families
from webob import Request

from swiftlite.cli.show_config import COMPONENTS, SERVERS
from swiftlite.common import config
from swiftlite.ring.builder import RingBuilder

DEPLOY = pathlib.Path(__file__).resolve().parents[3] / "etc" / "deploy"
PATH_KEYS = ("devices", "swift_dir", "recon_cache_path", "metrics_dir", "disable_path")


def localize(src: pathlib.Path, dest: pathlib.Path, root: pathlib.Path) -> pathlib.Path:
    """A copy of ``src`` with every machine path moved under ``root`` and addresses local."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(src)
    for section in [parser.default_section, *parser.sections()]:
        items = parser[section]
        for key in list(items):
            if (
                section != parser.default_section
                and key in parser.defaults()
                and (items[key] == parser.defaults()[key])
            ):
                continue  # inherited from [DEFAULT]: leave it inherited
            if key == "bind_ip":
                items[key] = "127.0.0.1"
            elif key in PATH_KEYS or key.endswith("log_file"):
                items[key] = str(root / items[key].lstrip("/"))
    with open(dest, "w", encoding="utf-8") as fh:
        parser.write(fh)
    return dest


def write_rings(swift_dir: pathlib.Path) -> None:
    swift_dir.mkdir(parents=True, exist_ok=True)
    for kind, port in (("account", 6202), ("container", 6201), ("object", 6200)):
        builder = RingBuilder(4, 3, 0)
        for zone in (1, 2, 3):
            builder.add_dev(
                {
                    "region": 1,
                    "zone": zone,
                    "ip": f"127.0.0.{zone + 1}",
                    "port": port,
                    "device": "d1",
                    "weight": 100,
                }
            )
        builder.rebalance(seed=1)
        builder.write_ring(str(swift_dir / f"{kind}.ring.gz"))


@pytest.fixture
def machine(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A fake machine root: /etc/swiftlite with rings, /srv/node/d1, the log and cache dirs."""
    root = tmp_path / "root"
    write_rings(root / "etc" / "swiftlite")
    (root / "srv" / "node" / "d1").mkdir(parents=True)
    (root / "var" / "log" / "swiftlite").mkdir(parents=True)
    conf = localize(
        DEPLOY / "proxy-node" / "swiftlite.conf",
        root / "etc" / "swiftlite" / "swiftlite.conf",
        root,
    )
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    return root


def _unknown_key_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unknown option" in r.getMessage()]


def test_both_nodes_share_one_swiftlite_conf() -> None:
    proxy = (DEPLOY / "proxy-node" / "swiftlite.conf").read_text()
    assert proxy == (DEPLOY / "storage-node" / "swiftlite.conf").read_text()


@pytest.mark.parametrize("server", SERVERS)
def test_sample_server_config_loads_and_serves_metrics(
    server: str, machine: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = "proxy-node" if server == "proxy-server" else "storage-node"
    conf = localize(DEPLOY / node / f"{server}.conf", machine / f"{server}.conf", machine)
    caplog.set_level(logging.WARNING, logger="swiftlite")
    app = loadapp(f"config:{conf}")
    assert _unknown_key_warnings(caplog) == []
    assert Request.blank("/healthcheck").get_response(app).status_int == 200
    resp = Request.blank("/metrics").get_response(app)
    assert resp.status_int == 200
    names = {family.name for family in text_string_to_metric_families(resp.text)}
    assert "swiftlite_requests" in names


@pytest.mark.parametrize("daemon", [name for name in COMPONENTS if name not in SERVERS])
def test_sample_daemon_sections_load(
    daemon: str, machine: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    from swiftlite.cli.show_config import options_class

    file_name, section, spec = COMPONENTS[daemon]
    conf = localize(DEPLOY / "storage-node" / file_name, machine / file_name, machine)
    caplog.set_level(logging.WARNING, logger="swiftlite")
    options = config.load_section(str(conf), section, options_class(spec))
    assert _unknown_key_warnings(caplog) == []
    assert str(getattr(options, "log_file", "")).endswith(f"{daemon}.log")
