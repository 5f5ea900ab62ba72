"""The sweeper: what a lost task or a restarted broker left behind is enqueued again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import enqueueing
from conversations.services.handoff import conversation_hand_back
from ma5zani.tenancy import current_schema
from sales.selectors import bot_settings


@dataclass(frozen=True)
class SweepResult:
    replies: int
    deliveries: int
    resumed: int


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """Re-enqueue what a lost task or a restarted broker left behind, in the current schema."""
    now = now or timezone.now()
    schema = current_schema()
    quiet = now - dt.timedelta(seconds=settings.SWEEP_REPLY_AFTER_SECONDS)
    oldest = now - dt.timedelta(hours=settings.SWEEP_MAX_AGE_HOURS)
    latest_in = Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.IN).order_by("-id")
    candidates = dict(
        Conversation.objects.filter(mode=Conversation.Mode.BOT, last_inbound_at__lt=quiet, last_inbound_at__gt=oldest)
        .exclude(last_outbound_at__gt=F("last_inbound_at"))  # the seller (or the bot) answered since
        .annotate(latest_in=Subquery(latest_in.values("id")[:1]))
        .values_list("pk", "latest_in")
    )
    answered = set(
        Message.objects.filter(author=Message.Author.BOT, reply_to_id__in=candidates.values()).values_list(
            "reply_to_id", flat=True
        )
    )
    replies = 0
    if bot_settings().is_enabled:
        for conversation_id, inbound_id in candidates.items():
            if inbound_id is not None and inbound_id not in answered:
                enqueueing.enqueue_reply(schema, conversation_id, inbound_id, countdown=0)
                replies += 1
    stuck = Message.objects.filter(
        status=Message.Status.QUEUED,
        created_at__lt=now - dt.timedelta(seconds=settings.SWEEP_DELIVERY_AFTER_SECONDS),
        created_at__gt=oldest,
    ).values_list("pk", flat=True)
    deliveries = 0
    for message_id in stuck:
        enqueueing.enqueue_delivery(schema, message_id)
        deliveries += 1
    return SweepResult(replies=replies, deliveries=deliveries, resumed=conversations_resume_bot(now))


def conversations_resume_bot(now: dt.datetime | None = None) -> int:
    """Give conversations back to the bot after the seller's configured silence."""
    minutes = bot_settings().bot_resume_after_minutes
    if not minutes:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=minutes)
    resumed = 0
    idle = Conversation.objects.filter(mode=Conversation.Mode.HUMAN, last_message_at__lt=cutoff).exclude(
        mode_changed_at__gte=cutoff
    )
    for conversation in idle:
        conversation_hand_back(conversation=conversation)
        resumed += 1
    return resumed
