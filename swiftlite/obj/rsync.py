"""Pushing suffix directories to a peer with rsync: the command line and a green-friendly runner.

``command(...)`` is pure: it builds the argument list for one push of some suffix dirs of one
partition. Sources are given as ``<dev_path>/./objects/<part>/<suffix>`` with ``--relative``,
so the receiver recreates ``objects/<part>/`` itself (a wiped device has neither), and the
destination is ``<module>/<device>/``. Files are staged in the receiver's ``<device>/tmp``
(``--temp-dir=tmp``, relative to the destination; the object server's REPLICATE makes sure it
exists), so a killed rsync never leaves partial files among objects. ``--ignore-existing`` is
safe because object file names are unique timestamps; ``--xattrs`` carries the metadata.

``run(argv, timeout)`` starts rsync and polls it with ``green.sleep``, so a daemon's other
greenthreads keep running (a blocking ``wait`` would stall the hub), and kills it (by its own
pid) after ``timeout`` seconds. Exit code 24 (source files vanished: cleaned up while we
pushed) counts as success, as in Swift.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass

from swiftlite.common import green
from swiftlite.common.policies import dir_name
from swiftlite.ring.node import Node

OK_CODES = frozenset({0, 24})
RSYNC = "rsync"


def module_for(template: str, node: Node, rsync_port: int) -> str:
    """The rsync destination module for a ring node (``Node.rsync_module``)."""
    return node.rsync_module(template, rsync_port)


def is_daemon_target(module: str) -> bool:
    """True for rsync daemon targets (``rsync://...`` or ``host::module``)."""
    return module.startswith("rsync://") or "::" in module.split("/", 1)[0]


def command(
    dev_path: str,
    partition: int | str,
    suffixes: Iterable[str],
    module: str,
    device: str,
    io_timeout: float,
    bwlimit: str = "0",
    compress: bool = False,
    policy: int = 0,
) -> list[str]:
    """argv for pushing ``suffixes`` of one local partition of a policy (``objects-N``,
    staged in the receiver's ``tmp-N``) to ``<module>/<device>/``."""
    argv = [
        RSYNC,
        "--recursive",
        "--relative",
        "--whole-file",
        "--xattrs",
        "--ignore-existing",
        f"--temp-dir={dir_name('tmp', policy)}",
        "--exclude=.*",
        "--itemize-changes",
        f"--timeout={max(1, int(io_timeout))}",
    ]
    if is_daemon_target(module):
        argv.append(f"--contimeout={max(1, int(io_timeout))}")
    if bwlimit and str(bwlimit) not in ("0", ""):
        argv.append(f"--bwlimit={bwlimit}")
    if compress:
        argv.append("--compress")
    base = os.path.join(dev_path, ".", dir_name("objects", policy), str(partition))
    argv.extend(os.path.join(base, s) for s in sorted(suffixes))
    argv.append(f"{module}/{device}/")
    return argv


@dataclass(frozen=True)
class Result:
    code: int
    output: str
    files: int  # files the receiver did not have (from --itemize-changes)

    @property
    def ok(self) -> bool:
        return self.code in OK_CODES


def count_transferred(output: str) -> int:
    """Files sent, from ``--itemize-changes`` lines (``<f+++++++++ path`` for a new file sent
    to a daemon, ``>f...`` when the destination is a local path)."""
    return sum(1 for line in output.splitlines() if line[:2] in ("<f", ">f"))


def run(argv: list[str], timeout: float) -> Result:
    """Run rsync to completion (or kill it after ``timeout`` s); never raises for its failures."""
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, close_fds=True)  # noqa: S603
        except OSError as exc:
            return Result(127, f"cannot run {argv[0]}: {exc}", 0)
        deadline = time.monotonic() + timeout
        delay = 0.002
        code = proc.poll()
        while code is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                code = -9
                break
            green.sleep(delay)
            delay = min(delay * 2, 0.01)
            code = proc.poll()
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if code == -9:
        text += f"\nkilled after {timeout}s"
    return Result(code, text, count_transferred(text))
