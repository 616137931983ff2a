"""swiftlite-ring-builder: the daily commands, their output and exit codes."""

import os
import subprocess
import sys

import pytest

from swiftlite.cli.ring_builder import main
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder

SCRIPT = os.path.join(os.path.dirname(sys.executable), "swiftlite-ring-builder")


@pytest.fixture
def builder(tmp_path):
    path = str(tmp_path / "object.builder")
    assert main([path, "create", "8", "3", "1"]) == 0
    for z in range(1, 5):
        for d in (1, 2):
            assert main([path, "add", f"r1z{z}-127.0.0.{z}:6200/d{d}", "100"]) == 0
    return path


def run(*argv):
    return main(list(argv))


def test_create_then_add_saves_devices(builder, capsys):
    b = RingBuilder.load(builder)
    assert (b.part_power, b.replicas, b.min_part_hours) == (8, 3, 1)
    assert len(b.present_devs()) == 8


def test_add_prints_new_id(builder, capsys):
    assert run(builder, "add", "r1z5-127.0.0.5:6200/sdb_meta", "50") == 0
    out = capsys.readouterr().out
    assert 'Device d8r1z5-127.0.0.5:6200R127.0.0.5:6200/sdb_"meta" with 50.0 weight got id 8' in out


def test_add_option_form_adds_device(builder):
    argv = ["--region", "2", "--zone", "1", "--ip", "10.0.0.1", "--port", "6201",
            "--device", "sdc", "--weight", "10", "--meta", "m"]  # fmt: skip
    assert run(builder, "add", *argv) == 0
    dev = RingBuilder.load(builder).devs[8]
    assert (dev.region, dev.zone, dev.ip, dev.port, dev.device, dev.weight, dev.meta) == (
        2, 1, "10.0.0.1", 6201, "sdc", 10.0, "m")  # fmt: skip


def test_add_option_form_missing_option_is_error(builder, capsys):
    assert run(builder, "add", "--zone", "1", "--ip", "1.2.3.4") == 2
    assert "missing --port, --device, --weight" in capsys.readouterr().err


def test_add_duplicate_device_is_error(builder, capsys):
    assert run(builder, "add", "r1z1-127.0.0.1:6200/d1", "100") == 2
    assert "duplicate device" in capsys.readouterr().err


def test_add_bad_device_string_is_error(builder, capsys):
    assert run(builder, "add", "r1z1-127.0.0.1/d1", "100") == 2
    assert "invalid device string 'r1z1-127.0.0.1/d1'" in capsys.readouterr().err


def test_add_bad_weight_is_error(builder, capsys):
    assert run(builder, "add", "r1z1-127.0.0.9:6200/d1", "heavy") == 2
    assert "invalid weight" in capsys.readouterr().err


def test_unknown_command_is_error_with_usage(builder, capsys):
    assert run(builder, "explode") == 2
    err = capsys.readouterr().err
    assert "unknown command 'explode'" in err
    assert "usage:" in err


def test_missing_builder_file_is_error(tmp_path, capsys):
    missing = str(tmp_path / "none.builder")
    assert run(missing) == 2
    assert f"{missing}: cannot read builder file" in capsys.readouterr().err


def test_create_over_existing_file_needs_force(builder, capsys):
    assert run(builder, "create", "8", "3", "1") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(builder, "create", "6", "2", "0", "--force") == 0
    assert RingBuilder.load(builder).part_power == 6


def test_rebalance_writes_ring_beside_builder(builder, tmp_path, capsys):
    assert run(builder, "rebalance", "--seed", "1") == 0
    out = capsys.readouterr().out
    assert "Reassigned 256 (100.00%) partitions. Balance is now" in out
    ring = Ring(str(tmp_path / "object.ring.gz"))
    assert ring.partition_count == 256
    assert len(ring.devs) == 8


def test_rebalance_nothing_to_do_is_warning(builder, capsys):
    assert run(builder, "rebalance", "--seed", "1") == 0
    assert run(builder, "rebalance", "--seed", "1") == 1
    assert "No partitions could be reassigned" in capsys.readouterr().out


def test_rebalance_with_no_devices_is_error(tmp_path, capsys):
    path = str(tmp_path / "empty.builder")
    assert run(path, "create", "4", "3", "1") == 0
    assert run(path, "rebalance") == 2
    assert "no devices" in capsys.readouterr().err


def test_rebalance_too_few_devices_is_error(tmp_path, capsys):
    path = str(tmp_path / "few.builder")
    run(path, "create", "4", "3", "1")
    run(path, "add", "r1z1-127.0.0.1:6200/d1", "1")
    assert run(path, "rebalance") == 2
    assert "at least 3 devices" in capsys.readouterr().err


def test_rebalance_same_seed_same_ring_bytes(tmp_path):
    rings = []
    for name in ("a", "b"):
        path = str(tmp_path / f"{name}.builder")
        run(path, "create", "6", "3", "1")
        for z in range(1, 5):
            run(path, "add", f"r1z{z}-127.0.0.{z}:6200/d1", "100")
        assert run(path, "rebalance", "--seed", "5") == 0
        rings.append((tmp_path / f"{name}.ring.gz").read_bytes())
    assert rings[0] == rings[1]


