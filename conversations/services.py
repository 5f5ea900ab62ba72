"""The message path: ingest, reply, deliver, hand off. Every function runs in the current
seller's schema and keeps the database the source of truth; queues are only a hint.

1. `ingest` stores a normalized inbound message once (unique per channel and external id) and,
   after commit, publishes it and enqueues the reply.
2. `conversation_reply` answers the customer's whole unanswered burst once: a draft made while a
   newer message arrived is dropped, and a customer message is answered by the bot at most once
   (a unique constraint), whatever happens to the task.
3. `message_deliver` sends a queued outbound message through its channel's adapter, records each
   attempt, retries with exponential backoff and jitter, and ends sent or failed.
4. `sweep` finds inbound messages left unanswered and outbound messages stuck in queued, and
   enqueues them again.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from channels_app.base import (
    DeliveryError,
    InboundMessage,
    OutboundMessage,
    adapter_for,
    channel_vouches_for_phone,
)
from channels_app.selectors import channel_account_cached
from conversations import hours, statements
from conversations.customers import customer_for_channel_phone
from conversations.handoff import wants_a_person
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from conversations.reasons import handed_back_note, handoff_note, note_text
from conversations.selectors import (
    ReplyTarget,
    conversation_payload,
    customer_summary,
    message_lock_queued,
    message_payload,
    recent_history,
    reply_slot_locked,
    reply_target,
    sender_conversation_locked,
    stored_message,
)
from ma5zani.backoff import backoff_seconds
from ma5zani.celery import enqueue
from ma5zani.db import execute, insert
from ma5zani.realtime import publish
from ma5zani.tenancy import current_schema
from sales.engine import EngineContext, engine_for_seller
from sales.engine.base import Engine, EngineReply, Turn, spent_by
from sales.engine.guardrails import guarded_reply, is_empty_reply, is_empty_text
from sales.engine.language import detect_language
from sales.engine.readiness import month_spend_add
from sales.models import BotSettings
from sales.selectors import bot_settings, bot_settings_cached
from sellers.selectors import seller_name_cached

logger = logging.getLogger(__name__)

HANDOFF_TEXT = {
    "ar": "مليح، راني نحولك لواحد من المحل. يجاوبك في أقرب وقت.",
    "msa": "حسنًا، سأحولك إلى أحد موظفي المتجر، وسيجيبك في أقرب وقت.",
    "arabizi": "Mlih, rani n7awlek l wa7ed men l'mahal. Yjawbek f a9rab wa9t.",
    "fr": "Très bien, je vous passe quelqu'un de la boutique. On vous répond au plus vite.",
    "en": "Sure, I'm passing you to someone from the shop. They'll answer you shortly.",
}


def handoff_text(language: str) -> str:
    """The standard message telling the customer that a person of the shop takes over."""
    return HANDOFF_TEXT.get(language, HANDOFF_TEXT["fr"])


# --- Live events --------------------------------------------------------------------------


def message_publish(message: Message, event: str = "message.created") -> None:
    publish(current_schema(), event, message_payload(message))


def _publish_conversation(conversation: Conversation) -> None:
    publish(current_schema(), "conversation.updated", conversation_payload(conversation))


# --- Ingest -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    message_id: int
    conversation_id: int
    created: bool


def _identity_for(inbound: InboundMessage) -> ChannelIdentity:
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


def _conversation_for(identity: ChannelIdentity) -> Conversation:
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

    `reply=False` leaves the answer to the caller (`enqueue_reply` once a voice note is
    transcribed, for example); the sweeper answers it anyway if the caller never does."""
    with transaction.atomic():
        # The conversation row is locked: deliveries of one conversation are stored one by one.
        # A known sender's conversation comes in one query; a new one is made first.
        known = sender_conversation_locked(inbound.channel, inbound.channel_account_id, inbound.sender_id)
        if known is None:
            conversation = _conversation_for(_identity_for(inbound))
            last_seen = conversation.customer.last_seen_at
        else:
            conversation, last_seen = known
        existing = stored_message(inbound.channel, inbound.external_id)
        if existing is not None:
            return IngestResult(existing[0], existing[1], created=False)
        now = timezone.now()
        message = _customer_message(conversation, inbound)
        insert(message)
        language = detect_language(inbound.text, conversation.language) if inbound.text else conversation.language
        execute(statements.INBOUND_COUNTS_SQL, [now, now, language or conversation.language, conversation.pk])
        if last_seen < now - dt.timedelta(minutes=1):  # a burst needs one write
            Customer.objects.filter(pk=conversation.customer_id).update(last_seen_at=now)
        conversation.unread_count += 1
        conversation.last_inbound_at = conversation.last_message_at = now
        conversation.language = language or conversation.language
        transaction.on_commit(lambda: message_publish(message))
        if _bot_answers(conversation, [inbound.text], reply=reply):
            schema = current_schema()
            transaction.on_commit(lambda: enqueue_reply(schema, conversation.pk, message.pk))
    return IngestResult(message.pk, conversation.pk, created=True)


