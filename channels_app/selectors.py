from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount
from ma5zani.caching import TTLCache
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
_accounts: TTLCache[ChannelAccount | None] = TTLCache(ACCOUNT_CACHE_SECONDS)


def channel_account_cached(pk: int) -> ChannelAccount | None:
    """A channel account for the message path, read at most every few seconds per process."""

    def load() -> ChannelAccount | None:
        with schema_context(get_public_schema_name()):
            return ChannelAccount.objects.filter(pk=pk).first()

    return _accounts.get(pk, load)


def channel_accounts_forget() -> None:
    _accounts.forget()
