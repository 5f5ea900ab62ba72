"""Secrets stored in the database (a seller's API keys, channel tokens) are encrypted at rest.

FIELD_ENCRYPTION_KEYS holds one or more Fernet keys, newest first: values are written with the
first and read with any, so a new key can be put in front while old values keep reading. Without
the setting, a key is derived from SECRET_KEY (development and the tests); production sets it.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """The value was encrypted with a key this server does not have."""


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(f"ma5zani-fields:{secret_key}".encode()).digest())
        keys = (derived.decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _current().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored secret cannot be decrypted with the configured keys.") from exc
