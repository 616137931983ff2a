"""swiftlite-tempurl and swiftlite-form-signature: same signatures as swift's own tools."""

from __future__ import annotations

import urllib.parse

from swiftclient.utils import generate_temp_url

from swiftlite.cli import sharing
from swiftlite.middleware import signature


def test_tempurl_cli_prints_what_swiftclient_generates(capsys):
    assert sharing.tempurl_main(["--absolute", "GET", "1700000000", "/v1/a/c/o", "k"]) == 0
    ours = capsys.readouterr().out.strip()
    theirs = generate_temp_url("/v1/a/c/o", 1700000000, "k", "GET", absolute=True)
    assert ours == theirs


def test_tempurl_cli_prefix_and_ip_range_match_swiftclient():
    ours = sharing.tempurl_url(
        "GET", 1700000000, "/v1/a/c/pre", "k", prefix=True, ip_range="1.2.3.4", digest="sha512"
    )
    theirs = generate_temp_url(
        "/v1/a/c/pre",
        1700000000,
        "k",
        "GET",
        absolute=True,
        prefix=True,
        ip_range="1.2.3.4",
        digest="sha512",
    )
    assert urllib.parse.parse_qs(ours.split("?")[1]) == urllib.parse.parse_qs(theirs.split("?")[1])


def test_tempurl_cli_bad_path_exits_1(capsys):
    assert sharing.tempurl_main(["GET", "60", "/v1/a/c", "k"]) == 1
    assert "path must" in capsys.readouterr().err


def test_form_signature_cli_prints_a_form_with_a_valid_signature(capsys):
    argv = ["/v1/a/c/up_", "http://x/done", "1024", "2", "60", "k"]
    assert sharing.form_signature_main(argv) == 0
    out = capsys.readouterr().out
    expires = int(out.split("Expires: ")[1].split()[0])
    sig = out.split("Signature: ")[1].split()[0]
    message = signature.formpost_message("/v1/a/c/up_", "http://x/done", 1024, 2, expires)
    assert sig == signature.hmac_hex("k", message, "sha256")
    assert out.count('type="file"') == 2
    assert 'action="/v1/a/c/up_"' in out


def test_form_signature_cli_refuses_a_zero_file_count(capsys):
    assert sharing.form_signature_main(["/v1/a/c", "", "10", "0", "60", "k"]) == 1
    assert "max_file_count" in capsys.readouterr().err
