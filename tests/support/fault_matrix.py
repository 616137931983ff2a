"""The fault matrix: one fault per scenario (``tests/support/fault_inject.py``), injected
into a 4-node aio while a journaling load runs, then every daemon once (replicators twice) and
the journal checked against the cluster.

``run_scenario`` returns the scenario's figures and leaves assertions to the test, so a failing
check still prints what was measured.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from swiftlite.aio import cluster as aio_cluster
from swiftlite.aio import procs, render
from swiftlite.common.errors import Timeout
from swiftlite.common.http.client import direct_request
from swiftlite.ring.node import Node
from tests.support.cluster import Cluster
from tests.support.fault_inject import ACCOUNT, Context, Recover, Scenario
from tests.support.journal_load import Gone, Journal, JournalLoad, Live, State, listing_of
from tests.support.wait import wait_until

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETTLE_S = 2.0  # errors may trail the end of a fault by the ops still in flight
SEEDS = 16  # objects written before the load and never touched by it (lasting faults' targets)
# The replica checks ask what each primary holds, not how fast it answers. Swift's 0.5 s
# connect timeout is for a proxy; the checker's threads share two cores with a whole cluster
# and the other xdist worker, and eventlet fires a connect's expired timer before it polls the
# socket, so a thread descheduled for half a second failed a check of a healthy server (CI,
# stop 28: "connect to 127.0.0.4:11630 timed out" right after the load ended).
CHECK_CONN_TIMEOUT = 10.0

# Each phase runs its daemons on every node at once; replicators run in two phases.
# Auditors first (quarantine what is bad), replication restores it, the updaters then find
# every container DB in place, and the second replication spreads what they changed.
REPAIR_PHASES: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("object", "auditor"),
        ("container", "auditor"),
        ("account", "auditor"),
        ("object", "expirer"),
        ("account", "reaper"),
    ),
    (("object", "replicator"), ("container", "replicator"), ("account", "replicator")),
    (("object", "updater"), ("container", "updater")),
    (("object", "replicator"), ("container", "replicator"), ("account", "replicator")),
)

# Pacing options set to 0 (unlimited) for the repair passes: the defaults are for production.
UNPACED: dict[str, dict[str, dict[str, str]]] = {
    "object": {
        "object-auditor": {"files_per_second": "0", "bytes_per_second": "0"},
        "object-updater": {"objects_per_second": "0"},
    },
    "container": {
        "container-auditor": {"containers_per_second": "0"},
        "container-replicator": {"databases_per_second": "0"},
        "container-updater": {"slowdown": "0"},
    },
    "account": {
        "account-auditor": {"accounts_per_second": "0"},
        "account-replicator": {"databases_per_second": "0"},
    },
}


@dataclass
class Figures:
    scenario: str
    seconds: float
    ops: int = 0
    acked_puts: int = 0
    acked_posts: int = 0
    acked_deletes: int = 0
    errors: int = 0
    errors_outside: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    bad_replicas_before: int = 0
    bad_replicas_after: list[str] = field(default_factory=list)
    wrong_reads: list[str] = field(default_factory=list)
    listing_mismatch: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    replication_failures: list[str] = field(default_factory=list)
    damage_found: list[str] = field(default_factory=list)  # passes in finds_damage that failed

    @property
    def repaired(self) -> int:
        return self.bad_replicas_before - len(self.bad_replicas_after)

    def row(self) -> str:
        return (
            f"| {self.scenario} | {self.seconds:g} | {self.ops} | {self.acked_puts} |"
            f" {self.acked_posts} | {self.acked_deletes} | {self.errors} |"
            f" {len(self.errors_outside)} | {self.p50_ms:.0f} / {self.p99_ms:.0f} |"
            f" {self.repaired} | {len(self.bad_replicas_after)} |"
            f" {len(self.wrong_reads) + len(self.listing_mismatch)} |"
        )


TABLE_HEAD = (
    "| scenario | s | ops | acked PUT | acked POST | acked DELETE | errors | errors outside"
    " window | p50 / p99 ms | replicas repaired | bad replicas after | wrong reads or rows |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def daemon_conf(c: Cluster, node: int, kind: str) -> str:
    """The node's server config with the daemons' pacing off, so one pass is quick."""
    plan_node = c.plan.nodes[node - 1]
    path = os.path.join(c.plan.node_etc(plan_node), f"{kind}-once.conf")
    text = render.render_config(c.plan.server_conf(plan_node, kind), UNPACED[kind])
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def run_daemons(c: Cluster, fig: Figures, finds_damage: tuple[str, ...] = ()) -> None:
    """Every daemon once on every node, phase by phase; in a phase one process per node runs
    that node's passes (``daemon_batch``), all nodes at once. Records the slowest node's time
    of each pass in ``fig.timings``.

    A replicator pass that reports a failure is recorded (``fig.replication_failures``), not
    fatal: replicators of different nodes run at once, and an rsync whose source file is
    cleaned up meanwhile by a peer's REPLICATE (a newer ``.meta`` arrived) exits 23; the next
    pass finishes the work, and the checks after repair decide. So is a failure of a pass in
    ``finds_damage`` (``fig.damage_found``): the scenario's damage, found by that daemon. Any
    other failed pass fails."""
    env = aio_cluster.process_env(c.plan)
    confs = {(n.index, k): daemon_conf(c, n.index, k) for n in c.plan.nodes for k in UNPACED}
    for number, phase in enumerate(REPAIR_PHASES):
        running = []
        for node in c.plan.nodes:
            argv = [sys.executable, "-m", "tests.support.daemon_batch"]
            argv += [f"{kind}-{daemon}={confs[node.index, kind]}" for kind, daemon in phase]
            proc = subprocess.Popen(
                argv, env=env, cwd=_REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            running.append((node.index, argv, proc))
        for index, argv, proc in running:
            out = proc.communicate(timeout=300)[0].decode(errors="replace")
            failed: list[str] = []
            for line in out.splitlines():
                if line.startswith("pass "):
                    _, name, seconds = line.split()
                    key = f"{name}#{number}"
                    fig.timings[key] = max(fig.timings.get(key, 0.0), float(seconds))
                elif line.startswith("failed once passes: "):
                    failed = line.split(": ", 1)[1].split(", ")
            found = [name for name in failed if name in finds_damage]
            fatal = [n for n in failed if not n.endswith("-replicator") and n not in found]
            assert proc.returncode == 0 or (failed and not fatal), f"{argv} failed:\n{out}"
            fig.replication_failures += [
                f"node{index} {name} (phase {number + 1})" for name in failed if name not in found
            ]
            fig.damage_found += [f"node{index} {name} (phase {number + 1})" for name in found]


def restart_proxy(c: Cluster) -> None:
    """A fresh proxy: no error-limited nodes, no pooled connections, nothing cached in it."""
    procs.stop("proxy-server", c.plan.run_dir)
    c.start_missing()


def _observe(c: Cluster, token: str, path: str) -> State | str:
    status, headers, body = c.request("GET", path, {"X-Auth-Token": token})
    if status == 404:
        return Gone
    if status != 200:
        return f"status {status}"
    return Live(hashlib.md5(body).hexdigest(), len(body), headers.get("x-object-meta-tag", ""))


def bad_replicas(ctx: Context) -> list[str]:
    """Primaries that do not hold an acknowledged state exactly (direct GET of each)."""
    certain = {n: r.possible[0] for n, r in ctx.journal.names.items() if r.certain}
    ring = ctx.cluster.ring("object")
    with ctx.cluster.own_conf():
        places = {n: ring.get_nodes(ACCOUNT, ctx.container, n) for n in certain}

    def check(name: str, part: int, node: Node) -> str | None:
        path = f"/{node.device}/{part}/{ACCOUNT}/{ctx.container}/{name}"
        try:
            resp = direct_request(node.ip, node.port, "GET", path, conn_timeout=CHECK_CONN_TIMEOUT)
        except (OSError, Timeout) as exc:
            return f"{name} on {node.ip}/{node.device}: {exc!r}"
        want = certain[name]
        if want is None:
            ok = resp.status == 404
        else:
            got = Live(
                hashlib.md5(resp.body).hexdigest(),
                len(resp.body),
                resp.header("x-object-meta-tag", ""),
            )
            ok = resp.status == 200 and got == want
        return None if ok else f"{name} on {node.ip}/{node.device}: {resp.status}"

    jobs = [(n, part, node) for n, (part, nodes) in places.items() for node in nodes]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda j: check(*j), jobs))
    return [r for r in results if r is not None] + bad_container_replicas(ctx, certain)


def bad_container_replicas(ctx: Context, certain: dict[str, State]) -> list[str]:
    """Container primaries whose listing disagrees with the journal's certain names."""
    with ctx.cluster.own_conf():
        part, nodes = ctx.cluster.ring("container").get_nodes(ACCOUNT, ctx.container)
    bad = []
    for node in nodes:
        where = f"container DB on {node.ip}/{node.device}"
        try:
            resp = direct_request(
                node.ip,
                node.port,
                "GET",
                f"/{node.device}/{part}/{ACCOUNT}/{ctx.container}",
                query="format=json",
                conn_timeout=CHECK_CONN_TIMEOUT,
            )
        except (OSError, Timeout) as exc:
            bad.append(f"{where}: {exc!r}")
            continue
        if resp.status != 200:
            bad.append(f"{where}: {resp.status}")
            continue
        rows = {row["name"]: row for row in json.loads(resp.body)}
        wrong = [
            name
            for name, want in certain.items()
            if (rows.get(name, {}).get("hash") if name in rows else None)
            != (want.md5 if want is not None else None)
        ]
        if wrong:
            bad.append(f"{where}: {len(wrong)} rows differ from the journal, e.g. {wrong[:3]}")
    return bad


