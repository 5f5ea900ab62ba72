"""Widget frames and HTTP bodies in, normalized InboundMessages out. A malformed frame is a
WidgetInputError with a code the widget understands; nothing is stored."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount
from channels_app.widget.adapter import VISITOR_PATTERN
from ma5zani.inputs import text_is_clean


class WidgetInputError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def frame(self) -> dict[str, str]:
        return {"type": "error", "code": self.code, "detail": self.detail}


def clean_visitor(value: Any) -> str:
    visitor = str(value or "").lower()
    if not VISITOR_PATTERN.fullmatch(visitor):
        raise WidgetInputError("bad_visitor", "visitor must be a UUID.")
    return visitor


def inbound_from(data: Any, *, account: ChannelAccount, visitor: str) -> InboundMessage:
    """A customer message from a widget frame or HTTP body: {"text": ..., "client_id": uuid}."""
    if not isinstance(data, Mapping):
        raise WidgetInputError("malformed", "A message is a JSON object.")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise WidgetInputError("empty", "text must be a non-empty string.")
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise WidgetInputError("too_long", f"text is limited to {settings.MESSAGE_MAX_CHARS} characters.")
    name = data.get("name")
    name = name if isinstance(name, str) else ""
    if not (text_is_clean(text) and text_is_clean(name)):
        raise WidgetInputError("bad_text", "text holds a NUL character or a broken Unicode sequence.")
    try:
        client_id = str(uuid.UUID(str(data.get("client_id", ""))))
    except ValueError as exc:
        raise WidgetInputError("bad_client_id", "client_id must be a UUID.") from exc
    return InboundMessage(
        channel=ChannelAccount.Channel.WIDGET,
        channel_account_id=account.pk,
        sender_id=visitor,
        # The visitor is part of the id: one visitor cannot collide with another's messages.
        external_id=f"{visitor}:{client_id}",
        text=text.strip(),
        timestamp=timezone.now(),
        sender_name=name[:200],
        raw=dict(data),
    )
