"""Request plans of the middleware workloads, the pipelines each system is given, and the
command line that chooses them; nothing here starts a server."""

from __future__ import annotations

import configparser
import hashlib
import hmac
import json
import pathlib
import urllib.parse

import pytest

from bench import loadgen, plans

# bench.swift_ref, bench.systems and bench.__main__ import eventlet (through swiftlite.aio),
# which stalls test_loadgen's threaded servers when imported before those tests run: they are
# imported inside the tests that need them, which run after test_loadgen's.

# -- slo_get / dlo_get ----------------------------------------------------------------------


def test_slo_manifest_names_every_segment_with_etag_and_size() -> None:
    names = plans.segment_names()
    body = json.loads(plans.slo_manifest("bench-slo", names, "e" * 32, 1 << 20))
    assert [s["path"] for s in body] == [f"/bench-slo/seg-{i:02d}" for i in range(10)]
    assert {(s["etag"], s["size_bytes"]) for s in body} == {("e" * 32, 1 << 20)}


def test_dlo_prefix_lists_the_segments_in_manifest_order() -> None:
    names = plans.segment_names()
    headers = plans.dlo_headers("bench-slo", "seg-")
    container, prefix = headers["X-Object-Manifest"].split("/", 1)
    assert container == "bench-slo"
    listed = sorted(n for n in [*names, "slo", "dlo"] if n.startswith(prefix))
    assert listed == names  # zero padding keeps the listing order the segment order
    assert headers["Content-Length"] == "0"


# -- tempurl_get ----------------------------------------------------------------------------


def test_tempurl_signature_is_hmac_sha256_of_method_expires_path() -> None:
    signer = plans.TempurlSigner("secret", 1700000000)
    path = "/v1/AUTH_test/bench/o7"
    signed = urllib.parse.urlsplit(signer.sign("GET", path))
    query = dict(urllib.parse.parse_qsl(signed.query))
    want = hmac.new(b"secret", f"GET\n1700000000\n{path}".encode(), hashlib.sha256).hexdigest()
    assert signed.path == path
    assert query == {"temp_url_sig": want, "temp_url_expires": "1700000000"}
    assert len(want) == 64  # the hex length tells both servers the digest


def test_tempurl_sha1_signature_has_sha1_length() -> None:
    assert len(plans.TempurlSigner("k", 1, "sha1").signature("GET", "/v1/a/c/o")) == 40


def test_tempurl_job_sends_signed_gets_without_a_token() -> None:
    signer = plans.TempurlSigner("k", 1700000000)
    ops = plans.tempurl_ops("/v1/AUTH_test/bench/o", 300, signer)
    job = loadgen.Job("tempurl_get", "127.0.0.1", 8080, ops, 300, headers=())
    first = job.request_bytes(0).decode()
    assert first.startswith("GET /v1/AUTH_test/bench/o0?temp_url_sig=")
    assert "X-Auth-Token" not in first
    paths = {job.request_bytes(k).split(b"?")[0] for k in range(300)}
    assert len(paths) == 300  # every object once


def test_signed_ops_never_go_to_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(loadgen, "run_wrk", lambda job, wrk="wrk": seen.append("wrk"))
    monkeypatch.setattr(loadgen, "run_python", lambda job, n=1: seen.append("python"))
    ops = plans.tempurl_ops("/v1/a/c/o", 3, plans.TempurlSigner("k", 1))
    loadgen.run(loadgen.Job("t", "127.0.0.1", 1, ops, 3), "wrk")
    assert seen == ["python"]


# -- versioned_put, mixed128 ----------------------------------------------------------------


def test_versioned_overwrite_puts_each_existing_object_once() -> None:
    ops = plans.versioned_ops("/v1/a/ver/v", b"x" * 4096, 300)
    job = loadgen.Job("versioned_put", "h", 1, ops, 300)
    heads = [job.request_bytes(k).split(b"\r\n", 1)[0] for k in range(300)]
    assert sorted(heads) == sorted(f"PUT /v1/a/ver/v{i} HTTP/1.1".encode() for i in range(300))
    assert job.request_bytes(0).endswith(b"x" * 4096)


def test_mixed_plan_is_nine_gets_of_existing_objects_to_one_new_put() -> None:
    ops = plans.mixed_ops("/v1/a/c/o", b"b", 300, suffix="-mixed128-")
    job = loadgen.Job(
        "mixed128", "h", 1, ops, 600, plans.MIXED128_CONNECTIONS, pattern=plans.MIXED_PATTERN
    )
    methods = [job.op(k).method for k in range(600)]
    assert methods.count("GET") == 540
    assert methods.count("PUT") == 60
    assert job.conns == 128
    puts = {job.op(k).path(k) for k in range(600) if job.op(k).method == "PUT"}
    assert all(p.startswith("/v1/a/c/o-mixed128-") for p in puts)