def _bot_answers(conversation: Conversation, texts: list[str], *, reply: bool) -> bool:
    """What follows new customer messages (in the current transaction): a closed conversation
    reopens; a customer asking for a person is handed to the seller; in the seller's hands the
    inbox is told. True when the bot should answer."""
    if conversation.mode == Conversation.Mode.CLOSED:
        conversation_set_mode(conversation, Conversation.Mode.BOT, reason="")
    keywords = bot_settings_cached().handoff_keywords
    if conversation.mode == Conversation.Mode.BOT and any(wants_a_person(text, keywords) for text in texts):
        conversation_hand_off(conversation=conversation, reason="customer_asked", tell_customer=True)
        return False
    if conversation.mode == Conversation.Mode.BOT and reply:
        return True
    transaction.on_commit(lambda: _publish_conversation(conversation))
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
                conversation = _conversation_for(_identity_for(inbound))
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
        publish(current_schema(), "messages.created", {"messages": payloads})
    stale_customers = []
    for pk, items in by_conversation.items():
        conversation = conversations[pk]
        for inbound, _message in items:
            if inbound.text:
                conversation.language = detect_language(inbound.text, conversation.language) or conversation.language
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
        latest = items[-1][1]
        if _bot_answers(conversation, [inbound.text for inbound, _m in items], reply=reply):
            to_answer.append((pk, latest.pk))
    if len(to_answer) == 1:
        transaction.on_commit(lambda: enqueue_reply(schema, *to_answer[0]))
    elif to_answer:
        transaction.on_commit(lambda: enqueue_replies(schema, to_answer))


def _customer_message(conversation: Conversation, inbound: InboundMessage) -> Message:
    """The (unsaved) row of a customer's inbound message, with its attachment."""
    message = Message(
        conversation=conversation,
        direction=Message.Direction.IN,
        author=Message.Author.CUSTOMER,
        channel=inbound.channel,
        external_id=inbound.external_id,
        text=inbound.text,
        status=Message.Status.RECEIVED,
        channel_timestamp=inbound.timestamp,
    )
    _attach_media(message, inbound)
    return message


def _attach_media(message: Message, inbound: InboundMessage) -> None:
    """Keep the first attachment the channel downloaded (in the seller's own storage)."""
    location = next((item for item in inbound.media if item.kind == Message.MediaKind.LOCATION), None)
    if location is not None:  # the place is in the text; there is no file
        message.media_kind = location.kind
        return
    media = next((item for item in inbound.media if item.content), None)
    if media is None:
        return
    message.media_kind = media.kind
    message.media_type = media.mime_type[:100]
    name = media.filename or f"{inbound.channel}-{uuid.uuid4().hex}"
    message.media.save(name, ContentFile(media.content or b""), save=False)


def enqueue_reply(schema: str, conversation_id: int, inbound_id: int, *, countdown: float | None = None) -> None:
    """Ask for an answer (the sweeper asks again if Redis is down): the reply runner's stream
    (at once, or after REPLY_RUNNER_PAUSE_SECONDS), or a Celery task after REPLY_PAUSE_SECONDS."""
    if settings.REPLY_RUNNER == "async":
        from replies import queue

        queue.enqueue(
            schema,
            [(conversation_id, inbound_id)],
            delay=settings.REPLY_RUNNER_PAUSE_SECONDS if countdown is None else countdown,
        )
        return
    from conversations.tasks import reply_task

    pause = settings.REPLY_PAUSE_SECONDS if countdown is None else countdown
    enqueue(reply_task, conversation_id, inbound_id, schema=schema, countdown=pause)


