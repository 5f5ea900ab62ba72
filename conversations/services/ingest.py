"""Storing what customers send: once per channel message id, committed before the channel is
acknowledged, then published and answered."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from channels_app.base import InboundMedia, InboundMessage, InboundSource, channel_vouches_for_phone
from conversations import statements
from conversations.customers import customer_for_channel_phone
from conversations.handoff import wants_a_person
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from conversations.selectors import (
    message_payload,
    sender_conversation_locked,
    stored_message,
)
from conversations.services import enqueueing
from conversations.services.handoff import conversation_hand_off
from conversations.services.live import conversation_publish, event_publish, message_publish
from conversations.services.modes import conversation_set_mode
from ma5zani.db import execute, insert
from ma5zani.tenancy import after_commit, current_schema
from sales.engine.language import detect_language
from sales.selectors import bot_settings_cached


@dataclass(frozen=True)
class IngestResult:
    message_id: int
    conversation_id: int
    created: bool


def identity_for(inbound: InboundMessage) -> ChannelIdentity:
    lookup = {
        "channel": inbound.channel,
        "channel_account_id": inbound.channel_account_id,
        "external_id": inbound.sender_id,
    }
    identity = ChannelIdentity.objects.select_related("customer").filter(**lookup).first()
    if identity is not None:
        return identity
    # Only a number the channel vouches for (WhatsApp's sender) joins a customer; a sender
    # phone from any other channel is ignored (conversations.customers: the identity rule).
    phone = inbound.sender_phone if channel_vouches_for_phone(inbound.channel) else ""
    name = inbound.sender_name[:200]
    for _attempt in range(2):
        try:
            with transaction.atomic():
                customer = customer_for_channel_phone(phone=phone, name=name) if phone else None
                return ChannelIdentity.objects.create(
                    customer=customer or Customer.objects.create(name=name),
                    display_name=name,
                    alt_id=inbound.sender_alt_id[:255],
                    **lookup,
                )
        except IntegrityError:  # the identity (or the number's customer) was made meanwhile
            identity = ChannelIdentity.objects.select_related("customer").filter(**lookup).first()
            if identity is not None:
                return identity
    return ChannelIdentity.objects.select_related("customer").get(**lookup)


def conversation_for(identity: ChannelIdentity) -> Conversation:
    conversation = Conversation.objects.select_for_update().filter(identity=identity).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            Conversation.objects.create(
                identity=identity,
                customer=identity.customer,
                channel=identity.channel,
                channel_account_id=identity.channel_account_id,
            )
    except IntegrityError:
        pass
    return Conversation.objects.select_for_update().get(identity=identity)


def ingest(inbound: InboundMessage, *, reply: bool = True) -> IngestResult:
    """Store an inbound message once. Commit happens before this returns; only then may the
    caller acknowledge the sender. A repeated delivery changes nothing.

    `reply=False` leaves the answer to the caller; a message whose media the channel fetches
    later is answered once it is attached (`message_media_attached`); the sweeper answers
    either anyway if that never happens."""
    with transaction.atomic():
        # The conversation row is locked: deliveries of one conversation are stored one by one.
        # A known sender's conversation comes in one query; a new one is made first.
        known = sender_conversation_locked(inbound.channel, inbound.channel_account_id, inbound.sender_id)
        if known is None:
            conversation = conversation_for(identity_for(inbound))
            last_seen = conversation.customer.last_seen_at
        else:
            conversation, last_seen = known
        existing = stored_message(inbound.channel, inbound.external_id)
        if existing is not None:
            return IngestResult(existing[0], existing[1], created=False)
        now = timezone.now()
        message = _customer_message(conversation, inbound)
        insert(message)
        _note_source(conversation, inbound, now)
        language = detect_language(inbound.text, conversation.language) if inbound.text else conversation.language
        execute(statements.INBOUND_COUNTS_SQL, [now, now, language or conversation.language, conversation.pk])
        if last_seen < now - dt.timedelta(minutes=1):  # a burst needs one write
            Customer.objects.filter(pk=conversation.customer_id).update(last_seen_at=now)
        conversation.unread_count += 1
        conversation.last_inbound_at = conversation.last_message_at = now
        conversation.language = language or conversation.language
        after_commit(message_publish, message)
        if _bot_answers(conversation, [inbound], reply=reply and not _waits_for_media(inbound)):
            schema = current_schema()
            transaction.on_commit(lambda: enqueueing.enqueue_reply(schema, conversation.pk, message.pk))
    return IngestResult(message.pk, conversation.pk, created=True)


def _asks_for_a_person(inbound: InboundMessage, keywords: list[str]) -> bool:
    """In words, or with the "talk to a person" button of a channel's menu."""
    if inbound.choice is not None and inbound.choice.kind == "person":
        return True
    return wants_a_person(inbound.text, keywords)


