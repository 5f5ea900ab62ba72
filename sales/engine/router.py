"""The engine a seller gets: OpenRouter when the seller (or the platform) has a key, budget is
left this month and the provider is healthy; the built-in engine otherwise, and whenever the
provider fails, times out or breaks the seller's rules."""

from __future__ import annotations

import logging
from dataclasses import replace

from sales.engine.base import EngineContext, EngineReply
from sales.engine.builtin import BuiltinEngine

logger = logging.getLogger(__name__)


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
            if exc.usage.tokens_in or exc.usage.cost_usd:
                # The model was paid for requests that gave no answer (a tool loop that did not
                # end, an empty text): the spend stays counted on the reply, like a replaced one.
                reply = self.builtin.reply(context)
                return replace(
                    reply,
                    engine=f"{OpenRouterEngine.name}:replaced",
                    model=exc.usage.model,
                    tokens_in=exc.usage.tokens_in,
                    tokens_out=exc.usage.tokens_out,
                    cost_usd=exc.usage.cost_usd,
                )
        except Exception:
            logger.exception("The OpenRouter engine failed; the built-in engine answers")
        return self.builtin.reply(context)
