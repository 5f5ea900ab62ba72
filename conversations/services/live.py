"""Live events of the message path: the inbox and the widget learn of each change after commit."""

from __future__ import annotations

from typing import Any

from conversations.models import Conversation, Message
from conversations.selectors import (
    conversation_payload,
    message_payload,
)
from ma5zani.realtime import publish
from ma5zani.tenancy import current_schema


def message_publish(message: Message, event: str = "message.created") -> None:
    publish(current_schema(), event, message_payload(message))


def conversation_publish(conversation: Conversation, event: str = "conversation.updated") -> None:
    publish(current_schema(), event, conversation_payload(conversation))


def event_publish(event: str, payload: dict[str, Any]) -> None:
    """Any other live event of the current schema (every event goes through this module)."""
    publish(current_schema(), event, payload)
