"""proxy_logging: one line per request, at the end of the response, never twice."""

from __future__ import annotations

import logging
import pathlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware.catch_errors import CatchErrorsMiddleware, CatchErrorsOptions
from swiftlite.middleware.proxy_access_line import FIELDS
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


def fields(line: str) -> dict[str, str]:
    """The line's named fields, still quoted as written."""
    parts = line.split(" ")
    assert len(parts) == len(FIELDS), line
    return dict(zip(FIELDS, parts, strict=True))


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
    got = fields(lines.lines[0])
    assert [
        got[k]
        for k in (
            "client_ip",
            "remote_addr",
            "request_method",
            "status_int",
            "bytes_recvd",
            "bytes_sent",
            "transaction_id",
        )
    ] == ["10.0.0.9", "10.0.0.9", "PUT", "201", "5", "12", "tx1"]
    assert got["source"] == "-"  # a client request, not a subrequest
    assert got["request_path"] == "/v1/AUTH_test/c/o%20x?format=json&prefix=a%20b"
    assert float(got["request_time"]) >= 0
    assert float(got["request_end_time"]) >= float(got["request_start_time"])


def test_forwarded_for_is_the_client(lines: Lines) -> None:
    req = Request.blank("/", headers={"X-Forwarded-For": "1.2.3.4, 10.0.0.1"})
    req.get_response(logged(echo_upload)).body  # noqa: B018
    assert fields(lines.lines[0])["client_ip"] == "1.2.3.4"


