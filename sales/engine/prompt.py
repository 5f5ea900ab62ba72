"""The prompt of the OpenRouter engine: versioned files per language and intensity, plus a
bounded context (the few products relevant to the chat, the open order, the customer's summary,
the last turns). Its size does not grow with the catalog."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from learning.services import knowledge_for_prompt
from sales.engine.base import EngineContext
from sales.engine.builtin import FEW_LEFT, INTENSITY, match_products
from sales.models import Order, Product
from sales.selectors import product_orders_this_week
from sales.services.orders import order_missing, order_open_for

PROMPT_VERSION = "v1"
PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
MAX_PRODUCTS = 5
MAX_TURNS = 12
MAX_TURN_CHARS = 500


@cache
def prompt_file(name: str, version: str = PROMPT_VERSION) -> str:
    return (PROMPTS / version / name).read_text(encoding="utf-8").strip()


def product_facts(product: Product, *, urgency: bool) -> dict[str, Any]:
    variants = list(product.variants.all())
    facts: dict[str, Any] = {
        "product_id": product.pk,
        "name": {k: v for k, v in (("ar", product.name_ar), ("fr", product.name_fr), ("en", product.name_en)) if v},
        "price_dzd": product.price,
        "variants": [
            {"variant_id": v.pk, "size": v.size, "colour": v.colour, "price_dzd": v.price, "in_stock": v.stock > 0}
            for v in variants[:12]
        ],
    }
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


def relevant_products(context: EngineContext) -> list[Product]:
    """The products the chat is about: named in the burst first, then in recent turns."""
    found: dict[int, Product] = {}
    texts = [context.text, *(turn.text for turn in reversed(context.history[-6:]))]
    for text in texts:
        for match in match_products(text, MAX_PRODUCTS):
            found.setdefault(match.product.pk, match.product)
        if len(found) >= MAX_PRODUCTS:
            break
    return list(found.values())[:MAX_PRODUCTS]


def order_facts(order: Order | None) -> dict[str, Any] | None:
    if order is None:
        return None
    return {
        "status": order.status,
        "items": [
            {
                "sku": i.sku,
                "name": i.product_name,
                "options": i.options,
                "quantity": i.quantity,
                "unit_price": i.unit_price,
            }
            for i in order.items.all()
        ],
        "customer_name": order.customer_name,
        "phone": str(order.phone) if order.phone else "",
        "wilaya": order.wilaya,
        "commune": order.commune,
        "address": order.address,
        "delivery_type": order.delivery_type,
        "subtotal": order.subtotal,
        "discount_percent": order.discount_percent,
        "delivery_fee": order.delivery_fee,
        "total": order.total,
        "missing": order_missing(order),
    }


def build_messages(context: EngineContext) -> tuple[list[dict[str, Any]], str]:
    """The chat-completions messages for `context`, and the language to answer in."""
    language = context.reply_language
    intensity = context.intensity if context.intensity in INTENSITY else "balanced"
    system = prompt_file(f"system.{language}.txt").format(
        persona=context.persona_name or "Amina",
        shop=context.shop_name,
        channel=context.channel,
        max_discount=context.max_discount_percent,
    )
    rules = INTENSITY[intensity]
    facts = {
        "products": [product_facts(p, urgency=rules.urgency) for p in relevant_products(context)],
        "open_order": order_facts(order_open_for(context.conversation_id)),
        "shop_answers": knowledge_for_prompt(context.text, language),
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
    return messages, language
