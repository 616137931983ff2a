"""swiftlite-ring-builder: swift-ring-builder's daily commands over swiftlite's RingBuilder.

Usage: ``swiftlite-ring-builder <builder_file> [<command> ...]``. Exit codes: 0 success, 1 done
with warnings (or nothing to do), 2 error. This module only parses arguments and prints; every
rule lives in ``swiftlite.ring``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

from swiftlite.ring import RingError, metrics, ringfile
from swiftlite.ring.builder import RingBuilder, default_ring_path
from swiftlite.ring.devices import (
    Device,
    format_device,
    match_devices,
    parse_device_string,
    parse_search_value,
)

EXIT_SUCCESS, EXIT_WARNING, EXIT_ERROR = 0, 1, 2

USAGE = """usage: swiftlite-ring-builder <builder_file> [<command> [args]]

commands:
  (none)                                 show the builder: devices, weights, partitions, balance
  create <part_power> <replicas> <min_part_hours> [--force]
  add <r1z1-127.0.0.1:6200/d1> <weight> [<dev> <weight> ...]
  add --region R --zone Z --ip IP --port P --device NAME --weight W [--meta M]
      [--replication-ip IP --replication-port P]
  remove <search_value> [<search_value> ...] [--yes]
  set_weight <search_value> <weight> [<search_value> <weight> ...] [--yes]
  set_overload <0.1 | 10%>
  set_min_part_hours <hours>
  rebalance [--seed N] [--force]         also writes <name>.ring.gz beside the builder
  write_ring
  pretend_min_part_hours_passed
  dispersion [-v]
  search <search_value>
  validate

search values: d<id>, r<region>z<zone>-<ip>:<port>/<device>, or an IP such as 127.0.0.1"""


class CommandError(Exception):
    """A user mistake: printed without a traceback, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise CommandError(f"{self.prog}: {message}")


def _parser(command: str) -> _Parser:
    return _Parser(prog=f"swiftlite-ring-builder <builder_file> {command}", add_help=False)


def _load(path: str) -> RingBuilder:
    return RingBuilder.load(path)


def _save(builder: RingBuilder, path: str) -> None:
    builder.save(path)


def _float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"invalid {what}: {text!r}") from None


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"invalid {what}: {text!r}") from None


def _matches(builder: RingBuilder, value: str, allow_many: bool) -> list[Device]:
    found = match_devices(builder.devs, parse_search_value(value))
    found = [d for d in found if d.id not in builder.pending_removal()]
    if not found:
        raise CommandError(f"no device matches search value {value!r}")
    if len(found) > 1 and not allow_many:
        listing = "\n".join("    " + format_device(d) for d in found)
        raise CommandError(
            f"search value {value!r} matches {len(found)} devices:\n{listing}\n"
            "add --yes to change them all"
        )
    return found


# -- commands ---------------------------------------------------------------------------------
def cmd_create(path: str, args: list[str]) -> int:
    p = _parser("create")
    p.add_argument("part_power")
    p.add_argument("replicas")
    p.add_argument("min_part_hours")
    p.add_argument("--force", action="store_true")
    ns = p.parse_args(args)
    if os.path.exists(path) and not ns.force:
        raise CommandError(f"{path} already exists; use --force to replace it")
    builder = RingBuilder(
        _int(ns.part_power, "part_power"),
        _float(ns.replicas, "replicas"),
        _int(ns.min_part_hours, "min_part_hours"),
    )
    _save(builder, path)
    return EXIT_SUCCESS