def enqueue_replies(schema: str, pairs: list[tuple[int, int]]) -> None:
    """Many conversations to answer (a batch from the WhatsApp gateway): one round trip to
    Redis. On the Celery path, one task that a worker turns into one reply task each."""
    if settings.REPLY_RUNNER == "async":
        from replies import queue

        queue.enqueue(schema, pairs, delay=settings.REPLY_RUNNER_PAUSE_SECONDS)
        return
    from conversations.tasks import reply_many_task

    enqueue(reply_many_task, [list(pair) for pair in pairs], schema=schema)


def enqueue_delivery(schema: str, message_id: int, *, countdown: float = 0) -> None:
    from conversations.tasks import deliver_task

    enqueue(deliver_task, message_id, schema=schema, countdown=countdown)


# --- Reply --------------------------------------------------------------------------------


def _engine_context(
    target: ReplyTarget, burst: list[Message], history: list[Message], row: BotSettings
) -> EngineContext:
    from django.db import connection

    conversation = target.conversation
    # Only a customer who gave a number, or this conversation, has confirmed orders.
    known = bool(target.customer_phone) or conversation.sales_stage == Conversation.Stage.ORDERED
    return EngineContext(
        conversation_id=conversation.pk,
        channel=conversation.channel,
        burst=tuple(message_text(message) for message in burst),
        history=tuple(Turn(author=m.author, text=message_text(m)) for m in history),
        customer_name=target.customer_name,
        persona_name=row.persona_name,
        greeting=row.greeting,
        is_first_contact=not any(m.direction == Message.Direction.OUT for m in history),
        shop_name=getattr(getattr(connection, "tenant", None), "name", "") or seller_name_cached(current_schema()),
        language=conversation.language,
        intensity=row.intensity,
        max_discount_percent=row.max_discount_percent,
        customer_id=conversation.customer_id,
        languages=tuple(row.languages),
        # This customer's own orders only: a number given in a chat never merges customers.
        customer_summary=customer_summary(conversation.customer_id) if known else {},
    )


def message_text(message: Message) -> str:
    """What a message says: its text, or the transcript of a voice note."""
    return message.text or message.transcript


VOICE_ASK_TEXT = {
    "ar": "سمحلي، ما نقدرش نسمع الرسائل الصوتية. تقدر تكتبلي واش تحب؟",
    "msa": "عذرًا، لا يمكنني الاستماع إلى الرسائل الصوتية. هل يمكنك كتابة سؤالك؟",
    "arabizi": "Sma7li, ma n9derch nesma3 les vocaux. Tnajem tektebli wach t7ab?",
    "fr": "Désolé, je ne peux pas écouter les messages vocaux. Pouvez-vous m'écrire votre question ?",
    "en": "Sorry, I can't listen to voice messages. Could you type your question?",
}


def _voice_only(burst: list[Message]) -> bool:
    """The customer only sent voice notes that could not be transcribed."""
    return bool(burst) and all(m.media_kind == Message.MediaKind.AUDIO and not message_text(m) for m in burst)


@dataclass(frozen=True)
class ReplyPlan:
    """What answering a burst needs, read in a few short statements before the engine is asked
    (`reply_plan`); `reply_complete` stores the answer. The reply runner awaits the engine
    between the two, holding no database connection; `conversation_reply` runs all three."""

    target: ReplyTarget
    inbound_id: int
    now: dt.datetime
    row: BotSettings
    closed: bool
    language: str
    engine: Engine | None = None  # None: `reply` is decided without an engine
    context: EngineContext | None = None
    reply: EngineReply | None = None
    away: bool = False  # only the away message (after hours), stored as it is


