"""What the gateway does in a seller's schema: store what arrives (customer messages, the
seller's own messages, receipts, media) and send what is queued. Every function runs inside
`schema_context(schema)`; the gateway calls them from its small pool of database threads.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from channels_app.base import InboundMedia, InboundMessage
from channels_app.models import ChannelAccount
from channels_app.whatsapp.events import RECEIPT_STATUS, WaMessage
from conversations.models import ChannelIdentity, Conversation, DeliveryAttempt, Message
from conversations.services import (
    conversation_set_mode,
    delivery_backoff,
    enqueue_reply,
    ingest,
    ingest_many,
    message_publish,
)
from ma5zani.tenancy import current_schema

logger = logging.getLogger(__name__)
CHANNEL = ChannelAccount.Channel.WHATSAPP
INTERRUPTED = "in progress"


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
    identity = (
        ChannelIdentity.objects.filter(channel=CHANNEL, channel_account_id=account_id)
        .filter(Q(external_id__in=candidates) | Q(alt_id__in=candidates))
        .order_by("pk")
        .first()
    )
    if identity is None:
        return external_id, alt_id
    if alt_id and not identity.alt_id and identity.external_id != alt_id:
        ChannelIdentity.objects.filter(pk=identity.pk).update(alt_id=alt_id)
    elif identity.external_id.endswith("@lid") and external_id.endswith("@s.whatsapp.net"):
        # The number is known now: the identity is addressed by it, the LID kept beside.
        try:
            with transaction.atomic():
                ChannelIdentity.objects.filter(pk=identity.pk).update(
                    external_id=external_id, alt_id=identity.external_id
                )
            return external_id, identity.external_id
        except IntegrityError:
            pass
    return identity.external_id, identity.alt_id


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
    media = (InboundMedia(kind=message.media_kind),) if message.media_kind == "location" else ()
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
    result = ingest(_inbound(account_id, message, phone_for_lid), reply=not message.needs_download)
    if result.created and message.needs_download:
        Message.objects.filter(pk=result.message_id).update(
            media_kind=message.media_kind, media_type=message.mime_type[:100]
        )
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
    if Message.objects.filter(channel=CHANNEL, external_id=message.id).exists():
        return None  # one of ours (sent by the gateway), or a repeated event
    external_id, _alt_id = resolve_customer(account_id, message, phone_for_lid=phone_for_lid)
    identity = ChannelIdentity.objects.filter(
        channel=CHANNEL, channel_account_id=account_id, external_id=external_id
    ).first()
    if identity is None:
        return None  # the seller writing to someone who never wrote to the shop: not a customer
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(identity=identity).first()
        if conversation is None:
            return None
        try:
            with transaction.atomic():
                stored = Message.objects.create(
                    conversation=conversation,
                    direction=Message.Direction.OUT,
                    author=Message.Author.SELLER,
                    channel=CHANNEL,
                    external_id=message.id,
                    text=message.text,
                    status=Message.Status.SENT,
                    channel_timestamp=message.timestamp,
                    sent_at=message.timestamp,
                )
        except IntegrityError:
            return None
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(last_outbound_at=now, last_message_at=now)
        if conversation.mode == Conversation.Mode.BOT:
            conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason="seller_replied_from_phone")
        transaction.on_commit(lambda: message_publish(stored))
    return Stored(stored.pk, conversation.pk, True)


def media_attached(message_id: int, *, content: bytes | None, filename: str, transcript: str = "") -> None:
    """Keep the downloaded file (in the seller's storage) and the transcript, then answer."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        return
    if content:
        message.media.save(filename, ContentFile(content), save=False)
    message.transcript = transcript
    message.save(update_fields=["media", "transcript"])
    transaction.on_commit(lambda: message_publish(message, "message.updated"))
    if message.conversation.mode == Conversation.Mode.BOT:
        enqueue_reply(current_schema(), message.conversation_id, message.pk)


_STATUS_ORDER = {Message.Status.SENT: 1, Message.Status.DELIVERED: 2, Message.Status.READ: 3}


def apply_receipt(message_ids: list[str], receipt_type: int, when: dt.datetime) -> int:
    """Delivered / read receipts move our sent messages forward (never backward)."""
    status = RECEIPT_STATUS.get(receipt_type)
    if status is None or not message_ids:
        return 0
    rank = _STATUS_ORDER[Message.Status(status)]
    lower = [value for value, order in _STATUS_ORDER.items() if order < rank]
    changed = 0
    for message in Message.objects.filter(
        channel=CHANNEL, external_id__in=message_ids, direction=Message.Direction.OUT, status__in=lower
    ):
        message.status = status
        fields = ["status"]
        if status == Message.Status.DELIVERED or message.delivered_at is None:
            message.delivered_at = when
            fields.append("delivered_at")
        if status == Message.Status.READ:
            message.read_at = when
            fields.append("read_at")
        message.save(update_fields=fields)
        message_publish(message, "message.updated")
        changed += 1
    return changed


# --- Sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    message_id: int
    conversation_id: int
    chat: str
    text: str
    attempt: int
    # The customer's messages not marked read yet: (id, sender JID).
    unread: tuple[str, ...]


def outgoing(message_id: int) -> Outgoing | None:
    """The queued message to send, or None when there is nothing to do (sent already, failed,
    not a WhatsApp message). A send that a stopped gateway left half done is failed, visibly,
    rather than sent a second time."""
    message = Message.objects.select_related("conversation__identity").filter(pk=message_id, channel=CHANNEL).first()
    if message is None or message.status != Message.Status.QUEUED:
        return None
    last = message.attempts.order_by("-number").first()
    if last is not None and not last.succeeded and last.error == INTERRUPTED:
        fail_message(
            message_id,
            "The gateway stopped while sending this message; it may have reached the customer, "
            "so it was not sent again.",
        )
        return None
    conversation = message.conversation
    unread = tuple(
        str(external_id)
        for external_id in Message.objects.filter(
            conversation=conversation,
            direction=Message.Direction.IN,
            channel=CHANNEL,
            external_id__isnull=False,
            read_at__isnull=True,
        )
        .order_by("-pk")
        .values_list("external_id", flat=True)[:20]
    )
    return Outgoing(
        message_id=message.pk,
        conversation_id=conversation.pk,
        chat=conversation.identity.external_id,
        text=message.text,
        attempt=(last.number if last else 0) + 1,
        unread=unread,
    )


def mark_customer_read(conversation_id: int, external_ids: tuple[str, ...]) -> None:
    Message.objects.filter(conversation_id=conversation_id, external_id__in=external_ids).update(read_at=timezone.now())


def send_started(message_id: int, attempt: int) -> bool:
    """Record that a send is starting (committed before the send). False when another send of
    the same message already started: it must not be sent twice."""
    try:
        with transaction.atomic():
            locked = (
                Message.objects.select_for_update(nowait=False)
                .filter(pk=message_id, status=Message.Status.QUEUED)
                .first()
            )
            if locked is None:
                return False
            DeliveryAttempt.objects.create(message_id=message_id, number=attempt, succeeded=False, error=INTERRUPTED)
    except IntegrityError:
        return False
    return True


def send_succeeded(message_id: int, attempt: int, external_id: str) -> None:
    with transaction.atomic():
        DeliveryAttempt.objects.filter(message_id=message_id, number=attempt).update(succeeded=True, error="")
        message = Message.objects.select_for_update().get(pk=message_id)
        message.status = Message.Status.SENT
        message.sent_at = timezone.now()
        message.external_id = external_id or None
        message.error = ""
        message.save(update_fields=["status", "sent_at", "external_id", "error"])
        transaction.on_commit(lambda: message_publish(message, "message.updated"))


def send_failed(message_id: int, attempt: int, error: str, retryable: bool) -> float | None:
    """Record a failed attempt; returns the delay before the next one, or None when it is over."""
    with transaction.atomic():
        DeliveryAttempt.objects.filter(message_id=message_id, number=attempt).update(succeeded=False, error=error)
        if retryable and attempt < settings.DELIVERY_MAX_ATTEMPTS:
            Message.objects.filter(pk=message_id).update(error=error)
            return delivery_backoff(attempt)
    fail_message(message_id, error)
    return None


def fail_message(message_id: int, error: str) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, status=Message.Status.QUEUED).first()
        if message is None:
            return
        message.status = Message.Status.FAILED
        message.error = error
        message.save(update_fields=["status", "error"])
        transaction.on_commit(lambda: message_publish(message, "message.updated"))
