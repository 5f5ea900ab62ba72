"""One question at a time: the next missing detail of the order (the second time with buttons and
an example, the third time a person takes over), the variant to choose, the summary of exactly
what will be sent, the confirmation, and a summary the customer does not confirm."""

from __future__ import annotations

from typing import Any

from sales.engine.builtin.selling import ask_which, in_stock, offer_products
from sales.engine.builtin.state import MAX_ASKS
from sales.engine.builtin.turn import Answer, items_of, open_order
from sales.engine.texts import money, say
from sales.geo import communes_of, wilaya_by_number
from sales.models import DeliveryRate, Order, OrderItem, Product
from sales.selectors import served_rate
from sales.services.orders import OrderError, OutOfStock, order_confirm, order_missing, order_set_status, order_submit
from sales.understanding.catalog import variant_label


def ask_variant(turn: Answer, product: Product) -> None:
    available = in_stock(product)
    labels = [variant_label(v, turn.language) for v in available]
    name = product.display_name(turn.names)
    count = turn.memory.ask("variant", progressed=turn.progressed)
    if count > MAX_ASKS:
        turn.hand_off("repeated_question", "repeated_handoff")
        return
    if count == MAX_ASKS:
        turn.say("ask_variant_again", name=name, example=labels[0] if labels else "")
    else:
        turn.say("ask_variant", name=name, list=", ".join(labels))
    for variant, label in zip(available, labels, strict=True):
        turn.offer(label, "variant", variant.pk)


def ask(turn: Answer, field: str, *, bad: bool = False, **values: Any) -> None:
    """Ask for `field`: the first time plainly, the second time with buttons and an example,
    the third time a person takes over."""
    if field == "items":
        product = turn.product_in_play
        if product is not None and in_stock(product):
            ask_variant(turn, product)
            return
    count = turn.memory.ask(field, progressed=turn.progressed and not bad)
    if count > MAX_ASKS:
        turn.hand_off("repeated_question", "repeated_handoff")
        return
    again = count == MAX_ASKS
    language = turn.language
    order = open_order(turn)
    if field == "items":
        if again:
            _ask_items_again(turn)
        else:
            ask_which(turn, key="ask_items")
        return
    if field == "commune":
        wilaya = values.get("wilaya")
        number = order.wilaya if order is not None else turn.memory.pending.get("details", {}).get("wilaya")
        place = wilaya_by_number(int(number)) if number else None
        wilaya = wilaya or (place.name(turn.names) if place else "")
        communes = communes_of(int(number)) if number else ()
        example = communes[0].name(turn.names) if communes else ""
        if again:
            turn.say("ask_commune_again", wilaya=wilaya, example=example)
        else:
            turn.say("bad_commune" if bad else "ask_commune", wilaya=wilaya)
        return
    if field == "delivery_type":
        number = order.wilaya if order is not None else None
        rate = served_rate(number) if number else None
        home, desk = (rate.home_fee, rate.desk_fee) if rate is not None else (None, None)
        if number and home is None and desk is None:
            place = wilaya_by_number(number)
            turn.say("not_served", wilaya=place.name(turn.names) if place else "")
            turn.hand_off("not_served")
            return
        if again:
            turn.say("ask_delivery_type_again")
        else:
            turn.say(
                "ask_delivery_type",
                home=f"{money(home)} DA" if home is not None else "—",
                desk=f"{money(desk)} DA" if desk is not None else "—",
            )
        if home is not None or rate is None:
            turn.offer(say("home_choice", language), "delivery", "home")
        if desk is not None or rate is None:
            turn.offer(say("desk_choice", language), "delivery", "desk")
        return
    if field == "wilaya":
        turn.say("ask_wilaya_again" if again else "ask_wilaya")
        if again:
            for number in (
                DeliveryRate.objects.filter(is_served=True).order_by("wilaya").values_list("wilaya", flat=True)[:4]
            ):
                place = wilaya_by_number(number)
                if place is not None:
                    turn.offer(f"{place.code} {place.name(turn.names)}", "wilaya", place.number)
        return
    if field == "phone" and bad:
        turn.say("bad_phone")
        return
    turn.say(f"ask_{field}_again" if again else f"ask_{field}")


def _ask_items_again(turn: Answer) -> None:
    products = list(Product.objects.live().prefetch_related("variants", "images").order_by("-created_at")[:4])
    example = products[0].display_name(turn.names) if products else ""
    turn.say("ask_items_again", example=example)
    offer_products(turn, products)


def next_step(turn: Answer) -> None:
    """Ask for the first missing detail, or sum the order up and ask for confirmation."""
    order = open_order(turn)
    if order is None or turn.asked or turn.handoff_reason:
        return
    order.refresh_from_db()
    missing = order_missing(order)
    if missing:
        ask(turn, missing[0])
        return
    try:
        order = order_submit(order=order)
    except OrderError as error:
        if error.code == "not_served" and order.wilaya:
            place = wilaya_by_number(order.wilaya)
            turn.say("not_served", wilaya=place.name(turn.names) if place else "")
            ask(turn, "wilaya")
        return
    turn.order = order
    summary(turn, order)


def _summary_line(turn: Answer, item: OrderItem) -> str:
    """One line of what will be sent, named in the customer's language."""
    if item.variant is not None:
        name = item.variant.product.display_name(turn.names)
        options = variant_label(item.variant, turn.language)
    else:
        name, options = item.product_name, item.options
    return f"{item.quantity} × {name}{f' ({options})' if options else ''}: {money(item.line_total)}"


def summary(turn: Answer, order: Order) -> None:
    language = turn.language
    lines = "\n".join(_summary_line(turn, item) for item in items_of(order))
    place = wilaya_by_number(order.wilaya) if order.wilaya else None
    discount = (
        say("summary_discount", language, percent=order.discount_percent, amount=money(order.discount))
        if order.discount
        else ""
    )
    turn.memory.ask("summary", progressed=True)
    turn.say(
        "summary",
        lines=lines,
        delivery=say("home_word" if order.delivery_type == "home" else "desk_word", language),
        commune=order.commune,
        wilaya=place.name(turn.names) if place else "",
        fee=money(order.delivery_fee),
        discount=discount,
        total=money(order.total),
    )
    turn.offer(say("yes", language), "yes")
    turn.offer(say("no", language), "no")


def confirm(turn: Answer, order: Order) -> None:
    try:
        order = order_confirm(order=order, by="customer")
    except OutOfStock as error:
        turn.say("out_of_stock_order", name=error.variant.product.display_name(turn.names), count=error.available)
        return
    except OrderError:
        next_step(turn)
        return
    turn.order = None
    turn.memory.choose(None)
    turn.memory.answered()
    turn.say("confirmed", reference=order.reference, total=money(order.total))


def reopen(turn: Answer, order: Order) -> None:
    """The customer does not confirm the summary: the order goes back to draft."""
    turn.order = order_set_status(order=order, status=Order.Status.DRAFT, by="customer")
    turn.say("change_what")
    turn.lines.append(say("change_choices", turn.language) + ".")
    turn.offer(say("cancel_choice", turn.language), "cancel")
    turn.offer(say("talk_choice", turn.language), "talk")