def reply_plan(conversation_id: int, inbound_id: int, *, now: dt.datetime | None = None) -> ReplyPlan | None:
    """None when there is nothing to answer: a newer message was stored (its own reply answers
    the whole burst), the message is answered already, the conversation is in the seller's
    hands or the bot is off. Shows the customer typing when the engine may take a while."""
    target = reply_target(conversation_id)
    if target is None or target.conversation.mode != Conversation.Mode.BOT:
        return None
    conversation = target.conversation
    history = recent_history(conversation_id)  # one read: the latest message, the burst, the context
    inbound = [m for m in history if m.direction == Message.Direction.IN]
    if not inbound or inbound[-1].pk != inbound_id:
        return None  # a newer message was stored: its own task answers the whole burst
    if any(m.reply_to_id == inbound_id and m.author == Message.Author.BOT for m in history):
        return None  # answered already (a repeated task)
    row = bot_settings_cached()
    if not row.is_enabled:
        return None
    now = now or hours.clock()
    closed = hours.is_closed(row, now)
    language = _customer_language(conversation, row)
    plan = ReplyPlan(target=target, inbound_id=inbound_id, now=now, row=row, closed=closed, language=language)
    if closed and row.after_hours == BotSettings.AfterHours.AWAY:  # only the away message
        away = EngineReply(
            text=hours.away_text(row, language, now), handoff=True, handoff_reason="after_hours", engine="away"
        )
        return replace(plan, reply=away, away=True)
    burst = _burst(history)
    if _voice_only(burst):  # ask for text in the customer's language, without the engine
        return replace(plan, reply=EngineReply(text=VOICE_ASK_TEXT.get(language, VOICE_ASK_TEXT["ar"]), engine="voice"))
    engine = engine_for_seller()
    if getattr(engine, "shows_typing", True):
        _typing(conversation, target.recipient_id, on=True)
    return replace(plan, engine=engine, context=_engine_context(target, burst, history, row))


def reply_complete(plan: ReplyPlan, reply: EngineReply) -> Message | None:
    """Store the engine's (guarded) answer to the plan's burst: never an empty one, with when a
    person is available outside business hours; None when a newer message arrived meanwhile or
    the seller took over (the draft is dropped)."""
    if plan.away:
        return _store_reply(plan.target, plan.inbound_id, reply, notice_at=plan.now)
    row, now = plan.row, plan.now
    language = plan.context.reply_language if plan.context is not None else plan.language
    reply = _refuse_empty(reply, plan.context, language)
    notice_at = None
    if plan.closed and (
        reply.handoff
        or (
            row.after_hours == BotSettings.AfterHours.ANSWER_AND_TELL
            and not hours.told_this_period(row, plan.target.conversation.after_hours_notice_at, now)
        )
    ):  # the customer learns when a person is there (once per closed period, and with a handoff)
        reply = replace(reply, text=hours.with_availability(reply.text, row, language, now))
        notice_at = now
    return _store_reply(plan.target, plan.inbound_id, reply, notice_at=notice_at)


def conversation_reply(conversation_id: int, inbound_id: int, *, now: dt.datetime | None = None) -> Message | None:
    """Answer the customer's unanswered burst if `inbound_id` is still its latest message, on
    this thread (the Celery reply task; the reply runner awaits the engine instead).

    Outside business hours the seller's `after_hours` applies (conversations.hours), whatever
    the engine; `now` is the moment that decides (the clock's by default)."""
    plan = reply_plan(conversation_id, inbound_id, now=now)
    if plan is None:
        return None
    if plan.reply is not None:
        return reply_complete(plan, plan.reply)
    assert plan.engine is not None and plan.context is not None
    return reply_complete(plan, guarded_reply(plan.engine, plan.context))


def _customer_language(conversation: Conversation, row: BotSettings) -> str:
    """The form to write to the customer in: the conversation's within the seller's languages
    (as the engines answer), else the seller's first language."""
    from sales.engine.language import answer_language

    if conversation.language:
        return answer_language(conversation.language, tuple(row.languages))
    return hours.text_language((row.languages or ["fr"])[0])


def _refuse_empty(reply: EngineReply, context: EngineContext | None, language: str) -> EngineReply:
    """No empty or meaningless answer is ever stored or sent, whatever made it (the one check
    of the reply path). An empty answer of another engine is replaced by the built-in
    engine's (under the same guardrails); an empty answer of the built-in engine, or an empty
    replacement, hands the conversation to the seller (reason "empty_reply") with the
    standard handoff message. An engine that asked for a person with no words keeps its
    handoff and gets the standard message."""
    from sales.engine.builtin import BuiltinEngine

    if not is_empty_reply(reply):
        return reply
    logger.warning("Empty reply from engine %r in conversation %s", reply.engine, context and context.conversation_id)
    if reply.handoff:
        return replace(reply, text=handoff_text(language), cards=(), quick_replies=())
    engine = f"{reply.engine}:empty" if reply.engine else "empty"
    if context is not None and reply.engine.partition(":")[0] != BuiltinEngine.name:
        fallback = guarded_reply(BuiltinEngine(), context)
        if not is_empty_reply(fallback):
            return spent_by(replace(fallback, engine=engine), reply)
    return spent_by(
        EngineReply(text=handoff_text(language), handoff=True, handoff_reason="empty_reply", engine=engine), reply
    )


