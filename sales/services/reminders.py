"""One reminder to a customer who stopped in the middle of an order."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sales.engine.language import answer_language
from sales.engine.texts import say
from sales.models import Order
from sales.selectors import bot_settings

# Outside this window after the customer's last message the bot does not write first (the
# rule of WhatsApp and Meta's platforms; the widget follows it too).
CHANNEL_WINDOW = dt.timedelta(hours=24)


def order_drafts_remind(now: dt.datetime | None = None) -> int:
    """Remind every customer whose order draft has waited longer than the seller's delay since
    the bot's last question. Returns how many reminders were queued. A customer who opted out
    (on the customer or on the conversation's channel identity) is never reminded."""
    from conversations.customers import may_message_first
    from conversations.models import Conversation
    from conversations.services import message_send_by_bot

    row = bot_settings()
    if not row.is_enabled or not row.draft_reminder_minutes:
        return 0
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(minutes=row.draft_reminder_minutes)
    candidates = (
        Order.objects.filter(
            status=Order.Status.DRAFT,
            reminded_at__isnull=True,
            is_test=False,
            items__isnull=False,
            conversation__mode=Conversation.Mode.BOT,
            conversation__last_inbound_at__lt=quiet_since,
            conversation__last_inbound_at__gt=now - CHANNEL_WINDOW,
            conversation__last_outbound_at__gte=F("conversation__last_inbound_at"),
            conversation__customer__opted_out_at__isnull=True,
            conversation__identity__opted_out_at__isnull=True,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    sent = 0
    for order_id in list(candidates):
        with transaction.atomic():
            order = Order.objects.select_for_update(skip_locked=True).filter(pk=order_id, reminded_at=None).first()
            if order is None or order.conversation is None:
                continue
            conversation = order.conversation
            if not may_message_first(conversation):  # opted out since the list was read
                continue
            items = ", ".join(f"{item.quantity} × {item.product_name}" for item in order.items.all())
            language = answer_language(conversation.language, row.languages)
            message_send_by_bot(conversation=conversation, text=say("reminder", language, items=items))
            Order.objects.filter(pk=order.pk).update(reminded_at=now)
            sent += 1
    return sent