def _bot_answers(conversation: Conversation, inbounds: list[InboundMessage], *, reply: bool) -> bool:
    """What follows new customer messages (in the current transaction): a closed conversation
    reopens; a customer asking for a person is handed to the seller; in the seller's hands the
    inbox is told. True when the bot should answer."""
    if conversation.mode == Conversation.Mode.CLOSED:
        conversation_set_mode(conversation, Conversation.Mode.BOT, reason="")
    keywords = bot_settings_cached().handoff_keywords
    if conversation.mode == Conversation.Mode.BOT and any(_asks_for_a_person(i, keywords) for i in inbounds):
        conversation_hand_off(conversation=conversation, reason="customer_asked", tell_customer=True)
        return False
    if conversation.mode == Conversation.Mode.BOT and reply:
        return True
    after_commit(conversation_publish, conversation)
    return False


def ingest_many(inbounds: list[InboundMessage], *, reply: bool = True) -> list[IngestResult]:
    """`ingest` for several messages of the current schema in one transaction, with a few
    queries for the whole batch: what a gateway receiving many sellers' customers at once uses.
    The same rules as `ingest` (stored once, unread counts, language, handoff, one reply per
    conversation for its latest message, live events after commit); results in input order."""
    if not inbounds:
        return []
    results: list[IngestResult | None] = [None] * len(inbounds)
    # Inside a caller's transaction (the gateway commits several sellers' batches at once) no
    # savepoint: a failure fails the caller's whole transaction, which then stores message by message.
    with transaction.atomic(savepoint=False):
        existing_filter = Q()
        for channel, external_ids in _grouped(inbounds, lambda i: i.channel, lambda i: i.external_id).items():
            existing_filter |= Q(channel=channel, external_id__in=external_ids)
        existing = {
            (channel, external_id): (pk, conversation_id)
            for channel, external_id, pk, conversation_id in Message.objects.filter(existing_filter).values_list(
                "channel", "external_id", "pk", "conversation_id"
            )
        }
        # Three IN lists, not one clause per account (a gateway's batch spans hundreds of
        # accounts): the few rows of the cross product that are not in the batch are left out.
        wanted = {(i.channel, i.channel_account_id, i.sender_id) for i in inbounds}
        conversations = {
            triple: c
            for c in Conversation.objects.select_for_update(of=("self",))
            .select_related("customer", "identity")
            .filter(
                identity__channel__in={i.channel for i in inbounds},
                identity__channel_account_id__in={i.channel_account_id for i in inbounds},
                identity__external_id__in={i.sender_id for i in inbounds},
            )
            .order_by("pk")  # locked in one order: two batches never wait on each other in a cycle
            if (triple := (c.channel, c.channel_account_id, c.identity.external_id)) in wanted
        }
        now = timezone.now()
        fresh: list[tuple[int, InboundMessage, Conversation, Message]] = []
        stored_keys: dict[tuple[str, str], int] = {}
        for index, inbound in enumerate(inbounds):
            key = (inbound.channel, inbound.external_id)
            if key in existing:
                results[index] = IngestResult(existing[key][0], existing[key][1], created=False)
                continue
            if key in stored_keys:  # the same message twice in one batch
                continue
            sender = (inbound.channel, inbound.channel_account_id, inbound.sender_id)
            conversation = conversations.get(sender)
            if conversation is None:  # a new customer: made the one-message way
                conversation = conversation_for(identity_for(inbound))
                conversations[sender] = conversation
            message = _customer_message(conversation, inbound)
            stored_keys[key] = index
            fresh.append((index, inbound, conversation, message))
        Message.objects.bulk_create([message for _i, _in, _c, message in fresh])
        for index, _inbound, conversation, message in fresh:
            results[index] = IngestResult(message.pk, conversation.pk, created=True)
        for index, inbound in enumerate(inbounds):
            if results[index] is None:  # the repeat within the batch: the first one's result
                first = results[stored_keys[(inbound.channel, inbound.external_id)]]
                assert first is not None
                results[index] = IngestResult(first.message_id, first.conversation_id, created=False)
        _after_ingest_many(fresh, now, reply=reply)
    return [result for result in results if result is not None]


