"""Listing formats: negotiation, plain/JSON/XML rendering and the empty-listing statuses."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webob.acceptparse import create_accept_header

from swiftlite.common.http.listing import (
    JSON,
    OFFERS,
    PLAIN,
    TEXT_XML,
    XML,
    listing_response,
    negotiate,
    render,
)

OBJECTS = [
    {"subdir": "dir/"},
    {
        "name": "a<&>\"'é",
        "hash": "abc",
        "bytes": 3,
        "content_type": "text/plain",
        "last_modified": "2024-01-02T03:04:05.000000",
    },
]


def parse_xml(body):
    return ET.fromstring(body)  # noqa: S314 - our own renderer's output


@pytest.mark.parametrize(
    ("fmt", "accept", "expected"),
    [
        (None, None, PLAIN),
        (None, "", PLAIN),
        ("json", None, JSON),
        ("JSON", "application/xml", JSON),
        ("xml", None, XML),
        ("plain", "application/json", PLAIN),
        ("bogus", None, PLAIN),
        (None, "application/json", JSON),
        (None, "text/xml", TEXT_XML),
        (None, "application/xml;q=0.5, application/json;q=0.9", JSON),
        (None, "*/*", PLAIN),
        (None, "image/png", None),
        (None, "text/plain;q=0", None),
    ],
)
def test_negotiate_format_and_accept(fmt, accept, expected):
    assert negotiate(fmt, accept) == expected


def test_plain_lists_names_and_subdirs_one_per_line():
    assert render("container", "c", OBJECTS, PLAIN) == "dir/\na<&>\"'é\n".encode()


def test_json_keeps_rows_as_given():
    assert json.loads(render("container", "c", OBJECTS, JSON)) == OBJECTS


def test_container_xml_escapes_and_orders_fields():
    body = render("container", 'c"1', OBJECTS, XML)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<container name="c&quot;1">')
    root = parse_xml(body)
    assert root.attrib["name"] == 'c"1'
    assert root.find("subdir").attrib["name"] == "dir/"
    obj = root.find("object")
    assert [child.tag for child in obj] == [
        "name",
        "hash",
        "bytes",
        "content_type",
        "last_modified",
    ]
    assert obj.findtext("name") == "a<&>\"'é"


def test_account_xml_uses_container_elements():
    rows = [{"name": "c", "count": 1, "bytes": 2, "last_modified": "2024-01-02T03:04:05.000000"}]
    root = parse_xml(render("account", "AUTH_x", rows, TEXT_XML))
    assert root.tag == "account"
    assert [child.tag for child in root.find("container")] == [
        "name",
        "count",
        "bytes",
        "last_modified",
    ]


def test_account_xml_is_byte_for_byte_swifts_layout():
    # Swift's account XML puts a newline after the root tag and after each entry, and writes a
    # roll-up as an empty element (no <name> child, unlike a container listing's subdir).
    rows = [
        {"subdir": "photos-"},
        {
            "name": "c",
            "count": 1,
            "bytes": 2,
            "last_modified": "2024-01-02T03:04:05.000000",
            "storage_policy": "gold",
        },
    ]
    assert render("account", "AUTH_x", rows, XML) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_x">\n'
        b'<subdir name="photos-" />\n'
        b"<container><name>c</name><count>1</count><bytes>2</bytes>"
        b"<last_modified>2024-01-02T03:04:05.000000</last_modified>"
        b"<storage_policy>gold</storage_policy></container>\n"
        b"</account>"
    )
    assert render("account", "AUTH_x", [], XML) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_x">\n</account>'
    )


@pytest.mark.parametrize("kind", ["account", "container"])
def test_xml_subdir_name_with_line_break_or_tab_survives_a_parser(kind):
    name = "a\nb\rc\td/"
    root = parse_xml(render(kind, "x\ny", [{"subdir": name}], XML))
    assert root.attrib["name"] == "x\ny"
    assert root.find("subdir").attrib["name"] == name


def test_empty_plain_response_is_204_and_empty_json_is_200():
    plain = listing_response("container", "c", [], PLAIN, {"X-Container-Object-Count": "0"})
    assert plain.status_int == 204
    assert plain.body == b""
    assert plain.headers["X-Container-Object-Count"] == "0"
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    as_json = listing_response("container", "c", [], JSON)
    assert (as_json.status_int, as_json.body) == (200, b"[]")
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    as_xml = listing_response("account", "a", [], XML)
    assert as_xml.status_int == 200
    assert parse_xml(as_xml.body).tag == "account"


_ACCEPT_PIECES = st.sampled_from(
    [
        "application/json",
        "text/xml",
        "application/xml",
        "text/plain",
        "*/*",
        "text/*",
        "image/png",
        ";q=0",
        ";q=0.5",
        ";q=1",
        ",",
        " ",
        ";",
        "=",
        "bogus",
        "q=2",
    ]
)


@given(st.lists(_ACCEPT_PIECES, max_size=8).map("".join))
def test_remembered_accept_answers_are_webobs_on_every_call(accept):
    """The memo of Accept parses must not change an answer, first call or later."""
    if not accept.strip():
        expected = PLAIN
    else:
        offers = create_accept_header(accept).acceptable_offers(list(OFFERS))
        expected = offers[0][0] if offers else None
    assert negotiate(None, accept) == expected
    assert negotiate(None, accept) == expected
