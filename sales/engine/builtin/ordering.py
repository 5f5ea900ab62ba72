"""Taking the order's items: chosen by text or by the bot's own buttons, edited (size, colour,
quantity, a second product, several in one message, removing one). The details are taken by
sales.engine.builtin.details, the questions asked by sales.engine.builtin.questions.

A draft order exists only once a product and its variant are chosen; details the customer gives
before that are kept in the dialogue's memory and applied when it starts.
"""

from __future__ import annotations

from sales.engine.builtin.details import apply_details
from sales.engine.builtin.questions import ask_variant
from sales.engine.builtin.selling import ask_which, in_stock
from sales.engine.builtin.turn import Answer, conversation_of, items_of, open_order
from sales.geo import phone_in_text
from sales.models import Order, OrderItem, Product, Variant
from sales.services.orders import (
    OrderError,
    OutOfStock,
    order_draft_for,
    order_keep_promise,
    order_set_item,
    order_set_status,
)
from sales.understanding.catalog import variant_in, variant_label, variant_numbers, variants_named
from sales.understanding.lexicon import SIZE_WORDS


def draft_with(turn: Answer, product: Product, variant: Variant, *, quantity: int) -> Order:
    """Put `quantity` of `variant` in the open order, starting it (with the details and the
    discount given before) when there is none."""
    order = open_order(turn)
    if order is None:
        order = order_draft_for(conversation=conversation_of(turn))
        details = turn.memory.pending.get("details") or {}
        if details:
            apply_details(turn, order, details, quiet=True)
            order.refresh_from_db()
    order = order_set_item(order=order, variant=variant, quantity=quantity)
    order = order_keep_promise(order=order)
    turn.memory.keep(details=None, variant=None, variants=None)
    turn.memory.choose(product)
    turn.order = order
    turn.progressed = True
    return order


# --- Items -----------------------------------------------------------------------------------


def _chosen_variant(turn: Answer, product: Product, current: Variant | None = None) -> Variant | None:
    choice = turn.memory.choice
    available = in_stock(product)
    if choice is not None and choice["kind"] == "variant":
        return next((v for v in available if v.pk == choice["value"]), None)
    ranked = variants_named(turn.context.text, available, reading=turn.reading)
    if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return ranked[0][1]
    if len(available) == 1:
        return available[0]
    tied = [variant for score, variant in ranked if score == ranked[0][0]] if ranked else available
    # Among the variants the message leaves open: the one asked about before, else the one
    # that keeps what the order's item already has ("Non plutôt 42" keeps the colour).
    remembered = turn.memory.pending.get("variant")
    for variant in tied:
        if variant.pk == remembered:
            return variant
    asked_about = set(turn.memory.pending.get("variants") or ())
    if asked_about:
        among = [variant for variant in tied if variant.pk in asked_about]
        if len(among) == 1:
            return among[0]
    if ranked and current is not None:
        same = [v for v in tied if (v.colour == current.colour) or (v.size == current.size)]
        if len(same) == 1:
            return same[0]
    return None


def _quantity(turn: Answer, product: Product) -> int | None:
    """A quantity the message states; a bare small number only when it cannot be a size."""
    if turn.reading.quantity:
        return turn.reading.quantity
    if phone_in_text(turn.context.text):
        return None  # the digits are a phone number's
    taken = variant_numbers(list(product.variants.all()), product)
    numbers = [n for n in turn.reading.bare_numbers if 1 <= n <= 20 and n not in taken]
    if not numbers:
        return None
    tokens = turn.reading.tokens
    only_number = len([t for t in tokens if t.text not in SIZE_WORDS]) == 1
    # "nheb 2 beige", "bghit 2", "نحب 3 خضرين": a number that is no size, beside a want or a colour.
    if (only_number and turn.memory.question == "quantity") or turn.reading.weakly("order") or turn.reading.colours:
        return numbers[0]
    return None


def take_items(turn: Answer, *, wants: bool) -> bool:
    """Items the message adds, changes or removes. True when it did something or asked."""
    intents = turn.intents
    order = open_order(turn)
    items = items_of(order)
    if "remove" in intents and "add" not in intents and items:
        return _remove(turn, order, items)
    if (wants or "add" in intents or items) and _several_items(turn, turn.product_in_play, items):
        return True
    if turn.ambiguous:
        ask_which(turn, turn.ambiguous)
        return True
    product = turn.product_in_play
    if product is None:
        return False
    in_order = [item for item in items if item.variant is not None and item.variant.product_id == product.pk]
    choice = turn.memory.choice
    answering = turn.memory.question == "variant" or (choice is not None and choice["kind"] in ("variant", "order"))
    if not (wants or answering or in_order or "add" in intents):
        return False
    available = in_stock(product)
    name = product.display_name(turn.names)
    if not available:
        turn.say("out", name=name)
        return True
    variant = _chosen_variant(turn, product, in_order[-1].variant if in_order else None)
    quantity = _quantity(turn, product)
    if variant is None:
        if in_order and quantity:
            return _set_quantity(turn, order, in_order[-1], quantity)
        if in_order and not ("add" in intents or wants):
            return False
        turn.memory.choose(product)
        if not turn.asked:
            ask_variant(turn, product)
        return True
    try:
        if in_order and "add" not in intents:
            current = in_order[-1]
            if current.variant_id != variant.pk:
                assert order is not None and current.variant is not None
                order_set_item(order=order, variant=current.variant, quantity=0)
                draft_with(turn, product, variant, quantity=quantity or current.quantity)
                turn.say("item_changed", name=name, options=variant_label(variant, turn.language))
                return True
            if quantity and quantity != current.quantity:
                return _set_quantity(turn, order, current, quantity)
            return False
        had_items = bool(items)
        draft_with(turn, product, variant, quantity=quantity or 1)
        if had_items:
            turn.say("item_added", quantity=quantity or 1, name=name, options=variant_label(variant, turn.language))
    except OutOfStock as error:
        turn.say("out_of_stock_order", name=name, count=error.available)
    except OrderError:
        turn.say("out", name=name)
    return True