def _burst(history: list[Message]) -> list[Message]:
    """The customer's messages since the last one sent to them (system notes do not count)."""
    burst: list[Message] = []
    for message in reversed(history):
        if message.direction == Message.Direction.OUT and message.author != Message.Author.SYSTEM:
            break
        if message.direction == Message.Direction.IN:
            burst.append(message)
    return list(reversed(burst))


def _typing(conversation: Conversation, recipient_id: str, *, on: bool) -> None:
    """Show the customer that an answer is coming, where the channel can (best effort)."""
    account = channel_account_cached(conversation.channel_account_id)
    if account is None:
        return
    try:
        adapter_for(conversation.channel).typing(
            account=account, schema=current_schema(), recipient_id=recipient_id, on=on
        )
    except Exception:
        logger.info("Typing indicator not shown for conversation %s", conversation.pk, exc_info=True)


def _store_reply(
    target: ReplyTarget, inbound_id: int, reply: EngineReply, *, notice_at: dt.datetime | None = None
) -> Message | None:
    """Store the answer (never an empty one) and hand it to delivery; `notice_at`: the answer
    tells the customer when a person is available (conversations.hours)."""
    if is_empty_reply(reply):  # _refuse_empty replaced it: nothing empty reaches this point
        raise ValueError("An empty reply is never stored.")
    conversation_id = target.conversation.pk
    with transaction.atomic():
        slot = reply_slot_locked(conversation_id)
        if slot is None or slot.mode != Conversation.Mode.BOT or slot.latest_inbound_id != inbound_id:
            return None  # the seller took over, or a newer message arrived: the draft is dropped
        if slot.answered:
            return None  # another run stored the answer first
        assert slot.latest_inbound_at is not None  # the message found above
        # The lock and the check above make a second answer impossible here (and the unique
        # constraint on reply_to would refuse it).
        now = timezone.now()
        message = Message(
            conversation_id=conversation_id,
            direction=Message.Direction.OUT,
            author=Message.Author.BOT,
            channel=target.conversation.channel,
            text=reply.text,
            quick_replies=list(reply.quick_replies),
            cards=[card.__dict__ for card in reply.cards],
            status=Message.Status.QUEUED,
            reply_to_id=inbound_id,
            reply_latency_ms=max(0, int((now - slot.latest_inbound_at).total_seconds() * 1000)),
            engine=reply.engine,
            engine_model=reply.model,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
            cost_usd=reply.cost_usd,
        )
        insert(message)
        month_spend_add(reply.cost_usd)  # the budget check of the next reply counts it
        execute(statements.OUTBOUND_AT_SQL, [now, now, conversation_id])
        if notice_at is not None:
            Conversation.objects.filter(pk=conversation_id).update(after_hours_notice_at=notice_at)
        if reply.handoff:
            conversation = Conversation.objects.get(pk=conversation_id)
            conversation_hand_off(conversation=conversation, reason=reply.handoff_reason or "engine")
        transaction.on_commit(lambda: deliver_now(message, target))
    return message


def deliver_now(message: Message, target: ReplyTarget) -> None:
    """Send an answer this worker just stored right away, then tell the inbox about it once,
    with the status the first attempt left. A retry, or a failure of delivery itself, goes
    through the queue like any other delivery."""
    schema = current_schema()
    try:
        with transaction.atomic():
            if message_lock_queued(message.pk):
                outcome = _attempt(message, target.conversation.channel_account_id, target.recipient_id, number=1)
            else:  # a delivery task took it meanwhile
                outcome = DeliveryOutcome("skipped")
    except Exception:
        logger.exception("Immediate delivery of message %s failed; queued instead", message.pk)
        outcome = DeliveryOutcome("retry")
    message_publish(message)
    if outcome.status == "retry":
        enqueue_delivery(schema, message.pk, countdown=outcome.countdown)


