"""CPU seconds and resident memory of a cluster's processes, read from ``/proc``.

Owns: finding every member of a set of process groups (each cluster process is started in its
own session, so its pid is its group id and its forked workers share it), reading their CPU
time (``/proc/<pid>/stat`` utime + stime) and memory (``/proc/<pid>/status`` VmRSS and VmHWM),
resetting the peak counters between workloads, and the machine-wide busy time from
``/proc/stat``. It only reads, except for writing ``5`` to ``clear_refs`` of our own processes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    pid: int
    pgid: int
    comm: str
    cpu_s: float
    rss_kb: int
    hwm_kb: int


@dataclass(frozen=True)
class GroupSample:
    """One reading of every process in the watched groups."""

    taken_at: float
    procs: tuple[ProcSample, ...]

    @property
    def cpu_s(self) -> float:
        return sum(p.cpu_s for p in self.procs)

    @property
    def rss_kb(self) -> int:
        return sum(p.rss_kb for p in self.procs)

    @property
    def hwm_kb(self) -> int:
        return sum(p.hwm_kb for p in self.procs)


def parse_stat(text: str) -> tuple[str, int, float]:
    """(comm, pgid, cpu seconds) from the text of ``/proc/<pid>/stat``.

    The command name is in parentheses and may itself hold spaces or parentheses, so the fields
    are counted from the last ``)``.
    """
    open_at, close_at = text.index("("), text.rindex(")")
    comm = text[open_at + 1 : close_at]
    rest = text[close_at + 2 :].split()
    # rest[0] is field 3 (state): pgrp is field 5, utime 14, stime 15
    pgid = int(rest[2])
    cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK
    return comm, pgid, cpu


def parse_status_kb(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def read_proc(pid: int) -> ProcSample | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            comm, pgid, cpu = parse_stat(fh.read())
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as fh:
            status = fh.read()
    except (OSError, ValueError, IndexError):
        return None  # gone between listing and reading
    return ProcSample(
        pid, pgid, comm, cpu, parse_status_kb(status, "VmRSS"), parse_status_kb(status, "VmHWM")
    )


def group_members(pgids: Iterable[int]) -> list[ProcSample]:
    """Every live process whose process group is one of ``pgids``."""
    wanted = set(pgids)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        sample = read_proc(int(entry))
        if sample is not None and sample.pgid in wanted:
            found.append(sample)
    return sorted(found, key=lambda s: s.pid)


def sample(pgids: Iterable[int]) -> GroupSample:
    return GroupSample(time.monotonic(), tuple(group_members(pgids)))


def reset_peaks(pids: Iterable[int]) -> bool:
    """Reset VmHWM of each process to its current RSS; False when the kernel refused."""
    ok = True
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        except OSError:
            ok = False
    return ok


def cpu_delta(before: GroupSample, after: GroupSample) -> float:
    """CPU seconds spent between two samples, per pid; a pid new in ``after`` counts whole."""
    start = {p.pid: p.cpu_s for p in before.procs}
    return sum(max(0.0, p.cpu_s - start.get(p.pid, 0.0)) for p in after.procs)


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) summed over all CPUs since boot, from ``/proc/stat``."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class Usage:
    """What a cluster's processes used during one workload."""

    cpu_s: float
    peak_rss_kb: int  # sum of each process's peak in the window (an upper bound)
    rss_kb: int  # sum of current RSS at the end
    processes: int
    machine_busy: float  # fraction of all CPUs busy during the window, everything included
    by_process: dict[str, int] = field(default_factory=dict)  # "comm[pid]" -> peak kB


class ClusterMeter:
    """Samples a cluster's process groups around a workload."""

    def __init__(self, pgids: Iterable[int]) -> None:
        self.pgids = tuple(pgids)
        self._before: GroupSample | None = None
        self._busy: tuple[float, float] = (0.0, 0.0)
        self.peaks_reset = False

    def start(self) -> None:
        before = sample(self.pgids)
        self.peaks_reset = reset_peaks(p.pid for p in before.procs)
        self._before = sample(self.pgids)
        self._busy = machine_busy()

    def stop(self) -> Usage:
        if self._before is None:
            raise RuntimeError("ClusterMeter.stop() before start()")
        after = sample(self.pgids)
        busy, total = machine_busy()
        d_total = total - self._busy[1]
        return Usage(
            cpu_s=cpu_delta(self._before, after),
            peak_rss_kb=after.hwm_kb,
            rss_kb=after.rss_kb,
            processes=len(after.procs),
            machine_busy=(busy - self._busy[0]) / d_total if d_total > 0 else 0.0,
            by_process={f"{p.comm}[{p.pid}]": p.hwm_kb for p in after.procs},
        )

    def snapshot(self) -> GroupSample:
        return sample(self.pgids)


def self_cpu() -> float:
    """CPU seconds of this process and its waited-for children (the load generator's side)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
