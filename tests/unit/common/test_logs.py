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
