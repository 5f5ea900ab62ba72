"""One answer being composed, and what the seller's intensity allows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from conversations.content import ProductCard
from sales.engine.base import EngineContext, EngineReply
from sales.engine.texts import say
from sales.models import Order, OrderItem, Product
from sales.understanding.catalog import Match, match_products, product_word_tokens
from sales.understanding.reading import Reading

if TYPE_CHECKING:
    from conversations.models import Conversation
    from sales.engine.builtin.state import Memory


@dataclass(frozen=True)
class Intensity:
    """What an intensity level allows (see docs/architecture.md, "Sales engine")."""

    urgency: bool  # mention low stock and promotion end dates (only when true)
    social_proof: bool  # mention real order counts of the week
    offer_after_objections: int  # the objection after which a discount is offered (0: never)
    offer_share: float  # share of the seller's maximum offered unasked
    suggestions: int  # related products suggested with an answer


INTENSITY = {
    "gentle": Intensity(urgency=False, social_proof=False, offer_after_objections=2, offer_share=0.5, suggestions=0),
    "balanced": Intensity(urgency=True, social_proof=True, offer_after_objections=1, offer_share=0.5, suggestions=1),
    "aggressive": Intensity(urgency=True, social_proof=True, offer_after_objections=1, offer_share=1.0, suggestions=2),
}
FEW_LEFT = 3
SOCIAL_PROOF_MIN = 3

# Questions: asking one counts towards "never the same question three times".
QUESTIONS = frozenset(
    {"which", "which_of", "which_wilaya", "ask_variant", "ask_items", "ask_customer_name", "ask_phone", "ask_wilaya",
     "ask_commune", "ask_address", "ask_delivery_type", "bad_phone", "bad_commune", "change_what", "summary",
     "hesitation", "confirm_place", "unknown", "unknown_again", "catalog", "order_empty"}
)  # fmt: skip


def name_language(language: str) -> str:
    """The language of product names for an answer form (Arabic script → Arabic names)."""
    return "ar" if language in ("ar", "msa") else language if language in ("fr", "en") else "fr"


def product_card(product: Product, language: str) -> ProductCard:
    image = next(iter(product.images.all()), None)
    return ProductCard(
        product_id=product.pk,
        title=product.display_name(name_language(language)),
        price=product.price,
        in_stock=any(variant.stock > 0 for variant in product.variants.all()),
        image_url=image.image.url if image else "",
    )


class Answer:
    """One answer being composed: its lines, buttons, cards, and what this turn did."""

    def __init__(
        self, context: EngineContext, language: str, reading: Reading, memory: Memory, order: Order | None
    ) -> None:
        self.context = context
        self.language = language
        self.reading = reading
        self.memory = memory
        self.order = order
        self.rules = INTENSITY.get(context.intensity, INTENSITY["balanced"])
        self.lines: list[str] = []
        self.quick_replies: list[str] = []
        self.offers: list[tuple[str, str, object]] = []  # (label, kind, value) of each button
        self.cards: list[ProductCard] = []
        self.handoff_reason = ""
        self.asked = False  # a question to the customer is in the answer already
        self.progressed = False  # something was taken or answered: a repeated question is no failure

    @property
    def intents(self) -> set[str]:
        return self.reading.intents

    @property
    def names(self) -> str:
        return name_language(self.language)

    # --- What the customer means -------------------------------------------------------------

    @cached_property
    def matches(self) -> list[Match]:
        """The catalog's products the customer's message names (the best and those tied with it)."""
        return match_products(self.context.text, reading=self.reading)

    @cached_property
    def product_tokens(self) -> frozenset[int]:
        """Tokens of the message that are words of a named product (never a place or a name)."""
        return product_word_tokens(self.reading, [match.product for match in self.matches])

    @cached_property
    def chosen(self) -> Product | None:
        """The product the customer chose in this message: a button, or one product named."""
        choice = self.memory.choice
        if choice is not None and choice["kind"] == "product":
            return Product.objects.live().filter(pk=choice["value"]).prefetch_related("variants", "images").first()
        if len(self.matches) == 1:
            return self.matches[0].product
        remembered = self.memory.product
        if remembered is not None and any(match.product.pk == remembered.pk for match in self.matches):
            return remembered
        return None

    @property
    def ambiguous(self) -> list[Product]:
        """Products tied for what the customer named (asked back as a choice)."""
        return [match.product for match in self.matches] if len(self.matches) > 1 and self.chosen is None else []

    @cached_property
    def product_in_play(self) -> Product | None:
        """The product under discussion: chosen now, else the one the customer chose before,
        else the only product of the open order. Never a product the bot mentioned."""
        if self.chosen is not None:
            return self.chosen
        if self.memory.product is not None:
            return self.memory.product
        if self.order is not None:
            products = {item.variant.product_id for item in self.order.items.all() if item.variant is not None}
            if len(products) == 1:
                return Product.objects.filter(pk=products.pop()).prefetch_related("variants", "images").first()
        return self.memory.product_from_customer_history(self.context)

    # --- Composing -----------------------------------------------------------------------------

    def say(self, key: str, **values: object) -> None:
        self.asked = self.asked or key in QUESTIONS or key.startswith("ask_")
        self.lines.append(say(key, self.language, **values))

    def offer(self, label: str, kind: str, value: object = None) -> None:
        """A button, remembered so that tapping it means exactly this."""
        if label and label not in self.quick_replies:
            self.quick_replies.append(label)
            self.offers.append((label, kind, value))

    def hand_off(self, reason: str, key: str = "unsure_handoff") -> None:
        self.say(key)
        self.handoff_reason = reason

    def reply(self, engine: str) -> EngineReply:
        self.memory.offered(self.offers[:5])
        return EngineReply(
            text="\n".join(line for line in self.lines if line),
            quick_replies=tuple(self.quick_replies)[:5],
            cards=tuple(self.cards[:3]),
            handoff=bool(self.handoff_reason),
            handoff_reason=self.handoff_reason,
            engine=engine,
        )


def conversation_of(turn: Answer) -> Conversation:
    from conversations.models import Conversation

    return Conversation.objects.select_related("customer").get(pk=turn.context.conversation_id)


def open_order(turn: Answer) -> Order | None:
    """The conversation's order while it can still change (draft or awaiting confirmation)."""
    order = turn.order
    return order if order is not None and order.status in Order.OPEN_STATUSES else None


def items_of(order: Order | None) -> list[OrderItem]:
    if order is None:
        return []
    return list(order.items.select_related("variant__product").order_by("pk"))
