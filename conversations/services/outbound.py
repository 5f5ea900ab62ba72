"""Messages the shop starts (the seller typing in the inbox, the bot's reminders, the handoff
notice): stored queued, then delivered."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations import hours
from conversations.models import Conversation, Message
from conversations.reasons import send_failure_label
from conversations.services import enqueueing
from conversations.services.live import message_publish
from conversations.services.modes import conversation_set_mode
from conversations.services.windows import messaging_window
from ma5zani.tenancy import after_commit, current_schema
from sales.engine.guardrails import is_empty_text
from sales.models import BotSettings


def customer_language(conversation: Conversation, row: BotSettings) -> str:
    """The form to write to the customer in: the conversation's within the seller's languages
    (as the engines answer), else the seller's first language."""
    from sales.engine.language import answer_language

    if conversation.language:
        return answer_language(conversation.language, tuple(row.languages))
    return hours.text_language((row.languages or ["fr"])[0])


def queue_outbound(conversation: Conversation, text: str, *, author: str, member_id: int | None = None) -> Message:
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        author=author,
        channel=conversation.channel,
        text=text,
        status=Message.Status.QUEUED,
        sent_by_id=member_id,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_outbound_at=now, last_message_at=now)
    schema = current_schema()
    after_commit(message_publish, message)
    transaction.on_commit(lambda: enqueueing.enqueue_delivery(schema, message.pk))
    return message


class MayNotMessageFirst(Exception):
    """The bot may not start a message to this customer: they opted out, or the channel's
    messaging window is closed."""


@transaction.atomic
def message_send_by_bot(*, conversation: Conversation, text: str) -> Message:
    """A message the bot starts itself (a reminder): stored queued, then delivered. Refused
    (MayNotMessageFirst) when the customer opted out, and for an empty text."""
    from conversations.customers import may_message_first

    if is_empty_text(text):
        raise ValueError("The bot never sends an empty message.")
    if not may_message_first(conversation):
        raise MayNotMessageFirst(conversation.pk)
    if not messaging_window(conversation, author=Message.Author.BOT).open:
        raise MayNotMessageFirst(conversation.pk)
    return queue_outbound(conversation, text, author=Message.Author.BOT)


@transaction.atomic
def message_send_by_seller(*, conversation: Conversation, member_id: int, text: str) -> Message:
    """A message typed by the seller. The bot never talks over the seller: the conversation
    goes to human mode."""

    text = text.strip()
    if not text:
        raise ValidationError(_("Write a message."))
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise ValidationError(_("The message is too long."))
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    window = messaging_window(conversation, author=Message.Author.SELLER)
    if not window.open:
        raise ValidationError(send_failure_label(window.reason))
    if conversation.mode != Conversation.Mode.HUMAN:
        conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason="seller_replied", member_id=member_id)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    return queue_outbound(conversation, text, author=Message.Author.SELLER, member_id=member_id)
