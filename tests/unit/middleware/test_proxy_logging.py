"""proxy_logging: one line per request, at the end of the response, never twice."""

from __future__ import annotations

import logging
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware.catch_errors import CatchErrorsMiddleware, CatchErrorsOptions
from swiftlite.middleware.proxy_logging import (
    ProxyLoggingMiddleware,
    ProxyLoggingOptions,
    filter_factory,
)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("swiftlite.test-access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler
    logger.removeHandler(handler)


def logged(app: Any) -> ProxyLoggingMiddleware:
    return ProxyLoggingMiddleware(
        app, ProxyLoggingOptions(), logging.getLogger("swiftlite.test-access")
    )


def echo_upload(environ: dict[str, Any], start_response: Any) -> Any:
    body = environ["wsgi.input"].read()
    return Response(status=201, body=b"stored " + body)(environ, start_response)


def fields(line: str) -> list[str]:
    parts = line.split(" ")
    assert len(parts) == 9, line
    return parts


def test_request_logs_one_line_with_counts_after_body(lines: Lines) -> None:
    req = Request.blank(
        "/v1/AUTH_test/c/o%20x?format=json&prefix=a%20b",
        method="PUT",
        body=b"12345",
        environ={"REMOTE_ADDR": "10.0.0.9", "swiftlite.trans_id": "tx1"},
    )
    resp = req.get_response(logged(echo_upload))
    assert lines.lines == []  # nothing until the body is done
    assert resp.body == b"stored 12345"
    client, method, path, status, bytes_in, bytes_out, duration, trans, source = fields(
        lines.lines[0]
    )
    assert (client, method, status, bytes_in, bytes_out, trans) == (
        "10.0.0.9",
        "PUT",
        "201",
        "5",
        "12",
        "tx1",
    )
    assert source == "-"  # a client request, not a subrequest
    assert path == "/v1/AUTH_test/c/o%20x?format=json&prefix=a%20b"
    assert float(duration) >= 0


def test_forwarded_for_is_the_client(lines: Lines) -> None:
    req = Request.blank("/", headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.1"})
    req.get_response(logged(echo_upload)).body  # noqa: B018
    assert fields(lines.lines[0])[0] == "1.2.3.4"


def test_utf8_path_is_logged_quoted(lines: Lines) -> None:
    req = Request.blank("/v1/a/c/%C3%A9")
    req.get_response(logged(echo_upload)).body  # noqa: B018
    assert fields(lines.lines[0])[2] == "/v1/a/c/%C3%A9"


def test_two_copies_log_a_request_once_and_subrequests_in_inner(lines: Lines) -> None:
    def proxy(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(status=204)(environ, start_response)

    inner = logged(proxy)

    def filter_making_subrequest(environ: dict[str, Any], start_response: Any) -> Any:
        sub = Request.blank("/v1/AUTH_test", method="HEAD")
        resp = sub.get_response(inner)
        assert resp.status_int == 204
        resp.body  # noqa: B018  (reading the body closes it, which writes the line)
        return inner(environ, start_response)

    outer = logged(filter_making_subrequest)
    Request.blank("/v1/AUTH_test/c").get_response(outer).body  # noqa: B018
    assert [fields(line)[1:3] for line in lines.lines] == [
        ["HEAD", "/v1/AUTH_test"],
        ["GET", "/v1/AUTH_test/c"],
    ]


def test_body_closed_early_logs_499(lines: Lines) -> None:
    def slow(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        yield b"b"

    body = logged(slow)(Request.blank("/").environ, lambda *a: None)
    iterator = iter(body)
    next(iterator)
    body.close()
    assert fields(lines.lines[0])[3:6] == ["499", "0", "1"]


def test_exception_below_logs_500_and_reraises(lines: Lines) -> None:
    def boom(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        logged(boom)(Request.blank("/").environ, lambda *a: None)
    assert fields(lines.lines[0])[3] == "500"


def test_under_catch_errors_logs_trans_id_and_500(lines: Lines) -> None:
    def boom(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("x")

    app = CatchErrorsMiddleware(logged(boom), CatchErrorsOptions())
    resp = Request.blank("/v1/a").get_response(app)
    assert resp.status_int == 500
    assert fields(lines.lines[0])[7] == resp.headers["X-Trans-Id"]


def test_access_log_file_option_writes_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "access.log"
    name = f"access-{uuid.uuid4().hex}"
    mw = filter_factory({}, access_log_file=str(path), access_log_name=name)(echo_upload)
    Request.blank("/v1/a", method="PUT", body=b"xy").get_response(mw).body  # noqa: B018
    for handler in mw.logger.handlers:
        handler.flush()
    text = path.read_text()
    assert " PUT /v1/a 201 2 " in text
