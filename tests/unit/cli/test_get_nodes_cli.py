"""swiftlite-get-nodes: partition, primaries, handoffs and curl lines."""

import os
import subprocess
import sys

import pytest

from swiftlite.cli.get_nodes import main
from swiftlite.common.hashing import hash_path
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder

SCRIPT = os.path.join(os.path.dirname(sys.executable), "swiftlite-get-nodes")


@pytest.fixture(autouse=True)
def hash_conf(tmp_path, monkeypatch):
    conf = tmp_path / "swiftlite.conf"
    conf.write_text("[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n")
    monkeypatch.setenv("SWIFTLITE_CONF", str(conf))
    return conf


@pytest.fixture
def ring_path(tmp_path):
    b = RingBuilder(6, 3, 0)
    for z in range(1, 6):
        b.add_dev({"region": 1, "zone": z, "ip": f"127.0.0.{z}", "port": 6200 + z,
                   "device": f"sd{z}", "weight": 1.0})  # fmt: skip
    b.rebalance(seed=1)
    path = str(tmp_path / "object.ring.gz")
    b.write_ring(path)
    return path


def test_get_nodes_prints_partition_hash_primaries_and_handoffs(ring_path, capsys):
    assert main([ring_path, "AUTH_test", "c", "o 1"]) == 0
    out = capsys.readouterr().out
    ring = Ring(ring_path)
    part, nodes = ring.get_nodes("AUTH_test", "c", "o 1")
    assert f"Partition\t{part}\n" in out
    assert f"Hash     \t{hash_path('AUTH_test', 'c', 'o 1')}" in out
    for n in nodes:
        line = f'curl -g -I -XHEAD "http://{n.ip}:{n.port}/{n.device}/{part}/AUTH_test/c/o%201"'
        assert line + "\n" in out
    assert out.count("[Handoff]") == 2 * 2  # 2 handoffs (5 devices - 3), listed twice each


def test_get_nodes_account_only_uses_account_path(ring_path, capsys):
    assert main([ring_path, "AUTH_x"]) == 0
    out = capsys.readouterr().out
    part = Ring(ring_path).get_part("AUTH_x")
    assert f'/{part}/AUTH_x"' in out
    assert "Container" not in out


def test_get_nodes_partition_option_lists_its_nodes(ring_path, capsys):
    assert main([ring_path, "-p", "7"]) == 0
    out = capsys.readouterr().out
    assert "Partition\t7" in out
    assert out.count('curl -g -I -XHEAD "http://') == 5


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        ([], "the following arguments are required"),
        (["RING"], "give <account>"),
        (["RING", "a", "c", "o", "extra"], "at most"),
        (["RING", "-p", "9999"], "partition 9999 is not in 0..63"),
        (["/nonexistent/x.ring.gz", "a"], "cannot read ring file"),
    ],
)
def test_get_nodes_bad_arguments_exit_2(ring_path, capsys, argv, why):
    argv = [ring_path if a == "RING" else a for a in argv]
    assert main(argv) == 2
    assert why in capsys.readouterr().err


def test_get_nodes_corrupt_ring_names_file(tmp_path, capsys):
    bad = tmp_path / "bad.ring.gz"
    bad.write_bytes(b"\x1f\x8b not really")
    assert main([str(bad), "a"]) == 2
    assert f"{bad}: corrupt ring file" in capsys.readouterr().err


def test_get_nodes_console_script_runs(ring_path, hash_conf):
    env = dict(os.environ, SWIFTLITE_CONF=str(hash_conf))
    done = subprocess.run([SCRIPT, ring_path, "a", "c"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "Partition\t" in done.stdout
    assert "curl -g -I -XHEAD" in done.stdout
    missing = subprocess.run([SCRIPT, ring_path + ".nope", "a"], capture_output=True, text=True,
                             env=env)  # fmt: skip
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_get_nodes_on_a_policy_ring_names_the_policy_in_curl_lines(ring_path, tmp_path, capsys):
    import shutil

    from swiftlite.cli.get_nodes import main

    policy_ring = str(tmp_path / "object-2.ring.gz")
    shutil.copy(ring_path, policy_ring)
    assert main([policy_ring, "AUTH_a", "c", "o"]) == 0
    curls = [line for line in capsys.readouterr().out.splitlines() if line.startswith("curl")]
    assert curls
    assert all('-H "X-Backend-Storage-Policy-Index: 2"' in line for line in curls)
    assert main([ring_path, "AUTH_a", "c", "o"]) == 0
    assert "Policy-Index" not in capsys.readouterr().out
