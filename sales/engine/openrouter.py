"""The OpenRouter engine: the `openai` SDK pointed at OpenRouter, with tool calls that go through
the same services as the dashboard (catalog reads, order drafts, discounts within the seller's
maximum, confirmation with stock).

The SDK retries timeouts, 408/409/429 and 5xx with backoff and honours Retry-After; a 402 (no
credit) is not retried. Failures count in a per-seller circuit breaker; while it is open, and
once the month's budget is spent, the router lets the built-in engine answer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from decimal import Decimal
from typing import Any

import openai
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from ma5zani.crypto import SecretUnreadable
from ma5zani.tenancy import current_schema
from sales.engine.base import EngineContext, EngineReply
from sales.engine.builtin import match_products, product_card
from sales.engine.language import catalog_language
from sales.engine.prompt import build_messages, order_facts, product_facts
from sales.models import Order, Product, Variant
from sales.selectors import bot_settings_cached
from sales.services.orders import (
    DraftChanges,
    OrderError,
    OutOfStock,
    discount_quote,
    order_confirm,
    order_draft_for,
    order_grant_discount,
    order_open_for,
    order_set_item,
    order_set_status,
    order_submit,
    order_update_draft,
)

logger = logging.getLogger(__name__)


class EngineUnavailable(Exception):
    """The provider cannot answer now (down, slow, out of credit, over budget, a runaway loop)."""


# --- Readiness: key, budget, breaker ------------------------------------------------------


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


def _breaker_key(schema: str) -> str:
    return f"{settings.RATE_LIMIT_PREFIX}:engine-breaker:{schema}"


def breaker_open(schema: str) -> bool:
    try:
        return bool(_redis().exists(f"{_breaker_key(schema)}:open"))
    except redis.RedisError:
        return False


def breaker_failure(schema: str) -> None:
    """Count a failure; after ENGINE_BREAKER_FAILURES in a row the breaker opens for a while."""
    try:
        client = _redis()
        failures = client.incr(f"{_breaker_key(schema)}:failures")
        client.expire(f"{_breaker_key(schema)}:failures", settings.ENGINE_BREAKER_OPEN_SECONDS * 5)
        if int(failures) >= settings.ENGINE_BREAKER_FAILURES:
            client.set(f"{_breaker_key(schema)}:open", 1, ex=settings.ENGINE_BREAKER_OPEN_SECONDS)
            client.delete(f"{_breaker_key(schema)}:failures")
            logger.warning("Engine circuit breaker open for %s", schema)
    except redis.RedisError:
        logger.info("Circuit breaker not updated (Redis unavailable)", exc_info=True)


def breaker_success(schema: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _redis().delete(f"{_breaker_key(schema)}:failures")


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(now: dt.datetime | None = None) -> Decimal:
    """What the seller's AI answers cost this month (USD), from the stored replies."""
    from conversations.models import Message

    total = Message.objects.filter(
        created_at__gte=month_start(now), engine__startswith=OpenRouterEngine.name
    ).aggregate(total=Sum("cost_usd"))["total"]
    return Decimal(total or 0)


def openrouter_key() -> str:
    """The seller's own key, else the platform's. A stored key that cannot be decrypted gives
    "" (the built-in engine answers, the settings page asks for the key again): the platform's
    key is not used in its place, the seller chose to pay for their own."""
    row = bot_settings_cached()
    try:
        return row.openrouter_key or settings.OPENROUTER_API_KEY
    except SecretUnreadable:
        logger.warning(
            "The stored OpenRouter key of %s cannot be decrypted; the built-in engine answers", current_schema()
        )
        return ""


def openrouter_ready() -> bool:
    """A key, budget left this month, and a closed breaker."""
    if not openrouter_key():
        return False
    if breaker_open(current_schema()):
        return False
    return month_spend() < bot_settings_cached().monthly_budget_usd


# --- Tools --------------------------------------------------------------------------------


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required or []},
        },
    }


