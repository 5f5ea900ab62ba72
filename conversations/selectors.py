"""Reads of conversations and messages, and the shapes they take in live events and APIs."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from conversations.models import Conversation, Customer, Message

HISTORY_LIMIT = 20


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "quick_replies": message.quick_replies,
        "cards": message.cards,
        "status": message.status,
        "error": message.error,
        "media_kind": message.media_kind,
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


def latest_inbound(conversation: Conversation) -> Message | None:
    return conversation.messages.filter(direction=Message.Direction.IN).order_by("-id").first()


def recent_history(conversation: Conversation, limit: int = HISTORY_LIMIT) -> list[Message]:
    return list(reversed(conversation.messages.order_by("-id")[:limit]))


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


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    customers = Customer.objects.exclude(conversations__is_sandbox=True).prefetch_related("identities")
    query = " ".join(query.split())[:100]
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(phone__icontains=query.replace(" ", "")))
    return customers.order_by("-last_seen_at", "-pk")


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
