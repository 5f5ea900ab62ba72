"""The OpenRouter engine: the `openai` SDK pointed at OpenRouter, with tool calls
(`sales.engine.tools`) that go through the same services as the dashboard: catalog reads by id,
order edits, discounts within the seller's maximum, confirmation with stock. A tool's error goes
back to the model as its result; the model gets at most ENGINE_MAX_TOOL_ROUNDS requests per
reply, then the built-in engine answers.

Two drivers of one exchange (`Exchange`: the prompt, the reading of each response, the tools,
the usage): `reply` (sync, the Celery path) and `areply` (async: it awaits the model without a
thread, on the event loop's shared client (`sales.engine.provider`), and runs every database
touch through the caller's `db`). Cancelling `areply` (a newer customer message) closes the
HTTP request; a tool already running finishes its transaction on its thread; nothing of it is
counted as a failure.

The SDK retries timeouts, 408/409 and 5xx with backoff; a 402 (no credit) is not retried. A
429 is retried by the SDK (honouring Retry-After) in `reply`, and by the per-key gate in
`areply` (`sales.engine.provider.gated`). Failures count in a per-seller circuit breaker
(`sales.engine.readiness`); while it is open, and once the month's budget is spent, the router
lets the built-in engine answer.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openai
from django.conf import settings

from ma5zani.tenancy import current_schema
from sales.engine.base import DbRunner, EngineContext, EngineReply
from sales.engine.builtin import product_card
from sales.engine.prompt import build_prompt
from sales.engine.readiness import (
    ENGINE_NAME,
    abreaker_failure,
    abreaker_success,
    breaker_failure,
    breaker_open,
    breaker_success,
    month_spend,
    month_start,
    openrouter_key,
    openrouter_ready,
)
from sales.engine.texts import say
from sales.engine.tools import TOOLS, ToolRun
from sales.selectors import bot_settings_cached

__all__ = [
    "EngineUnavailable",
    "Exchange",
    "OpenRouterEngine",
    "Usage",
    "breaker_failure",
    "breaker_open",
    "breaker_success",
    "month_spend",
    "month_start",
    "openrouter_key",
    "openrouter_ready",
]

logger = logging.getLogger(__name__)

# What a provider failure raises (after the SDK's retries): each counts in the breaker.
PROVIDER_ERRORS = (openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError)


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
    """The provider cannot answer now (down, slow, out of credit, over budget, rate limited, a
    runaway loop, an empty answer). `usage` is what was spent before that (the router keeps it
    on the reply that the built-in engine gives instead)."""

    def __init__(self, reason: str, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.usage = usage or Usage()


def _cost(usage: Any) -> Decimal:
    extra = getattr(usage, "model_extra", None) or {}
    value = extra.get("cost") if isinstance(extra, dict) else None
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


class Exchange:
    """One reply's exchange with the model, driven by `reply` and `areply` alike. Built in the
    seller's schema (the prompt with its retrieval, the settings, the key); `request` and
    `read` touch no database; `run_tool` and `answer` do (the async driver runs them through
    `db`)."""

    def __init__(self, context: EngineContext) -> None:
        self.schema = current_schema()
        self.prompt = build_prompt(context)
        self.messages = self.prompt.messages
        self.model = bot_settings_cached().ai_model
        self.tools = ToolRun(context, self.prompt.product_ids)
        self.usage = Usage(model=self.model)
        self.key = openrouter_key()
        self.rounds: int = settings.ENGINE_MAX_TOOL_ROUNDS

    def request(self) -> dict[str, Any]:
        """The arguments of the next chat-completions request."""
        return {
            "model": self.model,
            "messages": self.messages,
            "tools": TOOLS,
            "extra_body": {"usage": {"include": True}},
        }

    def read(self, response: Any, round_number: int) -> list[Any] | str:
        """The tool calls to run before the next request, or the answer's text. No answer
        (no choice, tool calls in the last request allowed, an empty text) raises
        EngineUnavailable with what was spent."""
        self.usage.add(response, self.model)
        if not response.choices:
            raise EngineUnavailable("no choice in the answer", self.usage)
        message = response.choices[0].message
        if message.tool_calls:
            if round_number == self.rounds:  # no request left to read the results: none runs
                raise EngineUnavailable(f"still calling tools after {self.rounds} requests", self.usage)
            self.messages.append(message.model_dump(exclude_none=True))
            return list(message.tool_calls)
        text = (message.content or "").strip()
        if not text:
            if not self.tools.handoff_reason:
                raise EngineUnavailable("empty answer", self.usage)
            text = say("unsure_handoff", self.prompt.language)  # handed off without a word
        return text

    def run_tool(self, call: Any) -> None:
        """Run one tool call (its own transaction) and add its result for the model."""
        function = getattr(call, "function", None)
        result = (
            self.tools(function.name, function.arguments)
            if function is not None
            else {"ok": False, "error": "unknown_tool", "message": "Only function tools exist."}
        )
        self.messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result, ensure_ascii=False)}
        )

    def answer(self, text: str) -> EngineReply:
        language = self.prompt.language
        return EngineReply(
            text=text,
            cards=tuple(product_card(p, language) for p in self.tools.cards.values())[:3],
            handoff=bool(self.tools.handoff_reason),
            handoff_reason=self.tools.handoff_reason,
            engine=OpenRouterEngine.name,
            model=self.usage.model,
            tokens_in=self.usage.tokens_in,
            tokens_out=self.usage.tokens_out,
            cost_usd=self.usage.cost_usd,
        )

    def no_request(self) -> EngineUnavailable:
        return EngineUnavailable("no request allowed (ENGINE_MAX_TOOL_ROUNDS)", self.usage)

    def failed(self, exc: Exception) -> EngineUnavailable:
        """The provider's failure (after the SDK's retries) as EngineUnavailable."""
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code == 402:
                logger.warning("OpenRouter: no credit left for %s", self.schema)
            return EngineUnavailable(f"HTTP {exc.status_code}", self.usage)
        return EngineUnavailable(exc.__class__.__name__, self.usage)


class OpenRouterEngine:
    name = ENGINE_NAME
    shows_typing = True

    def client(self, api_key: str | None = None) -> openai.OpenAI:
        """A sync client (one per reply: the Celery path)."""
        return openai.OpenAI(
            api_key=openrouter_key() if api_key is None else api_key,
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
        exchange = Exchange(context)
        client = self.client(exchange.key)
        try:
            for round_number in range(1, exchange.rounds + 1):
                response = client.chat.completions.create(**exchange.request())
                step = exchange.read(response, round_number)
                if isinstance(step, str):
                    breaker_success(exchange.schema)
                    return exchange.answer(step)
                for call in step:
                    exchange.run_tool(call)
            raise exchange.no_request()
        except PROVIDER_ERRORS as exc:
            breaker_failure(exchange.schema)
            raise exchange.failed(exc) from exc

    async def areply(self, context: EngineContext, db: DbRunner) -> EngineReply:
        """`reply` from async code: the same requests and answers; the model is awaited on the
        loop's shared client, a 429 waits at the key's gate (beyond
        OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS: EngineUnavailable("rate limited"), not a
        breaker failure), and every database touch runs through `db`."""
        from sales.engine.provider import RateLimited, async_client, gated, key_id

        exchange = await db(Exchange, context)
        client = async_client(exchange.key)
        key = key_id(exchange.key)
        try:
            for round_number in range(1, exchange.rounds + 1):
                response = await gated(key, lambda: client.chat.completions.create(**exchange.request()))
                step = exchange.read(response, round_number)
                if isinstance(step, str):
                    await abreaker_success(exchange.schema)
                    return await db(exchange.answer, step)
                for call in step:
                    await db(exchange.run_tool, call)
            raise exchange.no_request()
        except RateLimited as exc:
            raise EngineUnavailable("rate limited", exchange.usage) from exc
        except PROVIDER_ERRORS as exc:
            await abreaker_failure(exchange.schema)
            raise exchange.failed(exc) from exc