INT = {"type": "integer"}
STR = {"type": "string"}
TOOLS = [
    _tool("search_catalog", "Find products by words the customer used (any language).", {"query": STR}, ["query"]),
    _tool("get_product", "A product with its variants, prices and stock.", {"product_id": INT}, ["product_id"]),
    _tool("check_stock", "Whether a variant is in stock and how many units.", {"variant_id": INT}, ["variant_id"]),
    _tool(
        "quote_price",
        "The price of a quantity of a variant with a requested discount, clamped to the shop's maximum.",
        {"variant_id": INT, "quantity": INT, "discount_percent": INT},
        ["variant_id"],
    ),
    _tool(
        "update_order_draft",
        "Create or update the customer's order: any of the fields; a discount is clamped to the maximum.",
        {
            "variant_id": INT,
            "quantity": INT,
            "customer_name": STR,
            "phone": STR,
            "wilaya": STR,
            "commune": STR,
            "address": STR,
            "delivery_type": {"type": "string", "enum": ["home", "desk"]},
            "discount_percent": INT,
        },
    ),
    _tool("confirm_order", "Confirm the complete order after the customer said yes.", {}),
    _tool("hand_off", "Pass the conversation to a person from the shop.", {"reason": STR}, ["reason"]),
]


class ToolRun:
    """Runs the model's tool calls for one reply, in the seller's schema, through the services."""

    def __init__(self, context: EngineContext) -> None:
        self.context = context
        self.handoff_reason = ""
        self.cards: dict[int, Product] = {}

    def __call__(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"tool_{name}", None)
        if handler is None:
            return {"error": f"unknown tool {name}"}
        try:
            return dict(handler(**arguments))
        except TypeError as exc:
            return {"error": f"bad arguments: {exc}"}
        except OutOfStock as exc:
            return {"error": "out_of_stock", "available": exc.available}
        except ValidationError as exc:
            return {"error": " ".join(exc.messages), "fields": getattr(exc, "message_dict", {})}

    def tool_search_catalog(self, query: str) -> dict[str, Any]:
        products = [match.product for match in match_products(str(query)[:200], 5)]
        return {"products": [product_facts(p, urgency=True) for p in products]}

    def tool_get_product(self, product_id: int) -> dict[str, Any]:
        product = Product.objects.live().prefetch_related("variants", "images").filter(pk=product_id).first()
        if product is None:
            return {"error": "no such product"}
        self.cards[product.pk] = product
        return product_facts(product, urgency=True)

    def tool_check_stock(self, variant_id: int) -> dict[str, Any]:
        variant = Variant.objects.filter(pk=variant_id, product__is_active=True, product__archived_at=None).first()
        if variant is None:
            return {"error": "no such variant"}
        return {"variant_id": variant.pk, "in_stock": variant.stock > 0, "units": variant.stock}

    def tool_quote_price(self, variant_id: int, quantity: int = 1, discount_percent: int = 0) -> dict[str, Any]:
        variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
        if variant is None:
            return {"error": "no such variant"}
        quantity = max(1, min(int(quantity), 100))
        quote = discount_quote(subtotal=variant.price * quantity, requested_percent=int(discount_percent))
        return {
            "unit_price": variant.price,
            "quantity": quantity,
            "discount_percent_granted": quote.granted_percent,
            "discount_percent_max": quote.max_percent,
            "total_before_delivery": quote.total_before_delivery,
        }

    def _order(self) -> Order:
        from conversations.models import Conversation

        order = order_open_for(self.context.conversation_id)
        if order is None:
            conversation = Conversation.objects.select_related("customer").get(pk=self.context.conversation_id)
            order = order_draft_for(conversation=conversation)
        return order

    def tool_update_order_draft(self, **fields: Any) -> dict[str, Any]:
        order = self._order()
        if order.status == Order.Status.AWAITING:
            order = order_set_status(order=order, status=Order.Status.DRAFT, by="customer")
        if fields.get("variant_id"):
            variant = Variant.objects.filter(pk=int(fields["variant_id"])).first()
            if variant is None:
                return {"error": "no such variant"}
            order = order_set_item(order=order, variant=variant, quantity=int(fields.get("quantity") or 1))
        changes = DraftChanges(
            **{
                key: str(fields[key])
                for key in ("customer_name", "phone", "wilaya", "commune", "address", "delivery_type")
                if fields.get(key)
            }
        )
        if changes != DraftChanges():
            order = order_update_draft(order=order, changes=changes)
        if fields.get("discount_percent"):
            order_grant_discount(order=order, requested_percent=int(fields["discount_percent"]), engine="openrouter")
        order.refresh_from_db()
        facts = order_facts(order) or {}
        if not facts.get("missing"):
            try:
                order = order_submit(order=order)
                facts = order_facts(order) or {}
            except OrderError as exc:
                facts["problem"] = exc.code
        return facts

    def tool_confirm_order(self) -> dict[str, Any]:
        order = order_open_for(self.context.conversation_id)
        if order is None:
            return {"error": "no open order"}
        order = order_confirm(order=order, by="customer")
        return {"reference": order.reference, "total": order.total, "status": order.status}

    def tool_hand_off(self, reason: str = "") -> dict[str, Any]:
        self.handoff_reason = str(reason)[:200] or "engine"
        return {"ok": True}