def _update_counts(conversations: list[Conversation], now: dt.datetime) -> None:
    """One UPDATE for the unread counts and languages of many (locked) conversations."""
    if not conversations:  # a batch of repeated deliveries only: nothing changed
        return
    rows = ", ".join(["(%s, %s, %s)"] * len(conversations))
    params: list[Any] = []
    for conversation in conversations:
        params += [conversation.pk, conversation.unread_count, conversation.language]
    execute(
        f"UPDATE {statements.CONVERSATION} AS c SET unread_count = v.unread, language = v.language, "  # noqa: S608
        "last_inbound_at = %s, last_message_at = %s "
        f"FROM (VALUES {rows}) AS v(id, unread, language) WHERE c.id = v.id",
        [now, now, *params],
    )


def _grouped(items: list[InboundMessage], key: Any, value: Any) -> dict[Any, list[str]]:
    groups: dict[Any, list[str]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(value(item))
    return groups


def _after_ingest_many(
    fresh: list[tuple[int, InboundMessage, Conversation, Message]], now: dt.datetime, *, reply: bool
) -> None:
    """Counts, language and the next step of each conversation that received messages."""
    by_conversation: dict[int, list[tuple[InboundMessage, Message]]] = {}
    conversations: dict[int, Conversation] = {}
    for _index, inbound, conversation, message in fresh:
        by_conversation.setdefault(conversation.pk, []).append((inbound, message))
        conversations[conversation.pk] = conversation
    if fresh:  # one live event for the batch
        payloads = [message_payload(message) for _i, _in, _c, message in fresh]
        event_publish("messages.created", {"messages": payloads})
    stale_customers = []
    for pk, items in by_conversation.items():
        conversation = conversations[pk]
        for inbound, _message in items:
            if inbound.text:
                conversation.language = detect_language(inbound.text, conversation.language) or conversation.language
            _note_source(conversation, inbound, now)
        conversation.unread_count += len(items)
        conversation.last_inbound_at = conversation.last_message_at = now
        if conversation.customer.last_seen_at < now - dt.timedelta(minutes=1):
            stale_customers.append(conversation.customer_id)
    _update_counts(list(conversations.values()), now)
    if stale_customers:
        Customer.objects.filter(pk__in=stale_customers).update(last_seen_at=now)
    schema = current_schema()
    to_answer: list[tuple[int, int]] = []
    for pk, items in by_conversation.items():
        conversation = conversations[pk]
        latest_inbound, latest = items[-1]
        answers = reply and not _waits_for_media(latest_inbound)
        if _bot_answers(conversation, [inbound for inbound, _m in items], reply=answers):
            to_answer.append((pk, latest.pk))
    if len(to_answer) == 1:
        transaction.on_commit(lambda: enqueueing.enqueue_reply(schema, *to_answer[0]))
    elif to_answer:
        transaction.on_commit(lambda: enqueueing.enqueue_replies(schema, to_answer))


def _customer_message(conversation: Conversation, inbound: InboundMessage) -> Message:
    """The (unsaved) row of a customer's inbound message, with its attachment and choice."""
    extra = dict(inbound.extra)
    if inbound.choice is not None:
        extra["choice"] = inbound.choice.as_data()
    message = Message(
        conversation=conversation,
        direction=Message.Direction.IN,
        author=Message.Author.CUSTOMER,
        channel=inbound.channel,
        external_id=inbound.external_id,
        text=inbound.text,
        status=Message.Status.RECEIVED,
        channel_timestamp=inbound.timestamp,
        extra=extra,
    )
    _attach_media(message, inbound)
    return message


def _attach_media(message: Message, inbound: InboundMessage) -> None:
    """The first attachment: a file the channel downloaded (kept in the seller's own storage),
    one it fetches later (its kind now, the file with `message_media_attached`), a link kept as
    it is (a story), or a place (its words are in the text)."""
    media = next(iter(inbound.media), None)
    if media is None:
        return
    message.media_kind = media.kind
    message.media_type = media.mime_type[:100]
    if media.content:
        name = media.filename or f"{inbound.channel}-{uuid.uuid4().hex}"
        message.media.save(name, ContentFile(media.content), save=False)
    elif media.url and not media.fetch_later:
        message.media_url = media.url[:2000]


def _waits_for_media(inbound: InboundMessage) -> bool:
    return any(media.fetch_later for media in inbound.media)


def _note_source(conversation: Conversation, inbound: InboundMessage, now: dt.datetime) -> None:
    """An ad click, a link or a comment that brought the customer becomes the conversation's
    source (the latest one: it also opens Meta's longer window after an ad)."""
    if inbound.source is None or inbound.source.kind not in Conversation.Source.values:
        return
    conversation.source, conversation.source_detail = inbound.source.kind, dict(inbound.source.detail)
    conversation.source_at = inbound.timestamp if inbound.timestamp <= now else now
    Conversation.objects.filter(pk=conversation.pk).update(
        source=conversation.source, source_detail=conversation.source_detail, source_at=conversation.source_at
    )


# --- What else arrives from a channel -------------------------------------------------------


def messages_waiting_for_media(message_ids: set[int]) -> list[int]:
    """Which of these messages still wait for the file their channel fetches later."""
    return list(
        Message.objects.filter(pk__in=message_ids, media="", transcript="")
        .exclude(media_kind="")
        .exclude(media_kind__in=(Message.MediaKind.LOCATION, Message.MediaKind.STORY))
        .filter(media_url="")
        .values_list("pk", flat=True)
    )


def message_known(*, channel: str, external_id: str) -> bool:
    """A message of this channel id is stored already (one of the shop's sends, or a repeat)."""
    return Message.objects.filter(channel=channel, external_id=external_id).exists()


ECHO_WINDOW = dt.timedelta(minutes=10)


def message_sent_by_shop_recently(
    *, channel: str, channel_account_id: int, customer_id: str, text: str, attachment: bool
) -> bool:
    """Whether an echo (a message the channel says the account sent) is one of the shop's own
    sends of the last minutes: its text is, or is part of, a message the shop queued for this
    customer (a long answer goes in parts; the echo may arrive before the send is recorded),
    or it is an attachment while the shop sent cards. A seller writing from the channel's own
    inbox writes something else."""
    since = timezone.now() - ECHO_WINDOW
    recent = Message.objects.filter(
        conversation__identity__channel=channel,
        conversation__identity__channel_account_id=channel_account_id,
        conversation__identity__external_id=customer_id,
        direction=Message.Direction.OUT,
        created_at__gte=since,
    ).filter(  # what the shop sends itself: the bot's, and the seller's from the dashboard
        Q(author=Message.Author.BOT) | Q(author=Message.Author.SELLER, sent_by_id__isnull=False)
    )
    said = " ".join(text.split())
    for body, cards in recent.values_list("text", "cards")[:50]:
        if said and said in " ".join(body.split()):
            return True
        if not said and attachment and cards:
            return True
    return False


@dataclass(frozen=True)
class KnownIdentity:
    external_id: str
    alt_id: str


def identity_find(*, channel: str, channel_account_id: int, ids: set[str]) -> KnownIdentity | None:
    """The customer identity on this account known by any of `ids` (as its id or its second id)."""
    identity = (
        ChannelIdentity.objects.filter(channel=channel, channel_account_id=channel_account_id)
        .filter(Q(external_id__in=ids) | Q(alt_id__in=ids))
        .order_by("pk")
        .values_list("external_id", "alt_id")
        .first()
    )
    return None if identity is None else KnownIdentity(*identity)


def identity_learn_id(
    *, channel: str, channel_account_id: int, external_id: str, alt_id: str = "", readdress_to: str = ""
) -> bool:
    """A second id of a known customer (`alt_id`, kept beside), or a better address
    (`readdress_to`: the identity is addressed by it from now on, its old id kept as the second
    one). False when another identity has that id already."""
    identity = ChannelIdentity.objects.filter(
        channel=channel, channel_account_id=channel_account_id, external_id=external_id
    ).first()
    if identity is None:
        return False
    try:
        with transaction.atomic():
            if readdress_to:
                identity.alt_id, identity.external_id = identity.external_id, readdress_to[:255]
            else:
                identity.alt_id = alt_id[:255]
            identity.save(update_fields=["external_id", "alt_id"])
    except IntegrityError:
        return False
    return True


def message_store_from_seller(
    *,
    channel: str,
    channel_account_id: int,
    customer_id: str,
    external_id: str,
    text: str,
    timestamp: dt.datetime,
    reason: str,
    media: InboundMedia | None = None,
) -> IngestResult | None:
    """A message the seller sent from outside the dashboard (their phone on WhatsApp, Meta's
    own inbox): stored once as the seller's, and the conversation goes to the seller (`reason`,
    a code of conversations.reasons): the bot never talks over them. None when it is one of
    the shop's own sends (its id is known), or the customer never wrote to the shop."""
    if message_known(channel=channel, external_id=external_id):
        return None
    identity = (
        ChannelIdentity.objects.filter(channel=channel, channel_account_id=channel_account_id)
        .filter(Q(external_id=customer_id) | Q(alt_id=customer_id))
        .order_by("pk")
        .first()
    )
    if identity is None:
        return None
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(identity=identity).first()
        if conversation is None:
            return None
        message = Message(
            conversation=conversation,
            direction=Message.Direction.OUT,
            author=Message.Author.SELLER,
            channel=channel,
            external_id=external_id,
            text=text,
            status=Message.Status.SENT,
            channel_timestamp=timestamp,
            sent_at=timestamp,
        )
        if media is not None:
            message.media_kind, message.media_type = media.kind, media.mime_type[:100]
            message.media_url = "" if media.fetch_later else media.url[:2000]
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:  # the same event twice, at once
            return None
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(last_outbound_at=now, last_message_at=now)
        if conversation.mode == Conversation.Mode.BOT:
            conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason=reason)
        after_commit(message_publish, message)
    return IngestResult(message.pk, conversation.pk, True)


