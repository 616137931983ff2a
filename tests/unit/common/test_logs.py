"""Logger set-up and the fast access-line path."""

import logging
import re

from swiftlite.common import logs


def _fresh(tmp_path, name):
    path = tmp_path / f"{name}.log"
    return logs.get_logger(name, str(path)), path


def test_info_line_writes_what_logger_info_writes(tmp_path):
    logger, path = _fresh(tmp_path, "fast-a")
    logger.info("slow path line")
    logs.info_line(logger, "fast path line")
    slow, fast = path.read_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(stamp + r" swiftlite\.fast-a INFO slow path line", slow)
    assert re.fullmatch(stamp + r" swiftlite\.fast-a INFO fast path line", fast)
    # The same clock: both stamps name the same second, or the fast one is later.
    assert fast[:23] >= slow[:23]


def test_info_line_respects_the_level(tmp_path):
    path = tmp_path / "quiet.log"
    logger = logs.get_logger("fast-quiet", str(path), "WARNING")
    logs.info_line(logger, "not written")
    assert path.read_text() == ""


def test_info_line_takes_the_ordinary_path_for_other_handlers(tmp_path):
    logger, path = _fresh(tmp_path, "fast-b")
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    extra = Collect()
    logger.addHandler(extra)
    try:
        logs.info_line(logger, "to both")
    finally:
        logger.removeHandler(extra)
    assert seen == ["to both"]
    assert path.read_text().endswith(" INFO to both\n")


def test_access_line_quotes_spaces_and_fills_empty_fields():
    line = logs.format_access_line("127.0.0.1", "PUT", "/v1/a/c/o o", 201, 4, 0, 0.5, None)
    assert line == "127.0.0.1 PUT /v1/a/c/o%20o 201 4 0 0.5000 - -"


def _udp_listener():
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    return sock


def test_log_udp_host_sends_syslog_lines_with_facility_and_ident():
    sock = _udp_listener()
    try:
        target = logs.syslog_target(
            {
                "log_udp_host": "127.0.0.1",
                "log_udp_port": str(sock.getsockname()[1]),
                "log_facility": "LOG_LOCAL3",
            }
        )
        logger = logs.get_logger("object-server-udp", syslog=target)
        logger.warning("disk sdb1 is slow")
        data = sock.recv(4096)
    finally:
        sock.close()
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
    # <PRI> = facility local3 (19) * 8 + warning (4)
    assert data.rstrip(b"\x00") == b"<156>object-server-udp: disk sdb1 is slow"


def test_log_address_unix_socket_and_process_default(tmp_path):
    import socket

    path = str(tmp_path / "dev-log")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        logs.configure_process({"log_address": path})
        try:
            logger = logs.get_logger("container-server-unix")
        finally:
            logs.configure_process({})
        logger.info("hello")
        data = sock.recv(4096)
    finally:
        sock.close()
    # default facility LOG_LOCAL0 (16) * 8 + info (6)
    assert data.rstrip(b"\x00") == b"<134>container-server-unix: hello"
    # the process default is cleared again: a new name logs to stderr
    assert isinstance(logs.get_logger("after-unix").handlers[0], logging.StreamHandler)


def test_bad_log_facility_is_a_config_error():
    import pytest

    from swiftlite.common.errors import ConfigError

    with pytest.raises(ConfigError, match="log_facility"):
        logs.configure_process({"log_facility": "LOG_NOPE"})


def test_log_file_moved_by_logrotate_is_reopened(tmp_path, monkeypatch):
    """After logrotate moves the file (no copytruncate), ordinary lines go to the new file at
    once and the fast access lines from the next wall-clock second on: a handler that never
    looked again would keep writing to the moved file forever and fail here."""
    now = [1_800_000_000.25]
    monkeypatch.setattr(logs, "_clock", lambda: now[0])
    logger, path = _fresh(tmp_path, "rotated")
    logger.info("before")
    logs.info_line(logger, "fast before")
    path.rename(tmp_path / "rotated.log.1")  # logrotate without copytruncate
    now[0] += 0.5  # the same second: the fast line has not looked yet
    logs.info_line(logger, "fast same second")
    now[0] += 0.5  # the next second: it looks, and reopens
    logs.info_line(logger, "fast next second")
    logger.info("slow after")
    moved = (tmp_path / "rotated.log.1").read_text()
    assert moved.count("before") == 2
    assert "fast same second" in moved
    text = path.read_text()
    assert "slow after" in text
    assert "fast next second" in text
    assert "before" not in text
