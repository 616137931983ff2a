"""signature: temp URL and form POST HMACs, both encodings, constant-time matching."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from swiftclient.utils import generate_temp_url

from swiftlite.middleware import signature


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
def test_swiftclient_signature_parses_to_our_hmac(digest):
    url = generate_temp_url("/v1/AUTH_t/c/o", 1700000000, "k", "GET", absolute=True, digest=digest)
    sig = url.split("temp_url_sig=")[1].split("&")[0]
    parsed = signature.parse_signature(sig)
    message = signature.tempurl_message("GET", 1700000000, "/v1/AUTH_t/c/o")
    assert parsed == (digest, signature.hmac_hex("k", message, digest))


def test_ip_range_goes_first_in_the_message():
    assert signature.tempurl_message("PUT", 5, "/v1/a/c/o", "1.2.3.0/24") == (
        "ip=1.2.3.0/24\nPUT\n5\n/v1/a/c/o"
    )


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "z" * 40, "md5:AAAA", "sha256:", "sha256:!!!!", "sha256:AAAA", "\u0661" * 40],
)
def test_malformed_signature_is_none(bad):
    assert signature.parse_signature(bad) is None


@given(st.binary(min_size=64, max_size=64))
def test_base64_forms_decode_to_the_same_hex(raw):
    import base64

    for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        for form in (text, text.rstrip("=")):
            assert signature.parse_signature("sha512:" + form) == ("sha512", raw.hex())


def test_encode_sha512_is_urlsafe_base64_without_padding():
    hex_sig = hmac.new(b"k", b"m", hashlib.sha512).hexdigest()
    encoded = signature.encode_signature(hex_sig, "sha512")
    assert encoded.startswith("sha512:")
    assert "=" not in encoded
    assert signature.parse_signature(encoded) == ("sha512", hex_sig)


def test_matches_is_false_for_a_one_digit_change():
    good = "ab" * 20
    assert signature.matches(good, ["00" * 20, good])
    assert not signature.matches("ab" * 19 + "ac", [good])
    assert not signature.matches(good, [])


def test_matches_compares_every_candidate_with_compare_digest(monkeypatch):
    """No timing oracle: each candidate goes through hmac.compare_digest, even after a hit."""
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", recording)
    good = "ab" * 20
    assert signature.matches(good, [good, "00" * 20, "11" * 20])
    assert [b for _a, b in compared] == [good.encode(), b"00" * 20, b"11" * 20]


def test_expires_as_unix_or_iso8601_and_garbage_is_none():
    assert signature.parse_expires("1700000000") == 1700000000
    assert signature.parse_expires("2023-11-14T22:13:20Z") == 1700000000
    assert signature.parse_expires("tomorrow") is None
    assert signature.parse_expires("-5") is None


def test_expires_int_cannot_read_is_none_not_an_error():
    assert signature.parse_expires("\u00b2") is None  # isdigit() says yes, int() says no
    assert signature.parse_expires("9" * 5000) is None  # over int()'s 4300-digit limit
    assert signature.parse_expires("9" * 40) == int("9" * 40)
    assert signature.parse_expires("2023-11-14T22:13:20Z\r\nX: y") is None


def test_no_supported_digest_is_an_error():
    with pytest.raises(ValueError, match="no supported digest"):
        signature.normalize_digests(["md5"])
    assert signature.normalize_digests(["SHA512", "md5", "sha1"]) == ("sha1", "sha512")