def conversation_source_set(
    *, channel: str, channel_account_id: int, customer_id: str, source: InboundSource, when: dt.datetime
) -> bool:
    """A known customer came again through an ad, a link or a comment (a referral with no
    message): it becomes the conversation's source. False for a customer who never wrote."""
    if source.kind not in Conversation.Source.values:
        return False
    changed = Conversation.objects.filter(
        identity__channel=channel, identity__channel_account_id=channel_account_id, identity__external_id=customer_id
    ).update(source=source.kind, source_detail=dict(source.detail), source_at=min(when, timezone.now()))
    return bool(changed)


def identity_set_profile(
    *, channel: str, channel_account_id: int, external_id: str, name: str, avatar_url: str = ""
) -> bool:
    """The name (and picture) the channel gives of a customer; the customer gets the name when
    they have none yet (a name the seller or an order gave is kept)."""
    identity = (
        ChannelIdentity.objects.select_related("customer")
        .filter(channel=channel, channel_account_id=channel_account_id, external_id=external_id)
        .first()
    )
    if identity is None:
        return False
    name = " ".join(name.split())[:200]
    with transaction.atomic():
        ChannelIdentity.objects.filter(pk=identity.pk).update(
            display_name=name or identity.display_name, avatar_url=avatar_url[:2000]
        )
        if name and not identity.customer.name:
            Customer.objects.filter(pk=identity.customer_id, name="").update(name=name)
    return True