CONJUNCTIONS = frozenset(
    {"w", "wa", "et", "and", "plus", "و", "مع", "avec", "m3a", "juste", "seulement", "ghir", "only"}
)


def message_parts(turn: Answer) -> list[str]:
    """The message cut at its conjunctions ("w", "et", "and", "و")."""
    tokens = turn.reading.tokens
    cuts = [i for i, token in enumerate(tokens) if token.text in CONJUNCTIONS]
    parts, start = [], 0
    for cut in [*cuts, len(tokens)]:
        if cut > start:
            parts.append(turn.context.text[tokens[start].start : tokens[cut - 1].end])
        start = cut + 1
    return parts


def _several_items(turn: Answer, product: Product | None, items: list[OrderItem]) -> bool:
    """ "nheb 2 beige w wa7ed k7el", "un survêtement M gris et des baskets 41": one item per part
    of the message that names its own variant (of its own product, or of the one in play)."""
    from sales.understanding.catalog import match_products
    from sales.understanding.reading import Reading

    parts = message_parts(turn)
    if len(parts) < 2:
        return False
    wanted: list[tuple[Product, Variant, int]] = []
    for part in parts:
        reading = Reading(part)
        matches = match_products(part, 2, reading=reading)
        own = matches[0].product if len(matches) == 1 else product
        if own is None:
            continue
        available = in_stock(own)
        named = variant_in(part, available, reading=reading)
        if named is None:
            continue
        quantity = reading.quantity or next(
            (n for n in reading.bare_numbers if 1 <= n <= 20 and n not in variant_numbers(available, own)), 1
        )
        wanted.append((own, named, quantity))
    if len({variant.pk for _, variant, _ in wanted}) < 2:
        return False
    if items and "add" not in turn.intents:
        # "make it one 100 ml and one 50 ml": the items of these products become exactly these.
        products = {own.pk for own, _, _ in wanted}
        order = open_order(turn)
        for item in items:
            if order is not None and item.variant is not None and item.variant.product_id in products:
                order_set_item(order=order, variant=item.variant, quantity=0)
    elif items:
        return False
    for own, variant, quantity in wanted:
        try:
            draft_with(turn, own, variant, quantity=quantity)
        except OutOfStock as error:
            turn.say("out_of_stock_order", name=own.display_name(turn.names), count=error.available)
    if len({own.pk for own, _, _ in wanted}) > 1:
        turn.memory.choose(None)  # several products: none is "the" one any more
    return True


def _set_quantity(turn: Answer, order: Order | None, item: OrderItem, quantity: int) -> bool:
    assert order is not None and item.variant is not None
    name = item.variant.product.display_name(turn.names)
    try:
        turn.order = order_set_item(order=order, variant=item.variant, quantity=quantity)
        turn.progressed = True
        turn.say("item_changed", name=name, options=f"{quantity} × {variant_label(item.variant, turn.language)}")
    except OutOfStock as error:
        turn.say("out_of_stock_order", name=name, count=error.available)
    except OrderError:
        turn.say("out", name=name)
    return True


def _remove(turn: Answer, order: Order | None, items: list[OrderItem]) -> bool:
    assert order is not None
    targets = []
    named = {match.product.pk for match in turn.matches}
    parts = message_parts(turn)
    if len(parts) > 1:  # "enlevez les baskets, juste le survêtement": only the part that removes
        from sales.understanding.catalog import match_products
        from sales.understanding.reading import Reading

        removing = [part for part in parts if "remove" in Reading(part).intents]
        if removing:
            named = {match.product.pk for part in removing for match in match_products(part, 3)}
    for item in items:
        if item.variant is None:
            continue
        if item.variant.product_id in named:
            targets.append(item)
    if not targets:
        by_variant = variant_in(
            turn.context.text, [item.variant for item in items if item.variant], reading=turn.reading
        )
        targets = [item for item in items if by_variant is not None and item.variant_id == by_variant.pk]
    if not targets and len(items) == 1:
        targets = items
    if not targets:
        return False
    for item in targets:
        assert item.variant is not None
        order = order_set_item(order=order, variant=item.variant, quantity=0)
        turn.say("removed", name=item.variant.product.display_name(turn.names))
    turn.progressed = True
    turn.order = order
    if not order.items.exists():
        order_set_status(order=order, status=Order.Status.CANCELLED, by="customer", note="emptied by the customer")
        turn.order = None
        turn.memory.choose(None)
        turn.say("order_empty")
        ask_which(turn, key="ask_items")
    return True