def test_show_lists_devices_partitions_and_balance(builder, capsys):
    run(builder, "rebalance", "--seed", "1")
    capsys.readouterr()
    assert run(builder) == 0
    out = capsys.readouterr().out
    assert "256 partitions, 3.000000 replicas, 1 regions, 4 zones, 8 devices" in out
    assert "Ring file object.ring.gz is up-to-date" in out
    assert "The overload factor is 0.00% (0.000000)" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0 ", "7 "))]
    assert rows
    assert all(row[7] == "96" for row in rows)


def test_remove_by_search_value_marks_device(builder, capsys):
    run(builder, "rebalance", "--seed", "1")
    assert run(builder, "remove", "d3") == 0
    assert 3 in RingBuilder.load(builder).pending_removal()
    capsys.readouterr()
    run(builder)
    assert "DEL" in capsys.readouterr().out
    run(builder, "pretend_min_part_hours_passed")
    assert run(builder, "rebalance", "--seed", "2") in (0, 1)
    assert RingBuilder.load(builder).devs[3] is None


def test_remove_matching_several_needs_yes(builder, capsys):
    assert run(builder, "remove", "127.0.0.1") == 2
    assert "matches 2 devices" in capsys.readouterr().err
    assert run(builder, "remove", "127.0.0.1", "--yes") == 0
    assert RingBuilder.load(builder).pending_removal() == {0, 1}


def test_remove_no_match_is_error(builder, capsys):
    assert run(builder, "remove", "d99") == 2
    assert "no device matches" in capsys.readouterr().err


def test_set_weight_changes_weight(builder):
    assert run(builder, "set_weight", "r1z2-127.0.0.2:6200/d1", "25") == 0
    assert RingBuilder.load(builder).devs[2].weight == 25.0


@pytest.mark.parametrize(("value", "expected"), [("10%", 0.1), ("0.25", 0.25)])
def test_set_overload_accepts_percent_or_fraction(builder, capsys, value, expected):
    assert run(builder, "set_overload", value) == 0
    assert RingBuilder.load(builder).overload == pytest.approx(expected)
    assert f"{expected * 100:.2f}%" in capsys.readouterr().out


def test_set_overload_negative_is_error(builder):
    assert run(builder, "set_overload", "-5%") == 2


def test_write_ring_writes_current_assignment(builder, tmp_path):
    run(builder, "rebalance", "--seed", "1")
    (tmp_path / "object.ring.gz").unlink()
    assert run(builder, "write_ring") == 0
    assert Ring(str(tmp_path / "object.ring.gz")).replica_count == 3


def test_dispersion_reports_tiers(builder, capsys):
    run(builder, "rebalance", "--seed", "1")
    capsys.readouterr()
    assert run(builder, "dispersion", "-v") == 0
    out = capsys.readouterr().out
    assert "Dispersion is 0.000000, Balance is" in out
    assert "r1z1-127.0.0.1:6200/d1" in out


def test_dispersion_needs_overload_reports_required(tmp_path, capsys):
    path = str(tmp_path / "lopsided.builder")
    run(path, "create", "6", "3", "0")
    run(path, "add", "r1z1-127.0.0.1:6200/d1", "100", "r1z2-127.0.0.2:6200/d1", "100",
        "r1z3-127.0.0.3:6200/d1", "100", "r1z3-127.0.0.3:6200/d2", "100")  # fmt: skip
    assert run(path, "rebalance", "--seed", "1") == 1  # zone 3 has half the weight
    assert "an overload of 33.33% would allow the widest spread" in capsys.readouterr().out
    assert run(path, "set_overload", "34%") == 0
    assert run(path, "rebalance", "--seed", "1") == 0
    assert "Dispersion is now 0.00" in capsys.readouterr().out


def test_validate_and_search(builder, capsys):
    run(builder, "rebalance", "--seed", "1")
    assert run(builder, "validate") == 0
    assert run(builder, "search", "z4") == 0
    assert capsys.readouterr().out.count("z4-127.0.0.4") == 2


def test_console_script_runs_and_exits_with_codes(tmp_path):
    path = str(tmp_path / "c.builder")
    ok = subprocess.run([SCRIPT, path, "create", "4", "1", "0"], capture_output=True, text=True)
    assert ok.returncode == 0
    bad = subprocess.run([SCRIPT, path, "add", "nonsense", "1"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "invalid device string" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_policy_ring_builder_writes_object_n_ring_the_proxy_loads(builder, tmp_path):
    """``object-1.builder`` makes ``object-1.ring.gz``: policy 1's ring, with its own replicas."""
    from swiftlite.proxy.server import load_rings
    from tests.support.policy_conf import numbered, parse_policies

    assert run(builder, "rebalance", "--seed", "1") == 0
    for kind in ("account", "container"):
        os.link(tmp_path / "object.ring.gz", tmp_path / f"{kind}.ring.gz")
    policy_1 = str(tmp_path / "object-1.builder")
    assert run(policy_1, "create", "6", "2", "1") == 0
    for z in (1, 2):
        assert run(policy_1, "add", f"r1z{z}-127.0.0.{z}:6200/d3", "100") == 0
    assert run(policy_1, "rebalance", "--seed", "1") == 0
    rings = load_rings(str(tmp_path), parse_policies(numbered(2)))
    assert rings["object"].replica_count == 3
    assert rings["object-1"].replica_count == 2
    assert rings["object-1"].partition_count == 64
    assert {d.device for d in rings["object-1"].devs if d} == {"d3"}
    with pytest.raises(Exception, match="object-2"):
        load_rings(str(tmp_path), parse_policies(numbered(3)))
