"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw
request body under the app secret.

It is computed over the bytes exactly as they arrived. Meta sends (and signs) its JSON with
every non-ASCII character as a \\u escape of four lower-case hex digits, and `/`, `<`, `%`, `@`
escaped too (`meta_json` writes a body that way): decoding and encoding the JSON again changes the bytes and
the signature would not match. Two secrets can sign our deliveries (the Meta app's, and the
Instagram app's for Instagram API with Instagram Login webhooks), so a delivery is genuine when
any configured secret matches. Every comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
from collections.abc import Iterable
from typing import Any

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256"
_HEX_DIGITS = frozenset(string.hexdigits)
_DIGEST_HEX_LENGTH = hashlib.sha256().digest_size * 2


def sign(raw_body: bytes, secret: str) -> str:
    """The header value Meta would send for this body (tests, benchmarks, the loopback peer)."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"{_PREFIX}={digest}"


# What Meta escapes beyond json.dumps's ASCII escapes (only ever inside strings in JSON text).
_META_ESCAPES = {"/": "\\/", "<": "\\u003C", "%": "\\u0025", "@": "\\u0040"}


def meta_json(payload: Any) -> bytes:
    """`payload` as the bytes Meta would put on the wire (tests, benchmarks, the loopback peer)."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return "".join(_META_ESCAPES.get(char, char) for char in text).encode("ascii")


def _claimed_digest(header: str | None) -> bytes | None:
    """The hex digest a well-formed header carries, lower-cased; None for anything else."""
    if not isinstance(header, str):
        return None
    algorithm, sep, digest = header.strip().partition("=")
    if not sep or algorithm.strip().lower() != _PREFIX:
        return None
    digest = digest.strip()
    if len(digest) != _DIGEST_HEX_LENGTH or not _HEX_DIGITS.issuperset(digest):
        return None
    return digest.lower().encode("ascii")


def verify(raw_body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when `header` is the signature of `raw_body` under one of `secrets`.

    False for a missing or malformed header, another algorithm (`sha1=`, the old header's), and
    when no secret is configured: an unconfigured app must not accept unsigned deliveries.
    Every secret is tried, so the time taken does not tell which one matched.
    """
    claimed = _claimed_digest(header)
    if claimed is None:
        return False
    matched = False
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, claimed)
    return matched


def configured_secrets() -> tuple[str, ...]:
    """The secrets that may sign a delivery, from settings: the Meta app's and the Instagram
    app's (Instagram API with Instagram Login), without blanks or repeats."""
    from django.conf import settings

    found: list[str] = []
    for name in ("META_APP_SECRET", "META_INSTAGRAM_APP_SECRET"):
        value = getattr(settings, name, "") or ""
        if value and value not in found:
            found.append(value)
    return tuple(found)
