"""SegmentStream: each segment checked before its bytes pass, and Swift's reading limits."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.common import registry
from swiftlite.middleware import dlo, slo
from swiftlite.middleware.segments import (
    Piece,
    SegmentStream,
    StreamLimits,
    rate_limit_delay,
)

OBJECTS = {"/v1/a/c/one": b"1" * 10, "/v1/a/c/two": b"2" * 10}
LOG = logging.getLogger("test-segments")


def segment_server(environ: dict[str, Any], start_response: Any) -> Any:
    """Objects by path, with single ranges (the part of an object server the stream uses)."""
    req = Request(environ)
    body = OBJECTS.get(req.path_info)
    if body is None:
        return Response(status=404)(environ, start_response)
    resp = Response(body=body, etag=hashlib.md5(body).hexdigest())
    resp.conditional_response = True
    return resp(environ, start_response)


def _piece(path: str, etag: str | None = None, size: int | None = 10) -> tuple[Piece, int, int]:
    return Piece(length=10, path=path, etag=etag, size=size), 0, 10


def _stream(cuts, limits: StreamLimits | None = None) -> SegmentStream:
    environ = Request.blank("/v1/a/c/big").environ
    return SegmentStream(
        environ,
        segment_server,
        cuts,
        source="TEST",
        name="/v1/a/c/big",
        logger=LOG,
        limits=limits or StreamLimits(rate_limit_segments_per_sec=0),
    )


def test_stream_gives_every_piece_in_order_with_ranges():
    cuts = [_piece("/v1/a/c/one"), (Piece(length=10, path="/v1/a/c/two", size=10), 3, 7)]
    stream = _stream(cuts)
    assert stream.prime() is None
    assert b"".join(stream) == b"1" * 10 + b"2" * 4


def test_missing_first_segment_is_refused_before_the_response():
    stream = _stream([_piece("/v1/a/c/absent")])
    assert "GET answered 404" in (stream.prime() or "")


def test_changed_first_segment_is_refused_by_etag_and_by_size():
    assert "ETag" in (_stream([_piece("/v1/a/c/one", etag="0" * 32)]).prime() or "")
    assert "size" in (_stream([_piece("/v1/a/c/one", size=11)]).prime() or "")


def test_missing_later_segment_ends_the_body_short_and_logs_an_error(caplog):
    stream = _stream([_piece("/v1/a/c/one"), _piece("/v1/a/c/absent"), _piece("/v1/a/c/two")])
    assert stream.prime() is None
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        assert b"".join(stream) == b"1" * 10  # short of 30: catch_errors drops the connection
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "/v1/a/c/big" in errors[0]
    assert "/v1/a/c/absent" in errors[0]
    assert "404" in errors[0]


def test_changed_later_segment_ends_the_body_short_and_logs_an_error(caplog):
    one = hashlib.md5(OBJECTS["/v1/a/c/one"]).hexdigest()
    cuts = [_piece("/v1/a/c/one", etag=one), _piece("/v1/a/c/two", etag="0" * 32)]
    stream = _stream(cuts)
    assert stream.prime() is None
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        assert b"".join(stream) == b"1" * 10
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "/v1/a/c/two" in errors[0]
    assert "ETag does not match" in errors[0]


def test_max_get_time_ends_the_body_after_the_segment_in_flight():
    limits = StreamLimits(max_get_time=0, rate_limit_segments_per_sec=0)
    stream = _stream([_piece("/v1/a/c/one"), _piece("/v1/a/c/two")], limits)
    assert stream.prime() is None
    assert b"".join(stream) == b"1" * 10


def test_rate_limit_starts_after_the_first_segments_and_counts_from_the_start():
    limits = StreamLimits(rate_limit_after_segment=10, rate_limit_segments_per_sec=2)
    assert rate_limit_delay(limits, 100.0, 100.0, 9) == 0.0
    assert rate_limit_delay(limits, 100.0, 100.0, 10) == 0.0
    assert rate_limit_delay(limits, 100.0, 100.0, 12) == 1.0
    assert rate_limit_delay(limits, 100.0, 103.0, 12) == 0.0  # already late enough
    off = StreamLimits(rate_limit_segments_per_sec=0)
    assert rate_limit_delay(off, 100.0, 100.0, 1000) == 0.0


@pytest.mark.parametrize("module", [dlo, slo], ids=["dlo", "slo"])
def test_filter_reads_its_segment_limits_from_config_and_publishes_them(monkeypatch, module):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    conf = {
        "max_get_time": "5",
        "rate_limit_after_segment": "3",
        "rate_limit_segments_per_sec": "0.5",
    }
    filtered = module.filter_factory({}, **conf)(segment_server)
    assert filtered.limits == StreamLimits(5.0, 3, 0.5)
    published = registry.registered()
    assert module.__name__.rsplit(".", 1)[1] in published
    if module is dlo:  # Swift's /info shows dlo's max_get_time (and slo's manifest limits)
        assert published["dlo"]["max_get_time"] == 5.0
    defaults = module.filter_factory({})(segment_server)
    assert defaults.limits == StreamLimits(86400.0, 10, 1.0)  # Swift's defaults
