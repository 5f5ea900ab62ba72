"""What a message carries beyond its text, in neutral types: the engine returns them, the
message path stores them, each channel renders them its own way (a Messenger carousel, a
widget card, plain text on WhatsApp). No wire protocol here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductCard:
    product_id: int
    title: str
    price: int
    in_stock: bool
    image_url: str = ""
    subtitle: str = ""


@dataclass(frozen=True)
class Choice:
    """What a customer picked from a button or a quick reply rather than typed: a product, a
    variant of it, "order" it, or "talk to a person". Channels parse their payloads into this
    (`choice_from_payload`) and the engine reads it beside the text."""

    kind: str  # one of CHOICE_KINDS
    product_id: int | None = None
    variant: str = ""
    value: str = ""  # the payload itself, for "other"

    def as_data(self) -> dict[str, object]:
        return {"kind": self.kind, "product_id": self.product_id, "variant": self.variant, "value": self.value}


CHOICE_KINDS = ("product", "variant", "order", "person", "catalog", "my_order", "start", "other")
# Payloads of the channels' menus (Messenger's persistent menu and get-started button,
# Instagram's ice breakers).
MENU_PAYLOADS = {"PRODUCTS": "catalog", "MY_ORDER": "my_order", "GET_STARTED": "start"}
# The payloads the shop's own buttons carry (cards, quick replies, the persistent menu):
# ORDER:<product id>, DETAILS:<product id>, VARIANT:<product id>:<variant>, PERSON.
_PREFIXES = {"ORDER": "order", "DETAILS": "product", "PRODUCT": "product", "VARIANT": "variant"}


def choice_payload(kind: str, product_id: int | None = None, variant: str = "") -> str:
    """The payload a button of the shop carries for a choice (the inverse of `choice_from_payload`)."""
    if kind == "person":
        return "PERSON"
    if kind == "variant":
        return f"VARIANT:{product_id}:{variant}"
    return f"{'ORDER' if kind == 'order' else 'DETAILS'}:{product_id}"


def choice_from_payload(payload: str) -> Choice | None:
    """The customer's choice from a payload of one of the shop's buttons; "other" for anything
    else a channel sends (Meta's get-started payload, an ice breaker), None for nothing."""
    payload = (payload or "").strip()[:1000]
    if not payload:
        return None
    if payload.upper() in ("PERSON", "HUMAN", "TALK_TO_PERSON"):
        return Choice(kind="person")
    if payload.upper() in MENU_PAYLOADS:
        return Choice(kind=MENU_PAYLOADS[payload.upper()], value=payload.upper())
    head, _sep, rest = payload.partition(":")
    kind = _PREFIXES.get(head.upper())
    if kind is not None:
        product, _sep, variant = rest.partition(":")
        if product.isdigit() and 0 < int(product) < 2**63:
            return Choice(kind=kind, product_id=int(product), variant=variant[:100] if kind == "variant" else "")
    return Choice(kind="other", value=payload)