def _add_from_options(args: list[str]) -> list[dict]:
    p = _parser("add")
    for name in ("region", "zone", "port", "replication-port"):
        p.add_argument(f"--{name}", type=int, default=None)
    for name in ("ip", "device", "meta", "replication-ip"):
        p.add_argument(f"--{name}", default=None)
    p.add_argument("--weight", type=float, default=None)
    ns = p.parse_args(args)
    missing = [n for n in ("zone", "ip", "port", "device", "weight") if getattr(ns, n) is None]
    if missing:
        raise CommandError("add: missing " + ", ".join("--" + m for m in missing))
    dev = {
        "region": 1 if ns.region is None else ns.region,
        "zone": ns.zone,
        "ip": ns.ip,
        "port": ns.port,
        "device": ns.device,
        "weight": ns.weight,
        "meta": ns.meta or "",
    }
    if ns.replication_ip:
        dev["replication_ip"] = ns.replication_ip
    if ns.replication_port:
        dev["replication_port"] = ns.replication_port
    return [dev]


def cmd_add(path: str, args: list[str]) -> int:
    builder = _load(path)
    if args and args[0].startswith("--"):
        new = _add_from_options(args)
    else:
        if not args or len(args) % 2:
            raise CommandError("add: expected pairs of <device string> <weight>")
        new = []
        for text, weight in zip(args[::2], args[1::2], strict=True):
            dev = parse_device_string(text)
            dev["weight"] = _float(weight, "weight")
            new.append(dev)
    for dev in new:
        dev_id = builder.add_dev(dev)
        added = builder.search_devs({"id": dev_id})[0]
        print(f"Device {format_device(added)} with {added.weight} weight got id {dev_id}")
    _save(builder, path)
    return EXIT_SUCCESS


def cmd_remove(path: str, args: list[str]) -> int:
    p = _parser("remove")
    p.add_argument("values", nargs="+")
    p.add_argument("--yes", action="store_true")
    ns = p.parse_args(args)
    builder = _load(path)
    for value in ns.values:
        for dev in _matches(builder, value, ns.yes):
            builder.remove_dev(dev.id)
            print(f"{format_device(dev)} marked for removal; it goes at the next rebalance.")
    _save(builder, path)
    return EXIT_SUCCESS


def cmd_set_weight(path: str, args: list[str]) -> int:
    yes = "--yes" in args
    args = [a for a in args if a != "--yes"]
    if not args or len(args) % 2:
        raise CommandError("set_weight: expected pairs of <search value> <weight>")
    builder = _load(path)
    for value, text in zip(args[::2], args[1::2], strict=True):
        weight = _float(text, "weight")
        for dev in _matches(builder, value, yes):
            builder.set_dev_weight(dev.id, weight)
            print(f"{format_device(dev)} weight set to {weight}")
    _save(builder, path)
    return EXIT_SUCCESS


def _parse_overload(text: str) -> float:
    if text.endswith("%"):
        return _float(text[:-1], "overload") / 100.0
    return _float(text, "overload")


def cmd_set_overload(path: str, args: list[str]) -> int:
    if len(args) != 1:
        raise CommandError("set_overload: expected one value, e.g. 0.1 or 10%")
    builder = _load(path)
    builder.set_overload(_parse_overload(args[0]))
    _save(builder, path)
    print(f"The overload factor is now {builder.overload * 100:.2f}% ({builder.overload:.6f})")
    return EXIT_SUCCESS


def cmd_set_min_part_hours(path: str, args: list[str]) -> int:
    if len(args) != 1:
        raise CommandError("set_min_part_hours: expected one value")
    builder = _load(path)
    builder.set_min_part_hours(_int(args[0], "min_part_hours"))
    _save(builder, path)
    print(f"The minimum number of hours before a partition can be reassigned is now {args[0]}")
    return EXIT_SUCCESS


