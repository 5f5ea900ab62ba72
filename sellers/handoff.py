"""One-time sign-in links from the public site to a seller's own domain.

Sessions are per host, so a user who signs in on the public site is handed to the seller's
domain with a signed token that is valid for one minute, for one seller, and only once.
"""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from sellers.models import Seller, User
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
    if not cache.add(f"handoff:{data.get('n')}", 1, timeout=MAX_AGE_SECONDS * 2):
        return None
    user_id = data.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user_can_access_seller(user, seller):
        return None
    return user
