"""The systems the bench compares: each starts and stops its all-in-one cluster and names
its process groups (for ``procstats``). swiftlite's runs from this checkout; Swift's is
installed and laid out by ``swift_ref``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from bench import swift_ref

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class System:
    """One cluster under test: start, stop, its process groups, its address."""

    name = ""
    version = ""

    def __init__(self, root: str, port: int) -> None:
        self.root, self.port = root, port

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pgids(self) -> list[int]:
        raise NotImplementedError


class SwiftliteSystem(System):
    name = "swiftlite"

    def __init__(self, root: str, port: int) -> None:
        super().__init__(root, port)
        from swiftlite.aio.plan import make_plan

        # servers only, as the Swift side runs: background daemons would skew CPU and RSS
        self.plan = make_plan(root, port=port, replicas=3, devices=4, daemons=False)
        self.version = _swiftlite_version()

    def start(self) -> None:
        from swiftlite.aio import cluster

        cluster.start(self.plan, self.tools())

    def stop(self) -> None:
        from swiftlite.aio import cluster

        cluster.stop(self.plan, self.tools())

    @staticmethod
    def tools() -> Any:
        """memcached but no rsyncd: replication is idle here, and Swift runs servers only."""
        from swiftlite.aio import cluster

        return cluster.Tools(memcached=shutil.which("memcached"), rsync=None)

    def pgids(self) -> list[int]:
        from swiftlite.aio import cluster, procs

        names = [s.name for s in cluster.process_specs(self.plan, self.tools())]
        pids = [procs.read_pid(self.plan.run_dir, n) for n in names]
        return [p for p in pids if p]


class SwiftSystem(System):
    name = "swift"

    def __init__(self, root: str, port: int, log: Callable[[str], None] = print) -> None:
        super().__init__(root, port)
        self.version = swift_ref.ensure_installed(log=log)
        self.cluster = swift_ref.SwiftCluster.create(root, port, devices=4, replicas=3)

    def start(self) -> None:
        self.cluster.start()

    def stop(self) -> None:
        self.cluster.stop()

    def pgids(self) -> list[int]:
        return list(self.cluster.pids().values())


def _swiftlite_version() -> str:
    rev = subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (rev or "unknown") + ("+dirty" if dirty else "")
