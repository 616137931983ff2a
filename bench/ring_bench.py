"""Ring benchmark: rebalance time, ring load time, get_nodes per second, movement on growth.

Run: ``.venv/bin/python -m bench.ring_bench [--part-power 18]``. The geometry is the one quoted
for OpenStack Swift 2.38.3 on this machine: part power 18, 3 replicas, 100 devices in 5 zones
(4 servers of 5 disks each). Prints the figures and writes ``bench/results/ring.json``.
Wall times suffer when other work shares the CPU, so CPU seconds are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder

SWIFT = {"rebalance_s": 31.0, "load_ms": 35.0, "get_nodes_per_s": 88_000, "moved_pct": 1.73}
TARGETS = {"rebalance_s": 10.0, "load_ms": 35.0, "get_nodes_per_s": 300_000, "moved_pct": 1.73}
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "ring.json")


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def make_builder(part_power: int) -> RingBuilder:
    b = RingBuilder(part_power, 3, 1)
    for zone in range(1, 6):
        for server in range(4):
            for disk in range(5):
                b.add_dev({"region": 1, "zone": zone, "ip": f"10.0.{zone}.{server}", "port": 6200,
                           "device": f"d{disk}", "weight": 100.0})  # fmt: skip
    return b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part-power", type=int, default=18)
    parser.add_argument("--lookups", type=int, default=300_000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="ring-bench-")
    if not os.environ.get("SWIFTLITE_CONF"):
        conf = os.path.join(work, "swiftlite.conf")
        with open(conf, "w") as fh:
            fh.write("[swift-hash]\nswift_hash_path_prefix = bench\nswift_hash_path_suffix = x\n")
        os.environ["SWIFTLITE_CONF"] = conf

    b = make_builder(args.part_power)
    _, build_wall, build_cpu = timed(lambda: b.rebalance(seed=1))
    path = os.path.join(work, "object.ring.gz")
    b.write_ring(path)

    loads = [timed(lambda: Ring(path))[1:] for _ in range(15)]
    load_wall = statistics.median(w for w, _ in loads) * 1000
    load_cpu = statistics.median(c for _, c in loads) * 1000

    ring = Ring(path)
    names = [f"object-{i}" for i in range(args.lookups)]
    get_nodes = ring.get_nodes
    ring.get_nodes("warm", "up", "call")

    def lookups():
        for name in names:
            get_nodes("AUTH_bench", "container", name)

    _, look_wall, look_cpu = timed(lookups)

    b.add_dev({"region": 1, "zone": 1, "ip": "10.0.1.9", "port": 6200, "device": "d0",
               "weight": 100.0})  # fmt: skip
    b.pretend_min_part_hours_passed()
    _, add_wall, add_cpu = timed(lambda: b.rebalance(seed=2))
    moved_pct = 100.0 * b.last_moved_replicas / (b.parts * b.replicas)

    result = {
        "part_power": args.part_power,
        "replicas": 3,
        "devices": 100,
        "rebalance_s": round(build_wall, 3),
        "rebalance_cpu_s": round(build_cpu, 3),
        "load_ms": round(load_wall, 2),
        "load_cpu_ms": round(load_cpu, 2),
        "get_nodes_per_s": round(args.lookups / look_wall),
        "get_nodes_per_cpu_s": round(args.lookups / look_cpu),
        "add_101st_rebalance_s": round(add_wall, 3),
        "add_101st_rebalance_cpu_s": round(add_cpu, 3),
        "moved_pct": round(moved_pct, 3),
        "ideal_moved_pct": round(100.0 / 101, 3),
        "balance_after_add": round(b.get_balance(), 3),
        "dispersion_after_add": round(b.dispersion, 3),
        "swift_2_38_3": SWIFT,
        "targets": TARGETS,
        "load_average": os.getloadavg()[0],
    }
    print(f"rebalance (2^{args.part_power} x 3 over 100 devices): {build_wall:.2f} s wall, "
          f"{build_cpu:.2f} s CPU   (target < 10 s; Swift ~31 s)")  # fmt: skip
    print(f"ring load: {load_wall:.1f} ms wall, {load_cpu:.1f} ms CPU (median of 15)   "
          f"(target < 35 ms; Swift ~35 ms)")  # fmt: skip
    print(f"get_nodes: {result['get_nodes_per_s']:,}/s wall, {result['get_nodes_per_cpu_s']:,}/s "
          f"CPU   (target >= 300,000/s; Swift ~88,000/s)")  # fmt: skip
    print(f"101st device: moved {moved_pct:.2f}% of partition-replicas (ideal {100 / 101:.2f}%, "
          f"Swift 1.73%) in {add_wall:.2f} s; balance {b.get_balance():.2f}, dispersion "
          f"{b.dispersion:.2f}")  # fmt: skip
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as fh:
        json.dump(result, fh, indent=2)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
