"""The workloads that go through the full pipeline's middleware: large objects made of
segments (``slo_get``, ``dlo_get``), temporary URLs (``tempurl_get``), a versioned container
(``versioned_put``) and bulk delete (``bulk_delete``).

Each function takes the bench's ``Runner`` (started system, token, meter) and the selected
workload names, makes its data untimed and measures only the named request(s). What is sent
is built in ``plans``; this module only sends it and checks the answers.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

from bench import loadgen, plans

SEED = 20240607
TEMPURL_KEY = "bench-tempurl-key"

#: the workloads that need a filter the short pipeline does not have
NEEDS_FULL_PIPELINE = frozenset({"tempurl_get", "versioned_put", "bulk_delete"})


def _check(status: int, good: tuple[int, ...], what: str) -> None:
    if status not in good:
        raise RuntimeError(f"{what} gave {status}")


def segmented(runner: Any, selected: set[str]) -> None:
    """``slo_get`` and ``dlo_get``: GET of a 10-segment SLO, then of a DLO over the same
    segments (segments and manifests PUT untimed), each MD5 checked as it arrives."""
    per = max(1, runner.sizes.slo_mib // plans.SEGMENTS)
    block = random.Random(SEED + 2).randbytes(1 << 20)
    seg_etag = hashlib.md5(block * per).hexdigest()
    whole = hashlib.md5()
    for _ in range(per * plans.SEGMENTS):
        whole.update(block)
    container = runner.container("bench-slo")
    name = container.rsplit("/", 1)[1]
    names = plans.segment_names()
    for seg in names:
        path = f"{container}/{seg}"
        status, _ = runner.client.stream_put(path, {**runner.auth, "ETag": seg_etag}, block, per)
        _check(status, (201,), f"PUT {path}")
    size = per * plans.SEGMENTS << 20
    manifests = {
        "slo_get": (f"{container}/slo", "?multipart-manifest=put", {}),
        "dlo_get": (f"{container}/dlo", "", plans.dlo_headers(name, "seg-")),
    }
    for workload, (path, query, headers) in manifests.items():
        if workload not in selected:
            continue
        body = plans.slo_manifest(name, names, seg_etag, per << 20) if query else b""
        status, _, _ = runner.client.request("PUT", path + query, {**runner.auth, **headers}, body)
        _check(status, (201,), f"PUT {path}{query}")

        def get(workload: str = workload, path: str = path) -> loadgen.RunResult:
            cpu0 = time.process_time()
            status, got, md5, took = runner.client.stream_get(path, runner.auth)
            ok = status == 200 and got == size and md5 == whole.hexdigest()
            return runner.single(workload, status if ok else -1, status, took, cpu0, got)

        runner.measure(workload, get, True)
    runner.client.request("DELETE", f"{container}/slo?multipart-manifest=delete", runner.auth)
    runner.client.request("DELETE", f"{container}/dlo", runner.auth)


def tempurl_get(runner: Any, base: str, existing: int) -> None:
    """``tempurl_get``: GET each of the ``existing`` small objects once through a temporary
    URL signed with HMAC-SHA256 of the account's key (no token; the Python engine, as each
    request has its own URL)."""
    key = {**runner.auth, "X-Account-Meta-Temp-URL-Key": TEMPURL_KEY}
    status, _, _ = runner.client.request("POST", runner.account, key)
    _check(status, (204,), f"POST {runner.account} (Temp-URL-Key)")
    signer = plans.TempurlSigner.valid_for(TEMPURL_KEY)
    ops = plans.tempurl_ops(base, existing, signer)
    job = runner.job("tempurl_get", ops, existing, headers=())
    runner.measure("tempurl_get", lambda: loadgen.run(job, "python"), True)


def versioned_put(runner: Any) -> None:
    """``versioned_put``: overwrite each of ``small`` 4 KiB objects once in a container with
    ``X-History-Location`` (each overwrite archives the old copy); the first PUTs are untimed."""
    n = runner.sizes.small
    archive = runner.container("bench-ver-archive").rsplit("/", 1)[1]
    path = f"{runner.account}/bench-ver"
    headers = {**runner.auth, "X-History-Location": archive}
    status, _, _ = runner.client.request("PUT", path, headers)
    _check(status, (201, 202), f"PUT {path}")
    base = path + "/v"
    first = runner.job("versioned_fill", (loadgen.Op("PUT", base, runner.body),), n)
    runner.measure("versioned_fill", lambda: runner.run(first), False)
    second = random.Random(SEED + 3).randbytes(len(runner.body))
    job = runner.job("versioned_put", plans.versioned_ops(base, second, n), n)
    runner.measure("versioned_put", lambda: runner.run(job), True)


def bulk_delete(runner: Any) -> None:
    """``bulk_delete``: one ``POST ?bulk-delete`` naming ``bulk`` zero-byte objects (PUT
    untimed); its figure is objects deleted per second."""
    n = runner.sizes.bulk
    container = runner.container("bench-bulk")
    name = container.rsplit("/", 1)[1]
    fill = runner.job("bulk_fill", (loadgen.Op("PUT", container + "/b"),), n)
    runner.measure("bulk_fill", lambda: runner.run(fill), False)
    body = plans.bulk_delete_body(name, [f"b{k}" for k in range(n)])
    headers = {**runner.auth, **plans.BULK_DELETE_HEADERS}

    def delete() -> loadgen.RunResult:
        cpu0 = time.process_time()
        started = time.perf_counter()
        status, _, answer = runner.client.request(
            "POST", runner.account + "?bulk-delete", headers, body
        )
        took = time.perf_counter() - started
        outcome = plans.parse_bulk_delete(answer)
        ok = status == 200 and outcome.ok and outcome.deleted == n
        res = runner.single("bulk_delete", status if ok else -1, status, took, cpu0, 0)
        res.requests = outcome.deleted  # the figure is objects/s
        return res

    runner.measure("bulk_delete", delete, True)
