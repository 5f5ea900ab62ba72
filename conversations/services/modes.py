"""Who answers a conversation (the bot or the seller) and the notes that record each change."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import override

from conversations.models import Conversation, Message
from conversations.reasons import note_text
from conversations.services.live import conversation_publish, message_publish
from ma5zani.tenancy import after_commit


def system_message(conversation: Conversation, note: dict[str, str]) -> Message:
    """A note in the thread, kept as codes and put into words in the viewer's language when
    shown; `text` holds it in the shop's default language (search, the engine's history)."""
    with override(settings.LANGUAGE_CODE):
        text = note_text(note)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        author=Message.Author.SYSTEM,
        channel=conversation.channel,
        text=text,
        note=note,
        status=Message.Status.SENT,
    )
    after_commit(message_publish, message)
    return message


def conversation_set_mode(conversation: Conversation, mode: str, *, reason: str, member_id: int | None = None) -> None:
    """Change who answers. Going to the seller records `reason` (a code of
    conversations.reasons); going back to the bot, or closing, keeps the last handoff's reason."""
    conversation.mode = mode
    conversation.mode_changed_at = timezone.now()
    fields = ["mode", "mode_changed_at"]
    if mode == Conversation.Mode.HUMAN:
        conversation.handoff_reason = reason[:200]
        fields.append("handoff_reason")
    if member_id is not None:
        conversation.assigned_member_id = member_id
        fields.append("assigned_member_id")
    conversation.save(update_fields=fields)
    after_commit(conversation_publish, conversation)
