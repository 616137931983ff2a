"""``swiftlite-aio start|stop|status|reset``: an all-in-one cluster on 127.0.0.x."""

from __future__ import annotations

import argparse
import os
import sys

from swiftlite.aio import cluster
from swiftlite.aio.plan import ClusterPlan, load_plan, make_plan

DEFAULT_ROOT = "~/.swiftlite/aio"

USERS = (
    ("test:tester", "testing", "admin of AUTH_test"),
    ("test2:tester2", "testing2", "admin of AUTH_test2"),
    ("test:tester3", "testing3", "AUTH_test, not admin"),
    ("test5:tester5", "testing5", "group service (service tokens)"),
    ("admin:admin", "admin", "reseller admin"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="swiftlite-aio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="build rings and configs, start every process")
    start.add_argument("--root", default=DEFAULT_ROOT, help="cluster directory (%(default)s)")
    start.add_argument("--port", type=int, default=8080, help="proxy port (%(default)s)")
    start.add_argument("--replicas", type=int, default=3)
    start.add_argument(
        "--devices", type=int, default=None, help="devices per node (4, or 2 with --nodes > 1)"
    )
    start.add_argument("--nodes", type=int, default=1, help="storage nodes on 127.0.0.1..N")
    start.add_argument("--part-power", type=int, default=10)
    start.add_argument("--proxy-workers", type=int, default=2)
    start.add_argument(
        "--policies",
        type=int,
        default=1,
        help="storage policies: 1 (Policy-0 only) or 2 (gold, default; silver, 2 replicas)",
    )
    for name, text in (
        ("stop", "stop what start started"),
        ("status", "show each process"),
        ("reset", "stop and delete the cluster directory"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--root", default=DEFAULT_ROOT)
    return parser


def _print_welcome(plan: ClusterPlan) -> None:
    url = plan.auth_url
    print(f"swiftlite is running: auth URL {url}")
    print("users (user / key):")
    for user, key, what in USERS:
        print(f"  {user:14} {key:9} {what}")
    print("\ntry it:")
    print(f"  curl -i -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' {url}")
    print("  TOKEN=... ; STORAGE_URL=...   (from the X-Auth-Token and X-Storage-Url headers)")
    print('  curl -i -X PUT -H "X-Auth-Token: $TOKEN" $STORAGE_URL/photos')
    print('  curl -i -X PUT -H "X-Auth-Token: $TOKEN" -T README.md $STORAGE_URL/photos/readme')
    print(f"  swift -A {url} -U test:tester -K testing stat")
    print(f"\nconfigs: {plan.etc_dir}\nlogs:    {plan.log_dir}\ndata:    {plan.root}/srv")
    print(f"stop it: swiftlite-aio stop --root {plan.root}")


def _load_or_exit(root: str) -> ClusterPlan | None:
    plan = load_plan(root)
    if plan is None:
        print(f"no cluster at {os.path.expanduser(root)}", file=sys.stderr)
    return plan


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "start":
        try:
            new_plan = make_plan(
                args.root,
                args.port,
                args.replicas,
                args.devices,
                args.nodes,
                args.part_power,
                args.proxy_workers,
                policies=args.policies,
            )
        except ValueError as exc:
            print(f"swiftlite-aio: {exc}", file=sys.stderr)
            return 2
        try:
            cluster.start(new_plan)
        except cluster.ClusterError as exc:
            print(f"swiftlite-aio: {exc}", file=sys.stderr)
            return 1
        _print_welcome(load_plan(args.root) or new_plan)
        return 0
    plan = _load_or_exit(args.root)
    if plan is None:
        return 0 if args.command in ("stop", "reset") else 1
    if args.command == "stop":
        stopped = cluster.stop(plan)
        print(f"stopped {len(stopped)} processes" + (f": {', '.join(stopped)}" if stopped else ""))
        return 0
    if args.command == "reset":
        cluster.reset(plan)
        print(f"removed {plan.root}")
        return 0
    rows = cluster.status(plan)
    print(f"{'process':28} {'pid':>8}  state")
    checked = {
        spec.name
        for spec in cluster.process_specs(plan, cluster.Tools.find())
        if spec.health or spec.tcp
    }
    for row in rows:
        state = "running" if row.alive else "stopped"
        if row.alive and row.name in checked:
            state = "healthy" if row.healthy else "not answering"
        print(f"{row.name:28} {row.pid or '-':>8}  {state}")
    return 0 if all(r.healthy for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
