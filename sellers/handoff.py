"""One-time sign-in links from the public site to a seller's own domain.

Sessions are per host, so a user who signs in on the public site is handed to the seller's
domain with a signed token that is valid for one minute, for one seller, and only once. "Once"
is a row in the database (`HandoffNonce`), not a cache key: the check must fail closed, and a
cache that fails open during a Redis outage would let a captured link in twice.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core import signing
from django.http import HttpRequest
from django.utils import timezone

from sellers.models import HandoffNonce, Seller, User
from sellers.selectors import seller_primary_domain, user_can_access_seller

SALT = "sellers.handoff"
MAX_AGE_SECONDS = 60


def handoff_url(request: HttpRequest, *, user: User, seller: Seller) -> str:
    token = signing.dumps({"u": user.pk, "s": seller.schema_name, "n": secrets.token_urlsafe(16)}, salt=SALT)
    host = request.get_host()
    port = f":{host.rsplit(':', 1)[1]}" if ":" in host and not host.endswith("]") else ""
    return f"{request.scheme}://{seller_primary_domain(seller)}{port}/accounts/handoff/?token={token}"


def handoff_consume(token: str, *, seller: Seller) -> User | None:
    """The user the token signs in on `seller`, or None if it is forged, stale or used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != seller.schema_name:
        return None
    if not _nonce_use(data.get("n")):
        return None
    user_id = data.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user_can_access_seller(user, seller):
        return None
    return user


def _nonce_use(nonce: object) -> bool:
    """Record the token's nonce as used; False when it was used already (or is malformed)."""
    if not isinstance(nonce, str) or not 0 < len(nonce) <= 64:
        return False
    now = timezone.now()
    HandoffNonce.objects.filter(used_at__lt=now - dt.timedelta(seconds=MAX_AGE_SECONDS * 2)).delete()
    _row, created = HandoffNonce.objects.get_or_create(nonce=nonce, defaults={"used_at": now})
    return created
