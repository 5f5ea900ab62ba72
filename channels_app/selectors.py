from __future__ import annotations

import time

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount
from sellers.models import Seller


def channel_accounts_for_seller(seller: Seller) -> list[ChannelAccount]:
    with schema_context(get_public_schema_name()):
        return list(ChannelAccount.objects.filter(seller=seller))


def channel_account_for_external_id(channel: str, external_id: str) -> ChannelAccount | None:
    """The routing index: which seller an external id belongs to."""
    with schema_context(get_public_schema_name()):
        queryset: QuerySet[ChannelAccount] = ChannelAccount.objects.select_related("seller")
        return queryset.filter(channel=channel, external_id=external_id).first()


ACCOUNT_CACHE_SECONDS = 10.0
_account_cache: dict[int, tuple[float, ChannelAccount | None]] = {}


def channel_account_cached(pk: int) -> ChannelAccount | None:
    """A channel account for the message path, read at most every few seconds per process."""
    now = time.monotonic()
    cached = _account_cache.get(pk)
    if cached is None or cached[0] < now:
        with schema_context(get_public_schema_name()):
            account = ChannelAccount.objects.filter(pk=pk).first()
        cached = (now + ACCOUNT_CACHE_SECONDS, account)
        _account_cache[pk] = cached
    return cached[1]


def channel_accounts_forget() -> None:
    _account_cache.clear()
