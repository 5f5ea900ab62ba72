"""Rules in code, applied to every reply whatever the engine: no discount above the seller's
maximum, and no amount that the catalog, the seller's delivery fees or the conversation's order
do not give.

Every amount and every percentage or fraction in the reply is found by `sales.engine.amounts`
(digits with any separator, number words in French, English, Arabic and Darija in both scripts,
Arabic-Indic digits, look-alike letters, "moitié prix", "نص الثمن", "b nos"...). A reply breaks
the rules when it states:
- a percentage, or a fraction ("half price" is 50 %), above the maximum discount;
- an amount that is none of: an amount of the conversation's order (subtotal, discount, fee,
  total, a line), a delivery fee of the seller, a price of a product being discussed (the
  reply's cards, products named in the reply, in the customer's message or in the last turns,
  the order's) times 1-10 with at most the maximum discount and with or without a delivery fee,
  its compare-at price, or an amount the seller wrote in an approved answer. With no product in
  the discussion, any live catalog price stands in. An amount written as a reduction ("-590 DA",
  "500 DA de remise") may be the order's discount, a promotion's saving (compare-at less price)
  or at most the maximum discount of one such price. "3800 seulement" for a 5000 DA product is
  an implied discount above 10 %, and is caught as an amount the catalog does not give;
- an amount in a foreign currency (the shop sells in dinars).

A reply that breaks a rule never reaches the customer: the built-in engine's answer replaces it,
and if even that fails the checks, a neutral answer hands the conversation to the seller.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Q

from sales.engine.amounts import Currency, Kind, Mention, find_mentions, spellings
from sales.engine.base import DbRunner, Engine, EngineContext, EngineReply, engine_reply_async, spent_by
from sales.models import DeliveryRate, Order, OrderItem, Product, Variant

logger = logging.getLogger(__name__)

MAX_QUANTITY = 10
# The model writes product names between « and » (its prompt says so): each must be a live
# catalog product's name; the marks are removed before the customer sees the text.
PRODUCT_MARK = re.compile(r"«\s*([^«»\n]{2,120}?)\s*»")


@dataclass(frozen=True)
class Violation:
    kind: str  # discount, price, product
    detail: str


@dataclass
class _Allowed:
    """What a reply may state, computed once per reply and only when it states an amount."""

    max_discount: int
    exact: set[int] = field(default_factory=set)  # order amounts and delivery fees
    fees: set[int] = field(default_factory=set)
    prices: set[int] = field(default_factory=set)  # prices of the products discussed
    was: set[int] = field(default_factory=set)  # their compare-at prices
    savings: set[int] = field(default_factory=set)  # compare-at less price
    discussed: bool = False

    def within_discount(self, total: int, value: int) -> bool:
        """`value` is `total` less at most the maximum discount (whatever the rounding)."""
        return 0 <= total - value <= -(-total * self.max_discount // 100)

    def price(self, value: int) -> bool:
        if value in self.exact:
            return True
        if not self.discussed:
            return _catalog_allows(value, self.max_discount, self.fees)
        for fee in (0, *self.fees):
            rest = value - fee
            if rest <= 0:
                continue
            for quantity in range(1, MAX_QUANTITY + 1):
                if any(self.within_discount(base * quantity, rest) for base in self.prices):
                    return True
                if any(base * quantity == rest for base in self.was):
                    return True
        return False

    def reduction(self, value: int) -> bool:
        """An amount off: the order's discount, a promotion's saving, or at most the maximum
        discount of one discussed product (the order's discount covers several)."""
        if value in self.exact:
            return True
        if not self.discussed:
            return _catalog_allows_reduction(value, self.max_discount)
        if any(value <= -(-base * self.max_discount // 100) for base in self.prices):
            return True
        return any(value == saving * quantity for saving in self.savings for quantity in range(1, MAX_QUANTITY + 1))


def _order_amounts(order: Order) -> set[int]:
    amounts = {order.subtotal, order.total, order.discount, order.delivery_fee, order.subtotal - order.discount}
    for item in order.items.all():
        amounts |= {item.unit_price, item.quantity * item.unit_price}
    return amounts


def _catalog_allows(value: int, max_discount: int, fees: Iterable[int] = ()) -> bool:
    """Whether `value` is a live catalog price times 1-10 (with or without a delivery fee), less
    at most the maximum discount, or a compare-at price times 1-10."""
    ranges: list[tuple[int, int]] = []
    exact: set[int] = set()
    for fee in {0, *fees}:
        rest = value - fee
        if rest <= 0:
            continue
        for quantity in range(1, MAX_QUANTITY + 1):
            # From the full price to the price that the maximum discount brings down to `rest`.
            low = -(-rest // quantity)
            high = rest * 100 // (quantity * (100 - max_discount)) + 1 if max_discount < 100 else rest
            ranges.append((low, high))
            if rest % quantity == 0:
                exact.add(rest // quantity)
    if not ranges:
        return False
    prices = Q(compare_at_price__in=exact)
    overrides = Q()
    for low, high in ranges:
        prices |= Q(price__range=(low, high))
        overrides |= Q(price_override__range=(low, high))
    candidates = set(Product.objects.live().filter(prices).values_list("price", "compare_at_price"))
    variant_prices = Variant.objects.filter(overrides, product__is_active=True, product__archived_at=None)
    allowed = _Allowed(max_discount=max_discount, fees=set(fees), discussed=True)
    overridden = variant_prices.values_list("price_override", flat=True)
    allowed.prices = {price for price, _ in candidates} | {price for price in overridden if price is not None}
    allowed.was = {was for _, was in candidates if was is not None}
    return allowed.price(value)


def _catalog_allows_reduction(value: int, max_discount: int) -> bool:
    """Whether `value` can be at most the maximum discount of some live catalog price."""
    if not max_discount:
        return False
    highest = Product.objects.live().order_by("-price").values_list("price", flat=True).first() or 0
    overrides = (
        Variant.objects.filter(product__is_active=True, product__archived_at=None, price_override__isnull=False)
        .order_by("-price_override")
        .values_list("price_override", flat=True)
        .first()
        or 0
    )
    return value <= -(-max(highest, overrides) * max_discount // 100)


def _is_catalog_name(name: str) -> bool:
    from sales.engine.builtin import match_products
    from sales.engine.language import normalize

    wanted = normalize(name)
    for match in match_products(name, 5, ties_only=False):
        product = match.product
        names = {normalize(value) for value in (product.name_ar, product.name_fr, product.name_en, product.code)}
        if wanted in names:
            return True
    return False


def _seller_said(value: int) -> bool:
    """An amount the seller wrote in an approved answer (a free-delivery threshold...)."""
    from learning.models import KnowledgeEntry

    query = Q()
    for spelling in spellings(value):
        query |= Q(answer__contains=spelling)
    return KnowledgeEntry.objects.filter(query, status=KnowledgeEntry.Status.APPROVED).exists()


def unmark(text: str) -> str:
    return PRODUCT_MARK.sub(lambda match: match.group(1), text)


def _named(text: str, conversation_id: int, product_ids: Iterable[int]) -> list[Product]:
    """The products a reply shows or names, and those of the conversation's orders."""
    from sales.engine.builtin import match_products

    found: dict[int, Product] = {
        match.product.pk: match.product for match in match_products(unmark(text), 10, ties_only=False)
    }
    wanted = set(product_ids) | set(
        OrderItem.objects.filter(order__conversation_id=conversation_id, variant__isnull=False).values_list(
            "variant__product_id", flat=True
        )
    )
    wanted -= set(found)
    if wanted:
        for product in Product.objects.live().filter(pk__in=wanted).prefetch_related("variants"):
            found[product.pk] = product
    return list(found.values())


def _allowed(text: str, *, max_discount: int, conversation_id: int, product_ids: Iterable[int]) -> _Allowed:
    allowed = _Allowed(max_discount=max_discount)
    # The open order (one at most) and the last confirmed one are the conversation's newest.
    for order in Order.objects.filter(conversation_id=conversation_id).prefetch_related("items")[:2]:
        allowed.exact |= _order_amounts(order)
    fees = DeliveryRate.objects.filter(is_served=True).values_list("home_fee", "desk_fee")
    allowed.fees = {fee for pair in fees for fee in pair if fee is not None}
    allowed.exact |= allowed.fees
    _discuss(allowed, _named(text, conversation_id, product_ids))
    return allowed


def _discuss(allowed: _Allowed, products: Iterable[Product]) -> None:
    for product in products:
        allowed.discussed = True
        allowed.prices.add(product.price)
        allowed.prices |= {variant.price for variant in product.variants.all()}
        if product.compare_at_price:
            allowed.was.add(product.compare_at_price)
            allowed.savings.add(product.compare_at_price - product.price)


def _placed(mention: Mention, allowed: _Allowed, *, ask_seller: bool = True) -> bool:
    """Whether one reading of an amount is one the shop can state."""
    if mention.currency is Currency.FOREIGN:
        return False
    for reading in mention.readings:
        if reading != reading.to_integral_value() or reading < 0:
            continue
        value = int(reading)
        if allowed.reduction(value) if mention.off else allowed.price(value):
            return True
        if ask_seller and _seller_said(value):
            return True
    return False


def violations(
    text: str,
    *,
    max_discount: int,
    conversation_id: int,
    context: EngineContext | None = None,
    product_ids: Iterable[int] = (),
) -> list[Violation]:
    found = []
    for match in PRODUCT_MARK.finditer(text):
        if not _is_catalog_name(match.group(1)):
            found.append(Violation("product", match.group(1)))
    mentions = find_mentions(unmark(text))
    for mention in mentions:
        if mention.kind in (Kind.PERCENT, Kind.FRACTION) and mention.discount_percent > Decimal(max_discount):
            found.append(Violation("discount", mention.text))
    amounts = [mention for mention in mentions if mention.kind is Kind.AMOUNT]
    if not amounts:
        return found
    allowed = _allowed(text, max_discount=max_discount, conversation_id=conversation_id, product_ids=product_ids)
    # The products the reply names and the order's first; the chat's recent ones only when needed.
    if allowed.discussed:
        amounts = [mention for mention in amounts if not _placed(mention, allowed, ask_seller=False)]
    if amounts and context is not None:
        from sales.engine.prompt import relevant_products

        _discuss(allowed, relevant_products(context))
    for mention in amounts:
        if not _placed(mention, allowed):
            found.append(Violation("price", mention.text))
    return found


def is_empty_text(text: str) -> bool:
    """Nothing a customer could read: no text, or only spaces, punctuation and invisible
    characters ("", "  ", "...", "«»", a zero-width space)."""
    return not any(unicodedata.category(char)[0] not in "PZC" for char in text or "")


def is_empty_reply(reply: EngineReply) -> bool:
    """An answer that says nothing: an empty text (`is_empty_text`) and no product card. The
    reply path never stores one (conversations.services)."""
    return is_empty_text(reply.text) and not reply.cards


def guarded_reply(engine: Engine, context: EngineContext) -> EngineReply:
    """The engine's reply if it keeps the rules, else a replacement that does."""
    return guard(engine.reply(context), context)


async def guarded_reply_async(engine: Engine, context: EngineContext, db: DbRunner) -> EngineReply:
    """`guarded_reply` from async code: the engine's answer (`engine_reply_async`), then the
    checks, which read the catalog and the order, through `db`."""
    reply = await engine_reply_async(engine, context, db)
    return await db(guard, reply, context)


def guard(reply: EngineReply, context: EngineContext) -> EngineReply:
    """`reply` if it keeps the rules, else a replacement that does: the built-in engine's
    answer (carrying what the model cost) when it keeps them, else a handoff."""
    from sales.engine.builtin import BuiltinEngine
    from sales.engine.texts import say

    problems = violations(
        reply.text,
        max_discount=context.max_discount_percent,
        conversation_id=context.conversation_id,
        context=context,
        product_ids=[card.product_id for card in reply.cards],
    )
    if not problems:
        return replace(reply, text=unmark(reply.text)) if "«" in reply.text else reply
    logger.warning("Reply of engine %s broke the rules (%s); replaced", reply.engine, problems)
    if reply.engine != BuiltinEngine.name:
        fallback = BuiltinEngine().reply(context)
        if not violations(
            fallback.text,
            max_discount=context.max_discount_percent,
            conversation_id=context.conversation_id,
            context=context,
            product_ids=[card.product_id for card in fallback.cards],
        ):
            # The model's tokens were spent: keep them on the stored reply (budget and usage).
            return spent_by(fallback, reply, engine=f"{reply.engine}:replaced")
    handoff = EngineReply(text=say("unsure_handoff", context.reply_language), handoff=True, handoff_reason="guardrail")
    return spent_by(handoff, reply, engine=f"{reply.engine}:replaced")
