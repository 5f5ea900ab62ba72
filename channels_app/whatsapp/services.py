"""What the gateway does in a seller's schema: store what arrives (customer messages, the
seller's own messages, receipts, media) and send what is queued. Every function runs inside
`schema_context(schema)`; the gateway calls them from its small pool of database threads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from channels_app.base import InboundMedia, InboundMessage
from channels_app.models import ChannelAccount
from channels_app.whatsapp.events import RECEIPT_STATUS, WaMessage
from conversations.services import (
    customer_messages_read,
    customer_messages_unread,
    identity_find,
    identity_learn_id,
    ingest,
    ingest_many,
    message_known,
    message_media_attached,
    message_store_from_seller,
    receipts_apply,
    send_pending,
)

CHANNEL = ChannelAccount.Channel.WHATSAPP


def _customer_ids(message: WaMessage, phone_for_lid: str = "") -> tuple[str, str]:
    """(external id, alternative id) of the customer: the phone JID first, the LID beside it."""
    if message.is_group:  # the group is the conversation: the answer goes to the group
        return message.chat, ""
    if message.chat.endswith("@lid"):
        phone, lid = message.sender_phone_jid or phone_for_lid, message.chat
    else:
        phone, lid = message.chat, message.sender_lid
    return (phone or lid), (lid if phone else "")


def resolve_customer(account_id: int, message: WaMessage, *, phone_for_lid: str = "") -> tuple[str, str]:
    """The id the customer is known by on this account. A customer first seen under their LID
    and later under their number (or the other way) stays one identity: both ids are kept."""
    external_id, alt_id = _customer_ids(message, phone_for_lid)
    candidates = {value for value in (external_id, alt_id, message.sender_lid) if value}
    known = identity_find(channel=CHANNEL, channel_account_id=account_id, ids=candidates)
    if known is None:
        return external_id, alt_id
    if alt_id and not known.alt_id and known.external_id != alt_id:
        identity_learn_id(channel=CHANNEL, channel_account_id=account_id, external_id=known.external_id, alt_id=alt_id)
    elif (
        known.external_id.endswith("@lid")
        and external_id.endswith("@s.whatsapp.net")
        # The number is known now: the identity is addressed by it, the LID kept beside.
        and identity_learn_id(
            channel=CHANNEL, channel_account_id=account_id, external_id=known.external_id, readdress_to=external_id
        )
    ):
        return external_id, known.external_id
    return known.external_id, known.alt_id


@dataclass(frozen=True)
class Stored:
    message_id: int
    conversation_id: int
    created: bool
    needs_media: bool = False


def _inbound(account_id: int, message: WaMessage, phone_for_lid: str) -> InboundMessage:
    if message.is_group or not (message.sender_lid or message.chat.endswith("@lid") or phone_for_lid):
        external_id, alt_id = _customer_ids(message, phone_for_lid)  # known by number only: no look-up
    else:
        external_id, alt_id = resolve_customer(account_id, message, phone_for_lid=phone_for_lid)
    if message.media_kind == "location":
        media: tuple[InboundMedia, ...] = (InboundMedia(kind=message.media_kind),)
    elif message.needs_download:  # the gateway downloads it, then `media_attached`
        media = (InboundMedia(kind=message.media_kind, mime_type=message.mime_type, fetch_later=True),)
    else:
        media = ()
    return InboundMessage(
        channel=CHANNEL,
        channel_account_id=account_id,
        sender_id=external_id,
        sender_alt_id=alt_id,
        external_id=message.id,
        text=message.text,
        timestamp=message.timestamp,
        sender_name=message.push_name,
        sender_phone="" if message.is_group else message.customer_phone,
        media=media,
        raw={"chat": message.chat, "sender": message.sender, "kind": message.media_kind},
    )


def store_customer_message(account_id: int, message: WaMessage, *, phone_for_lid: str = "") -> Stored:
    """A customer's message through the shared ingest. Its reply waits for the media when
    there is a file to fetch (the gateway downloads it and then calls `media_attached`)."""
    result = ingest(_inbound(account_id, message, phone_for_lid))
    return Stored(result.message_id, result.conversation_id, result.created, message.needs_download and result.created)


def store_customer_messages(items: list[tuple[int, WaMessage, str]]) -> list[Stored]:
    """Several customers' messages with nothing to download, stored in one transaction
    (`ingest_many`): (account id, message, phone behind its LID) each, results in order."""
    assert not any(message.needs_download for _a, message, _p in items)
    results = ingest_many([_inbound(account_id, message, phone) for account_id, message, phone in items])
    return [Stored(r.message_id, r.conversation_id, r.created) for r in results]


def store_seller_message(account_id: int, message: WaMessage, *, phone_for_lid: str = "") -> Stored | None:
    """A message the seller typed on their own phone: stored as the seller's, and the
    conversation goes to the seller (the bot never talks over them)."""
    if message_known(channel=CHANNEL, external_id=message.id):
        return None  # one of ours (sent by the gateway), or a repeated event: no look-up
    external_id, _alt_id = resolve_customer(account_id, message, phone_for_lid=phone_for_lid)
    result = message_store_from_seller(
        channel=CHANNEL,
        channel_account_id=account_id,
        customer_id=external_id,
        external_id=message.id,
        text=message.text,
        timestamp=message.timestamp,
        reason="seller_replied_from_phone",
    )
    return None if result is None else Stored(result.message_id, result.conversation_id, True)


def media_attached(message_id: int, *, content: bytes | None, filename: str, transcript: str = "") -> None:
    """Keep the downloaded file (in the seller's storage) and the transcript, then answer."""
    message_media_attached(message_id, content=content, filename=filename, transcript=transcript)


def apply_receipt(message_ids: list[str], receipt_type: int, when: dt.datetime) -> int:
    """Delivered / read receipts move our sent messages forward (never backward)."""
    status = RECEIPT_STATUS.get(receipt_type)
    if status is None:
        return 0
    return receipts_apply(channel=CHANNEL, external_ids=message_ids, status=status, when=when)


# --- Sending (the gateway sends itself; each attempt is recorded by conversations.services) --


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    conversation_id: int
    chat: str
    text: str
    attempt: int
    # The customer's messages not marked read yet.
    unread: tuple[str, ...]


def outgoing(message_id: int) -> Outgoing | None:
    """The queued message to send, or None when there is nothing to do (sent already, failed,
    not a WhatsApp message). A send that a stopped gateway left half done is failed, visibly,
    rather than sent a second time."""
    pending = send_pending(message_id, channel=CHANNEL)
    if pending is None:
        return None
    return Outgoing(
        message_id=pending.message_id,
        conversation_id=pending.conversation_id,
        chat=pending.recipient_id,
        text=pending.outbound.text,
        attempt=pending.attempt,
        unread=customer_messages_unread(pending.conversation_id, channel=CHANNEL),
    )


def mark_customer_read(conversation_id: int, external_ids: tuple[str, ...]) -> None:
    customer_messages_read(conversation_id, external_ids)
