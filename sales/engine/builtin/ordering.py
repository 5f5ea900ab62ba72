"""Taking the order: items chosen by text or by the bot's own buttons, edits (size, colour,
quantity, a second product, removing one, the address, the wilaya, the delivery type), the
details asked one at a time, the summary of exactly what will be sent, and the confirmation.

A draft order exists only once a product and its variant are chosen; details the customer gives
before that are kept in the dialogue's memory and applied when it starts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from sales.engine.builtin.selling import ask_which, in_stock, order_is_open
from sales.engine.builtin.state import MAX_ASKS
from sales.engine.builtin.turn import Answer
from sales.engine.texts import money, say
from sales.geo import _communes, phone_in_text, wilaya_by_number
from sales.models import Order, OrderItem, Product, Variant
from sales.selectors import served_rate
from sales.services.orders import (
    DraftChanges,
    OrderError,
    OutOfStock,
    order_confirm,
    order_draft_for,
    order_keep_promise,
    order_missing,
    order_set_item,
    order_set_status,
    order_submit,
    order_update_draft,
)
from sales.understanding.catalog import NEGATIONS, variant_in, variant_label, variant_numbers, variants_named
from sales.understanding.lexicon import SIZE_WORDS
from sales.understanding.places import (
    CORRECTIONS,
    PLACE_WORDS,
    commune_anywhere,
    commune_named,
    wilaya_named,
)

if TYPE_CHECKING:
    from conversations.models import Conversation

DETAIL_FIELDS = ("customer_name", "phone", "wilaya", "commune", "address", "delivery_type")
ADDRESS_MARKERS = frozenset(
    """cite rue hay 7ay hai 7ouma houma lot lotissement bloc bt bat batiment immeuble residence villa n num numero
    route avenue
    boulevard bd quartier logements logts log cooperative pres derriere jnb""".split()
) | frozenset({"حي", "شارع", "عمارة", "رقم", "طريق", "تجزئة", "مسكن", "قرب", "السكنات", "فيلا"})


def conversation_of(turn: Answer) -> Conversation:
    from conversations.models import Conversation

    return Conversation.objects.select_related("customer").get(pk=turn.context.conversation_id)


def open_order(turn: Answer) -> Order | None:
    return turn.order if order_is_open(turn.order) else None


def items_of(order: Order | None) -> list[OrderItem]:
    if order is None:
        return []
    return list(order.items.select_related("variant__product").order_by("pk"))


def draft_with(turn: Answer, product: Product, variant: Variant, *, quantity: int) -> Order:
    """Put `quantity` of `variant` in the open order, starting it (with the details and the
    discount given before) when there is none."""
    order = open_order(turn)
    if order is None:
        order = order_draft_for(conversation=conversation_of(turn))
        details = turn.memory.pending.get("details") or {}
        if details:
            _apply(turn, order, details, quiet=True)
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


# --- Details ---------------------------------------------------------------------------------


INTERJECTIONS = frozenset("hmm hm hmmm euh heu bah ben bon ah oh eh aha haha hhh lol mdr ok okk".split())


def looks_like_a_name(words: list[str]) -> bool:
    """Words a person is called by: letters, a vowel in Latin script, no interjection."""
    if not words or len(" ".join(words)) < 2:
        return False
    for word in words:
        lowered = word.lower()
        if lowered in INTERJECTIONS:
            return False
        if lowered.isascii() and not re.search(r"[aeiouy]", lowered):
            return False
    return True


def _name_given(turn: Answer, expecting: str | None, taken: frozenset[int] = frozenset()) -> str:
    reading = turn.reading
    if expecting == "customer_name":
        if not taken:
            name = reading.name()
            if name:
                return name
        # "Amina Benali 0550 12 34 56 Sétif": the words before the first number or place, when
        # none of them says something else ("la khalih wa7da berk" is no name).
        # "ابعثهالي، ياسين عثماني 0698…": the first run of words that say nothing else.
        words: list[str] = []
        for index, token in enumerate(reading.tokens):
            if token.script == "digits" or index in taken or len(words) == 4:
                break
            said = index in reading.lexicon_tokens or index in reading.phrase_tokens
            if said or token.text in ("ana", "je", "moi", "my", "name", "is", "انا", "اسمي", "smiti", "esmi"):
                if words:
                    break
                continue
            words.append(token.original)
        return " ".join(words) if looks_like_a_name(words) else ""
    if reading.name_tokens:
        return reading.name()
    return ""


def take_details(turn: Answer, expecting: str | None) -> bool:
    """Phone, name, wilaya, commune, address and delivery type the message gives. True when it
    gave something new or a problem was answered (a bad phone, an unknown commune, a place to
    confirm)."""
    reading = turn.reading
    text = turn.context.text
    order = open_order(turn)
    current = _current_details(turn, order)
    changes: dict[str, Any] = {}
    phone = phone_in_text(text)
    phone_tokens = frozenset(i for i, t in enumerate(reading.tokens) if t.script == "digits" and len(t.text) >= 2)
    if phone:
        changes["phone"] = phone
    elif expecting == "phone" and sum(ch.isdigit() for ch in text) >= 4:
        turn.say("bad_phone")
        return True
    if "home" in turn.intents and "desk" not in turn.intents:
        changes["delivery_type"] = Order.DeliveryType.HOME
    elif "desk" in turn.intents and "home" not in turn.intents:
        changes["delivery_type"] = Order.DeliveryType.DESK
    exclude = turn.product_tokens | (phone_tokens if phone else frozenset())
    # A near spelling is proposed only where a place was asked for (never a family name).
    may_confirm = expecting in ("wilaya", "commune")
    known = current.get("wilaya")
    # When a name is asked, a wilaya written plainly is still a wilaya ("annaba el bouni").
    wilaya_hit = wilaya_named(reading, asked=expecting == "wilaya", exclude=exclude, names=expecting != "customer_name")
    if wilaya_hit is not None and expecting == "customer_name" and not wilaya_hit.certain:
        wilaya_hit = None
    commune_first = None
    if wilaya_hit is not None and not wilaya_hit.certain and known:
        commune_first = commune_named(reading, int(known), asked=expecting == "commune", exclude=exclude)
    if wilaya_hit is not None and commune_first is None:
        if not wilaya_hit.certain:
            before = reading.tokens[wilaya_hit.start - 1].text if wilaya_hit.start else ""
            if may_confirm or before in PLACE_WORDS | NEGATIONS | CORRECTIONS:  # "non plutôt Jigel", "f Stiif"
                return confirm_place(turn, "wilaya", wilaya_hit.place.number, wilaya_hit.place.name(turn.names))
            wilaya_hit = None
        elif wilaya_hit.place.number != known:
            changes["wilaya"] = wilaya_hit.place.number
    if wilaya_hit is None and commune_first is None and not known:
        # "ras el oued, bordj", "Hassi Messaoud": a commune only one wilaya has gives its wilaya.
        anywhere = commune_anywhere(reading, exclude=exclude)
        if anywhere is not None:
            changes["wilaya"] = anywhere.place.number
    wilaya = changes.get("wilaya") or known
    place_tokens: set[int] = set(wilaya_hit.span) if wilaya_hit is not None else set()
    if wilaya:
        # The wilaya's own name names its chief town only when the commune was asked and the
        # wilaya did not change in this message ("Sétif" then "Sétif").
        keep_name = expecting == "commune" and "wilaya" not in changes
        around = exclude if keep_name else exclude | frozenset(place_tokens)
        if expecting == "customer_name" and wilaya_hit is None:
            around |= reading.name_tokens
        commune_hit = commune_first or commune_named(
            reading, int(wilaya), asked=expecting == "commune", exclude=around, names=expecting != "customer_name"
        )
        if commune_hit is not None and not commune_hit.certain and not may_confirm:
            commune_hit = None
        if commune_hit is not None:
            if not commune_hit.certain:
                return confirm_place(turn, "commune", commune_hit.place.name_fr, commune_hit.place.name(turn.names))
            place_tokens.update(commune_hit.span)
            if commune_hit.place.name_fr != current.get("commune"):
                changes["commune"] = commune_hit.place.name_fr
        elif expecting == "commune" and not changes and not current.get("commune"):
            place = wilaya_by_number(int(wilaya))
            ask(turn, "commune", bad=True, wilaya=place.name(turn.names) if place else "")
            return True
    # A phone number given with words before it, while the order has no name: those words are
    # the name ("ياسين عثماني 0698…", "Walid Boukhalfa, 0770…").
    name_expected = expecting == "customer_name" or (phone is not None and not current.get("customer_name"))
    name = _name_given(
        turn,
        "customer_name" if name_expected else expecting,
        frozenset(place_tokens) | (phone_tokens if phone else frozenset()),
    )
    if name and name != current.get("customer_name"):
        changes["customer_name"] = name
    address = _address_given(turn, expecting, changes)
    if address and address != current.get("address"):
        changes["address"] = address
    changes = {key: value for key, value in changes.items() if value != current.get(key)}
    if not changes:
        return False
    if order is None:
        details = dict(turn.memory.pending.get("details") or {})
        details.update(changes)
        turn.memory.keep(details=details)
        turn.progressed = True
        return True
    return _apply(turn, order, changes)


def _current_details(turn: Answer, order: Order | None) -> dict[str, Any]:
    if order is None:
        return dict(turn.memory.pending.get("details") or {})
    return {
        "customer_name": order.customer_name, "phone": str(order.phone) if order.phone else "",
        "wilaya": order.wilaya, "commune": order.commune, "address": order.address,
        "delivery_type": order.delivery_type,
    }  # fmt: skip


def _address_given(turn: Answer, expecting: str | None, changes: dict[str, Any]) -> str:
    text = turn.context.text.strip()
    words = {token.text for token in turn.reading.tokens}
    if words & ADDRESS_MARKERS and not changes.get("phone"):
        return text[:300]
    strong = turn.intents - {"yes", "no", "home", "desk", "add", "change"}
    # The address asked for: the whole message (an address often names its commune), unless
    # it only corrects something else.
    if expecting == "address" and not strong and len(text) >= 3 and not changes.keys() & {"phone", "wilaya"}:
        return text[:300]
    return ""


def _apply(turn: Answer, order: Order, values: dict[str, Any], *, quiet: bool = False) -> bool:
    changes = DraftChanges(**{key: values[key] for key in DETAIL_FIELDS if key in values})
    try:
        turn.order = order_update_draft(order=order, changes=changes)
        turn.progressed = True
    except ValidationError as error:
        if quiet:
            return False
        fields = set(getattr(error, "message_dict", {}))
        if "phone" in fields:
            turn.say("bad_phone")
        elif "commune" in fields and order.wilaya:
            place = wilaya_by_number(order.wilaya)
            ask(turn, "commune", bad=True, wilaya=place.name(turn.names) if place else "")
        return True
    return True


def confirm_place(turn: Answer, kind: str, value: object, label: str) -> bool:
    turn.memory.keep(confirm={"kind": kind, "value": value})
    count = turn.memory.ask(f"confirm_{kind}", progressed=False)
    if count > MAX_ASKS:
        turn.hand_off("repeated_question", "repeated_handoff")
        return True
    turn.say("confirm_place", place=label)
    turn.offer(say("yes", turn.language), "yes")
    turn.offer(say("no", turn.language), "no")
    return True


def settle_confirmation(turn: Answer) -> bool | None:
    """The customer's answer to "Sétif, c'est bien ça ?": True (taken), False (refused: asked
    again), None (no confirmation pending, or the customer said something else)."""
    pending = turn.memory.pending.get("confirm")
    if not pending:
        return None
    choice = turn.memory.choice
    yes = (choice is not None and choice["kind"] == "yes") or ("yes" in turn.intents and "no" not in turn.intents)
    no = (choice is not None and choice["kind"] == "no") or ("no" in turn.intents and "yes" not in turn.intents)
    turn.memory.keep(confirm=None)
    if not (yes or no):
        return None
    if no:
        ask(turn, pending["kind"])
        return False
    values = {pending["kind"]: pending["value"]}
    order = open_order(turn)
    if order is None:
        details = dict(turn.memory.pending.get("details") or {})
        details.update(values)
        turn.memory.keep(details=details)
        turn.progressed = True
    else:
        _apply(turn, order, values)
    return True


# --- One question at a time ---------------------------------------------------------------------


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
        communes = _communes(int(number)) if number else ()
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
            from sales.models import DeliveryRate

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
    from sales.engine.builtin.selling import offer_products

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
