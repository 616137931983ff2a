"""The bench's large-object workloads (``large_put``, ``large_get``, ``slo_get``, ``dlo_get``),
run small against an in-process proxy.

The bench itself (``python -m bench``) starts whole clusters and is not run by the suite; this
checks that the workload code still runs end to end (segments and manifests PUT, each GET
MD5-checked, its MB/s recorded) through the real slo and dlo filters.
"""

from __future__ import annotations

import dataclasses
import pathlib
import types

from swiftlite.middleware import catch_errors, dlo, slo
from tests.support.inproc import InprocCluster


def test_large_object_workloads_run_and_read_back_md5_checked(tmp_path: pathlib.Path):
    # bench.__main__ pulls in the cluster starters; imported here, as tests/unit/bench does
    from bench import __main__ as bench_main
    from bench import mw_bench, procstats

    filters = (catch_errors.filter_factory({}), slo.filter_factory({}), dlo.filter_factory({}))
    cluster = InprocCluster(tmp_path, filters=filters).start()
    try:
        assert cluster.proxy is not None
        runner = bench_main.Runner.__new__(bench_main.Runner)  # no auth, no process groups
        runner.system = types.SimpleNamespace(name="inproc")
        runner.sizes = dataclasses.replace(bench_main.QUICK, slo_mib=10, large_mib=4)
        runner.host, runner.port = "127.0.0.1", cluster.proxy.port
        runner.client = bench_main.Client(runner.host, runner.port)
        runner.account, runner.token = "/v1/AUTH_test", "unused"
        runner.meter = procstats.ClusterMeter(())
        runner.results, runner.process_peaks_kb = {}, {}
        runner.large({"large_put", "large_get"})
        mw_bench.segmented(runner, {"slo_get", "dlo_get"})
        runner.client.close()
    finally:
        cluster.stop_all()
    assert runner.results["large_put"]["statuses"] == {"201": 1}
    assert runner.results["large_get"]["statuses"] == {"200": 1}
    for workload in ("slo_get", "dlo_get"):  # 10 segments of 1 MiB each
        got = runner.results[workload]
        assert got["statuses"] == {"200": 1}, got  # a short or wrong body is "bad-..."
        assert got["requests"] == 1
        assert got["mb_per_s"] > 0