# --- Delivery -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # sent, handed, retry, failed, skipped
    countdown: float = 0.0


def delivery_backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter on top."""
    return backoff_seconds(attempt, base=settings.DELIVERY_BACKOFF_SECONDS, cap=settings.DELIVERY_BACKOFF_MAX_SECONDS)


def _outbound(message: Message, recipient_id: str) -> OutboundMessage:
    from channels_app.base import ProductCard

    return OutboundMessage(
        message_id=message.pk,
        idempotency_key=str(message.idempotency_key),
        conversation_id=message.conversation_id,
        recipient_id=recipient_id,
        text=message.text,
        author=message.author,
        created_at=message.created_at,
        quick_replies=tuple(message.quick_replies),
        cards=tuple(ProductCard(**card) for card in message.cards),
    )


def message_deliver(message_id: int) -> DeliveryOutcome:
    """Send one queued message. The row stays locked while it is sent, so two workers never
    send it at once; once sent it is never sent again."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("conversation__identity")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return DeliveryOutcome("skipped")
        # A failed attempt leaves its error on the message: without one, this is the first.
        number = message.attempts.count() + 1 if message.error else 1
        conversation = message.conversation
        outcome = _attempt(message, conversation.channel_account_id, conversation.identity.external_id, number=number)
        if outcome.status in ("sent", "failed"):
            transaction.on_commit(lambda: message_publish(message, "message.updated"))
        return outcome


def _attempt(message: Message, account_id: int, recipient_id: str, *, number: int) -> DeliveryOutcome:
    """Attempt `number` at sending a locked, queued message; the attempt and the message's new
    state are written together."""
    account = channel_account_cached(account_id)
    error = ""
    started = timezone.now()
    try:
        if account is None:
            raise DeliveryError("The channel account no longer exists.", retryable=False)
        result = adapter_for(message.channel).send(
            account=account, schema=current_schema(), message=_outbound(message, recipient_id)
        )
    except DeliveryError as exc:
        error, retryable = str(exc) or exc.__class__.__name__, exc.retryable
    except Exception as exc:  # a bug or an outage in the adapter: retry, then fail visibly
        logger.exception("Delivery of message %s failed", message.pk)
        error, retryable = f"{exc.__class__.__name__}: {exc}", True
    if not error and result.pending:
        return DeliveryOutcome("handed")  # the channel sends it and records the attempts
    if not error:
        message.status, message.sent_at = Message.Status.SENT, timezone.now()
        message.external_id = result.external_id or None
        outcome = DeliveryOutcome("sent")
    elif retryable and number < settings.DELIVERY_MAX_ATTEMPTS:
        outcome = DeliveryOutcome("retry", countdown=delivery_backoff(number))
    else:
        message.status = Message.Status.FAILED
        outcome = DeliveryOutcome("failed")
    message.error = error
    _record_attempt(message, number=number, started_at=started, succeeded=not error)
    return outcome


def _record_attempt(message: Message, *, number: int, started_at: dt.datetime, succeeded: bool) -> None:
    """The attempt and the message's state after it (status, sent time, channel id, error)."""
    execute(
        statements.RECORD_ATTEMPT_SQL,
        [
            *(message.pk, number, started_at, succeeded, message.error),  # the attempt
            *(message.status, message.sent_at, message.external_id, message.error, message.pk),
        ],
    )


# --- Handoff and the seller's messages ---------------------------------------------------


def _system_message(conversation: Conversation, note: dict[str, str]) -> Message:
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
    transaction.on_commit(lambda: message_publish(message))
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
    transaction.on_commit(lambda: _publish_conversation(conversation))


