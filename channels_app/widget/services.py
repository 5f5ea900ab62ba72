"""The widget account of a seller: its public key, allowed origins and history."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount
from sellers.models import Seller

# new_widget_key's form: "wk_" and URL-safe base64; anything else is no key, never a query.
KEY_PATTERN = re.compile(r"wk_[A-Za-z0-9_-]{1,61}")


def new_widget_key() -> str:
    return "wk_" + secrets.token_urlsafe(18)


def widget_account_ensure(seller: Seller) -> ChannelAccount:
    """The seller's widget account (created with a new key the first time)."""
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.filter(seller=seller, channel=ChannelAccount.Channel.WIDGET).first()
        if account is None:
            account = ChannelAccount.objects.create(
                seller=seller,
                channel=ChannelAccount.Channel.WIDGET,
                external_id=new_widget_key(),
                display_name=_("Web chat"),
                status=ChannelAccount.Status.CONNECTED,
                config={"allowed_origins": []},
            )
    return account


def widget_account_for_key(key: str) -> ChannelAccount | None:
    """The routing index for widgets: the key's account and its active seller."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        return None
    with schema_context(get_public_schema_name()):
        account = (
            ChannelAccount.objects.select_related("seller")
            .filter(channel=ChannelAccount.Channel.WIDGET, external_id=key, seller__is_active=True)
            .first()
        )
    return account


def clean_origin(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ValidationError(
            _("%(value)s is not an origin like https://myshop.dz") % {"value": value}, code="bad_origin"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def origin_allowed(account: ChannelAccount, origin: str | None) -> bool:
    """A browser page may use the widget only from the seller's allowed origins. Requests
    without an Origin header do not come from a page and are only rate limited."""
    if not origin:
        return True
    return origin.rstrip("/").lower() in account.config.get("allowed_origins", [])


@transaction.atomic
def widget_settings_update(
    *, account: ChannelAccount, origins: list[str], regenerate_key: bool = False
) -> ChannelAccount:
    cleaned = list(dict.fromkeys(clean_origin(origin) for origin in origins if origin.strip()))
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        account.config = {**account.config, "allowed_origins": cleaned}
        if regenerate_key:
            account.external_id = new_widget_key()
        account.save(update_fields=["config", "external_id", "updated_at"])
    return account


def widget_history(account: ChannelAccount, visitor: str, *, after: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """The visitor's conversation as the widget shows it (runs in the seller's schema)."""
    from conversations.models import ChannelIdentity, Message

    identity = ChannelIdentity.objects.filter(
        channel=ChannelAccount.Channel.WIDGET, channel_account_id=account.pk, external_id=visitor
    ).first()
    if identity is None:
        return []
    messages = (
        Message.objects.filter(conversation__identity=identity, id__gt=after)
        .exclude(author=Message.Author.SYSTEM)
        .order_by("-id")[:limit]
    )
    return [
        {
            "id": message.pk,
            "author": message.author,
            "text": message.text,
            "quick_replies": message.quick_replies,
            "cards": message.cards,
            "created_at": message.created_at.isoformat(),
            "client_id": (message.external_id or "").partition(":")[2] if message.direction == "in" else "",
        }
        for message in reversed(list(messages))
    ]
