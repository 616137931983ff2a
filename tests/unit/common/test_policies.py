"""Storage policy parsing and Swift's validation of ``[storage-policy:N]`` sections."""

from __future__ import annotations

import pytest

from swiftlite.common import errors, policies
from swiftlite.common.errors import ConfigError
from tests.support.policy_conf import parse_policies as _parse

TWO = """
[storage-policy:0]
name = gold
aliases = yellow, orange
default = yes
[storage-policy:1]
name = silver
"""


def test_no_sections_is_one_default_policy_0():
    pols = _parse("[swift-hash]\nswift_hash_path_suffix = x\n")
    assert [p.name for p in pols] == ["Policy-0"]
    assert pols.default.idx == 0
    assert pols.info() == [
        {"name": "Policy-0", "aliases": "Policy-0", "default": True, "policy_type": "replication"}
    ]


def test_names_aliases_and_lookup_are_case_insensitive():
    pols = _parse(TWO)
    assert pols.default.name == "gold"
    assert pols.get_by_name("YELLOW").idx == 0
    assert pols.get_by_name(" Silver ").idx == 1
    assert pols.get_by_name("bronze") is None
    assert pols.get_by_index("1").name == "silver"
    assert pols.get_by_index(None).idx == 0
    assert pols.get_by_index("x1") is None
    assert pols.get_by_index("\u00b2") is None
    assert pols.get_by_index(7) is None
    assert [p.ring_name for p in pols] == ["object", "object-1"]
    assert pols.info()[0]["aliases"] == "gold, yellow, orange"
    assert "default" not in pols.info()[1]


def test_lone_policy_is_default_and_deprecated_hidden_from_info():
    pols = _parse("[storage-policy:0]\nname = only\n")
    assert pols.default.name == "only"
    pols = _parse(TWO + "[storage-policy:2]\nname = old\ndeprecated = yes\n")
    assert [p["name"] for p in pols.info()] == ["gold", "silver"]
    assert pols.get_by_index(2).is_deprecated


def test_dir_names():
    assert policies.dir_name("objects", 0) == "objects"
    assert policies.dir_name("async_pending", 3) == "async_pending-3"
    assert policies.parse_dir_name("objects", "objects-12") == 12
    assert policies.parse_dir_name("objects", "objects") == 0
    assert policies.parse_dir_name("objects", "objects-x") is None
    assert policies.parse_dir_name("objects", "async_pending-1") is None


@pytest.mark.parametrize(
    ("text", "section", "words"),
    [
        ("[storage-policy:x]\nname = a\n", "storage-policy:x", "non-negative integer"),
        ("[storage-policy:-1]\nname = a\n", "storage-policy:-1", "non-negative integer"),
        ("[storage-policy:1]\nname = a\ndefault = yes\n", "storage-policy:1", "policy 0"),
        ("[storage-policy:0]\nname = a b\n", "storage-policy:0", "letters"),
        (
            "[storage-policy:0]\nname = a\n[storage-policy:1]\nname = \n",
            "storage-policy:1",
            "empty",
        ),
        (TWO + "[storage-policy:2]\nname = GOLD\n", "storage-policy:2", "also used"),
        (TWO + "[storage-policy:2]\nname = b\naliases = Orange\n", "storage-policy:2", "also used"),
        (
            TWO + "[storage-policy:2]\nname = b\ndefault = yes\n",
            "storage-policy:2",
            "duplicate default",
        ),
        ("[storage-policy:0]\nname = a\n[storage-policy:1]\nname = b\n", "test.conf", "default"),
        (
            "[storage-policy:0]\nname = a\ndefault = yes\ndeprecated = yes\n",
            "storage-policy:0",
            "cannot be deprecated",
        ),
        (TWO + "[storage-policy:2]\nname = Policy-0\n", "storage-policy:2", "reserved"),
        (
            "[storage-policy:0]\nname = a\npolicy_type = erasure_coding\n",
            "storage-policy:0",
            "policy_type",
        ),
        ("[storage-policy:0]\nname = a\ncolour = red\n", "storage-policy:0", "unknown option"),
        ("[storage-policy:0]\nname = a\ndefault = maybe\n", "storage-policy:0", "true or false"),
        ("[storage-policy:0]\nname = a\naliases = b, B\n", "storage-policy:0", "duplicate alias"),
    ],
)
def test_bad_configs_name_their_section(text, section, words):
    with pytest.raises(ConfigError) as exc:
        _parse(text)
    assert section in str(exc.value)
    assert words in str(exc.value)


def test_load_reads_the_cluster_file(tmp_path, monkeypatch):
    conf = tmp_path / "swiftlite.conf"
    conf.write_text("[DEFAULT]\nname = ignored\n" + TWO)
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    pols = policies.load()
    assert [p.name for p in pols] == ["gold", "silver"]
    monkeypatch.setenv("SWIFTLITE_CONF", str(tmp_path / "missing.conf"))
    assert policies.load() is policies.DEFAULT


def test_backend_policy_names_a_configured_index_and_refuses_others(tmp_path, monkeypatch):
    """The object server's per-request policy check: a configured index is answered, an
    unknown or non-decimal one is 503 (the proxy tries elsewhere). Index 0 is answered
    without reading the config (every parsed config has a policy 0), so a wrong shortcut
    that also skipped the check for other indexes fails here."""
    conf = tmp_path / "swiftlite.conf"
    conf.write_text(TWO)
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    header = policies.INDEX_HEADER
    assert policies.backend_policy({}) == 0
    assert policies.backend_policy({header: "0"}) == 0
    assert policies.backend_policy({header: "1"}) == 1
    for bad in ("2", "01x", "\u00b2", " 1", "", "1" * 5000):  # 5,000 digits: no ValueError
        with pytest.raises(errors.Unavailable):
            policies.backend_policy({header: bad})