@transaction.atomic
def conversation_hand_off(
    *, conversation: Conversation, reason: str, tell_customer: bool = False, now: dt.datetime | None = None
) -> Conversation:
    """Put the conversation in the seller's hands and tell the seller (and the customer: the
    standard message in their language, and outside business hours when a person will be
    available; `now` decides, the clock's by default)."""
    if conversation.mode == Conversation.Mode.HUMAN:
        return conversation
    conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason=reason)
    _system_message(conversation, handoff_note(reason))
    publish(current_schema(), "handoff", conversation_payload(conversation))
    if tell_customer:
        row = bot_settings_cached()
        language = _customer_language(conversation, row)
        text = handoff_text(language)
        now = now or hours.clock()
        if hours.is_closed(row, now):
            text = hours.with_availability(text, row, language, now)
            Conversation.objects.filter(pk=conversation.pk).update(after_hours_notice_at=now)
            conversation.after_hours_notice_at = now
        _queue_outbound(conversation, text, author=Message.Author.BOT)
    return conversation


@transaction.atomic
def conversation_take_over(*, conversation: Conversation, member_id: int) -> Conversation:
    conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason="seller_took_over", member_id=member_id)
    return conversation


@transaction.atomic
def conversation_hand_back(*, conversation: Conversation) -> Conversation:
    """Give the conversation back to the bot; it answers from the customer's next message."""
    if conversation.mode != Conversation.Mode.BOT:
        conversation_set_mode(conversation, Conversation.Mode.BOT, reason="")
        _system_message(conversation, handed_back_note())
        _learn_from_seller(conversation)
    return conversation


def _learn_from_seller(conversation: Conversation) -> None:
    """The seller's answers during a handoff are the most valuable: learn from them, order or
    not, once the conversation goes back to the bot."""
    if conversation.is_sandbox or not conversation.messages.filter(author=Message.Author.SELLER).exists():
        return
    from learning.tasks import enqueue_extraction

    schema, conversation_id = current_schema(), conversation.pk
    transaction.on_commit(lambda: enqueue_extraction(schema, conversation_id, sellers_only=True))


def conversation_mark_example(*, conversation: Conversation) -> None:
    """The seller marks a conversation as a good example: learn from all of it."""
    from learning.tasks import enqueue_extraction

    if conversation.is_sandbox:
        raise ValidationError(_("This is a test conversation."))
    schema, conversation_id = current_schema(), conversation.pk
    transaction.on_commit(lambda: enqueue_extraction(schema, conversation_id))


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    conversation.unread_count = 0
    transaction.on_commit(lambda: _publish_conversation(conversation))


def _queue_outbound(conversation: Conversation, text: str, *, author: str, member_id: int | None = None) -> Message:
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        author=author,
        channel=conversation.channel,
        text=text,
        status=Message.Status.QUEUED,
        sent_by_id=member_id,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_outbound_at=now, last_message_at=now)
    schema = current_schema()
    transaction.on_commit(lambda: message_publish(message))
    transaction.on_commit(lambda: enqueue_delivery(schema, message.pk))
    return message


class MayNotMessageFirst(Exception):
    """The customer opted out: the bot may not start a message to them."""


@transaction.atomic
def message_send_by_bot(*, conversation: Conversation, text: str) -> Message:
    """A message the bot starts itself (a reminder): stored queued, then delivered. Refused
    (MayNotMessageFirst) when the customer opted out, and for an empty text."""
    from conversations.customers import may_message_first

    if is_empty_text(text):
        raise ValueError("The bot never sends an empty message.")
    if not may_message_first(conversation):
        raise MayNotMessageFirst(conversation.pk)
    return _queue_outbound(conversation, text, author=Message.Author.BOT)


@transaction.atomic
def message_send_by_seller(*, conversation: Conversation, member_id: int, text: str) -> Message:
    """A message typed by the seller. The bot never talks over the seller: the conversation
    goes to human mode."""
    from django.core.exceptions import ValidationError

    text = text.strip()
    if not text:
        raise ValidationError(_("Write a message."))
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise ValidationError(_("The message is too long."))
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.mode != Conversation.Mode.HUMAN:
        conversation_set_mode(conversation, Conversation.Mode.HUMAN, reason="seller_replied", member_id=member_id)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    return _queue_outbound(conversation, text, author=Message.Author.SELLER, member_id=member_id)


# --- Sweeper ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    replies: int
    deliveries: int
    resumed: int