def cmd_rebalance(path: str, args: list[str]) -> int:
    p = _parser("rebalance")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--force", action="store_true")
    ns = p.parse_args(args)
    builder = _load(path)
    if not any(d is not None for d in builder.devs):
        raise CommandError("there are no devices in this builder; add some first")
    first = builder.replica2part2dev is None
    old_balance, old_dispersion = builder.get_balance(), builder.dispersion
    changed, balance, removed = builder.rebalance(seed=ns.seed)
    if not changed and not removed:
        print("No partitions could be reassigned.")
        print("There is no need to rebalance, or min_part_hours has not yet passed.")
        return EXIT_WARNING
    percent = 100.0 * changed / builder.parts
    improved = old_balance - balance >= 1 or old_dispersion - builder.dispersion >= 1
    if not (first or ns.force or removed or percent >= 1 or improved):
        print(f"Cowardly refusing to save: only {percent:.2f}% of partitions changed and the")
        print("balance did not improve. Use --force to save anyway.")
        return EXIT_WARNING
    ring_path = default_ring_path(path)
    builder.write_ring(ring_path)
    _save(builder, path)
    print(
        f"Reassigned {changed} ({percent:.2f}%) partitions. "
        f"Balance is now {balance:.2f}.  Dispersion is now {builder.dispersion:.2f}"
    )
    status = EXIT_SUCCESS
    if builder.last_unbalanced:
        print("NOTE: some partition-replicas could not move yet (min_part_hours, or no room")
        print("within the tier caps). Push this ring, wait min_part_hours, and rebalance again.")
        status = EXIT_WARNING
    elif balance > 5 + 100 * builder.tiers_and_targets()[1].overload_used:
        # Overload spent on dispersion explains part of the balance; warn about the rest.
        print(f"NOTE: balance {balance:.2f} is above 5%: the weights cannot all be met.")
        status = EXIT_WARNING
    if builder.dispersion > 0:
        required = builder.required_overload()
        print(
            f"NOTE: dispersion is {builder.dispersion:.2f}; an overload of "
            f"{required * 100:.2f}% would allow the widest spread."
        )
        status = EXIT_WARNING
    return status


def cmd_write_ring(path: str, args: list[str]) -> int:
    if args:
        raise CommandError("write_ring takes no arguments")
    builder = _load(path)
    ring_path = default_ring_path(path)
    builder.write_ring(ring_path)
    if builder.devs_changed:
        print(f"Wrote {ring_path}, but devices changed since the last rebalance.")
        return EXIT_WARNING
    print(f"Wrote {ring_path}")
    return EXIT_SUCCESS


def cmd_pretend(path: str, args: list[str]) -> int:
    builder = _load(path)
    builder.pretend_min_part_hours_passed()
    _save(builder, path)
    return EXIT_SUCCESS


def cmd_dispersion(path: str, args: list[str]) -> int:
    verbose = "-v" in args or "--verbose" in args
    builder = _load(path)
    table = builder.replica2part2dev
    if table is None:
        raise CommandError("the builder has not been rebalanced yet")
    tiers, targets = builder.tiers_and_targets()
    print(
        f"Dispersion is {builder.dispersion:.6f}, Balance is {builder.get_balance():.6f}, "
        f"Overload is {builder.overload * 100:.2f}%"
    )
    print(f"Required overload is {targets.required_overload * 100:.6f}%")
    reps = builder.replicas
    head = f"{'Tier':<36}{'Parts':>9}{'%':>8}{'Max':>5}" + "".join(
        f"{k:>8}" for k in range(reps + 1)
    )
    print("-" * len(head))
    print(head)
    print("-" * len(head))
    for row in metrics.tier_report(tiers, targets, table, reps):
        if not verbose and row.tier.count("/"):
            continue
        cells = "".join(f"{c:>8}" for c in row.histogram)
        print(
            f"{row.tier:<36}{row.parts:>9}{row.percent_at_risk:>8.2f}{row.max_replicas:>5}{cells}"
        )
    return EXIT_SUCCESS


def cmd_search(path: str, args: list[str]) -> int:
    if len(args) != 1:
        raise CommandError("search: expected one search value")
    builder = _load(path)
    found = match_devices(builder.devs, parse_search_value(args[0]))
    if not found:
        print("No matching devices found")
        return EXIT_ERROR
    for dev in found:
        print(format_device(dev), dev.weight)
    return EXIT_SUCCESS


