"""What every dashboard page shows about the shop's channels: the banner of the Meta accounts
that must be reconnected. Read lazily: only a page that renders the banner queries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def meta_reconnect(request: HttpRequest) -> dict[str, Any]:
    seller = getattr(request, "seller", None)
    user = getattr(request, "user", None)
    if seller is None or user is None or not user.is_authenticated:
        return {}

    def load() -> list[Any]:
        from channels_app.meta.selectors import meta_accounts_to_reconnect

        return meta_accounts_to_reconnect(seller)

    return {"meta_reconnect": SimpleLazyObject(load)}
