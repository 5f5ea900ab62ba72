"""Failed sign-ins are throttled without locking the real owner out.

Used by every sign-in form: allauth's (sellers and the public site, through
`sellers.adapters.AccountAdapter`) and both Django admin sites (`ma5zani.admin_sites`). Attempts
are counted (the `limits` library on Redis) under several keys before the password is checked,
so that attempts sent at once are counted too; an attempt is refused while any of its keys is
spent, and a right password starts its address's count for the account over:

- per address and account (`LOGIN_FAILURES_PER_ADDRESS_ACCOUNT`): someone guessing one account
  from one address;
- per address (`LOGIN_FAILURES_PER_ADDRESS`): one address trying many accounts;
- per account, from clients this account never signed in on (`LOGIN_FAILURES_PER_ACCOUNT`): the
  same account guessed from many addresses.

A browser that signed in to an account successfully gets a signed device cookie naming it, with
a tag of the account's password hash. For that account such a browser is counted on its own key
only (`LOGIN_FAILURES_PER_DEVICE`, tighter than the account's), so a stranger's failures — from
any address, however many — never lock the owner out of their own browser. The cookie cannot be
forged (Django's signing), it only ever loosens the limits for the account that succeeded on it,
and a password change ends it (the tag no longer matches).

When Redis cannot be reached nothing is refused (and a warning is logged), like every rate limit
of the project.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac
from limits import parse

from channels_app.ratelimit import limiter

logger = logging.getLogger(__name__)

DEVICE_COOKIE = "ma5zani_device"
DEVICE_SALT = "ma5zani.login-device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_ACCOUNTS_MAX = 8


class LoginThrottled(Exception):
    """Too many failed sign-ins for this attempt's keys; try again later."""


def _account_key(account: str) -> str:
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _device(request: HttpRequest) -> dict[str, Any]:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    try:
        value = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE) if raw else {}
    except signing.BadSignature:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("d"), str) or not isinstance(value.get("a"), list):
        return {}
    return value


def _device_entry(account: str) -> str | None:
    """How a device cookie names an account: its key and a tag of the account's current
    password, so that changing the password ends the trust of every browser it had."""
    from sellers.models import User

    password = User.objects.filter(email__iexact=account.strip()).values_list("password", flat=True).first()
    if not password:
        return None
    return f"{_account_key(account)}:{salted_hmac(DEVICE_SALT, password).hexdigest()[:16]}"


def _keys(request: HttpRequest, account: str) -> list[tuple[str, tuple[str, ...]]]:
    """The (limit, identifiers) this attempt counts against."""
    account_key = _account_key(account)
    device = _device(request)
    if device and _device_entry(account) in device["a"]:
        return [(settings.LOGIN_FAILURES_PER_DEVICE, ("login", "device", device["d"], account_key))]
    address = _address(request)
    return [
        (settings.LOGIN_FAILURES_PER_ADDRESS_ACCOUNT, ("login", "address-account", address, account_key)),
        (settings.LOGIN_FAILURES_PER_ADDRESS, ("login", "address", address)),
        (settings.LOGIN_FAILURES_PER_ACCOUNT, ("login", "account", account_key)),
    ]


def login_throttle_attempt(request: HttpRequest, account: str) -> None:
    """Count this attempt against every key it belongs to, before the password is checked (so
    that attempts sent at once are counted too); raise LoginThrottled when one is spent."""
    try:
        for limit, identifiers in _keys(request, account):
            if not limiter().hit(parse(limit), settings.RATE_LIMIT_PREFIX, *identifiers):
                raise LoginThrottled(identifiers[1])
    except LoginThrottled:
        raise
    except Exception:
        logger.warning("Login throttle store unavailable; not throttling", exc_info=True)


def login_throttle_succeeded(request: HttpRequest, account: str) -> None:
    """The password was right: this address's count for the account starts over, and the
    browser is remembered for the account (the cookie is set by `login_device_remember`)."""
    account_key = _account_key(account)
    try:
        limiter().clear(
            parse(settings.LOGIN_FAILURES_PER_ADDRESS_ACCOUNT),
            settings.RATE_LIMIT_PREFIX,
            "login",
            "address-account",
            _address(request),
            account_key,
        )
    except Exception:
        logger.warning("Login throttle store unavailable", exc_info=True)
    entry = _device_entry(account)
    if entry is None:
        return
    device = _device(request) or {"d": secrets.token_urlsafe(16), "a": []}
    kept = [e for e in device["a"] if isinstance(e, str) and not e.startswith(f"{account_key}:")]
    request._login_device = {"d": device["d"], "a": [*kept[-(DEVICE_ACCOUNTS_MAX - 1) :], entry]}  # type: ignore[attr-defined]


def login_device_remember(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Set the device cookie on the response of a successful sign-in."""
    device = getattr(request, "_login_device", None)
    if device is not None:
        response.set_cookie(
            DEVICE_COOKIE,
            signing.dumps(device, salt=DEVICE_SALT),
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
            samesite="Lax",
        )
    return response