def check_reads_and_listing(ctx: Context, fig: Figures) -> None:
    c = ctx.cluster
    names = list(ctx.journal.names)
    with ThreadPoolExecutor(8) as pool:
        states = pool.map(lambda n: _observe(c, ctx.auth.token, f"{ctx.container_path}/{n}"), names)
        observed = dict(zip(names, states, strict=True))
    for name, got in observed.items():
        rec = ctx.journal.names[name]
        if got not in rec.possible:
            fig.wrong_reads.append(f"{name}: read {got}, journal allows {rec.possible}")
    host, port = c.proxy
    rows = listing_of(host, port, ctx.auth.token, ctx.container_path)
    for name in sorted(set(rows) | set(observed)):
        got = observed.get(name, "never written")
        row = rows.get(name)
        if isinstance(got, Live):
            if row is None or (row["hash"], row["bytes"]) != (got.md5, got.size):
                fig.listing_mismatch.append(f"{name}: object {got}, listing row {row}")
        elif row is not None:
            fig.listing_mismatch.append(f"{name}: object {got}, but listed as {row}")


def run_scenario(
    cluster: Cluster, scenario: Scenario, seconds: float, full_device: tuple[str, str] | None
) -> Figures:
    auth = cluster.auth()
    container = "fault-" + "".join(ch if ch.isalnum() else "-" for ch in scenario.name)
    if scenario.needs_full_device:
        container = _container_on(cluster, container, full_device)
    h = {"X-Auth-Token": auth.token}
    assert cluster.request("PUT", f"{auth.path}/{container}", h)[0] == 201
    host, port = cluster.proxy
    load = JournalLoad(host, port, auth.token, f"{auth.path}/{container}")
    ctx = Context(cluster, auth, container, load.journal, [], full_device)
    seeder = load.workers[0]
    for i in range(SEEDS):
        name = f"seed-{i:02d}"
        seeder.put(name)
        assert load.journal.names[name].certain, f"seed PUT {name} failed"
        ctx.seeds.append(name)
    seeder.live.clear()  # the load never touches the seeds
    seeder.drop()

    fig = Figures(scenario.name, seconds)
    started = time.monotonic()
    fault_start = fault_end = started + seconds
    recover: Recover | None = None
    recovered = False
    load.start()
    try:
        _pause_until(started + seconds * 0.25)
        fault_start = time.monotonic()
        recover = scenario.inject(ctx)
        if recover is not None:
            _pause_until(started + seconds * 0.75)
            recovered = True
            recover()
            fault_end = time.monotonic()
        _pause_until(started + seconds)
    finally:
        journal = load.finish()
        if recover is not None and not recovered:
            recover()
    _summarise_load(fig, journal, fault_start, fault_end + SETTLE_S)
    fig.notes = ctx.notes
    t0 = time.monotonic()
    fig.bad_replicas_before = len(bad_replicas(ctx))
    t1 = time.monotonic()
    run_daemons(cluster, fig, scenario.finds_damage)
    t2 = time.monotonic()
    restart_proxy(cluster)
    fig.bad_replicas_after = bad_replicas(ctx)
    check_reads_and_listing(ctx, fig)
    fig.timings.update(
        {"check before": t1 - t0, "daemons": t2 - t1, "check after": time.monotonic() - t2}
    )
    return fig


def _container_on(c: Cluster, prefix: str, device: tuple[str, str] | None) -> str:
    """The first name ``prefix-N`` whose container DB has a primary on ``device``."""
    for n in range(100):
        name = f"{prefix}-{n}"
        if device in c.primaries("container", ACCOUNT, name):
            return name
    raise AssertionError(f"no container name puts a replica on {device}")


def _summarise_load(fig: Figures, journal: Journal, window_start: float, window_end: float) -> None:
    fig.ops = len(journal.ops)
    fig.acked_puts = journal.acked("PUT")
    fig.acked_posts = journal.acked("POST")
    fig.acked_deletes = journal.acked("DELETE")
    errors = journal.errors()
    fig.errors = len(errors)
    fig.errors_outside = [
        f"{op.method} {op.target} -> {op.status} {op.detail}"
        f" at {op.start - window_start:+.2f}s..{op.end - window_start:+.2f}s"
        for op in errors
        if op.end < window_start or op.start > window_end
    ]
    fig.p50_ms, fig.p99_ms = journal.latencies_ms()


def _pause_until(when: float) -> None:
    wait_until(lambda: time.monotonic() >= when, timeout=max(1.0, when - time.monotonic() + 5))