# --- The engine ---------------------------------------------------------------------------


def _cost(usage: Any) -> Decimal:
    extra = getattr(usage, "model_extra", None) or {}
    value = extra.get("cost") if isinstance(extra, dict) else None
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


class OpenRouterEngine:
    name = "openrouter"
    shows_typing = True

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=openrouter_key(),
            base_url=settings.OPENROUTER_BASE_URL,
            timeout=settings.OPENROUTER_TIMEOUT_SECONDS,
            max_retries=settings.OPENROUTER_MAX_RETRIES,
            default_headers={"HTTP-Referer": settings.OPENROUTER_APP_URL, "X-Title": settings.OPENROUTER_APP_TITLE},
        )

    def reply(self, context: EngineContext) -> EngineReply:
        schema = current_schema()
        messages, language = build_messages(context)
        model = bot_settings_cached().ai_model
        tools = ToolRun(context)
        tokens_in = tokens_out = 0
        cost = Decimal(0)
        client = self.client()
        try:
            for _round in range(settings.ENGINE_MAX_TOOL_ROUNDS):
                response = client.chat.completions.create(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    tools=TOOLS,  # type: ignore[arg-type]
                    extra_body={"usage": {"include": True}},
                )
                if response.usage is not None:
                    tokens_in += response.usage.prompt_tokens or 0
                    tokens_out += response.usage.completion_tokens or 0
                    cost += _cost(response.usage)
                message = response.choices[0].message
                if message.tool_calls:
                    messages.append(message.model_dump(exclude_none=True))
                    for call in message.tool_calls:
                        try:
                            arguments = json.loads(call.function.arguments or "{}")  # type: ignore[union-attr]
                        except ValueError:
                            arguments = {}
                        result = tools(call.function.name, arguments if isinstance(arguments, dict) else {})  # type: ignore[union-attr]
                        messages.append(
                            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result, ensure_ascii=False)}
                        )
                    continue
                text = (message.content or "").strip()
                if not text and not tools.handoff_reason:
                    raise EngineUnavailable("empty answer")
                breaker_success(schema)
                return EngineReply(
                    text=text,
                    cards=tuple(product_card(p, catalog_language(language)) for p in tools.cards.values())[:3],
                    handoff=bool(tools.handoff_reason),
                    handoff_reason=tools.handoff_reason,
                    engine=self.name,
                    model=response.model or model,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    cost_usd=cost,
                )
            raise EngineUnavailable("the tool loop did not end")
        except openai.APIStatusError as exc:
            if exc.status_code == 402:
                logger.warning("OpenRouter: no credit left for %s", schema)
            breaker_failure(schema)
            raise EngineUnavailable(f"HTTP {exc.status_code}") from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            breaker_failure(schema)
            raise EngineUnavailable(exc.__class__.__name__) from exc
