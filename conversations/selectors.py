"""Reads of conversations and messages, and the shapes they take in live events and APIs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from conversations.models import Conversation, Message

HISTORY_LIMIT = 20


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "quick_replies": message.quick_replies,
        "cards": message.cards,
        "status": message.status,
        "error": message.error,
        "media_kind": message.media_kind,
        "created_at": message.created_at.isoformat(),
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "customer": str(conversation.customer),
        "channel": conversation.channel,
        "mode": conversation.mode,
        "handoff_reason": conversation.handoff_reason,
        "unread": conversation.unread_count,
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
    }


def conversation_list(*, mode: str = "") -> QuerySet[Conversation]:
    conversations = Conversation.objects.select_related("customer", "identity").filter(is_sandbox=False)
    if mode in Conversation.Mode.values:
        conversations = conversations.filter(mode=mode)
    return conversations.order_by("-last_message_at", "-id")


def latest_inbound(conversation: Conversation) -> Message | None:
    return conversation.messages.filter(direction=Message.Direction.IN).order_by("-id").first()


def recent_history(conversation: Conversation, limit: int = HISTORY_LIMIT) -> list[Message]:
    return list(reversed(conversation.messages.order_by("-id")[:limit]))


def thread_messages(conversation: Conversation, *, after: int = 0, limit: int = 200) -> list[Message]:
    return list(conversation.messages.filter(id__gt=after).order_by("id")[:limit])
