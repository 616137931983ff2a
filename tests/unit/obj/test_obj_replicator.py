"""Object replicator: suffix hashes compared with REPLICATE, differences pushed by real rsync.

Nodes are real object servers on their own devices dirs (``objdaemon_helpers.Net``); rsync
runs for real with a local destination (``rsync_module = <root>/node{replication_port}``), so
the files, xattrs, ``--temp-dir`` and ``--relative`` behaviour are the real thing. The rsync
daemon path is covered in ``test_obj_replicator_rsync.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from objdaemon_helpers import Net, quiet_logger

from swiftlite.common import recon_cache
from swiftlite.common.http.client import Response
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import hash_batch, layout, rsync
from swiftlite.obj.replicator import ObjectReplicator, ObjectReplicatorOptions, differing

pytestmark = [
    pytest.mark.needs_rsync,
    pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed"),
]


@pytest.fixture
def net(tmp_path):
    return Net(tmp_path)


def replicator(net: Net, port: int, run_rsync=rsync.run, **overrides) -> ObjectReplicator:
    settings = {
        "devices": str(net.devices(port)),
        "mount_check": False,
        "swift_dir": str(net.swift_dir),
        "bind_ip": "127.0.0.1",
        "bind_port": port,
        "recon_cache_path": str(net.root / "recon" / str(port)),
        "rsync_module": str(net.root) + "/node{replication_port}",
        "rsync_io_timeout": 10.0,
        "rsync_timeout": 60.0,
        **overrides,
    }
    options = ObjectReplicatorOptions(**settings)
    return ObjectReplicator(options, quiet_logger("replicator"), net.request, run_rsync)


def run(net: Net, port: int, **overrides) -> dict:
    return replicator(net, port, **overrides).run_once()


def test_replicate_missing_replica_is_pushed_with_its_metadata(net) -> None:
    _, primaries = net.placement("o")
    stamp = net.put(primaries[:2], "o", b"hello", headers={"X-Object-Meta-Color": "blue"})
    assert net.files(primaries[2], "o") == []
    summary = run(net, primaries[0])
    assert net.files(primaries[2], "o") == [f"{stamp.internal}.data"]
    resp = net.get(primaries[2], "o")
    assert (resp.status, resp.body) == (200, b"hello")
    assert resp.header("X-Object-Meta-Color") == "blue"
    assert summary["suffixes_synced"] == 1
    assert summary["files_pushed"] == 1
    assert summary["failures"] == 0
    assert summary["primary_partitions"] == 1


def test_replicate_in_sync_partition_runs_no_rsync(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries, "o")
    summary = run(net, primaries[0])
    assert summary["rsyncs"] == 0
    assert summary["suffixes_checked"] == 2  # one suffix, compared with two peers
    assert summary["suffixes_synced"] == 0


def test_replicate_second_pass_after_a_push_finds_nothing_to_do(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries[:1], "o")
    assert run(net, primaries[0])["rsyncs"] == 2
    assert run(net, primaries[0])["rsyncs"] == 0


def test_replicate_newer_tombstone_replaces_older_data_on_peers(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries, "o", timestamp=Timestamp(time.time() - 10))
    gone = net.delete(primaries[:1], "o")
    run(net, primaries[0])
    for port in primaries:
        assert net.files(port, "o") == [f"{gone.internal}.ts"], port
        assert net.get(port, "o").status == 404


def test_replicate_older_data_never_beats_a_newer_tombstone(net) -> None:
    _, primaries = net.placement("o")
    put_at = net.put(primaries[:1], "o", timestamp=Timestamp(time.time() - 10))
    gone = net.delete(primaries[1:], "o")
    run(net, primaries[0])  # pushes the stale .data; the peers' rehash drops it again
    for port in primaries[1:]:
        assert net.files(port, "o") == [f"{gone.internal}.ts"]
    assert net.files(primaries[0], "o") == [f"{put_at.internal}.data"]
    run(net, primaries[1])  # and the tombstone travels back
    for port in primaries:
        assert net.files(port, "o") == [f"{gone.internal}.ts"], port


def test_replicate_handoff_partition_is_pushed_to_primaries_and_removed(net) -> None:
    part, primaries = net.placement("o")
    _, primaries = net.placement("o")
    handoff = net.handoff_port("o")
    stamp = net.put([handoff], "o", b"from a handoff")
    summary = run(net, handoff)
    for port in primaries:
        assert net.files(port, "o") == [f"{stamp.internal}.data"], port
        assert net.get(port, "o").body == b"from a handoff"
    assert not os.path.exists(layout.partition_dir(net.dev_path(handoff), part))
    assert summary["handoff_partitions"] == 1
    assert summary["handoffs_removed"] == 1


def test_replicate_handoff_is_kept_while_a_primary_is_down(net) -> None:
    part, primaries = net.placement("o")
    _, primaries = net.placement("o")
    handoff = net.handoff_port("o")
    net.put([handoff], "o")
    net.down.add(primaries[1])
    summary = run(net, handoff)
    assert net.files(handoff, "o") != []
    assert net.files(primaries[0], "o") != []
    assert summary["handoffs_removed"] == 0
    assert summary["failures"] == 1
    assert summary["failed_nodes"] == {f"127.0.0.1:{primaries[1]}/d{primaries[1]}": 1}
    net.down.clear()
    assert run(net, handoff)["handoffs_removed"] == 1
    assert not os.path.exists(layout.partition_dir(net.dev_path(handoff), part))


def test_replicate_handoff_is_kept_when_rsync_fails(net) -> None:
    _, primaries = net.placement("o")
    handoff = net.handoff_port("o")
    net.put([handoff], "o")

    def broken(argv, timeout):
        return rsync.Result(10, "rsync error: error in socket IO (code 10)", 0)

    summary = replicator(net, handoff, run_rsync=broken).run_once()
    assert summary["failures"] == 3
    assert summary["handoffs_removed"] == 0
    assert net.files(handoff, "o") != []
    assert all(net.files(p, "o") == [] for p in primaries)


def test_handoff_moved_away_by_a_concurrent_pass_is_not_a_failure(net) -> None:
    part, _ = net.placement("o")
    handoff = net.handoff_port("o")
    net.put([handoff], "o")
    part_dir = layout.partition_dir(net.dev_path(handoff), part)

    def other_pass_first(argv, timeout):
        # the daemon's pass pushed this partition and removed it while ours was listing it
        shutil.rmtree(part_dir, ignore_errors=True)
        return rsync.run(argv, timeout)

    summary = replicator(net, handoff, run_rsync=other_pass_first).run_once()
    assert summary["failures"] == 0
    assert summary["handoffs_removed"] == 0
    assert not os.path.exists(part_dir)


def test_write_racing_a_handoff_push_stays_on_the_handoff(net) -> None:
    _, primaries = net.placement("o")
    handoff = net.handoff_port("o")
    net.put([handoff], "o")
    pushes = []

    def rsync_then_post(argv, timeout):
        result = rsync.run(argv, timeout)
        if not pushes:  # a POST lands on the handoff right after the first push
            stamp = Timestamp.now().internal
            assert net.object_request(handoff, "POST", "o", {"X-Timestamp": stamp}).status == 202
        pushes.append(argv)
        return result

    summary = replicator(net, handoff, run_rsync=rsync_then_post).run_once()
    assert summary["handoffs_removed"] == 0
    files = net.files(handoff, "o")
    assert [f[-5:] for f in files] == [".data", ".meta"]  # nothing lost
    assert run(net, handoff)["handoffs_removed"] == 1  # the next pass carries the .meta over
    for port in primaries:
        assert net.files(port, "o") == files


def test_replicate_unmounted_primary_gets_a_handoff_copy_instead(net) -> None:
    _, primaries = net.placement("o")
    handoff = net.handoff_port("o")
    stamp = net.put(primaries[:2], "o")
    shutil.rmtree(net.dev_path(primaries[2]))  # its disk is gone: REPLICATE answers 507
    summary = run(net, primaries[0])
    assert net.files(handoff, "o") == [f"{stamp.internal}.data"]
    assert summary["failures"] == 1


def test_replicate_reclaims_tombstones_older_than_reclaim_age(net) -> None:
    part, primaries = net.placement("o")
    old = Timestamp(time.time() - 1000)
    net.delete(primaries[:1], "o", timestamp=old)
    assert net.files(primaries[0], "o") == [f"{old.internal}.ts"]
    summary = run(net, primaries[0], reclaim_age=100)
    assert net.files(primaries[0], "o") == []
    assert not os.path.exists(layout.partition_dir(net.dev_path(primaries[0]), part))
    assert all(net.files(p, "o") == [] for p in primaries[1:])  # nothing was pushed
    assert summary["rsyncs"] == 0


def test_replicate_removes_only_stale_tmp_files(net) -> None:
    port = net.object_ports[0]
    tmp = os.path.join(net.dev_path(port), "tmp")
    os.makedirs(tmp)
    for name in ("old.tmp", "new.tmp"):
        with open(os.path.join(tmp, name), "wb") as fh:
            fh.write(b"x")
    long_ago = time.time() - 2000
    os.utime(os.path.join(tmp, "old.tmp"), (long_ago, long_ago))
    summary = run(net, port, reclaim_age=1000)
    assert os.listdir(tmp) == ["new.tmp"]
    assert summary["tmp_removed"] == 1


def test_replicate_wiped_device_is_restored_by_peers(net) -> None:
    names = [f"obj-{i}" for i in range(12)]
    for name in names:
        net.put(net.placement(name)[1], name, name.encode())
    victim = net.object_ports[1]
    root = net.dev_path(victim)
    for entry in os.listdir(root):
        shutil.rmtree(os.path.join(root, entry))
    for port in net.object_ports:
        if port != victim:
            assert run(net, port)["failures"] == 0
    held = [n for n in names if victim in net.placement(n)[1]]
    assert held
    for name in held:
        assert net.get(victim, name).body == name.encode()


def test_run_pass_records_summary_for_recon(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries[:1], "o")
    daemon = replicator(net, primaries[0])
    daemon.run_pass()
    stored = recon_cache.read(
        recon_cache.cache_path(str(net.root / "recon" / str(primaries[0])), "object")
    )
    entry = stored["object-replicator"]
    assert entry["suffixes_synced"] == 2
    assert entry["partitions"] == 1
    assert entry["duration"] >= 0


def test_replicate_with_no_ring_reports_a_failure(net) -> None:
    os.unlink(net.swift_dir / "object.ring.gz")
    summary = run(net, net.object_ports[0])
    assert summary["failures"] == 1
    assert summary["partitions"] == 0


def test_differing_lists_suffixes_the_peer_lacks_or_disagrees_on() -> None:
    local = {"abc": "1" * 32, "def": "2" * 32, "123": None}
    assert differing(local, {"abc": "1" * 32, "def": "3" * 32}) == ["def"]
    assert differing(local, {}) == ["abc", "def"]
    assert differing({}, {"abc": "1" * 32}) == []


def test_replicate_verb_recreates_tmp_on_a_wiped_device(net) -> None:
    port = net.object_ports[0]
    root = net.dev_path(port)
    shutil.rmtree(root)
    os.makedirs(root)
    resp = net.request("127.0.0.1", port, "REPLICATE", f"/{net.device(port)}/3")
    assert (resp.status, resp.body) == (200, b"{}")
    assert os.path.isdir(os.path.join(root, "tmp"))  # rsync's --temp-dir=tmp needs it
    assert not os.path.exists(os.path.join(root, "objects", "3"))  # but no empty partition


def test_replicate_each_policy_with_its_own_dirs_ring_and_header(net, monkeypatch) -> None:
    from swiftlite.common import policies
    from tests.support.policy_conf import numbered, parse_policies

    pols = parse_policies(numbered(2))
    monkeypatch.setattr(policies, "load", lambda: pols)
    shutil.copy(net.swift_dir / "object.ring.gz", net.swift_dir / "object-1.ring.gz")
    part, primaries = net.placement("o")
    policy_1 = {policies.INDEX_HEADER: "1"}
    net.put(primaries[:1], "o", b"silver", headers=policy_1)
    net.put(primaries[:1], "zero")
    summary = run(net, primaries[0])
    for port in primaries[1:]:
        resp = net.object_request(port, "GET", "o", policy_1)
        assert (resp.status, resp.body) == (200, b"silver")
        assert net.get(port, "o").status == 404  # policy 0 never got it
        assert os.path.isdir(layout.partition_dir(net.dev_path(port), part, 1))
        assert not os.listdir(layout.tmp_dir(net.dev_path(port), 1))  # rsync staged there
    assert summary["policy_partitions"]["1"] == 1
    assert summary["policy_partitions"]["0"] >= 1
    replicates = [h for _, method, _, h in net.calls if method == "REPLICATE"]
    assert {h.get(policies.INDEX_HEADER) for h in replicates} == {"0", "1"}


# -- the batched REPLICATE (obj.hash_batch) ---------------------------------------------------


def _replicates(net: Net) -> list[str]:
    return [path for _, method, path, _ in net.calls if method == "REPLICATE"]


def test_in_sync_pass_asks_each_peer_once_for_all_its_partitions(net) -> None:
    # Without the batch, a pass sends one REPLICATE per partition and peer (Swift's way).
    names = [f"o{i}" for i in range(40)]
    port = net.object_ports[0]
    for name in names:
        net.put(net.placement(name)[1], name)
    net.calls.clear()
    summary = run(net, port)
    held = summary["primary_partitions"]
    assert held >= 2
    assert summary["handoff_partitions"] == 0
    assert summary["rsyncs"] == 0
    assert summary["failures"] == 0
    paths = _replicates(net)
    assert all(p.count("/") == 1 for p in paths)  # only /<dev>: nothing asked alone
    assert len(paths) == len({p for p in paths}) == 3  # one per peer device (4 nodes)


def test_batch_of_one_asks_per_chunk_and_still_pushes(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries[:1], "o", b"one")
    net.calls.clear()
    summary = run(net, primaries[0], replicate_batch=1)
    assert summary["rsyncs"] == 2
    assert summary["failures"] == 0
    assert net.get(primaries[2], "o").body == b"one"
    batched = [p for p in _replicates(net) if p.count("/") == 1]
    assert len(batched) == 2  # one chunk (one partition), two peers


def test_replicate_batch_zero_asks_partition_by_partition(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries, "o")
    net.calls.clear()
    run(net, primaries[0], replicate_batch=0)
    paths = _replicates(net)
    assert len(paths) == 2
    assert all(p.count("/") == 2 for p in paths)


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (400, b"REPLICATE needs /<device>/<partition>"),  # a peer without the batched form
        (200, b'{"0": {"zz": 1}}'),  # an answer that is not hashes of what was asked
    ],
)
def test_peer_failing_the_batch_is_asked_alone_and_gets_its_copy(net, status, answer) -> None:
    _, primaries = net.placement("o")
    stamp = net.put(primaries[:2], "o")
    plain = net.request

    def peer(ip, port, method, path, headers=None, body=None, *args, **kwargs):
        if method == "REPLICATE" and path.count("/") == 1:
            return Response.complete(status, {}, answer)
        return plain(ip, port, method, path, headers, body, *args, **kwargs)

    options = replicator(net, primaries[0]).options
    summary = ObjectReplicator(options, quiet_logger("r"), peer, rsync.run).run_once()
    assert net.files(primaries[2], "o") == [f"{stamp.internal}.data"]
    assert summary["failures"] == 0


def test_handoff_asks_each_primary_alone(net) -> None:
    # A handoff deletes what the primaries confirmed: that answer must be fresh, not batched.
    handoff = net.handoff_port("o")
    net.put([handoff], "o")
    net.calls.clear()
    summary = run(net, handoff)
    assert summary["handoffs_removed"] == 1
    assert [p for p in _replicates(net) if p.count("/") == 1] == []


def test_batched_verb_answers_what_each_partition_alone_would(net) -> None:
    port = net.object_ports[0]
    for i in range(30):
        name = f"b{i}"
        net.put(net.placement(name)[1], name)
    dev = net.device(port)
    parts = sorted(int(n) for n in os.listdir(os.path.join(net.dev_path(port), "objects")))
    missing = [p for p in range(net.ring().partition_count) if p not in parts]
    asked = [*parts, missing[0]]  # 4 nodes and 3 replicas: a node lacks a quarter of them
    body = hash_batch.encode_request(asked)
    resp = net.request("127.0.0.1", port, "REPLICATE", f"/{dev}", body=body)
    assert resp.status == 200
    answer = json.loads(resp.body)
    assert sorted(answer) == sorted(str(p) for p in asked)
    for part in parts:
        alone = net.request("127.0.0.1", port, "REPLICATE", f"/{dev}/{part}")
        assert answer[str(part)] == json.loads(alone.body) != {}
    assert answer[str(asked[-1])] == {}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"partitions": "1"}', 400),
        (b'{"partitions": [true]}', 400),
        (b'{"partitions": [-1]}', 400),
        (b'{"partitions": [1.5]}', 400),
        (b'{"partitions": [4294967296]}', 400),
        (json.dumps({"partitions": list(range(hash_batch.MAX_PARTITIONS + 1))}).encode(), 400),
        (b'{"partitions": []}' + b" " * hash_batch.MAX_BODY, 413),
    ],
)
def test_batched_verb_refuses_a_malformed_body(net, body, status) -> None:
    port = net.object_ports[0]
    resp = net.request("127.0.0.1", port, "REPLICATE", f"/{net.device(port)}", body=body)
    assert resp.status == status
    assert b"Traceback" not in resp.body
    assert len(resp.body) < 200