def identities_without_name(*, channel: str, channel_account_id: int, external_ids: set[str]) -> list[str]:
    """Which of these customers the shop knows no name of yet (their profile is worth asking)."""
    return list(
        ChannelIdentity.objects.filter(
            channel=channel, channel_account_id=channel_account_id, external_id__in=external_ids, display_name=""
        ).values_list("external_id", flat=True)
    )


def message_media_attached(message_id: int, *, content: bytes | None, filename: str, transcript: str = "") -> None:
    """The file a channel fetched after storing its message (kept in the seller's storage) and
    the transcript of a voice note; then the customer's message is answered. Without content
    (the download failed) the message is answered from what it says."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        return
    with transaction.atomic():
        if content:
            message.media.save(filename, ContentFile(content), save=False)
        message.transcript = transcript
        message.save(update_fields=["media", "transcript"])
        after_commit(message_publish, message, "message.updated")
        conversation = message.conversation
        if message.direction == Message.Direction.IN and conversation.mode == Conversation.Mode.BOT:
            schema, conversation_id = current_schema(), conversation.pk
            transaction.on_commit(lambda: enqueueing.enqueue_reply(schema, conversation_id, message.pk))


def message_mark_deleted(*, channel: str, external_id: str, when: dt.datetime) -> bool:
    """The customer unsent a message: kept for the record and shown as deleted."""
    message = Message.objects.filter(channel=channel, external_id=external_id, deleted_at__isnull=True).first()
    if message is None:
        return False
    message.deleted_at = when
    message.save(update_fields=["deleted_at"])
    message_publish(message, "message.updated")
    return True


def message_react(*, channel: str, external_id: str, reaction: str) -> bool:
    """The customer reacted to a message (an empty `reaction` takes it back)."""
    message = Message.objects.filter(channel=channel, external_id=external_id).first()
    if message is None:
        return False
    message.reaction = reaction[:32]
    message.save(update_fields=["reaction"])
    message_publish(message, "message.updated")
    return True