# -- bulk_delete ----------------------------------------------------------------------------


def test_bulk_delete_body_is_one_quoted_path_per_line() -> None:
    body = plans.bulk_delete_body("bench-bulk", ["b0", "b1", "a b"])
    assert body.decode().splitlines() == ["/bench-bulk/b0", "/bench-bulk/b1", "/bench-bulk/a%20b"]
    assert len(plans.bulk_delete_body("c", [f"b{k}" for k in range(10000)]).splitlines()) == 10000


def test_bulk_delete_answer_is_read_past_leading_whitespace() -> None:
    answer = (
        b"  \n"
        + json.dumps(
            {
                "Number Deleted": 998,
                "Number Not Found": 2,
                "Response Status": "200 OK",
                "Errors": [],
            }
        ).encode()
    )
    outcome = plans.parse_bulk_delete(answer)
    assert (outcome.deleted, outcome.not_found, outcome.ok) == (998, 2, True)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>nope</html>",
        json.dumps({"Response Status": "400 Bad Request", "Errors": []}).encode(),
        json.dumps({"Response Status": "200 OK", "Errors": [["/c/o", "409 Conflict"]]}).encode(),
    ],
)
def test_bulk_delete_failures_are_not_ok(body: bytes) -> None:
    assert plans.parse_bulk_delete(body).ok is False


# -- pipelines ------------------------------------------------------------------------------


def test_swift_full_pipeline_is_the_sample_order_with_s3api_before_tempauth() -> None:
    from bench import swift_ref

    names = swift_ref.PIPELINES["full"].split()
    sample = " ".join(
        (
            "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl",
            "ratelimit formpost tempauth staticweb copy container-quotas account-quotas slo dlo",
            "versioned_writes symlink proxy-logging proxy-server",
        )
    ).split()
    assert [n for n in names if n != "s3api"] == sample
    assert names.index("s3api") == names.index("tempauth") - 1


@pytest.mark.parametrize("kind", ["full", "short"])
def test_swift_proxy_conf_has_a_section_for_every_filter(kind: str, tmp_path: pathlib.Path) -> None:
    from bench import swift_ref

    cluster = swift_ref.SwiftCluster.create(
        str(tmp_path), 18080, pipeline=swift_ref.PIPELINES[kind]
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(cluster._proxy_conf())
    names = parser.get("pipeline:main", "pipeline").split()
    assert names == swift_ref.PIPELINES[kind].split()
    for name in names[:-1]:
        assert parser.has_section(f"filter:{name}"), name
    assert parser.has_section("app:proxy-server")
    if kind == "full":
        assert parser.getboolean("filter:versioned_writes", "allow_versioned_writes")
    else:
        assert not parser.has_section("filter:bulk")


def test_swiftlite_short_pipeline_keeps_only_swifts_short_filters() -> None:
    from bench import systems

    full = (
        "catch_errors gatekeeper healthcheck metrics proxy_logging cache bulk tempurl ratelimit "
        "formpost s3api tempauth staticweb copy container_quotas account_quotas slo dlo "
        "versioned_writes object_versioning symlink proxy_logging proxy-server"
    )
    assert systems.short_pipeline(full) == (
        "catch_errors gatekeeper healthcheck proxy_logging cache s3api tempauth copy slo dlo "
        "proxy_logging proxy-server"
    )


def test_swiftlite_short_templates_render_the_short_pipeline(tmp_path: pathlib.Path) -> None:
    from bench import systems
    from swiftlite.aio import render

    system = systems.SwiftliteSystem(str(tmp_path / "c"), 18080, "short")
    etc = system._short_templates(render.templates_dir())
    conf = pathlib.Path(etc, "proxy-server.conf")
    got = systems.read_pipeline(str(conf)).split()
    assert not {"bulk", "tempurl", "versioned_writes"} & set(got)
    assert {"s3api", "slo", "dlo"} <= set(got)
    assert got[-1] == "proxy-server"


def test_unknown_pipeline_is_refused() -> None:
    from bench import systems

    with pytest.raises(ValueError, match="pipeline"):
        systems.SwiftliteSystem("/nonexistent", 18080, "medium")


def test_short_pipeline_drops_the_workloads_it_cannot_serve() -> None:
    from bench.__main__ import parse_args

    args = parse_args(["--pipeline", "short"])
    assert not args.selected & {"tempurl_get", "versioned_put", "bulk_delete"}
    assert {"put", "slo_get", "dlo_get", "mixed128"} <= args.selected
    assert parse_args([]).pipeline == "full"
    assert {"tempurl_get", "bulk_delete"} <= parse_args([]).selected


def test_short_pipeline_refuses_an_explicit_middleware_workload() -> None:
    from bench.__main__ import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--pipeline", "short", "--workloads", "put,bulk_delete"])
