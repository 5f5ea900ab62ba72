"""The engine a seller gets: OpenRouter when the seller (or the platform) has a key, budget is
left this month and the provider is healthy; the built-in engine otherwise, and whenever the
provider fails, times out, is rate limited or breaks the seller's rules. `reply` and `areply`
route alike; from async code the readiness check and the built-in engine run through `db`."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from sales.engine.base import DbRunner, EngineContext, EngineReply
from sales.engine.builtin import BuiltinEngine

if TYPE_CHECKING:
    from sales.engine.openrouter import Usage

logger = logging.getLogger(__name__)


def _spent(reply: EngineReply, usage: Usage) -> EngineReply:
    """The built-in engine's `reply` carrying what the model's unanswered requests cost."""
    from sales.engine.openrouter import OpenRouterEngine

    return replace(
        reply,
        engine=f"{OpenRouterEngine.name}:replaced",
        model=usage.model,
        tokens_in=usage.tokens_in,
        tokens_out=usage.tokens_out,
        cost_usd=usage.cost_usd,
    )


def _paid(usage: Usage) -> bool:
    """The model was paid for requests that gave no answer (a tool loop that did not end, an
    empty text): the spend stays counted on the reply, like a replaced one."""
    return bool(usage.tokens_in or usage.cost_usd)


class RoutingEngine:
    name = "router"
    shows_typing = True  # a remote model may answer; the built-in one is quick either way

    def __init__(self) -> None:
        self.builtin = BuiltinEngine()

    def reply(self, context: EngineContext) -> EngineReply:
        from sales.engine.openrouter import EngineUnavailable, OpenRouterEngine, openrouter_ready

        # Whatever the seller's settings hold (an unreadable key, a bad model id) or the provider
        # does, the customer gets an answer: the built-in engine's.
        try:
            if openrouter_ready():
                return OpenRouterEngine().reply(context)
        except EngineUnavailable as exc:
            logger.warning("OpenRouter unavailable (%s); the built-in engine answers", exc)
            if _paid(exc.usage):
                return _spent(self.builtin.reply(context), exc.usage)
        except Exception:
            logger.exception("The OpenRouter engine failed; the built-in engine answers")
        return self.builtin.reply(context)

    async def areply(self, context: EngineContext, db: DbRunner) -> EngineReply:
        """`reply` from async code. A cancellation (CancelledError) is not a failure: it
        propagates, and no built-in answer is made."""
        from sales.engine.openrouter import EngineUnavailable, OpenRouterEngine, openrouter_ready

        try:
            if await db(openrouter_ready):
                return await OpenRouterEngine().areply(context, db)
        except EngineUnavailable as exc:
            logger.warning("OpenRouter unavailable (%s); the built-in engine answers", exc)
            if _paid(exc.usage):
                return _spent(await db(self.builtin.reply, context), exc.usage)
        except Exception:
            logger.exception("The OpenRouter engine failed; the built-in engine answers")
        return await db(self.builtin.reply, context)
