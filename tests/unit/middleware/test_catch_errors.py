"""catch_errors: transaction ids everywhere, and 500s without tracebacks."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware.catch_errors import (
    CatchErrorsMiddleware,
    CatchErrorsOptions,
    ShortBodyError,
    filter_factory,
    make_trans_id,
)

TRANS_ID_RE = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}")


class Recorder:
    """An app that records the environ it saw and answers 200 'hello'."""

    def __init__(self) -> None:
        self.environ: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.environ = environ
        return Response(body=b"hello", headers={"X-Trans-Id": "stale"})(environ, start_response)


def wrap(app: Any, **options: Any) -> CatchErrorsMiddleware:
    return CatchErrorsMiddleware(app, CatchErrorsOptions(**options))


def test_make_trans_id_has_swift_form() -> None:
    trans_id = make_trans_id("-sfx", now=0x65432100)
    assert TRANS_ID_RE.match(trans_id)
    assert trans_id.endswith("-0065432100-sfx")


def test_request_gets_trans_id_on_environ_request_and_response() -> None:
    inner = Recorder()
    resp = Request.blank("/v1/a").get_response(wrap(inner))
    trans_id = inner.environ["swiftlite.trans_id"]
    assert TRANS_ID_RE.match(trans_id)
    assert inner.environ["HTTP_X_TRANS_ID"] == trans_id
    assert resp.headers.getall("X-Trans-Id") == [trans_id]
    assert resp.headers["X-Openstack-Request-Id"] == trans_id
    assert resp.body == b"hello"


def test_trans_id_suffix_and_client_extra_are_appended() -> None:
    inner = Recorder()
    req = Request.blank("/", headers={"X-Trans-Id-Extra": "my extra/" + "x" * 40})
    req.get_response(wrap(inner, trans_id_suffix="-east"))
    trans_id = inner.environ["swiftlite.trans_id"]
    assert trans_id.endswith("-east-my%20extra/" + "x" * 23)


def test_existing_trans_id_is_kept() -> None:
    inner = Recorder()
    req = Request.blank("/", environ={"swiftlite.trans_id": "txgiven"})
    resp = req.get_response(wrap(inner))
    assert resp.headers["X-Trans-Id"] == "txgiven"


def boom(environ: dict[str, Any], start_response: Any) -> Any:
    raise RuntimeError("secret detail")


def test_exception_from_app_is_500_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    app = wrap(boom)
    app.logger.propagate = True
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        resp = Request.blank("/v1/a/c").get_response(app)
    app.logger.propagate = False
    assert resp.status_int == 500
    assert resp.body == b"An error occurred"
    assert b"secret" not in resp.body
    assert TRANS_ID_RE.match(resp.headers["X-Trans-Id"])
    assert "secret detail" in caplog.text
    assert "Traceback" in caplog.text


def test_exception_before_first_byte_is_500() -> None:
    closed = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b""
            raise OSError("disk gone")

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", "5")])
        return Body()

    resp = Request.blank("/").get_response(wrap(app))
    assert resp.status_int == 500
    assert closed == [True]


def test_exception_after_first_byte_is_reraised() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "10")])
        yield b"abc"
        raise OSError("backend died")

    resp = Request.blank("/").get_response(wrap(app))
    assert resp.status_int == 200
    with pytest.raises(OSError, match="backend died"):
        resp.body  # noqa: B018


def test_body_shorter_than_content_length_raises() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "10")])
        return [b"abc"]

    resp = Request.blank("/").get_response(wrap(app))
    with pytest.raises(ShortBodyError):
        resp.body  # noqa: B018


def test_head_with_content_length_and_no_body_is_fine() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "10")])
        return []

    resp = Request.blank("/", method="HEAD").get_response(wrap(app))
    assert resp.status_int == 200
    assert resp.body == b""


def test_app_never_starting_response_is_500() -> None:
    resp = Request.blank("/").get_response(wrap(lambda env, sr: []))
    assert resp.status_int == 500


def test_filter_factory_reads_suffix() -> None:
    app = filter_factory({}, trans_id_suffix="-x")(Recorder())
    assert app.options.trans_id_suffix == "-x"
