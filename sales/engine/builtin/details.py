"""The order's details as customers give them: name, phone, wilaya, commune, address and
delivery type, several in one message or one at a time; a place one typo away is confirmed
before it is taken. Given before an order exists, they wait in the dialogue's memory."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from sales.engine.builtin.questions import ask
from sales.engine.builtin.state import MAX_ASKS
from sales.engine.builtin.turn import Answer, open_order
from sales.engine.texts import say
from sales.geo import phone_in_text, wilaya_by_number
from sales.models import Order
from sales.services.orders import DraftChanges, order_update_draft
from sales.understanding.lexicon import CORRECTIONS, NEGATIONS
from sales.understanding.places import PLACE_WORDS, commune_anywhere, commune_named, wilaya_named

DETAIL_FIELDS = ("customer_name", "phone", "wilaya", "commune", "address", "delivery_type")


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
    return apply_details(turn, order, changes)


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
    if turn.reading.looks_like_address and not changes.get("phone"):
        return text[:300]
    strong = turn.intents - {"yes", "no", "home", "desk", "add", "change"}
    # The address asked for: the whole message (an address often names its commune), unless
    # it only corrects something else.
    if expecting == "address" and not strong and len(text) >= 3 and not changes.keys() & {"phone", "wilaya"}:
        return text[:300]
    return ""


def apply_details(turn: Answer, order: Order, values: dict[str, Any], *, quiet: bool = False) -> bool:
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
        apply_details(turn, order, values)
    return True
