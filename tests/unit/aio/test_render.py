from __future__ import annotations

import configparser

from swiftlite.aio.render import render_config


def test_default_override_also_replaces_section_values(tmp_path) -> None:
    template = tmp_path / "t.conf"
    template.write_text(
        "[DEFAULT]\nbind_port = 1\n[app:x]\nuse = egg:swiftlite#object\ndevices = /old\n"
        "[filter:y]\nuse = egg:swiftlite#healthcheck\n"
    )
    text = render_config(
        str(template),
        {
            "DEFAULT": {"devices": "/new", "bind_port": "6200"},
            "filter:cache": {"memcache_servers": "127.0.0.1:1"},
        },
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    assert parser.get("DEFAULT", "bind_port") == "6200"
    assert parser.get("app:x", "devices") == "/new"
    assert parser.get("app:x", "use") == "egg:swiftlite#object"
    assert parser.get("filter:cache", "memcache_servers") == "127.0.0.1:1"
