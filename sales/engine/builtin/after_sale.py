"""After the order, and the messages that are not about buying: "where is my order?", a
complaint, an opt-out, a cancellation, a request for a person."""

from __future__ import annotations

from sales.engine.builtin.turn import Answer, conversation_of
from sales.models import Order


def latest_order(turn: Answer) -> Order | None:
    """The customer's latest order past the draft: this conversation's, or the customer's own
    (a customer recognised by the channel, never by a number typed in the chat)."""
    orders = Order.objects.exclude(status=Order.Status.DRAFT).prefetch_related("items")
    own = orders.filter(conversation_id=turn.context.conversation_id).order_by("-created_at").first()
    if own is not None or turn.context.customer_id is None:
        return own
    return orders.filter(customer_id=turn.context.customer_id).order_by("-created_at").first()


def track(turn: Answer) -> bool:
    """The customer's latest order and its status. False when there is none to tell of."""
    order = latest_order(turn)
    if order is None:
        return False
    items = ", ".join(f"{item.quantity} × {item.product_name}" for item in order.items.all())
    turn.say("track", reference=order.reference, items=items, status=turn_status(turn, order))
    if order.status == Order.Status.AWAITING:
        from sales.engine.builtin.questions import summary

        summary(turn, order)
    return True


def turn_status(turn: Answer, order: Order) -> str:
    from sales.engine.texts import say

    return say(f"status_{order.status}", turn.language)


def complaint(turn: Answer) -> None:
    turn.say("complaint")
    turn.handoff_reason = "complaint"


def opt_out(turn: Answer) -> None:
    """Recorded on the customer and the channel (no proactive message after it), acknowledged."""
    from conversations.customers import customer_opt_out

    customer_opt_out(conversation=conversation_of(turn))
    turn.say("optout_ack")
    turn.memory.answered()


def cancel(turn: Answer) -> None:
    from sales.services.orders import order_set_status

    order = turn.order
    if order is not None and order.status in (Order.Status.DRAFT, Order.Status.AWAITING):
        order_set_status(order=order, status=Order.Status.CANCELLED, by="customer", note="cancelled in the chat")
        turn.order = None
        turn.memory.choose(None)
        turn.memory.answered()
        turn.say("cancelled")
        return
    latest = latest_order(turn)
    if latest is not None and latest.status == Order.Status.CONFIRMED:
        turn.say("cancel_handoff", reference=latest.reference)
        turn.handoff_reason = "cancel_request"
        return
    turn.say("nothing_to_cancel")


def person(turn: Answer) -> None:
    turn.hand_off("customer_asked", "human_handoff")
