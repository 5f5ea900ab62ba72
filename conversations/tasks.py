"""Celery tasks of the message path. Thin: they take ids, run in the seller's schema (from the
task headers) and call conversations.services."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from conversations.services import conversation_reply, enqueueing, message_deliver, sweep
from ma5zani.tenancy import current_schema


@shared_task
def reply_task(conversation_id: int, inbound_id: int) -> int | None:
    message = conversation_reply(conversation_id, inbound_id)
    return message.pk if message else None


@shared_task
def reply_many_task(pairs: list[list[int]]) -> int:
    """Fan a batch out: one reply task per (conversation, latest message), after the usual pause."""
    schema = current_schema()
    for conversation_id, inbound_id in pairs:
        enqueueing.enqueue_reply(schema, conversation_id, inbound_id)
    return len(pairs)


@shared_task
def deliver_task(message_id: int) -> str:
    outcome = message_deliver(message_id)
    if outcome.status == "retry":
        enqueueing.enqueue_delivery(current_schema(), message_id, countdown=outcome.countdown)
    return outcome.status


@shared_task
def sweep_conversations() -> dict[str, int]:
    """Visit every seller: unanswered messages, stuck deliveries, idle handoffs."""
    from sellers.selectors import active_seller_schemas

    totals = {"replies": 0, "deliveries": 0, "resumed": 0}
    for schema in active_seller_schemas():
        with schema_context(schema):
            result = sweep()
        totals["replies"] += result.replies
        totals["deliveries"] += result.deliveries
        totals["resumed"] += result.resumed
    return totals
