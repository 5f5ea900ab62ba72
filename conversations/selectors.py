"""Reads of conversations and messages, and the shapes they take in live events and APIs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from conversations import statements as sql
from conversations.models import Conversation, Customer, MergeSuggestion, Message
from conversations.reasons import send_failure_label
from ma5zani.db import fetch_one

HISTORY_LIMIT = 20


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": message.direction,
        "author": message.author,
        "text": message.display_text,  # a system note in the active language
        "quick_replies": message.quick_replies,
        "cards": message.cards,
        "status": message.status,
        "error": send_failure_label(message.error),
        "media_kind": message.media_kind,
        "media_url": message.media_link,
        "reaction": message.reaction,
        "deleted": message.deleted_at is not None,
        "created_at": message.created_at.isoformat(),
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "customer": str(conversation.customer),
        "channel": conversation.channel,
        "mode": conversation.mode,
        "handoff_reason": conversation.handoff_reason,
        "unread": conversation.unread_count,
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
    }


def conversation_list(*, mode: str = "") -> QuerySet[Conversation]:
    conversations = Conversation.objects.select_related("customer", "identity").filter(is_sandbox=False)
    if mode in Conversation.Mode.values:
        conversations = conversations.filter(mode=mode)
    return conversations.order_by("-last_message_at", "-id")


def recent_history(conversation_id: int, limit: int = HISTORY_LIMIT) -> list[Message]:
    """The conversation's latest `limit` messages, oldest first."""
    return list(Message.objects.raw(sql.HISTORY_SQL, [conversation_id, limit]))


def sender_conversation_locked(
    channel: str, channel_account_id: int, sender_id: str
) -> tuple[Conversation, dt.datetime] | None:
    """A known sender's conversation, locked for the rest of the transaction, and when its
    customer was last seen; None for a sender not seen yet."""
    params = [channel, channel_account_id, sender_id]
    conversation = next(iter(Conversation.objects.raw(sql.SENDER_CONVERSATION_SQL, params)), None)
    if conversation is None:
        return None
    return conversation, conversation.__dict__.pop("customer_last_seen_at")


@dataclass(frozen=True)
class ReplyTarget:
    """A conversation to answer and who it is with."""

    conversation: Conversation
    customer_name: str
    customer_phone: str
    recipient_id: str  # the channel's id of the customer


def reply_target(conversation_id: int) -> ReplyTarget | None:
    row = next(iter(Conversation.objects.raw(sql.REPLY_CONVERSATION_SQL, [conversation_id])), None)
    if row is None:
        return None
    extra = row.__dict__
    return ReplyTarget(row, extra.pop("customer_name"), extra.pop("customer_phone") or "", extra.pop("recipient_id"))


@dataclass(frozen=True)
class ReplySlot:
    """What decides, under the conversation's lock, whether a drafted answer may be stored."""

    mode: str
    latest_inbound_id: int | None
    latest_inbound_at: dt.datetime | None
    answered: bool  # the bot answered that message already


def reply_slot_locked(conversation_id: int) -> ReplySlot | None:
    """Lock the conversation (until the transaction ends), then read its latest customer message:
    two statements, so that the read sees what was committed while the lock was awaited."""
    locked = fetch_one(sql.REPLY_LOCK_SQL, [conversation_id])
    if locked is None:
        return None
    latest = fetch_one(sql.REPLY_SLOT_SQL, [Message.Author.BOT, conversation_id, Message.Direction.IN])
    return ReplySlot(locked[0], *(latest or (None, None, False)))


def message_lock_queued(message_id: int) -> bool:
    """Lock a message to send it (until the transaction ends): False when it is no longer
    queued, or when another worker holds it."""
    return fetch_one(sql.MESSAGE_LOCK_QUEUED_SQL, [message_id, Message.Status.QUEUED]) is not None


def stored_message(channel: str, external_id: str) -> tuple[int, int] | None:
    """(id, conversation id) of a message already stored under the channel's id."""
    row = fetch_one(sql.STORED_MESSAGE_SQL, [channel, external_id])
    return None if row is None else (row[0], row[1])


def thread_messages(conversation: Conversation, *, after: int = 0, limit: int = 200) -> list[Message]:
    return list(conversation.messages.filter(id__gt=after).order_by("id")[:limit])


# --- Customers -------------------------------------------------------------------------


def customer_by_phone(phone: str, *, exclude: int | None = None) -> Customer | None:
    """The oldest customer known by this (E.164) number."""
    if not phone:
        return None
    customers = Customer.objects.filter(phone=phone)
    if exclude is not None:
        customers = customers.exclude(pk=exclude)
    return customers.order_by("first_seen_at", "pk").first()


def customer_list(*, query: str = "", suggested: bool = False) -> QuerySet[Customer]:
    """Customers, most recently seen first; `suggested`: only those with a merge to review."""
    customers = Customer.objects.exclude(conversations__is_sandbox=True).prefetch_related("identities")
    if suggested:
        pending = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.PENDING)
        customers = customers.filter(Q(pk__in=pending.values("customer_id")) | Q(pk__in=pending.values("other_id")))
    query = " ".join(query.split())[:100]
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(phone__icontains=query.replace(" ", "")))
    return customers.order_by("-last_seen_at", "-pk")


def merge_suggestions_pending(*, customer_id: int | None = None) -> QuerySet[MergeSuggestion]:
    """Merges for the seller to review (of one customer when `customer_id` is given)."""
    suggestions = MergeSuggestion.objects.filter(status=MergeSuggestion.Status.PENDING, other__isnull=False)
    if customer_id is not None:
        suggestions = suggestions.filter(Q(customer_id=customer_id) | Q(other_id=customer_id))
    return suggestions.select_related("customer", "other").order_by("-created_at", "-pk")


def customer_summary(customer_id: int | None, limit: int = 3) -> dict[str, object]:
    """What the bot may know of a returning customer: a short summary, never the full history."""
    from sales.models import Order

    if customer_id is None:
        return {}
    sold = Order.objects.sold().filter(customer_id=customer_id)
    orders = list(sold.prefetch_related("items").order_by("-confirmed_at")[:limit])
    if not orders:
        return {}
    last = orders[0]
    return {
        "orders_count": len(orders) if len(orders) < limit else sold.count(),
        "past_orders": [
            {
                "date": order.confirmed_at.date().isoformat() if order.confirmed_at else "",
                "items": [
                    f"{item.quantity} × {item.product_name} {item.options}".strip() for item in order.items.all()
                ],
                "status": order.status,
            }
            for order in orders
        ],
        "last_delivery": {"wilaya": last.wilaya, "commune": last.commune, "delivery_type": last.delivery_type},
    }
