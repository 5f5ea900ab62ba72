"""Reads of a shop's linked Pages and Instagram accounts for the dashboard (public schema)."""

from __future__ import annotations

from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount, MetaAccount
from sellers.models import Seller

META_CHANNELS = (ChannelAccount.Channel.MESSENGER, ChannelAccount.Channel.INSTAGRAM)


def meta_accounts_of(seller: Seller) -> list[ChannelAccount]:
    """The shop's linked Pages and Instagram accounts (unlinked ones are gone from the list;
    their conversations stay), each with its `meta` row, Messenger first."""
    with schema_context(get_public_schema_name()):
        return list(
            ChannelAccount.objects.filter(seller=seller, channel__in=META_CHANNELS, meta__isnull=False)
            .exclude(status=ChannelAccount.Status.DISCONNECTED)
            .select_related("meta")
            .order_by("-channel", "display_name", "pk")
        )


def meta_account_of(seller: Seller, pk: int) -> ChannelAccount | None:
    """One of the shop's linked accounts (None for another shop's, or an unlinked one)."""
    with schema_context(get_public_schema_name()):
        return (
            ChannelAccount.objects.filter(seller=seller, channel__in=META_CHANNELS, pk=pk, meta__isnull=False)
            .exclude(status=ChannelAccount.Status.DISCONNECTED)
            .select_related("meta")
            .first()
        )


def meta_accounts_to_reconnect(seller: Seller) -> list[ChannelAccount]:
    """The shop's accounts Meta no longer accepts the token of (the dashboard's banner)."""
    with schema_context(get_public_schema_name()):
        return list(
            ChannelAccount.objects.filter(
                seller=seller, channel__in=META_CHANNELS, meta__state=MetaAccount.State.RECONNECT
            )
            .exclude(status=ChannelAccount.Status.DISCONNECTED)
            .order_by("-channel", "display_name", "pk")
        )


def linked_elsewhere(seller: Seller, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (channel, external id) are linked to another shop (one that shop
    unlinked may move here, as `account_link` allows)."""
    if not keys:
        return set()
    ids = {external_id for _channel, external_id in keys}
    with schema_context(get_public_schema_name()):
        rows = (
            ChannelAccount.objects.filter(external_id__in=ids)
            .exclude(seller=seller)
            .exclude(status=ChannelAccount.Status.DISCONNECTED)
            .values_list("channel", "external_id")
        )
        return set(rows) & set(keys)


def linked_here(seller: Seller, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (channel, external id) this shop has linked already (linking again
    renews the connection)."""
    if not keys:
        return set()
    ids = {external_id for _channel, external_id in keys}
    with schema_context(get_public_schema_name()):
        rows = (
            ChannelAccount.objects.filter(seller=seller, external_id__in=ids)
            .exclude(status=ChannelAccount.Status.DISCONNECTED)
            .values_list("channel", "external_id")
        )
        return set(rows) & set(keys)
