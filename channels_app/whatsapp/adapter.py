"""WhatsApp as a channel: sending hands the message to the gateway holding the seller's
session (a Redis stream per account); the gateway marks the chat read, shows typing, sends,
and records the attempts and the receipts."""

from __future__ import annotations

from channels_app.base import Capabilities, ChannelAdapter, DeliveryError, OutboundMessage, SendResult, register
from channels_app.models import ChannelAccount
from channels_app.whatsapp import outbox


class WhatsAppAdapter(ChannelAdapter):
    channel = "whatsapp"
    capabilities = Capabilities(
        quick_replies=False, product_cards=False, typing=True, read_receipts=True, max_text_length=4096
    )
    # The sender's number comes from WhatsApp (the phone-number JID of who wrote), never from
    # what they typed: a new identity of a known number is the same customer.
    vouches_for_sender_phone = True

    def send(self, *, account: ChannelAccount, schema: str, message: OutboundMessage) -> SendResult:
        try:
            outbox.enqueue(account.pk, schema, message.message_id)
        except Exception as exc:  # Redis unreachable: the delivery task tries again
            raise DeliveryError(f"WhatsApp outbox unavailable: {exc}") from exc
        return SendResult(external_id="", pending=True)


register(WhatsAppAdapter())
