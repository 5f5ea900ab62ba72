"""The one interface every channel meets: normalized messages in and out, and an adapter.

An adapter turns what arrives (a webhook, a gateway event, a widget frame) into an
InboundMessage, and sends OutboundMessages through its channel. Everything between (storing,
replying, retrying, live events) is shared and knows no channel.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from conversations.content import Choice, ProductCard

if TYPE_CHECKING:
    from channels_app.models import ChannelAccount


@dataclass(frozen=True)
class InboundMedia:
    # A `Message.MediaKind`. With `content`: a file the channel downloaded, stored in the
    # seller's storage; with only `url`: a link kept as it is (a story is never copied).
    kind: str
    mime_type: str = ""
    filename: str = ""
    content: bytes | None = None
    url: str = ""
    # The channel fetches the file after the message is stored and attaches it
    # (`conversations.services.message_media_attached`); the answer waits for it.
    fetch_later: bool = False


@dataclass(frozen=True)
class InboundSource:
    """What brought the customer (an ad click, an m.me / ig.me link, a comment): a code of
    `Conversation.Source` and what the channel said of it (ad id, ref, post)."""

    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    channel_account_id: int
    sender_id: str
    external_id: str
    text: str
    timestamp: dt.datetime
    sender_name: str = ""
    # The sender's number in E.164, set only by a channel that vouches for it (its adapter's
    # `vouches_for_sender_phone`: WhatsApp, whose servers give the sender's number): a new
    # identity of that number joins the customer WhatsApp gave it for. Ingest ignores it from any
    # other channel; a number the customer types is a claim (conversations.customers).
    sender_phone: str = ""
    # A second id of the same sender on this channel (WhatsApp: the LID beside the phone JID).
    sender_alt_id: str = ""
    media: tuple[InboundMedia, ...] = ()
    # A button or quick reply the customer picked (the text is its title).
    choice: Choice | None = None
    source: InboundSource | None = None
    # Stored on the message as it is (`Message.extra`): the message it answers, a story,
    # "unsupported".
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    idempotency_key: str
    conversation_id: int
    recipient_id: str
    text: str
    author: str
    created_at: dt.datetime
    quick_replies: tuple[str, ...] = ()
    cards: tuple[ProductCard, ...] = ()
    # A tag the channel needs to send it (Meta's HUMAN_AGENT: a person answering after 24 hours).
    tag: str = ""
    # The attempt this send is (1 for the first).
    attempt: int = 1
    # The customer's language (conversations' code: ar, arabizi, fr, en…), for what the channel
    # itself words (button titles); empty when unknown.
    language: str = ""


@dataclass(frozen=True)
class Capabilities:
    quick_replies: bool = False
    product_cards: bool = False
    # The channel refuses a second copy of the same idempotency key (the widget): a send may be
    # tried again whatever happened. Without it (Meta) each attempt is recorded before the send
    # and a send whose outcome is unknown is never repeated.
    idempotent_sends: bool = True
    # The channel's rules require the bot to say it is automated (Meta's): its first message does.
    discloses_automation: bool = False
    typing: bool = False
    read_receipts: bool = False
    max_text_length: int = 4096


@dataclass(frozen=True)
class SendResult:
    external_id: str
    # The channel took the message to send it later (the WhatsApp gateway): it stays queued
    # and the channel records the outcome.
    pending: bool = False


class DeliveryError(Exception):
    """The channel refused or failed a send. `retryable` says whether trying again may help;
    `reason` is a code the inbox shows in the viewer's language (conversations.reasons);
    `unknown`: the request may have reached the channel (a timeout after it was written), so it
    is never sent again; `reconnect`: the account's credentials are no longer valid."""

    def __init__(
        self, message: str, *, retryable: bool = True, reason: str = "", unknown: bool = False, reconnect: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable and not unknown
        self.reason = reason
        self.unknown = unknown
        self.reconnect = reconnect


class ChannelAdapter(abc.ABC):
    channel: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    # The channel itself vouches for the sender's phone number (`InboundMessage.sender_phone`),
    # so that number is an identity, not a claim. Only WhatsApp: a widget visitor, an Instagram
    # or Messenger sender has no number the channel gives.
    vouches_for_sender_phone: ClassVar[bool] = False

    @abc.abstractmethod
    def send(self, *, account: ChannelAccount, schema: str, message: OutboundMessage) -> SendResult:
        """Send one message. Must not send twice for the same `message.idempotency_key`."""

    def typing(self, *, account: ChannelAccount, schema: str, recipient_id: str, on: bool) -> None:
        """Show or hide the typing indicator, where the channel has one."""
        return None

    def mark_read(self, *, account: ChannelAccount, schema: str, recipient_id: str, external_ids: list[str]) -> None:
        """Mark the customer's messages read, where the channel supports it."""
        return None


_registry: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> ChannelAdapter:
    _registry[adapter.channel] = adapter
    return adapter


def adapter_for(channel: str) -> ChannelAdapter:
    try:
        return _registry[channel]
    except KeyError as exc:
        raise LookupError(f"No adapter for channel {channel!r}") from exc


def channel_vouches_for_phone(channel: str) -> bool:
    """Whether a sender's number given by this channel is theirs (see `vouches_for_sender_phone`)."""
    adapter = _registry.get(channel)
    return adapter is not None and adapter.vouches_for_sender_phone
