"""X-Hub-Signature-256 over the raw body: what Meta signs passes, everything else fails."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from channels_app.meta.events import parse
from channels_app.meta.signature import configured_secrets, meta_json, sign, verify
from channels_app.meta.tests.conftest import fixture_body, fixture_bytes

APP_SECRET = "4f1d2c9a8b7e6d5c4b3a29180716f5e4"
INSTAGRAM_SECRET = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
BODY = fixture_bytes("messenger/message__text")  # Arabic text: the bytes as sent, not re-encoded


def test_a_body_signed_by_meta_passes() -> None:
    header = sign(BODY, APP_SECRET)
    assert header == "sha256=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert verify(BODY, header, [APP_SECRET])


def test_one_byte_changed_in_the_body_fails() -> None:
    header = sign(BODY, APP_SECRET)
    forged = bytearray(BODY)
    forged[BODY.index(b"mid") + 10] ^= 0x01
    assert not verify(bytes(forged), header, [APP_SECRET])


def test_the_body_is_verified_as_meta_wrote_it_not_as_decoded_again() -> None:
    wire = meta_json(fixture_body("messenger/message__text"))
    assert wire.isascii() and b"\\u0627" in wire  # the Arabic escaped, in lower-case hex
    assert meta_json({"url": "https://x.dz/a?b=50%", "by": "@nour", "html": "<b>"}) == (
        b'{"url":"https:\\/\\/x.dz\\/a?b=50\\u0025","by":"\\u0040nour","html":"\\u003Cb>"}'
    )
    header = sign(wire, APP_SECRET)
    assert verify(wire, header, [APP_SECRET])
    assert parse(wire) == parse(BODY)  # the same events from the escaped and the readable body
    readable_again = json.dumps(json.loads(wire), ensure_ascii=False).encode()
    assert not verify(readable_again, header, [APP_SECRET])


def test_a_wrong_secret_fails() -> None:
    assert not verify(BODY, sign(BODY, "another app's secret"), [APP_SECRET])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256",
        "=" + hashlib.sha256(b"x").hexdigest(),
        "sha1=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
        "sha512=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha512).hexdigest(),
        "sha256=" + "zz" * 32,
        "sha256=" + "ab" * 31,
        "sha256=" + "ab" * 33,
        "sha256=" + "٣" * 64,  # non-ASCII digits are no hex
    ],
    ids="missing empty no-digest no-equals no-algorithm sha1 sha512 not-hex short long arabic-digits".split(),
)
def test_a_missing_or_malformed_header_fails(header: str | None) -> None:
    assert not verify(BODY, header, [APP_SECRET])


def test_a_header_in_uppercase_hex_or_with_spaces_passes() -> None:
    digest = sign(BODY, APP_SECRET).partition("=")[2]
    assert verify(BODY, "sha256=" + digest.upper(), [APP_SECRET])
    assert verify(BODY, f"  SHA256={digest} ", [APP_SECRET])


def test_no_secret_configured_fails_even_for_an_unsigned_guess() -> None:
    assert not verify(BODY, sign(BODY, ""), [])
    assert not verify(BODY, sign(BODY, ""), [""])  # an empty setting is no secret


def test_the_second_secret_matches() -> None:
    # Instagram API with Instagram Login signs with the Instagram app's secret.
    header = sign(BODY, INSTAGRAM_SECRET)
    assert verify(BODY, header, [APP_SECRET, INSTAGRAM_SECRET])
    assert verify(BODY, header, iter(["", APP_SECRET, INSTAGRAM_SECRET]))
    assert not verify(BODY, header, [APP_SECRET])


def test_the_secrets_come_from_settings(settings: Any) -> None:
    settings.META_APP_SECRET = APP_SECRET
    settings.META_INSTAGRAM_APP_SECRET = ""
    assert configured_secrets() == (APP_SECRET,)
    settings.META_INSTAGRAM_APP_SECRET = INSTAGRAM_SECRET
    assert configured_secrets() == (APP_SECRET, INSTAGRAM_SECRET)
    settings.META_INSTAGRAM_APP_SECRET = APP_SECRET
    assert configured_secrets() == (APP_SECRET,)
    settings.META_APP_SECRET = ""
    settings.META_INSTAGRAM_APP_SECRET = ""
    assert configured_secrets() == ()