def sweep(now: dt.datetime | None = None) -> SweepResult:
    """Re-enqueue what a lost task or a restarted broker left behind, in the current schema."""
    now = now or timezone.now()
    schema = current_schema()
    quiet = now - dt.timedelta(seconds=settings.SWEEP_REPLY_AFTER_SECONDS)
    oldest = now - dt.timedelta(hours=settings.SWEEP_MAX_AGE_HOURS)
    latest_in = Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.IN).order_by("-id")
    candidates = dict(
        Conversation.objects.filter(mode=Conversation.Mode.BOT, last_inbound_at__lt=quiet, last_inbound_at__gt=oldest)
        .exclude(last_outbound_at__gt=F("last_inbound_at"))  # the seller (or the bot) answered since
        .annotate(latest_in=Subquery(latest_in.values("id")[:1]))
        .values_list("pk", "latest_in")
    )
    answered = set(
        Message.objects.filter(author=Message.Author.BOT, reply_to_id__in=candidates.values()).values_list(
            "reply_to_id", flat=True
        )
    )
    replies = 0
    if bot_settings().is_enabled:
        for conversation_id, inbound_id in candidates.items():
            if inbound_id is not None and inbound_id not in answered:
                enqueue_reply(schema, conversation_id, inbound_id, countdown=0)
                replies += 1
    stuck = Message.objects.filter(
        status=Message.Status.QUEUED,
        created_at__lt=now - dt.timedelta(seconds=settings.SWEEP_DELIVERY_AFTER_SECONDS),
        created_at__gt=oldest,
    ).values_list("pk", flat=True)
    deliveries = 0
    for message_id in stuck:
        enqueue_delivery(schema, message_id)
        deliveries += 1
    return SweepResult(replies=replies, deliveries=deliveries, resumed=conversations_resume_bot(now))


def conversations_resume_bot(now: dt.datetime | None = None) -> int:
    """Give conversations back to the bot after the seller's configured silence."""
    minutes = bot_settings().bot_resume_after_minutes
    if not minutes:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(minutes=minutes)
    resumed = 0
    idle = Conversation.objects.filter(mode=Conversation.Mode.HUMAN, last_message_at__lt=cutoff).exclude(
        mode_changed_at__gte=cutoff
    )
    for conversation in idle:
        conversation_hand_back(conversation=conversation)
        resumed += 1
    return resumed


# --- The "try your bot" sandbox -----------------------------------------------------------

SANDBOX_PREFIX = "sandbox-"


def sandbox_conversation(*, channel_account_id: int, member_id: int) -> Conversation:
    """The member's sandbox conversation (created marked as such before its first message, so
    that every order in it is a test order)."""
    lookup = {
        "channel": "widget",
        "channel_account_id": channel_account_id,
        "external_id": f"{SANDBOX_PREFIX}{member_id}",
    }
    with transaction.atomic():
        identity = ChannelIdentity.objects.filter(**lookup).first()
        if identity is None:
            customer = Customer.objects.create(name=_("Test customer"))
            identity = ChannelIdentity.objects.create(customer=customer, display_name=customer.name, **lookup)
        conversation = Conversation.objects.filter(identity=identity).first()
        if conversation is None:
            conversation = Conversation.objects.create(
                identity=identity,
                customer=identity.customer,
                channel=identity.channel,
                channel_account_id=channel_account_id,
                is_sandbox=True,
            )
    return conversation


def sandbox_send(*, conversation: Conversation, text: str) -> IngestResult:
    """A message typed on the sandbox page, taken down the real path as a customer's."""
    text = text.strip()[: settings.MESSAGE_MAX_CHARS]
    if not conversation.is_sandbox:
        raise ValidationError(_("This is not a test conversation."))
    if not text:
        raise ValidationError(_("Write a message."))
    inbound = InboundMessage(
        channel=conversation.channel,
        channel_account_id=conversation.channel_account_id,
        sender_id=conversation.identity.external_id,
        external_id=f"{conversation.identity.external_id}:{uuid.uuid4()}",
        text=text,
        timestamp=timezone.now(),
        sender_name="",
    )
    return ingest(inbound)


@transaction.atomic
def sandbox_reset(*, conversation: Conversation) -> None:
    """Start the test over: its messages, test orders and test customer go."""
    from sales.models import Order

    if not conversation.is_sandbox:
        raise ValidationError(_("This is not a test conversation."))
    Order.objects.filter(conversation=conversation, is_test=True).delete()
    customer, identity = conversation.customer, conversation.identity
    conversation.delete()
    identity.delete()
    customer.delete()
