"""Engines for benchmarks and the tests that run a real worker: no catalog, fixed latency.

BOT_ENGINE_CLASS=bench.engines.InstantEngine    answers at once ("zero-latency model")
BOT_ENGINE_CLASS=bench.engines.SlowEngine       waits ENGINE_DELAY_SECONDS (default 1.5), as a model
Each call is counted in Redis (ENGINE_COUNTER_KEY), so a test can see a task run twice.
"""

from __future__ import annotations

import asyncio
import os
import time

import redis
from django.conf import settings

from sales.engine.base import DbRunner, EngineContext, EngineReply


def _count(context: EngineContext) -> None:
    key = os.environ.get("ENGINE_COUNTER_KEY")
    if key:
        redis.Redis.from_url(settings.REDIS_URL).incr(f"{key}:{context.conversation_id}")


class InstantEngine:
    name = "instant"
    shows_typing = False

    def reply(self, context: EngineContext) -> EngineReply:
        _count(context)
        return EngineReply(text=f"echo: {context.text[:200]}", engine=self.name)


class SlowEngine:
    name = "slow"
    shows_typing = True

    def reply(self, context: EngineContext) -> EngineReply:
        _count(context)
        time.sleep(float(os.environ.get("ENGINE_DELAY_SECONDS", "1.5")))
        return EngineReply(text=f"after thinking: {context.text[:200]}", engine=self.name)

    async def areply(self, context: EngineContext, db: DbRunner) -> EngineReply:
        """The same model awaited (the reply runner): the wait holds no thread."""
        await db(_count, context)
        await asyncio.sleep(float(os.environ.get("ENGINE_DELAY_SECONDS", "1.5")))
        return EngineReply(text=f"after thinking: {context.text[:200]}", engine=self.name)
