from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import pytest

from swiftlite.common import config, hashing
from swiftlite.common.errors import ConfigError


@dataclass(frozen=True)
class DemoOptions:
    workers: int = 1
    mount_check: bool = True
    node_timeout: float = 3.0
    devices: str = "/srv/node"
    allowed: tuple[str, ...] = ()
    log_file: str | None = None


def test_parse_options_converts_types_and_section_beats_default() -> None:
    opts = config.parse_options(
        DemoOptions,
        {"mount_check": "no", "node_timeout": "1.5", "allowed": "a, b"},
        {"devices": "/d", "mount_check": "yes"},
    )
    assert opts == DemoOptions(1, False, 1.5, "/d", ("a", "b"), None)


def test_parse_options_bad_value_names_key() -> None:
    with pytest.raises(ConfigError, match="node_timeout"):
        config.parse_options(DemoOptions, {"node_timeout": "soon"})


def test_parse_options_unknown_key_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="swiftlite.config"):
        config.parse_options(DemoOptions, {"mount_chek": "no"}, where="x.conf")
    assert "mount_chek" in caplog.text


def test_load_section_merges_default(tmp_path) -> None:
    path = tmp_path / "s.conf"
    path.write_text("[DEFAULT]\ndevices = /x\nworkers = 4\n[daemon]\nworkers = 2\n")
    opts = config.load_section(str(path), "daemon", DemoOptions)
    assert (opts.devices, opts.workers) == ("/x", 2)


def test_load_section_missing_file_names_it(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.conf"):
        config.load_section(str(tmp_path / "nope.conf"), "daemon", DemoOptions)


def test_hash_path_is_md5_of_prefix_path_suffix(tmp_path, monkeypatch) -> None:
    conf = tmp_path / "swiftlite.conf"
    conf.write_text("[swift-hash]\nswift_hash_path_prefix = pre\nswift_hash_path_suffix = suf\n")
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    want = hashlib.md5(b"pre/a/c/\xc3\xa9suf").hexdigest()
    assert hashing.hash_path("a", "c", "\u00e9") == want
    assert hashing.suffix_of(want) == want[-3:]


def test_hash_path_without_secrets_is_refused(tmp_path, monkeypatch) -> None:
    conf = tmp_path / "swiftlite.conf"
    conf.write_text("[swift-hash]\n")
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    with pytest.raises(ConfigError, match="swift_hash_path"):
        hashing.hash_path("a")


def test_hash_path_missing_conf_names_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SWIFTLITE_CONF", str(tmp_path / "missing.conf"))
    with pytest.raises(ConfigError, match=r"missing\.conf"):
        hashing.hash_path("a")


def test_hash_path_object_without_container_is_error() -> None:
    with pytest.raises(ValueError, match="needs a container"):
        hashing.path_bytes("a", None, "o")
