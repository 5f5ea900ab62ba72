"""Answering a customer's burst: plan (short reads), the engine, then store the guarded answer
once and deliver it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from channels_app.base import (
    adapter_for,
)
from channels_app.selectors import channel_account_cached
from conversations import hours, statements
from conversations.content import CHOICE_KINDS, Choice
from conversations.models import Conversation, Message
from conversations.selectors import (
    ReplyTarget,
    customer_summary,
    message_lock_queued,
    recent_history,
    reply_slot_locked,
    reply_target,
)
from conversations.services import enqueueing
from conversations.services.delivery import DeliveryOutcome, delivery_attempt, records_before_sending
from conversations.services.handoff import conversation_hand_off, handoff_text
from conversations.services.live import message_publish
from conversations.services.outbound import customer_language
from ma5zani.db import execute, insert
from ma5zani.tenancy import after_commit, current_schema
from sales.engine import EngineContext, engine_for_seller
from sales.engine.base import Engine, EngineReply, Turn, spent_by
from sales.engine.guardrails import guarded_reply, is_empty_reply
from sales.engine.readiness import month_spend_add
from sales.models import BotSettings
from sales.selectors import bot_settings_cached
from sellers.selectors import seller_name_cached

logger = logging.getLogger(__name__)


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
        choice=_latest_choice(burst),
    )


def _latest_choice(burst: list[Message]) -> Choice | None:
    """The button or quick reply of the burst's latest message that carries one."""
    for message in reversed(burst):
        data = (message.extra or {}).get("choice")
        if isinstance(data, dict) and data.get("kind") in CHOICE_KINDS:
            product = data.get("product_id")
            return Choice(
                kind=str(data["kind"]),
                product_id=product if isinstance(product, int) else None,
                variant=str(data.get("variant") or ""),
                value=str(data.get("value") or ""),
            )
    return None


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
    language = customer_language(conversation, row)
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
    _seen(conversation, target.recipient_id)
    if getattr(engine, "shows_typing", True):
        _typing(conversation, target.recipient_id, on=True)
    return replace(plan, engine=engine, context=_engine_context(target, burst, history, row))


def reply_complete(plan: ReplyPlan, reply: EngineReply) -> Message | None:
    """Store the engine's (guarded) answer to the plan's burst: never an empty one, with when a
    person is available outside business hours; None when a newer message arrived meanwhile or
    the seller took over (the draft is dropped)."""
    language = plan.context.reply_language if plan.context is not None else plan.language
    if plan.away:
        return store_reply(plan.target, plan.inbound_id, _disclosed(plan, reply, language), notice_at=plan.now)
    row, now = plan.row, plan.now
    reply = _disclosed(plan, _refuse_empty(reply, plan.context, language), language)
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
    return store_reply(plan.target, plan.inbound_id, reply, notice_at=notice_at)


AUTOMATED_TEXT = {
    "ar": "🤖 أنا المساعد الآلي تاع المحل.",
    "msa": "🤖 أنا المساعد الآلي للمتجر.",
    "arabizi": "🤖 Ana l'assistant automatique ta3 l'ma7al.",
    "fr": "🤖 Je suis l'assistant automatique de la boutique.",
    "en": "🤖 I'm the shop's automated assistant.",
}


def _disclosed(plan: ReplyPlan, reply: EngineReply, language: str) -> EngineReply:
    """The bot's first message on a channel whose rules require it (Meta's) says that it is an
    automated assistant."""
    conversation = plan.target.conversation
    capabilities = getattr(adapter_for(conversation.channel), "capabilities", None)
    if capabilities is None or not capabilities.discloses_automation:
        return reply
    if Message.objects.filter(conversation_id=conversation.pk, author=Message.Author.BOT).exists():
        return reply
    return replace(reply, text=f"{AUTOMATED_TEXT.get(language, AUTOMATED_TEXT['fr'])}\n{reply.text}")


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


def _seen(conversation: Conversation, recipient_id: str) -> None:
    """Show the customer that the shop saw their messages, where the channel can (best effort)."""
    account = channel_account_cached(conversation.channel_account_id)
    mark_read = getattr(adapter_for(conversation.channel), "mark_read", None)
    if account is None or mark_read is None:
        return
    try:
        mark_read(account=account, schema=current_schema(), recipient_id=recipient_id, external_ids=[])
    except Exception:
        logger.info("Messages not marked seen for conversation %s", conversation.pk, exc_info=True)


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


def store_reply(
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
        after_commit(deliver_now, message, target)
    return message


def deliver_now(message: Message, target: ReplyTarget) -> None:
    """Send an answer this worker just stored right away, then tell the inbox about it once,
    with the status the first attempt left. A retry, or a failure of delivery itself, goes
    through the queue like any other delivery."""
    schema = current_schema()
    if records_before_sending(message.channel):
        # A remote API that may take seconds (Meta's): sent by a delivery worker, never on the
        # thread that stored the answer (the reply runner's few database threads).
        message_publish(message)
        enqueueing.enqueue_delivery(schema, message.pk)
        return
    try:
        with transaction.atomic():
            if message_lock_queued(message.pk):
                outcome = delivery_attempt(
                    message, target.conversation.channel_account_id, target.recipient_id, number=1
                )
            else:  # a delivery task took it meanwhile
                outcome = DeliveryOutcome("skipped")
    except Exception:
        logger.exception("Immediate delivery of message %s failed; queued instead", message.pk)
        outcome = DeliveryOutcome("retry")
    message_publish(message)
    if outcome.status == "retry":
        enqueueing.enqueue_delivery(schema, message.pk, countdown=outcome.countdown)
