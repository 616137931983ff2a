"""The object daemons' config: every option the sample documents is real, sections merge over
[DEFAULT], and ``CONF once`` runs a pass and stores its summary for recon."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest

from swiftlite.common import config, daemon, recon_cache
from swiftlite.obj.auditor import ObjectAuditor, ObjectAuditorOptions
from swiftlite.obj.expirer import ObjectExpirer, ObjectExpirerOptions
from swiftlite.obj.replicator import ObjectReplicator, ObjectReplicatorOptions
from swiftlite.obj.updater import ObjectUpdater, ObjectUpdaterOptions
from swiftlite.ring.builder import RingBuilder

SAMPLE = pathlib.Path(__file__).resolve().parents[3] / "etc" / "object-server.conf"
DAEMONS = {
    "object-replicator": (ObjectReplicatorOptions, ObjectReplicator),
    "object-auditor": (ObjectAuditorOptions, ObjectAuditor),
    "object-updater": (ObjectUpdaterOptions, ObjectUpdater),
    "object-expirer": (ObjectExpirerOptions, ObjectExpirer),
}


def documented(section: str) -> dict[str, str]:
    """The ``# key = value`` lines of a sample section (the documented defaults)."""
    text = SAMPLE.read_text()
    body = text.split(f"[{section}]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r"^#\s*([a-z_]+)\s*=\s*(.*)$", body, flags=re.MULTILINE))


@pytest.mark.parametrize("section", sorted(DAEMONS))
def test_sample_documents_real_options_with_their_defaults(section) -> None:
    options_cls, _ = DAEMONS[section]
    keys = documented(section)
    assert keys, f"[{section}] documents no options"
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    assert set(keys) <= set(fields), set(keys) - set(fields)
    parsed = config.parse_options(options_cls, keys, where=section)
    defaults = options_cls()
    for key in keys:
        assert getattr(parsed, key) == getattr(defaults, key), key


@pytest.mark.parametrize("section", sorted(DAEMONS))
def test_sample_section_loads_and_takes_defaults_from_default(section) -> None:
    options_cls, _ = DAEMONS[section]
    options = config.load_section(str(SAMPLE), section, options_cls)
    assert options.devices == "/srv/node"
    assert options.mount_check is True


def test_replicator_reads_bind_address_from_default(tmp_path) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text(
        "[DEFAULT]\nbind_ip = 127.0.0.7\nbind_port = 6207\nswift_dir = /x\n"
        "[object-replicator]\nconcurrency = 4\nrsync_port = 9873\nswift_dir = /y\n"
    )
    options = config.load_section(str(conf), "object-replicator", ObjectReplicatorOptions)
    assert (options.bind_ip, options.bind_port) == ("127.0.0.7", 6207)
    assert (options.concurrency, options.rsync_port, options.swift_dir) == (4, 9873, "/y")


@pytest.mark.parametrize("section", sorted(DAEMONS))
def test_once_runs_a_pass_and_stores_it_for_recon(section, tmp_path) -> None:
    options_cls, daemon_cls = DAEMONS[section]
    (tmp_path / "node" / "sda").mkdir(parents=True)
    for kind in ("object", "container"):  # a clean pass needs its rings (else it exits 1)
        builder = RingBuilder(2, 1, 0)
        dev = {"region": 1, "zone": 1, "ip": "127.0.0.1", "port": 1, "device": "sda"}
        builder.add_dev({**dev, "weight": 100})
        builder.rebalance(seed=1)
        builder.write_ring(str(tmp_path / f"{kind}.ring.gz"))
    conf = tmp_path / "object-server.conf"
    conf.write_text(
        f"[DEFAULT]\ndevices = {tmp_path}/node\nmount_check = false\nswift_dir = {tmp_path}\n"
        f"log_level = CRITICAL\n[{section}]\nrecon_cache_path = {tmp_path}/recon\n"
    )
    code = daemon.main(
        f"swiftlite-{section}", section, options_cls, daemon_cls, [str(conf), "once"], patch=False
    )
    assert code == 0
    stored = recon_cache.read(recon_cache.cache_path(str(tmp_path / "recon"), "object"))
    assert "duration" in stored[section]


def test_missing_section_is_a_config_error_exit_code(tmp_path, capsys) -> None:
    conf = tmp_path / "object-server.conf"
    conf.write_text("[DEFAULT]\n")
    code = daemon.main(
        "swiftlite-object-auditor",
        "object-auditor",
        ObjectAuditorOptions,
        ObjectAuditor,
        [str(conf), "once"],
        patch=False,
    )
    assert code == 2
    assert "object-auditor" in capsys.readouterr().err
