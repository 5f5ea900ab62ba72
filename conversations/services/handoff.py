"""Handing a conversation to the seller and back, and what the seller marks on it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from conversations import hours
from conversations.models import Conversation, Message
from conversations.reasons import handed_back_note, handoff_note
from conversations.services.live import conversation_publish
from conversations.services.modes import conversation_set_mode, system_message
from conversations.services.outbound import customer_language, queue_outbound
from ma5zani.tenancy import after_commit, current_schema
from sales.selectors import bot_settings_cached

HANDOFF_TEXT = {
    "ar": "مليح، راني نحولك لواحد من المحل. يجاوبك في أقرب وقت.",
    "msa": "حسنًا، سأحولك إلى أحد موظفي المتجر، وسيجيبك في أقرب وقت.",
    "arabizi": "Mlih, rani n7awlek l wa7ed men l'mahal. Yjawbek f a9rab wa9t.",
    "fr": "Très bien, je vous passe quelqu'un de la boutique. On vous répond au plus vite.",
    "en": "Sure, I'm passing you to someone from the shop. They'll answer you shortly.",
}


def handoff_text(language: str) -> str:
    """The standard message telling the customer that a person of the shop takes over."""
    return HANDOFF_TEXT.get(language, HANDOFF_TEXT["fr"])


@transaction.atomic
def conversation_hand_off(
    *, conversation: Conversation, reason: str, tell_customer: bool = False, now: dt.datetime | None = None
) -> Conversation:
    """Put the conversation in the seller's hands and tell the seller (and the customer: the
    standard message in their language, and outside business hours when a person will be
    available; `now` decides, the clock's by default)."""
    if conversation.mode == Conversation.Mode.HUMAN:
        return conversation
    conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason=reason)
    system_message(conversation, handoff_note(reason))
    conversation_publish(conversation, "handoff")
    if tell_customer:
        row = bot_settings_cached()
        language = customer_language(conversation, row)
        text = handoff_text(language)
        now = now or hours.clock()
        if hours.is_closed(row, now):
            text = hours.with_availability(text, row, language, now)
            Conversation.objects.filter(pk=conversation.pk).update(after_hours_notice_at=now)
            conversation.after_hours_notice_at = now
        queue_outbound(conversation, text, author=Message.Author.BOT)
    return conversation


@transaction.atomic
def conversation_take_over(*, conversation: Conversation, member_id: int) -> Conversation:
    conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason="seller_took_over", member_id=member_id)
    return conversation


@transaction.atomic
def conversation_hand_back(*, conversation: Conversation) -> Conversation:
    """Give the conversation back to the bot; it answers from the customer's next message."""
    if conversation.mode != Conversation.Mode.BOT:
        conversation_set_mode(conversation, Conversation.Mode.BOT, reason="")
        system_message(conversation, handed_back_note())
        _learn_from_seller(conversation)
    return conversation


def _learn_from_seller(conversation: Conversation) -> None:
    """The seller's answers during a handoff are the most valuable: learn from them, order or
    not, once the conversation goes back to the bot."""
    if conversation.is_sandbox or not conversation.messages.filter(author=Message.Author.SELLER).exists():
        return
    from learning.tasks import enqueue_extraction

    schema, conversation_id = current_schema(), conversation.pk
    transaction.on_commit(lambda: enqueue_extraction(schema, conversation_id, sellers_only=True))


def conversation_mark_example(*, conversation: Conversation) -> None:
    """The seller marks a conversation as a good example: learn from all of it."""
    from learning.tasks import enqueue_extraction

    if conversation.is_sandbox:
        raise ValidationError(_("This is a test conversation."))
    schema, conversation_id = current_schema(), conversation.pk
    transaction.on_commit(lambda: enqueue_extraction(schema, conversation_id))


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    conversation.unread_count = 0
    after_commit(conversation_publish, conversation)
