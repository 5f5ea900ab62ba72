"""The prompt of the OpenRouter engine: versioned files per language and intensity, plus a
bounded context (the few products relevant to the chat and those of the open order, with their
ids; the open order's summary; the customer's summary; the last turns). Its size does not grow
with the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from learning.services import knowledge_for_prompt
from sales.engine.base import EngineContext
from sales.engine.builtin import FEW_LEFT, INTENSITY, match_products
from sales.geo import wilaya_by_number
from sales.models import Order, Product
from sales.selectors import product_orders_this_week
from sales.services.orders import order_delivery_problem, order_missing, order_open_for

PROMPT_VERSION = "v2"
PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
MAX_PRODUCTS = 5
MAX_TURNS = 12
MAX_TURN_CHARS = 500


@cache
def prompt_file(name: str, version: str = PROMPT_VERSION) -> str:
    return (PROMPTS / version / name).read_text(encoding="utf-8").strip()


def variant_facts(variant: Any) -> dict[str, Any]:
    return {
        "variant_id": variant.pk,
        "size": variant.size,
        "colour": variant.colour,
        "stock": variant.stock,
        "price_dzd": variant.price,
    }


def product_facts(product: Product, *, urgency: bool) -> dict[str, Any]:
    """A product as the model sees it: its id, names, price and variants (ids, size, colour,
    units in stock, price), the tools take these ids."""
    variants = list(product.variants.all())
    facts: dict[str, Any] = {
        "product_id": product.pk,
        "name": {k: v for k, v in (("ar", product.name_ar), ("fr", product.name_fr), ("en", product.name_en)) if v},
        "price_dzd": product.price,
        "variants": [variant_facts(v) for v in variants[:12]],
    }
    if not product.is_active or product.is_archived:
        facts["for_sale"] = False  # still in the open order: it can be removed, not added
    if product.compare_at_price:
        facts["was_dzd"] = product.compare_at_price
    stock = sum(v.stock for v in variants)
    if urgency:
        if 0 < stock <= FEW_LEFT:
            facts["only_left"] = stock
        if product.promotion_ends_at and product.promotion_ends_at > timezone.now():
            facts["promotion_ends"] = product.promotion_ends_at.date().isoformat()
        orders = product_orders_this_week(product.pk)
        if orders:
            facts["orders_this_week"] = orders
    return facts


def urgency_allowed(context: EngineContext) -> bool:
    """Whether the seller's intensity lets the facts carry scarcity and promotion end dates."""
    return INTENSITY.get(context.intensity, INTENSITY["balanced"]).urgency


def relevant_products(context: EngineContext) -> list[Product]:
    """The products the chat is about: named in the burst first, then in recent turns."""
    found: dict[int, Product] = {}
    choice = context.choice
    if choice is not None and choice.product_id:  # the product of the button the customer tapped
        tapped = Product.objects.live().filter(pk=choice.product_id).prefetch_related("variants").first()
        if tapped is not None:
            found[tapped.pk] = tapped
    texts = [context.text, *(turn.text for turn in reversed(context.history[-6:]))]
    for text in texts:
        for match in match_products(text, MAX_PRODUCTS):
            found.setdefault(match.product.pk, match.product)
        if len(found) >= MAX_PRODUCTS:
            break
    return list(found.values())[:MAX_PRODUCTS]


def order_facts(order: Order | None) -> dict[str, Any] | None:
    """The order exactly as it would be confirmed: its lines (with the ids the tools take), the
    customer's details, subtotal, discount, delivery fee (None while the wilaya or the delivery
    type is unknown) and total, what is missing and why it cannot be delivered, if so."""
    if order is None:
        return None
    items = list(order.items.select_related("variant").order_by("pk"))
    place = wilaya_by_number(order.wilaya) if order.wilaya else None
    problem = order_delivery_problem(order)
    fee_known = bool(order.wilaya and order.delivery_type) and problem is None
    facts: dict[str, Any] = {
        "status": order.status,
        "items": [
            {
                "product_id": item.variant.product_id if item.variant else None,
                "variant_id": item.variant_id,
                "name": item.product_name,
                "size": item.variant.size if item.variant else "",
                "colour": item.variant.colour if item.variant else "",
                "quantity": item.quantity,
                "unit_price_dzd": item.unit_price,
                "line_total_dzd": item.quantity * item.unit_price,
            }
            for item in items
        ],
        "customer_name": order.customer_name,
        "phone": str(order.phone) if order.phone else "",
        "wilaya": {"number": place.number, "name": place.name_fr} if place else None,
        "commune": order.commune,
        "address": order.address,
        "delivery_type": order.delivery_type,
        "subtotal_dzd": order.subtotal,
        "discount_percent": order.discount_percent,
        "discount_dzd": order.discount,
        "delivery_fee_dzd": order.delivery_fee if fee_known else None,
        "total_dzd": order.total,
        "total_includes_delivery": fee_known,
        "missing": order_missing(order),
    }
    if problem:
        facts["problem"] = problem
    return facts


def order_product_ids(order: Order | None) -> list[int]:
    if order is None:
        return []
    return list(
        order.items.exclude(variant=None).order_by("pk").values_list("variant__product_id", flat=True).distinct()
    )


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, Any]]
    language: str
    # The products whose ids the model was given (the tools take only these, or those it finds).
    product_ids: frozenset[int]


def build_messages(context: EngineContext) -> tuple[list[dict[str, Any]], str]:
    """The chat-completions messages for `context`, and the language to answer in."""
    prompt = build_prompt(context)
    return prompt.messages, prompt.language


def build_prompt(context: EngineContext) -> Prompt:
    """The chat-completions messages for `context`, the language to answer in, and the ids of
    the products the context gives (those relevant to the chat, then the open order's)."""
    language = context.reply_language
    intensity = context.intensity if context.intensity in INTENSITY else "balanced"
    urgency = urgency_allowed(context)
    system = prompt_file(f"system.{language}.txt").format(
        persona=context.persona_name or "Amina",
        shop=context.shop_name,
        channel=context.channel,
        max_discount=context.max_discount_percent,
    )
    order = order_open_for(context.conversation_id)
    products = relevant_products(context)
    ordered = [pk for pk in order_product_ids(order) if pk not in {p.pk for p in products}]
    if ordered:  # the order's products, so that a size or colour can be changed by id
        products += list(Product.objects.filter(pk__in=ordered).prefetch_related("variants").order_by("pk"))
    facts = {
        "products": [product_facts(p, urgency=urgency) for p in products],
        "open_order": order_facts(order),
        "shop_answers": knowledge_for_prompt(context.text, language),
        "tapped": context.choice.as_data() if context.choice is not None else None,
        "customer": {
            "name": context.customer_name,
            "returning": bool(context.past_orders),
            **context.customer_summary,
        },
    }
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"{system}\n{prompt_file(f'intensity.{intensity}.txt')}"},
        {
            "role": "system",
            "content": "Context (facts from the shop's database):\n" + json.dumps(facts, ensure_ascii=False),
        },
    ]
    for turn in context.history[-MAX_TURNS:]:
        if turn.author == "system" or not turn.text:
            continue
        role = "user" if turn.author == "customer" else "assistant"
        messages.append({"role": role, "content": turn.text[:MAX_TURN_CHARS]})
    said = [turn.text for turn in context.history if turn.author == "customer"]
    if context.burst and (not said or said[-1] != context.burst[-1]):  # the burst is not in the history
        messages.append({"role": "user", "content": context.text[: MAX_TURN_CHARS * 2]})
    return Prompt(messages, language, frozenset(p.pk for p in products))
