"""Device strings, search values and device validation."""

import pytest

from swiftlite.ring.devices import (
    Device,
    format_device,
    match_devices,
    parse_device_string,
    parse_search_value,
)
from swiftlite.ring.errors import RingBuilderError, RingError


def test_parse_device_string_full_form_gives_every_field():
    got = parse_device_string('r2z3-10.0.0.1:6200R10.1.0.1:6300/sdb_"fast ssd"')
    assert got == {
        "region": 2,
        "zone": 3,
        "ip": "10.0.0.1",
        "port": 6200,
        "device": "sdb",
        "meta": "fast ssd",
        "replication_ip": "10.1.0.1",
        "replication_port": 6300,
    }


def test_parse_device_string_without_region_defaults_to_region_1():
    got = parse_device_string("z1-127.0.0.1:6200/d1")
    assert (got["region"], got["zone"], got["device"], got["meta"]) == (1, 1, "d1", "")


def test_parse_device_string_ipv6_strips_brackets():
    assert parse_device_string("r1z1-[::1]:6200/d1")["ip"] == "::1"


@pytest.mark.parametrize(
    "text", ["r1z1-127.0.0.1/d1", "r1-127.0.0.1:6200/d1", "r1z1-127.0.0.1:6200", "garbage", ""]
)
def test_parse_device_string_malformed_raises_ring_error(text):
    with pytest.raises(RingBuilderError, match="invalid device string"):
        parse_device_string(text)


def test_format_device_round_trips_through_parse():
    dev = Device(7, 1, 2, "10.0.0.9", 6200, "sdc", 50.0, "m", "10.1.0.9", 6300)
    text = format_device(dev)
    assert text == 'd7r1z2-10.0.0.9:6200R10.1.0.9:6300/sdc_"m"'
    parsed = parse_device_string(text[text.index("r") :])  # the add form has no d<id>
    assert parsed == {
        "region": 1,
        "zone": 2,
        "ip": "10.0.0.9",
        "port": 6200,
        "device": "sdc",
        "meta": "m",
        "replication_ip": "10.1.0.9",
        "replication_port": 6300,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("d3", {"id": 3}),
        ("r1z2-127.0.0.1:6200/sdb", {"region": 1, "zone": 2, "ip": "127.0.0.1", "port": 6200,
                                     "device": "sdb"}),
        ("127.0.0.1", {"ip": "127.0.0.1"}),
        ("z2", {"zone": 2}),
        ("/sdb", {"device": "sdb"}),
        ("[::1]:6200", {"ip": "::1", "port": 6200}),
        ("d1r1z1-10.0.0.1:6200R10.1.0.1:6300/d1_m", {"id": 1, "region": 1, "zone": 1,
         "ip": "10.0.0.1", "port": 6200, "replication_ip": "10.1.0.1",
         "replication_port": 6300, "device": "d1", "meta": "m"}),
    ],
)  # fmt: skip
def test_parse_search_value_forms_give_filters(value, expected):
    assert parse_search_value(value) == expected


@pytest.mark.parametrize("value", ["", "x1", "d", "127.0.0.1:port", "z1?"])
def test_parse_search_value_bad_raises_ring_error(value):
    with pytest.raises(RingError, match="invalid search value"):
        parse_search_value(value)


def test_match_devices_all_fields_must_match():
    a = Device(0, 1, 1, "10.0.0.1", 6200, "d1", 1.0)
    b = Device(1, 1, 2, "10.0.0.1", 6200, "d2", 1.0)
    assert match_devices([a, None, b], {"ip": "10.0.0.1"}) == [a, b]
    assert match_devices([a, None, b], {"ip": "10.0.0.1", "zone": 2}) == [b]
    assert match_devices([a, b], {"device": "d9"}) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"port": 0},
        {"port": 70000},
        {"weight": -1},
        {"weight": float("nan")},
        {"device": "a/b"},
        {"zone": -1},
        {"id": 0xFFFF},
    ],
)
def test_device_from_dict_bad_values_raise(bad):
    good = {"id": 0, "region": 1, "zone": 1, "ip": "1.2.3.4", "port": 6200, "device": "d",
            "weight": 1.0}  # fmt: skip
    with pytest.raises(RingBuilderError):
        Device.from_dict({**good, **bad})


def test_device_from_dict_missing_key_names_it():
    with pytest.raises(RingBuilderError, match="missing device"):
        Device.from_dict({"id": 0, "zone": 1, "ip": "1.2.3.4", "port": 1, "weight": 1})
