"""Durability of one object PUT, read from its system calls: nothing is acknowledged unsynced.

An object server runs under ``strace -f``; one PUT goes in. From the trace: the rename that
publishes ``<ts>.data``, and the socket write of the ``201``. The test then requires a sync
that covers both the file's bytes and its new directory entry and *completes before* the 201
starts: with group commit, a ``syncfs`` that starts after the rename has returned; with
per-file fsyncs, an ``fsync`` of the data file after its last write and one of the hash
directory after the rename. Skipped with a reason where strace is missing or ptrace is refused.
"""

from __future__ import annotations

import http.client
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest
from objtest_helpers import DEVICE, PART

from swiftlite.common.timestamp import Timestamp
from tests.support.wait import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SYSCALLS = (
    "openat,write,pwrite64,writev,sendto,sendmsg,fsync,fdatasync,syncfs,rename,renameat,renameat2"
)
LINE = re.compile(r"^(\d+)\s+(\d+):(\d+):(\d+\.\d+) (.*)$")
DONE = re.compile(r"^(\w+)\((.*)\)\s+= (-?\d+|\?)")
START = re.compile(r"^(\w+)\((.*) <unfinished \.\.\.>$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)\)\s+= (-?\d+|\?)")


@dataclass
class Call:
    pid: int
    name: str
    args: str
    ret: str
    start: float
    end: float


def parse(text: str) -> list[Call]:
    calls: list[Call] = []
    pending: dict[tuple[int, str], tuple[float, str]] = {}
    for line in text.splitlines():
        matched = LINE.match(line)
        if not matched:
            continue
        pid = int(matched[1])
        when = int(matched[2]) * 3600 + int(matched[3]) * 60 + float(matched[4])
        rest = matched[5]
        if done := DONE.match(rest):
            calls.append(Call(pid, done[1], done[2], done[3], when, when))
        elif start := START.match(rest):
            pending[(pid, start[1])] = (when, start[2])
        elif resumed := RESUMED.match(rest):
            began, args = pending.pop((pid, resumed[1]), (when, ""))
            calls.append(Call(pid, resumed[1], args + resumed[2], resumed[3], began, when))
    return sorted(calls, key=lambda c: c.start)


def _strace_unavailable() -> str | None:
    if not shutil.which("strace"):
        return "strace is not installed (bin/_bootstrap.sh installs it when run as root)"
    probe = subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.decode(errors='replace').strip()}"
    return None


def traced_put(tmp_path, **options: str) -> tuple[list[Call], str]:
    """Run one PUT against a traced object server; (calls, data file path)."""
    reason = _strace_unavailable()
    if reason:
        pytest.skip(reason)
    devices = tmp_path / "node"
    (devices / DEVICE).mkdir(parents=True)
    trace = tmp_path / "trace.txt"
    port_file = tmp_path / "out.txt"
    args = [f"{k}={v}" for k, v in options.items()]
    with port_file.open("w") as out:
        proc = subprocess.Popen(
            [
                "strace",
                "-f",
                "-tt",
                "-s",
                "64",
                "-e",
                f"trace={SYSCALLS}",
                "-o",
                str(trace),
                sys.executable,
                os.path.join(HERE, "objserver_proc.py"),
                str(devices),
                *args,
            ],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        port = wait_until(
            lambda: int(port_file.read_text()) if port_file.read_text().strip() else None,
            timeout=60,
            what="traced object server",
        )
        stamp = Timestamp.now().internal
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = b"durable-bytes-" * 4096
        conn.request(
            "PUT",
            f"/{DEVICE}/{PART}/a/c/o",
            body=body,
            headers={"X-Timestamp": stamp, "Content-Type": "application/octet-stream"},
        )
        resp = conn.getresponse()
        resp.read()
        conn.close()
        assert resp.status == 201
    finally:
        # kill the traced server, not strace, so strace writes the trace to its last line
        children = pathlib.Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        for pid in pids:
            os.kill(int(pid), signal.SIGKILL)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return parse(trace.read_text()), f"{stamp}.data"


def _acknowledgement(calls: list[Call]) -> Call:
    acks = [
        c
        for c in calls
        if c.name in ("sendto", "write", "writev", "sendmsg") and "HTTP/1.1 201" in c.args
    ]
    assert acks, "no 201 written in the trace"
    return acks[0]


def _publish(calls: list[Call], data_name: str) -> Call:
    renames = [c for c in calls if c.name.startswith("rename") and data_name in c.args]
    assert renames, f"no rename to {data_name} in the trace"
    return renames[0]


def test_group_commit_syncs_the_data_file_and_its_name_before_the_201(tmp_path) -> None:
    calls, data_name = traced_put(tmp_path, group_sync="true")
    if not any(c.name == "syncfs" for c in calls):
        pytest.skip("syncfs is not available here: the per-file test covers this host")
    publish = _publish(calls, data_name)
    ack = _acknowledgement(calls)
    assert publish.end < ack.start
    covering = [
        c
        for c in calls
        if c.name == "syncfs" and c.ret == "0" and c.start >= publish.end and c.end <= ack.start
    ]
    assert covering, "no syncfs between the rename of the .data file and the 201"


def test_per_file_fsyncs_cover_the_data_file_and_its_directory_before_the_201(tmp_path) -> None:
    calls, data_name = traced_put(tmp_path, group_sync="false")
    publish = _publish(calls, data_name)
    ack = _acknowledgement(calls)
    source = publish.args.split(",", 1)[0].strip().strip('"')
    hash_dir = publish.args.rsplit(",", 1)[-1].strip().strip('"').rsplit("/", 1)[0]
    data_open = [c for c in calls if c.name == "openat" and source in c.args]
    assert data_open, f"the temp file {source} is never opened"
    data_fd = data_open[0].ret
    last_write = max(
        c.end
        for c in calls
        if c.name in ("write", "pwrite64")
        and c.args.split(",")[0] == data_fd
        and data_open[0].end <= c.start <= publish.start
    )
    dir_fds = {
        c.ret
        for c in calls
        if c.name == "openat" and f'"{hash_dir}"' in c.args and publish.end <= c.start
    }
    file_synced = [
        c
        for c in calls
        if c.name in ("fsync", "fdatasync")
        and c.args == data_fd
        and c.ret == "0"
        and c.start >= last_write
        and c.end <= ack.start
    ]
    dir_synced = [
        c
        for c in calls
        if c.name in ("fsync", "fdatasync")
        and c.args in dir_fds
        and c.ret == "0"
        and c.start >= publish.end
        and c.end <= ack.start
    ]
    assert file_synced, "the data file is not fsynced after its last write and before the 201"
    assert dir_synced, "the hash directory is not fsynced after the rename and before the 201"
