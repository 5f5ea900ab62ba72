"""Delivered and read receipts from the channels: by the ids of the shop's messages (WhatsApp,
Instagram's seen) or by a watermark (Messenger: everything sent up to that moment). A message
moves forward only (sent → delivered → read), never back."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from conversations.models import Message
from conversations.services.live import message_publish

_ORDER = {Message.Status.SENT: 1, Message.Status.DELIVERED: 2, Message.Status.READ: 3}


def _behind(status: str) -> list[str]:
    rank = _ORDER[Message.Status(status)]
    return [value for value, order in _ORDER.items() if order < rank]


def _advance(messages: list[Message], status: str, when: dt.datetime) -> int:
    for message in messages:
        message.status = status
        fields = ["status"]
        if status == Message.Status.DELIVERED or message.delivered_at is None:
            message.delivered_at = when
            fields.append("delivered_at")
        if status == Message.Status.READ:
            message.read_at = when
            fields.append("read_at")
        message.save(update_fields=fields)
        message_publish(message, "message.updated")
    return len(messages)


def receipts_apply(*, channel: str, external_ids: list[str], status: str, when: dt.datetime) -> int:
    """`status` (delivered or read) for the shop's messages of these channel ids; how many moved."""
    if status not in (Message.Status.DELIVERED, Message.Status.READ) or not external_ids:
        return 0
    messages = Message.objects.filter(
        channel=channel, external_id__in=external_ids, direction=Message.Direction.OUT, status__in=_behind(status)
    )
    return _advance(list(messages), status, when)


def receipts_apply_watermark(
    *, channel: str, channel_account_id: int, customer_id: str, status: str, watermark: dt.datetime
) -> int:
    """`status` for every message the shop sent this customer up to `watermark`."""
    if status not in (Message.Status.DELIVERED, Message.Status.READ):
        return 0
    messages = Message.objects.filter(
        conversation__identity__channel=channel,
        conversation__identity__channel_account_id=channel_account_id,
        conversation__identity__external_id=customer_id,
        direction=Message.Direction.OUT,
        status__in=_behind(status),
        sent_at__lte=watermark,
    ).exclude(author=Message.Author.SYSTEM)
    return _advance(list(messages), status, watermark)


def customer_messages_unread(conversation_id: int, *, channel: str, limit: int = 20) -> tuple[str, ...]:
    """Channel ids of the customer's latest messages the shop has not marked read yet."""
    return tuple(
        str(external_id)
        for external_id in Message.objects.filter(
            conversation_id=conversation_id,
            direction=Message.Direction.IN,
            channel=channel,
            external_id__isnull=False,
            read_at__isnull=True,
        )
        .order_by("-pk")
        .values_list("external_id", flat=True)[:limit]
    )


def customer_messages_read(conversation_id: int, external_ids: tuple[str, ...] | None = None) -> int:
    """The shop read the customer's messages (these ones, or all of them)."""
    unread = Q(conversation_id=conversation_id, direction=Message.Direction.IN, read_at__isnull=True)
    if external_ids is not None:
        unread &= Q(external_id__in=external_ids)
    return Message.objects.filter(unread).update(read_at=timezone.now())
