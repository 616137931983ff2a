"""The systems the bench compares: each starts and stops its all-in-one cluster and names
its process groups (for ``procstats``). swiftlite's runs from this checkout; Swift's is
installed and laid out by ``swift_ref``."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from bench import swift_ref

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class System:
    """One cluster under test: start, stop, its process groups, its address."""

    name = ""
    version = ""

    def __init__(self, root: str, port: int, pipeline: str = "full") -> None:
        if pipeline not in swift_ref.PIPELINES:
            raise ValueError(f"unknown pipeline {pipeline!r}")
        self.root, self.port, self.pipeline_kind = root, port, pipeline

    def pipeline(self) -> str:
        """The proxy pipeline this system runs (its filter names, in order)."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pgids(self) -> list[int]:
        raise NotImplementedError


#: swiftlite's names for the filters of Swift's short pipeline (swiftlite has no
#: listing_formats filter: its proxy formats listings itself).
SHORT_FILTERS = frozenset(
    {
        "catch_errors",
        "gatekeeper",
        "healthcheck",
        "proxy_logging",
        "cache",
        "listing_formats",
        "s3api",
        "tempauth",
        "copy",
        "slo",
        "dlo",
        "proxy-server",
    }
)


def short_pipeline(full: str) -> str:
    """``full`` (a swiftlite pipeline) cut down to the filters of Swift's short pipeline."""
    return " ".join(name for name in full.split() if name in SHORT_FILTERS)


def read_pipeline(conf_path: str) -> str:
    """The ``[pipeline:main]`` of a proxy config file."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    with open(conf_path, encoding="utf-8") as fh:
        parser.read_file(fh)
    return " ".join(parser.get("pipeline:main", "pipeline").split())


class SwiftliteSystem(System):
    """swiftlite's aio: the full pipeline is what ``swiftlite-aio`` runs (the sample config's
    pipeline plus s3api); the short one is rendered from a copy of ``etc/`` cut down."""

    name = "swiftlite"

    def __init__(self, root: str, port: int, pipeline: str = "full") -> None:
        super().__init__(root, port, pipeline)
        from swiftlite.aio.plan import make_plan

        # servers only, as the Swift side runs: background daemons would skew CPU and RSS
        self.plan = make_plan(root, port=port, replicas=3, devices=4, daemons=False)
        self.version = _swiftlite_version()

    def start(self) -> None:
        from swiftlite.aio import cluster, render

        saved = os.environ.get(render.ETC_ENV)
        try:
            if self.pipeline_kind == "short":
                os.environ[render.ETC_ENV] = self._short_templates(render.templates_dir())
            cluster.start(self.plan, self.tools())
        finally:
            if saved is None:
                os.environ.pop(render.ETC_ENV, None)
            else:
                os.environ[render.ETC_ENV] = saved

    def _short_templates(self, etc: str) -> str:
        """A copy of the sample configs whose proxy pipeline is the short one."""
        from swiftlite.aio import render

        target = os.path.join(self.root, "templates")
        shutil.copytree(etc, target, dirs_exist_ok=True)
        conf = os.path.join(target, "proxy-server.conf")
        cut = short_pipeline(render.aio_pipeline(conf))
        text = render.render_config(conf, {"pipeline:main": {"pipeline": cut}})
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(text)
        return target

    def pipeline(self) -> str:
        return read_pipeline(self.plan.proxy_conf)

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

    def __init__(
        self, root: str, port: int, log: Callable[[str], None] = print, pipeline: str = "full"
    ) -> None:
        super().__init__(root, port, pipeline)
        self.version = swift_ref.ensure_installed(log=log)
        self.cluster = swift_ref.SwiftCluster.create(
            root, port, devices=4, replicas=3, pipeline=swift_ref.PIPELINES[pipeline]
        )

    def pipeline(self) -> str:
        return read_pipeline(self.cluster.conf_path("proxy"))

    def start(self) -> None:
        self.cluster.start()

    def stop(self) -> None:
        self.cluster.stop()

    def pgids(self) -> list[int]:
        return list(self.cluster.pids().values())


def _swiftlite_version() -> str:
    """The commit of the swiftlite that runs: the checkout the servers import it from, which is
    a worktree on ``PYTHONPATH`` in an A/B run, not necessarily this bench's."""
    repo = os.path.dirname(os.path.dirname(_served_package_file()))
    rev = subprocess.run(
        ["git", "-C", repo, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (rev or "unknown") + ("+dirty" if dirty else "")


def _served_package_file() -> str:
    """``swiftlite/__init__.py`` as the servers' console scripts find it: ``PYTHONPATH`` first,
    then the venv. This process's own import does not tell, as ``python -m bench`` puts the
    current directory ahead of ``PYTHONPATH``; so ask a child started outside any checkout."""
    found = subprocess.run(
        [sys.executable, "-c", "import swiftlite; print(swiftlite.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if found:
        return os.path.abspath(found)
    import swiftlite

    return os.path.abspath(swiftlite.__file__)