def cmd_validate(path: str, args: list[str]) -> int:
    builder = _load(path)
    table = builder.replica2part2dev
    if table is None:
        raise CommandError("the builder has not been rebalanced yet")
    for part, devs in enumerate(zip(*table, strict=True)):
        if len(set(devs)) != len(devs):
            raise CommandError(f"partition {part} has two replicas on one device: {devs}")
        if any(builder.devs[d] is None for d in devs if d < len(builder.devs)):
            raise CommandError(f"partition {part} is assigned to a missing device")
    print("Builder is valid.")
    return EXIT_SUCCESS


def _ring_state(builder: RingBuilder, ring_path: str) -> str:
    name = os.path.basename(ring_path)
    if not os.path.exists(ring_path):
        return f"Ring file {name} not found, probably it hasn't been written yet"
    try:
        ring = ringfile.read_ring(ring_path)
        current = builder.ring_data()
    except RingError:
        return f"Ring file {name} is invalid or out of date"
    same = ring.rows == current.rows and ring.devs == current.devs
    return f"Ring file {name} is {'up-to-date' if same else 'obsolete'}"


def show(path: str) -> int:
    builder = _load(path)
    devs = builder.present_devs()
    counts = builder.counts()
    per_dev = metrics.device_balance(devs, counts, builder.parts, builder.replicas)
    regions = {d.region for d in devs}
    zones = {(d.region, d.zone) for d in devs}
    print(f"{path}, build version {builder.version}")
    print(
        f"{builder.parts} partitions, {builder.replicas:.6f} replicas, {len(regions)} regions, "
        f"{len(zones)} zones, {len(devs)} devices, {builder.get_balance():.2f} balance, "
        f"{builder.dispersion:.2f} dispersion"
    )
    left = timedelta(seconds=builder.min_part_seconds_left())
    print(
        "The minimum number of hours before a partition can be reassigned is "
        f"{builder.min_part_hours} ({left} remaining)"
    )
    print(f"The overload factor is {builder.overload * 100:.2f}% ({builder.overload:.6f})")
    print(_ring_state(builder, default_ring_path(path)))
    print(
        "Devices:   id region zone       ip address:port  replication ip:port       name"
        "   weight partitions balance flags meta"
    )
    pending = builder.pending_removal()
    for d in devs:
        flags = "DEL" if d.id in pending else ""
        print(
            f"{d.id:>13} {d.region:>6} {d.zone:>4} {d.server:>21} "
            f"{d.replication_ip + ':' + str(d.replication_port):>20} {d.device:>10} "
            f"{d.weight:>8.2f} {counts.get(d.id, 0):>10} {per_dev[d.id]:>7.2f} {flags:>5} {d.meta}"
        )
    return EXIT_SUCCESS


COMMANDS: dict[str, Callable[[str, list[str]], int]] = {
    "create": cmd_create,
    "add": cmd_add,
    "remove": cmd_remove,
    "set_weight": cmd_set_weight,
    "set_overload": cmd_set_overload,
    "set_min_part_hours": cmd_set_min_part_hours,
    "rebalance": cmd_rebalance,
    "write_ring": cmd_write_ring,
    "pretend_min_part_hours_passed": cmd_pretend,
    "dispersion": cmd_dispersion,
    "search": cmd_search,
    "validate": cmd_validate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 warning, 2 error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return EXIT_SUCCESS if args else EXIT_ERROR
    path, command, rest = args[0], (args[1] if len(args) > 1 else None), args[2:]
    try:
        if command is None:
            return show(path)
        handler = COMMANDS.get(command)
        if handler is None:
            raise CommandError(f"unknown command {command!r}\n\n{USAGE}")
        return handler(path, rest)
    except (CommandError, RingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # argparse help
        return int(exc.code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
