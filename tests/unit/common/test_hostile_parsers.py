"""Numbers, timestamps, ranges, backend headers and log lines under hostile input (issue 13)."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swiftlite.common import intparse, logs
from swiftlite.common.http import ranges
from swiftlite.common.http.client import BackendPool
from swiftlite.common.timestamp import Timestamp
from swiftlite.middleware.catch_errors import CatchErrorsMiddleware, CatchErrorsOptions
from tests.support.inproc import ServedApp, bound_socket

# --- intparse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", " 5", "5 ", "+5", "-5", "5_0", "\xb2", "\u0665", "0x5", "5.0"]
)
def test_parse_uint_refuses_what_int_accepts(text) -> None:
    with pytest.raises(ValueError, match="not a number"):
        intparse.parse_uint(text)


def test_parse_uint_caps_the_digit_count_before_int_does() -> None:
    assert intparse.parse_uint("9" * 20) == 10**20 - 1
    with pytest.raises(ValueError, match="not a number"):
        intparse.parse_uint("9" * 21)
    with pytest.raises(ValueError, match="not a number"):
        intparse.parse_uint("1" * 5000)  # ValueError, not int()'s digit-limit error text


@pytest.mark.parametrize("text", ["0x5", "+5", "0_5", " 5", "", "g", "1" * 17])
def test_parse_hex_refuses_lenient_chunk_sizes(text) -> None:
    with pytest.raises(ValueError, match="not a hex number"):
        intparse.parse_hex(text)


@given(st.integers(min_value=0, max_value=10**20 - 1))
def test_parse_uint_round_trips_every_value(value) -> None:
    assert intparse.parse_uint(str(value)) == value


# --- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["1_-1", "1.5_", "1.5_+1", "1.5_0x1", "1_" + "1" * 17, "\xb2", "1\u0665", "1e5", "1_000.5"],
)
def test_lenient_timestamp_forms_are_refused(text) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        Timestamp(text)


def test_timestamp_with_5000_digits_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        Timestamp("1" * 5000)


def test_timestamp_keeps_swifts_forms() -> None:
    assert Timestamp("0001700000000.12345").internal == "1700000000.12345"
    assert Timestamp("1700000000.12345_000000000000000a").offset == 10
    assert Timestamp(" 1700000000.5 ").normal == "1700000000.50000"


# --- ranges -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["bytes=\xb2-3", "bytes=1-\xb3", "bytes=0-" + "5" * 5000])
def test_range_with_non_ascii_or_huge_digits_is_ignored_not_a_crash(header) -> None:
    assert ranges.plan(header, 10).status == 200


def test_range_with_long_but_capped_digits_clips_to_the_end() -> None:
    plan = ranges.plan("bytes=2-" + "9" * 60, 10)
    assert (plan.status, plan.spans) == (206, ((2, 10),))


@given(st.text(max_size=40))
def test_any_range_header_plans_without_raising(header) -> None:
    assert ranges.plan("bytes=" + header, 100).status in (200, 206, 416)


# --- the backend client keeps header values byte-exact ---------------------------------------

VALUE_5605 = "\u5605".encode().decode("latin-1")  # ends in 0x85
VALUE_A0 = "x\u00a0".encode().decode("latin-1")  # ends in 0xA0


def _meta_app(environ, start_response):
    start_response(
        "200 OK",
        [("X-Object-Meta-A", VALUE_5605), ("X-Object-Meta-B", VALUE_A0), ("Content-Length", "0")],
    )
    return [b""]


@pytest.fixture
def meta_server() -> Iterator[ServedApp]:
    app = ServedApp("meta", _meta_app, bound_socket()).start()
    try:
        yield app
    finally:
        app.stop()


def test_backend_header_value_ending_in_0x85_or_0xa0_is_not_stripped(meta_server) -> None:
    resp = BackendPool(1.0, 2.0).request("127.0.0.1", meta_server.port, "GET", "/x")
    resp.read_all()
    assert resp.getheader("X-Object-Meta-A") == VALUE_5605
    assert resp.getheader("X-Object-Meta-B") == VALUE_A0


# --- log lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["/a\nFAKE line", "/a\rb", "/a\x1b[31m", "/\xff\xfe", "/50%"])
def test_escape_leaves_no_control_or_raw_high_byte(value) -> None:
    out = logs.escape(value)
    assert all(" " <= ch < "\x7f" for ch in out), out
    assert urllib.parse.unquote_to_bytes(out) == value.encode("latin-1")  # nothing lost


def test_access_line_of_a_non_utf8_path_is_quoted_byte_for_byte() -> None:
    line = logs.format_access_line("1.2.3.4", "GET", b"/d/1/a/c/\xff\n", 412, 0, 0, 0.1, "tx1")
    assert "/d/1/a/c/%FF%0A" in line
    assert "\n" not in line


def test_catch_errors_log_line_escapes_a_decoded_line_break(caplog) -> None:
    def boom(environ, start_response):
        raise RuntimeError("boom")

    app = CatchErrorsMiddleware(boom, CatchErrorsOptions())
    app.logger.propagate = True
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v1/a/c/o\n2030-01-01 00:00:00 forged INFO admin logged in",
        "SCRIPT_NAME": "",
    }
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app(environ, lambda status, headers, exc_info=None: None)
    messages = [r.getMessage() for r in caplog.records]
    assert messages, "nothing logged"
    assert all("\n" not in m for m in messages), messages
    assert any("/v1/a/c/o%0A2030" in m for m in messages)


# --- webob's header-name mapping keeps UTF-8 names ---------------------------------------------


def test_webob_headers_keep_utf8_names_and_iterate_without_keyerror() -> None:
    import webob

    import swiftlite.common.http.headers  # noqa: F401  (installs the ASCII-only mapping)

    name = "\u5605\u00e9".encode().decode("latin-1")
    req = webob.Request.blank("/")
    req.environ["HTTP_X_OBJECT_META_" + name] = "v"
    items = dict(req.headers.items())  # str.title() mapping: KeyError here
    assert items["X-Object-Meta-" + name] == "v"
    assert req.headers["x-object-meta-" + name] == "v"
