"""The web chat widget as a channel: sending is pushing to the visitor's open widgets over the
channel layer. The database stays the truth: a widget that was closed reads what it missed
(history on connect, or the HTTP fallback), and the script shows each message id once, so a
repeated push cannot show a message twice."""

from __future__ import annotations

import re
from typing import Any

from channels.layers import get_channel_layer

from channels_app.base import Capabilities, ChannelAdapter, DeliveryError, OutboundMessage, SendResult, register
from channels_app.models import ChannelAccount
from ma5zani.realtime import layer_call

VISITOR_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def visitor_group(schema: str, account_id: int, visitor_id: str) -> str:
    return f"widget.{schema}.{account_id}.{visitor_id}"


def outbound_payload(message: OutboundMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "author": message.author,
        "text": message.text,
        "quick_replies": list(message.quick_replies),
        "cards": [card.__dict__ for card in message.cards],
        "created_at": message.created_at.isoformat(),
    }


class WidgetAdapter(ChannelAdapter):
    channel = "widget"
    capabilities = Capabilities(
        quick_replies=True, product_cards=True, typing=True, read_receipts=False, max_text_length=4000
    )

    def _send_event(self, group: str, event: dict[str, Any]) -> None:
        layer = get_channel_layer()
        if layer is None:
            raise DeliveryError("No channel layer is configured.", retryable=False)
        try:
            layer_call(layer.group_send, group, event)
        except Exception as exc:  # Redis unreachable: try again later
            raise DeliveryError(f"Channel layer unavailable: {exc}") from exc

    def send(self, *, account: ChannelAccount, schema: str, message: OutboundMessage) -> SendResult:
        group = visitor_group(schema, account.pk, message.recipient_id)
        self._send_event(group, {"type": "widget.message", "message": outbound_payload(message)})
        return SendResult(external_id=f"widget:{message.idempotency_key}")

    def typing(self, *, account: ChannelAccount, schema: str, recipient_id: str, on: bool) -> None:
        self._send_event(visitor_group(schema, account.pk, recipient_id), {"type": "widget.typing", "on": on})


register(WidgetAdapter())
