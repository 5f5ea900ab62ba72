"""Sending queued messages through their channel's adapter: each attempt recorded, retried with
backoff, ending sent or failed."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_app.base import (
    DeliveryError,
    OutboundMessage,
    adapter_for,
)
from channels_app.selectors import channel_account_cached
from conversations import statements
from conversations.content import ProductCard
from conversations.models import DeliveryAttempt, Message
from conversations.services.live import message_publish
from conversations.services.windows import messaging_window
from ma5zani.backoff import backoff_seconds
from ma5zani.db import execute
from ma5zani.tenancy import after_commit, current_schema

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # sent, handed, retry, failed, skipped
    countdown: float = 0.0


def delivery_backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with jitter on top."""
    return backoff_seconds(attempt, base=settings.DELIVERY_BACKOFF_SECONDS, cap=settings.DELIVERY_BACKOFF_MAX_SECONDS)


INTERRUPTED = "in progress"  # the error of an attempt that started and has no outcome yet


def outbound_for(
    message: Message, recipient_id: str, *, tag: str = "", attempt: int = 1, language: str = ""
) -> OutboundMessage:
    """The neutral form of a queued message that a channel's adapter sends."""
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
        tag=tag,
        attempt=attempt,
        language=language,
    )


def records_before_sending(channel: str) -> bool:
    """The channel has no idempotency key: each attempt is committed before its send, and a
    send whose outcome is unknown is never repeated (`send_pending` … `send_failed`)."""
    capabilities = getattr(adapter_for(channel), "capabilities", None)
    return capabilities is not None and not capabilities.idempotent_sends


def message_deliver(message_id: int) -> DeliveryOutcome:
    """Send one queued message, once. The row stays locked while it is sent, so two workers
    never send it at once; a channel without idempotency keys records the attempt first
    instead. Outside the channel's messaging window nothing is sent and the message fails with
    the reason."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("conversation__identity")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != Message.Status.QUEUED:
            return DeliveryOutcome("skipped")
        conversation = message.conversation
        window = messaging_window(conversation, author=message.author)
        if not window.open:
            _fail_locked(message, window.reason)
            return DeliveryOutcome("failed")
        if not records_before_sending(message.channel):
            # A failed attempt leaves its error on the message: without one, this is the first.
            number = message.attempts.count() + 1 if message.error else 1
            outcome = delivery_attempt(
                message, conversation.channel_account_id, conversation.identity.external_id, number=number
            )
            if outcome.status in ("sent", "failed"):
                after_commit(message_publish, message, "message.updated")
            return outcome
    return _deliver_recorded(message_id, message.channel)


def _deliver_recorded(message_id: int, channel: str) -> DeliveryOutcome:
    """The attempt committed before the send; the outcome recorded after it."""
    pending = send_pending(message_id, channel=channel, in_progress_grace=_in_progress_grace())
    if pending is None or not send_started(message_id, pending.attempt):
        return DeliveryOutcome("skipped")
    account = channel_account_cached(pending.channel_account_id)
    try:
        if account is None:
            raise DeliveryError("The channel account no longer exists.", retryable=False)
        result = adapter_for(channel).send(account=account, schema=current_schema(), message=pending.outbound)
    except DeliveryError as exc:
        error = "unknown_outcome" if exc.unknown else (exc.reason or str(exc) or exc.__class__.__name__)
        delay = send_failed(message_id, pending.attempt, error, exc.retryable)
        return DeliveryOutcome("retry", countdown=delay) if delay is not None else DeliveryOutcome("failed")
    except Exception as exc:  # a bug in the adapter: the request may have gone out
        logger.exception("Delivery of message %s failed", message_id)
        send_failed(message_id, pending.attempt, f"unknown_outcome: {exc.__class__.__name__}"[:500], False)
        return DeliveryOutcome("failed")
    send_succeeded(message_id, pending.attempt, result.external_id)
    return DeliveryOutcome("sent")


def _in_progress_grace() -> float:
    """How long, per part of a message, an attempt in progress may be another worker still
    sending (not a crash)."""
    return 2 * settings.META_TIMEOUT_SECONDS + 5


def delivery_attempt(message: Message, account_id: int, recipient_id: str, *, number: int) -> DeliveryOutcome:
    """Attempt `number` at sending a locked, queued message through an idempotent channel; the
    attempt and the message's new state are written together."""
    account = channel_account_cached(account_id)
    error = ""
    started = timezone.now()
    try:
        if account is None:
            raise DeliveryError("The channel account no longer exists.", retryable=False)
        result = adapter_for(message.channel).send(
            account=account, schema=current_schema(), message=outbound_for(message, recipient_id, attempt=number)
        )
    except DeliveryError as exc:
        error, retryable = exc.reason or str(exc) or exc.__class__.__name__, exc.retryable
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


