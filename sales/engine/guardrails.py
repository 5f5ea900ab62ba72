"""Rules in code, applied to every reply whatever the engine: no percentage above the seller's
maximum discount, and no price in the text that the catalog, the seller's delivery fees or the
open order do not give (a catalog price times a quantity, with at most the maximum discount).

A reply that breaks a rule never reaches the customer: the built-in engine's answer replaces it,
and if even that fails the checks, a neutral answer hands the conversation to the seller.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from django.db.models import Q

from sales.engine.base import Engine, EngineContext, EngineReply
from sales.models import DeliveryRate, Order, Product, Variant

logger = logging.getLogger(__name__)

PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|٪|pour ?cent|percent|بالمية|فالمية)", re.IGNORECASE)
PRICE = re.compile(r"(\d{1,3}(?:[  .,]\d{3})+|\d+)\s*(?:DA|DZD|dinars?|دج|دينار|da)(?![a-z])", re.IGNORECASE)
MAX_QUANTITY = 10
# The model writes product names between « and » (its prompt says so): each must be a live
# catalog product's name; the marks are removed before the customer sees the text.
PRODUCT_MARK = re.compile(r"«\s*([^«»\n]{2,120}?)\s*»")


@dataclass(frozen=True)
class Violation:
    kind: str  # discount, price
    detail: str


def _amount(text: str) -> int:
    return int(re.sub(r"[  .,]", "", text))


def _order_amounts(order: Order) -> set[int]:
    amounts = {order.subtotal, order.total, order.discount, order.delivery_fee, order.subtotal - order.discount}
    for item in order.items.all():
        amounts |= {item.unit_price, item.quantity * item.unit_price}
    return amounts


def _catalog_allows(value: int, max_discount: int) -> bool:
    """Whether `value` is a live catalog price times 1-10, less at most the maximum discount."""
    candidates: set[int] = set()
    for quantity in range(1, MAX_QUANTITY + 1):
        for percent in range(0, max_discount + 1):
            exact = value * 100 / ((100 - percent) * quantity)
            for base in (int(exact), int(exact) + 1):
                total = base * quantity
                if total - total * percent // 100 == value:
                    candidates.add(base)
    if not candidates:
        return False
    live = Product.objects.live()
    return (
        live.filter(Q(price__in=candidates) | Q(compare_at_price__in=candidates)).exists()
        or Variant.objects.filter(
            price_override__in=candidates, product__is_active=True, product__archived_at=None
        ).exists()
    )


def _is_catalog_name(name: str) -> bool:
    from sales.engine.builtin import match_products
    from sales.engine.language import normalize

    wanted = normalize(name)
    for match in match_products(name, 5):
        product = match.product
        names = {normalize(value) for value in (product.name_ar, product.name_fr, product.name_en, product.code)}
        if wanted in names:
            return True
    return False


def _seller_said(value: int) -> bool:
    """An amount the seller wrote in an approved answer (a free-delivery threshold...)."""
    from learning.models import KnowledgeEntry

    spellings = {str(value), f"{value:,}".replace(",", " "), f"{value:,}".replace(",", "."), f"{value:,}"}
    query = Q()
    for spelling in spellings:
        query |= Q(answer__contains=spelling)
    return KnowledgeEntry.objects.filter(query, status=KnowledgeEntry.Status.APPROVED).exists()


def unmark(text: str) -> str:
    return PRODUCT_MARK.sub(lambda match: match.group(1), text)


def violations(text: str, *, max_discount: int, conversation_id: int) -> list[Violation]:
    found = []
    for match in PRODUCT_MARK.finditer(text):
        if not _is_catalog_name(match.group(1)):
            found.append(Violation("product", match.group(1)))
    for match in PERCENT.finditer(text):
        percent = float(match.group(1).replace(",", "."))
        if percent > max_discount:
            found.append(Violation("discount", match.group(0)))
    prices = [_amount(match.group(1)) for match in PRICE.finditer(text)]
    if prices:
        # The open order (one at most) and the last confirmed one are the conversation's newest.
        allowed: set[int] = set()
        for order in Order.objects.filter(conversation_id=conversation_id).prefetch_related("items")[:2]:
            allowed |= _order_amounts(order)
        fees = DeliveryRate.objects.filter(is_served=True).values_list("home_fee", "desk_fee")
        allowed |= {fee for pair in fees for fee in pair if fee is not None}
        for value in prices:
            if value not in allowed and not _catalog_allows(value, max_discount) and not _seller_said(value):
                found.append(Violation("price", str(value)))
    return found


def guarded_reply(engine: Engine, context: EngineContext) -> EngineReply:
    """The engine's reply if it keeps the rules, else a replacement that does."""
    from sales.engine.builtin import BuiltinEngine
    from sales.engine.texts import say

    reply = engine.reply(context)
    problems = violations(
        reply.text, max_discount=context.max_discount_percent, conversation_id=context.conversation_id
    )
    if not problems:
        return replace(reply, text=unmark(reply.text)) if "«" in reply.text else reply
    logger.warning("Reply of engine %s broke the rules (%s); replaced", reply.engine, problems)
    if reply.engine != BuiltinEngine.name:
        fallback = BuiltinEngine().reply(context)
        if not violations(
            fallback.text, max_discount=context.max_discount_percent, conversation_id=context.conversation_id
        ):
            # The model's tokens were spent: keep them on the stored reply (budget and usage).
            return replace(
                fallback,
                engine=f"{reply.engine}:replaced",
                model=reply.model,
                tokens_in=reply.tokens_in,
                tokens_out=reply.tokens_out,
                cost_usd=reply.cost_usd,
            )
    return EngineReply(
        text=say("unsure_handoff", context.language or "fr"),
        handoff=True,
        handoff_reason="guardrail",
        engine=f"{reply.engine}:replaced",
        model=reply.model,
        tokens_in=reply.tokens_in,
        tokens_out=reply.tokens_out,
        cost_usd=reply.cost_usd,
    )
