"""The OpenRouter engine: the `openai` SDK pointed at OpenRouter, with tool calls
(`sales.engine.tools`) that go through the same services as the dashboard: catalog reads by id,
order edits, discounts within the seller's maximum, confirmation with stock. A tool's error goes
back to the model as its result; the model gets at most ENGINE_MAX_TOOL_ROUNDS requests per
reply, then the built-in engine answers.

The SDK retries timeouts, 408/409/429 and 5xx with backoff and honours Retry-After; a 402 (no
credit) is not retried. Failures count in a per-seller circuit breaker; while it is open, and
once the month's budget is spent, the router lets the built-in engine answer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openai
import redis
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from ma5zani.crypto import SecretUnreadable
from ma5zani.tenancy import current_schema
from sales.engine.base import EngineContext, EngineReply
from sales.engine.builtin import product_card
from sales.engine.prompt import build_prompt
from sales.engine.texts import say
from sales.engine.tools import TOOLS, ToolRun
from sales.selectors import bot_settings_cached

logger = logging.getLogger(__name__)


@dataclass
class Usage:
    """What the model's requests of one reply cost, answered or not."""

    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: Decimal = Decimal(0)

    def add(self, response: Any, model: str) -> None:
        self.model = getattr(response, "model", None) or model
        if response.usage is not None:
            self.tokens_in += response.usage.prompt_tokens or 0
            self.tokens_out += response.usage.completion_tokens or 0
            self.cost_usd += _cost(response.usage)


class EngineUnavailable(Exception):
    """The provider cannot answer now (down, slow, out of credit, over budget, a runaway loop,
    an empty answer). `usage` is what was spent before that (the router keeps it on the reply
    that the built-in engine gives instead)."""

    def __init__(self, reason: str, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.usage = usage or Usage()


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
        """Ask the model, run its tool calls (each result goes back to it, errors included) for at
        most ENGINE_MAX_TOOL_ROUNDS requests, and return its answer. No answer (a loop that
        does not end, an empty text, a provider failure) raises EngineUnavailable: the router
        lets the built-in engine answer."""
        schema = current_schema()
        prompt = build_prompt(context)
        messages = prompt.messages
        model = bot_settings_cached().ai_model
        tools = ToolRun(context, prompt.product_ids)
        usage = Usage(model=model)
        client = self.client()
        try:
            rounds = settings.ENGINE_MAX_TOOL_ROUNDS
            for round_number in range(1, rounds + 1):
                response = client.chat.completions.create(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    tools=TOOLS,  # type: ignore[arg-type]
                    extra_body={"usage": {"include": True}},
                )
                usage.add(response, model)
                if not response.choices:
                    raise EngineUnavailable("no choice in the answer", usage)
                message = response.choices[0].message
                if message.tool_calls:
                    if round_number == rounds:  # no request left to read the results: none runs
                        raise EngineUnavailable(f"still calling tools after {rounds} requests", usage)
                    messages.append(message.model_dump(exclude_none=True))
                    for call in message.tool_calls:
                        function = getattr(call, "function", None)
                        result = (
                            tools(function.name, function.arguments)
                            if function is not None
                            else {"ok": False, "error": "unknown_tool", "message": "Only function tools exist."}
                        )
                        messages.append(
                            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result, ensure_ascii=False)}
                        )
                    continue
                text = (message.content or "").strip()
                if not text:
                    if not tools.handoff_reason:
                        raise EngineUnavailable("empty answer", usage)
                    text = say("unsure_handoff", prompt.language)  # handed off without a word
                breaker_success(schema)
                return EngineReply(
                    text=text,
                    cards=tuple(product_card(p, prompt.language) for p in tools.cards.values())[:3],
                    handoff=bool(tools.handoff_reason),
                    handoff_reason=tools.handoff_reason,
                    engine=self.name,
                    model=usage.model,
                    tokens_in=usage.tokens_in,
                    tokens_out=usage.tokens_out,
                    cost_usd=usage.cost_usd,
                )
            raise EngineUnavailable("no request allowed (ENGINE_MAX_TOOL_ROUNDS)", usage)
        except openai.APIStatusError as exc:
            if exc.status_code == 402:
                logger.warning("OpenRouter: no credit left for %s", schema)
            breaker_failure(schema)
            raise EngineUnavailable(f"HTTP {exc.status_code}", usage) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            breaker_failure(schema)
            raise EngineUnavailable(exc.__class__.__name__, usage) from exc