# --- Sends recorded before they happen ------------------------------------------------------
# For a channel without idempotency keys (Meta), and for a process that sends itself (the
# WhatsApp gateway): the attempt is committed before the send, its outcome after; an attempt
# left without an outcome (a crash mid-send) fails the message visibly instead of sending it
# a second time.


@dataclass(frozen=True)
class PendingSend:
    message_id: int
    conversation_id: int
    channel_account_id: int
    recipient_id: str
    attempt: int
    outbound: OutboundMessage


def send_pending(message_id: int, *, channel: str, in_progress_grace: float = 0.0) -> PendingSend | None:
    """The queued message to send and its attempt number, or None when there is nothing to do
    (sent already, failed, another channel's, or an attempt still in progress for less than
    `in_progress_grace` seconds per part the message may go in). An attempt left in progress
    longer fails the message (it may have reached the customer); so does a closed messaging
    window (with its reason)."""
    message = Message.objects.select_related("conversation__identity").filter(pk=message_id, channel=channel).first()
    if message is None or message.status != Message.Status.QUEUED:
        return None
    last = message.attempts.order_by("-number").first()
    if last is not None and not last.succeeded and last.error == INTERRUPTED:
        parts = 1 + len(message.text) // 1000 + (1 if message.cards else 0)
        if last.started_at > timezone.now() - dt.timedelta(seconds=in_progress_grace * parts):
            return None
        message_fail(message_id, "unknown_outcome")
        return None
    conversation = message.conversation
    window = messaging_window(conversation, author=message.author)
    if not window.open:
        message_fail(message_id, window.reason)
        return None
    attempt = (last.number if last else 0) + 1
    recipient = conversation.identity.external_id
    return PendingSend(
        message_id=message.pk,
        conversation_id=conversation.pk,
        channel_account_id=conversation.channel_account_id,
        recipient_id=recipient,
        attempt=attempt,
        outbound=outbound_for(message, recipient, tag=window.tag, attempt=attempt, language=conversation.language),
    )


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
        after_commit(message_publish, message, "message.updated")


def send_failed(message_id: int, attempt: int, error: str, retryable: bool) -> float | None:
    """Record a failed attempt; returns the delay before the next one, or None when it is over
    (the message failed, with `error`: a code of conversations.reasons or the channel's words)."""
    with transaction.atomic():
        DeliveryAttempt.objects.filter(message_id=message_id, number=attempt).update(succeeded=False, error=error)
        if retryable and attempt < settings.DELIVERY_MAX_ATTEMPTS:
            Message.objects.filter(pk=message_id).update(error=error)
            return delivery_backoff(attempt)
    message_fail(message_id, error)
    return None


def message_fail(message_id: int, error: str) -> None:
    """A queued message will not be sent: failed, with why, shown in the inbox."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, status=Message.Status.QUEUED).first()
        if message is not None:
            _fail_locked(message, error)


def _fail_locked(message: Message, error: str) -> None:
    message.status = Message.Status.FAILED
    message.error = error
    message.save(update_fields=["status", "error"])
    after_commit(message_publish, message, "message.updated")
