"""Inbound messages in the normalized shape every channel produces."""

from __future__ import annotations

import itertools
import uuid

from django.utils import timezone

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount
from channels_app.widget.services import widget_account_ensure

_counter = itertools.count(1)


def widget_inbound(shop, text: str, *, visitor: str | None = None, external_id: str | None = None) -> InboundMessage:
    account: ChannelAccount = widget_account_ensure(shop.seller)
    visitor = visitor or "00000000-0000-4000-8000-000000000001"
    return InboundMessage(
        channel="widget",
        channel_account_id=account.pk,
        sender_id=visitor,
        external_id=external_id or f"{visitor}:{uuid.uuid4()}",
        text=text,
        timestamp=timezone.now(),
        sender_name="",
    )
