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


def ok(environ: dict[str, Any], start_response: Any) -> Any:
    return Response(status=200, body=b"x")(environ, start_response)


def test_temp_url_signature_is_logged_cut_to_its_first_16_characters(lines: Lines) -> None:
    from swiftlite.middleware import tempurl

    tempurl.filter_factory({})  # declares temp_url_sig secret, as in a loaded pipeline
    sig = "0123456789abcdef" + "f" * 48
    query = f"temp_url_sig={sig}&temp_url_expires=1700000000&filename=a%20b"
    Request.blank(f"/v1/AUTH_t/c/o?{query}").get_response(logged(ok)).body  # noqa: B018
    path = fields(lines.lines[0])[2]
    assert sig not in path
    assert "0123456789abcdef..." in path
    assert "temp_url_expires=1700000000" in path
    assert "filename=a%20b" in path


def test_secret_parameter_is_obscured_however_its_name_is_spelled(lines: Lines) -> None:
    from swiftlite.common.registry import register_sensitive_param

    register_sensitive_param("temp_url_sig")
    sig = "s" * 16 + "SECRETTAIL"
    query = f"temp%5Furl%5Fsig={sig}&temp_url_sig={sig}&x=1&temp_url_sig"
    Request.blank(f"/v1/AUTH_t/c/o?{query}").get_response(logged(ok)).body  # noqa: B018
    path = fields(lines.lines[0])[2]
    assert "SECRETTAIL" not in path
    assert path.count("s" * 16 + "...") == 2


def test_reveal_sensitive_prefix_option_sets_how_much_is_shown(lines: Lines) -> None:
    from swiftlite.common.registry import register_sensitive_param

    register_sensitive_param("temp_url_sig")
    app = ProxyLoggingMiddleware(
        ok,
        ProxyLoggingOptions(reveal_sensitive_prefix=4),
        logging.getLogger("swiftlite.test-access"),
    )
    Request.blank("/v1/a/c/o?temp_url_sig=abcdefgh").get_response(app).body  # noqa: B018
    assert "temp_url_sig=abcd..." in fields(lines.lines[0])[2]
