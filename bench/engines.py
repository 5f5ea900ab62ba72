"""Engines for benchmarks and the tests that run a real worker: no catalog, fixed latency.

BOT_ENGINE_CLASS=bench.engines.InstantEngine    answers at once ("zero-latency model")
BOT_ENGINE_CLASS=bench.engines.SlowEngine       waits ENGINE_DELAY_SECONDS (default 1.5), as a model
Each call is counted in Redis (ENGINE_COUNTER_KEY: `<key>:<conversation id>`), so a test can see
a task run twice; the SlowEngine's calls under way are counted by process in the hash
`<key>-inflight` (pid -> calls), all of them in `<key>-pids` (pid -> calls), and the
conversations of those under way are the set `<key>-conversations`, so a test can kill a
process while it waits on the "model", see whose answer is under way, and who answers.
With ENGINE_GATE_KEY set, the SlowEngine's answers are held after the delay until that Redis
key exists: a test decides when answers come back (a restart between the model call and the
store of its answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from functools import cache

import redis
from django.conf import settings

from sales.engine.base import DbRunner, EngineContext, EngineReply

GATE_MAX_SECONDS = 120.0


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _count(context: EngineContext) -> None:
    key = os.environ.get("ENGINE_COUNTER_KEY")
    if key:
        _redis(settings.REDIS_URL).incr(f"{key}:{context.conversation_id}")


def _flight(context: EngineContext, step: int) -> None:
    """Count a call under way (+1) or ended (-1), per process and conversation."""
    key = os.environ.get("ENGINE_COUNTER_KEY")
    if not key:
        return
    r, pid = _redis(settings.REDIS_URL), str(os.getpid())
    pipe = r.pipeline()
    pipe.hincrby(f"{key}-inflight", pid, step)
    if step > 0:
        pipe.hincrby(f"{key}-pids", pid, 1)
        pipe.sadd(f"{key}-conversations", context.conversation_id)
    else:
        pipe.srem(f"{key}-conversations", context.conversation_id)
    pipe.execute()


@contextlib.contextmanager
def _in_flight(context: EngineContext) -> Iterator[None]:
    _flight(context, 1)
    try:
        yield
    finally:
        _flight(context, -1)


def _gate_open() -> bool:
    gate = os.environ.get("ENGINE_GATE_KEY")
    return not gate or bool(_redis(settings.REDIS_URL).exists(gate))


def _wait_for_gate() -> None:
    gate = os.environ.get("ENGINE_GATE_KEY")
    if not gate:
        return
    r = _redis(settings.REDIS_URL)
    deadline = time.monotonic() + GATE_MAX_SECONDS
    while not r.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)


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
        with _in_flight(context):
            time.sleep(float(os.environ.get("ENGINE_DELAY_SECONDS", "1.5")))
            _wait_for_gate()
        return EngineReply(text=f"after thinking: {context.text[:200]}", engine=self.name)

    async def areply(self, context: EngineContext, db: DbRunner) -> EngineReply:
        """The same model awaited (the reply runner): the wait holds no thread."""
        await db(_count, context)
        await db(_flight, context, 1)
        try:
            await asyncio.sleep(float(os.environ.get("ENGINE_DELAY_SECONDS", "1.5")))
            deadline = time.monotonic() + GATE_MAX_SECONDS
            while time.monotonic() < deadline and not await db(_gate_open):
                await asyncio.sleep(0.05)
        finally:
            await db(_flight, context, -1)
        return EngineReply(text=f"after thinking: {context.text[:200]}", engine=self.name)