def test_utf8_path_is_logged_quoted(lines: Lines) -> None:
    req = Request.blank("/v1/a/c/%C3%A9")
    req.get_response(logged(echo_upload)).body  # noqa: B018
    assert fields(lines.lines[0])["request_path"] == "/v1/a/c/%C3%A9"


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
    assert [
        [fields(line)["request_method"], fields(line)["request_path"]] for line in lines.lines
    ] == [
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
    assert [fields(lines.lines[0])[k] for k in ("status_int", "bytes_recvd", "bytes_sent")] == [
        "499",
        "0",
        "1",
    ]


def test_exception_below_logs_500_and_reraises(lines: Lines) -> None:
    def boom(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        logged(boom)(Request.blank("/").environ, lambda *a: None)
    assert fields(lines.lines[0])["status_int"] == "500"


def test_under_catch_errors_logs_trans_id_and_500(lines: Lines) -> None:
    def boom(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("x")

    app = CatchErrorsMiddleware(logged(boom), CatchErrorsOptions())
    resp = Request.blank("/v1/a").get_response(app)
    assert resp.status_int == 500
    assert fields(lines.lines[0])["transaction_id"] == resp.headers["X-Trans-Id"]


def test_access_log_file_option_writes_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "access.log"
    name = f"access-{uuid.uuid4().hex}"
    mw = filter_factory({}, access_log_file=str(path), access_log_name=name)(echo_upload)
    Request.blank("/v1/a", method="PUT", body=b"xy").get_response(mw).body  # noqa: B018
    for handler in mw.logger.handlers:
        handler.flush()
    text = path.read_text()
    got = fields(text.strip().split(" INFO ", 1)[1])
    assert [got["request_method"], got["request_path"], got["status_int"]] == [
        "PUT",
        "/v1/a",
        "201",
    ]
    assert got["bytes_recvd"] == "2"


def test_line_has_swifts_proxy_access_fields_in_order(lines: Lines) -> None:
    req = Request.blank(
        "/v1/AUTH_test/c/o",
        method="PUT",
        body=b"abc",
        headers={
            "Referer": "http://x/ y",
            "User-Agent": "curl/8 \x1b[31mred\nforged 200",
            "X-Auth-Token": "AUTH_tk0123456789abcdefSECRET",
            "Etag": "e t",
        },
        environ={
            "REMOTE_ADDR": "10.0.0.9",
            "swiftlite.trans_id": "txA",
            "SERVER_PROTOCOL": "HTTP/1.1",
        },
    )
    req.get_response(logged(echo_upload)).body  # noqa: B018
    (line,) = lines.lines
    assert "\n" not in line
    assert "\x1b" not in line
    got = fields(line)
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}/\d\d/\d\d/\d\d", got["datetime"])
    assert got["protocol"] == "HTTP/1.1"
    assert got["referer"] == "http://x/%20y"
    assert got["user_agent"] == "curl/8%20%1B%5B31mred%0Aforged%20200"
    assert got["auth_token"] == "AUTH_tk012345678..."  # noqa: S105 - only the first 16 characters
    assert got["client_etag"] == "e%20t"
    assert got["headers"] == "-"  # off unless access_log_headers
    assert got["policy_index"] == "-"
    # Swift's parsers take the first 14 fields up to the transaction id
    assert line.split()[13] == "txA"


def test_access_log_headers_lists_request_headers_quoted(lines: Lines) -> None:
    mw = ProxyLoggingMiddleware(
        echo_upload,
        ProxyLoggingOptions(access_log_headers=True),
        logging.getLogger("swiftlite.test-access"),
    )
    Request.blank("/v1/a", headers={"X-Foo": "a b"}).get_response(mw).body  # noqa: B018
    headers = fields(lines.lines[0])["headers"]
    assert "X-Foo:%20a%20b" in headers.split("%0A")
    assert "%0A" in headers  # one header a line, the newline quoted


def test_access_log_headers_obscure_tokens_and_s3_authorization(lines: Lines) -> None:
    mw = ProxyLoggingMiddleware(
        echo_upload,
        ProxyLoggingOptions(access_log_headers=True),
        logging.getLogger("swiftlite.test-access"),
    )
    token = "AUTH_tk" + "0123456789abcdef" * 4
    auth = "AWS4-HMAC-SHA256 Credential=test:tester/x, Signature=" + "f" * 64
    headers = {"X-Auth-Token": token, "Authorization": auth, "X-Foo": "shown"}
    Request.blank("/v1/a", headers=headers).get_response(mw).body  # noqa: B018
    logged = fields(lines.lines[0])["headers"].split("%0A")
    assert "X-Auth-Token:%20AUTH_tk012345678..." in logged  # a full token here is a leak
    assert not any("f" * 20 in line for line in logged)  # nor the signature
    assert "X-Foo:%20shown" in logged


class _Statsd:
    def __init__(self) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]

    def packets(self, count: int) -> list[str]:
        return [self.sock.recv(2048).decode() for _ in range(count)]


def test_statsd_gets_swifts_proxy_metric_names() -> None:
    listener = _Statsd()
    try:
        mw = filter_factory(
            {"log_statsd_host": "127.0.0.1", "log_statsd_port": str(listener.port)},
            log_statsd_metric_prefix="cluster1",
            access_log_name=f"access-{uuid.uuid4().hex}",
        )(echo_upload)
        Request.blank("/v1/AUTH_t/c/o", method="PUT", body=b"12345").get_response(mw).body  # noqa: B018
        Request.blank("/v1/AUTH_t/c").get_response(mw).body  # noqa: B018
        Request.blank("/info").get_response(mw).body  # noqa: B018  (no type: no metrics)
        Request.blank("/v1/AUTH_t", method="BREW").get_response(mw).body  # noqa: B018
        got = listener.packets(7)
    finally:
        listener.sock.close()
    names = [p.split(":", 1)[0] for p in got]
    assert names == [
        "cluster1.proxy-server.object.PUT.201.timing",
        "cluster1.proxy-server.object.PUT.201.xfer",
        "cluster1.proxy-server.container.GET.201.timing",
        "cluster1.proxy-server.container.GET.201.first-byte.timing",
        "cluster1.proxy-server.container.GET.201.xfer",
        "cluster1.proxy-server.account.BAD_METHOD.201.timing",
        "cluster1.proxy-server.account.BAD_METHOD.201.xfer",
    ]
    assert got[0].endswith("|ms")
    assert got[1] == "cluster1.proxy-server.object.PUT.201.xfer:17|c"  # 5 in + 12 out


def ok(environ: dict[str, Any], start_response: Any) -> Any:
    return Response(status=200, body=b"x")(environ, start_response)


def test_temp_url_signature_is_logged_cut_to_its_first_16_characters(lines: Lines) -> None:
    from swiftlite.middleware import tempurl

    tempurl.filter_factory({})  # declares temp_url_sig secret, as in a loaded pipeline
    sig = "0123456789abcdef" + "f" * 48
    query = f"temp_url_sig={sig}&temp_url_expires=1700000000&filename=a%20b"
    Request.blank(f"/v1/AUTH_t/c/o?{query}").get_response(logged(ok)).body  # noqa: B018
    (line,) = lines.lines
    assert sig not in line
    path = fields(line)["request_path"]
    assert "temp_url_sig=0123456789abcdef...&" in path
    assert "temp_url_expires=1700000000" in path
    assert "filename=a%20b" in path  # quoted as written


def test_secret_parameter_is_obscured_however_its_name_is_spelled(lines: Lines) -> None:
    from swiftlite.common.registry import register_sensitive_param

    register_sensitive_param("temp_url_sig")
    sig = "s" * 16 + "SECRETTAIL"
    query = f"temp%5Furl%5Fsig={sig}&temp_url_sig={sig}&x=1&temp_url_sig"
    Request.blank(f"/v1/AUTH_t/c/o?{query}").get_response(logged(ok)).body  # noqa: B018
    (line,) = lines.lines
    assert "SECRETTAIL" not in line
    assert fields(line)["request_path"].count("s" * 16 + "...") == 2


def test_reveal_sensitive_prefix_option_sets_how_much_is_shown(lines: Lines) -> None:
    from swiftlite.common.registry import register_sensitive_param

    register_sensitive_param("temp_url_sig")
    app = ProxyLoggingMiddleware(
        ok,
        ProxyLoggingOptions(reveal_sensitive_prefix=4),
        logging.getLogger("swiftlite.test-access"),
    )
    Request.blank("/v1/a/c/o?temp_url_sig=abcdefgh").get_response(app).body  # noqa: B018
    assert fields(lines.lines[0])["request_path"] == "/v1/a/c/o?temp_url_sig=abcd..."
