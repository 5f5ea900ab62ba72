"""Whether the OpenRouter engine may answer for the current seller: a key, budget left this
month, and a closed circuit breaker.

The breaker counts provider failures per seller in Redis: ENGINE_BREAKER_FAILURES in a row open
it for ENGINE_BREAKER_OPEN_SECONDS, during which the built-in engine answers. One Lua script
counts a failure for both paths (the sync one with redis-py, the async one with
`redis.asyncio`, so that the event loop never waits on a blocking socket). Redis holds a hint
only: when it is unreachable the breaker stays closed and nothing is counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from decimal import Decimal

import redis
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from ma5zani import redis_guard
from ma5zani.caching import TTLCache
from ma5zani.crypto import SecretUnreadable
from ma5zani.tenancy import current_schema
from sales.selectors import bot_settings_cached

logger = logging.getLogger(__name__)

ENGINE_NAME = "openrouter"  # OpenRouterEngine.name: the stored replies' engine starts with it

# KEYS: failures, open; ARGV: failures' lifetime (s), failures that open, open time (s).
# Returns 1 when this failure opened the breaker.
_FAILURE_SCRIPT = """
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
if failures >= tonumber(ARGV[2]) then
    redis.call('SET', KEYS[2], 1, 'EX', ARGV[3])
    redis.call('DEL', KEYS[1])
    return 1
end
return 0
"""


@functools.cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=None)


def _redis() -> redis.Redis:
    """One client per process (a new one per reply cost a connection each), with the short
    timeout of every Redis call on the reply path."""
    return _client(settings.REDIS_URL, settings.REDIS_TIMEOUT_SECONDS)


def _breaker_key(schema: str) -> str:
    return f"{settings.RATE_LIMIT_PREFIX}:engine-breaker:{schema}"


def _failure_args(schema: str) -> tuple[str, int, str, str, int, int, int]:
    key = _breaker_key(schema)
    return (
        _FAILURE_SCRIPT,
        2,
        f"{key}:failures",
        f"{key}:open",
        settings.ENGINE_BREAKER_OPEN_SECONDS * 5,
        settings.ENGINE_BREAKER_FAILURES,
        settings.ENGINE_BREAKER_OPEN_SECONDS,
    )


def breaker_open(schema: str) -> bool:
    """Whether the breaker is open; closed when Redis cannot say (a Redis that timed out a moment
    ago is not asked again yet: `ma5zani.redis_guard`)."""
    url = settings.REDIS_URL
    if redis_guard.paused(url):
        return False
    try:
        return bool(_redis().exists(f"{_breaker_key(schema)}:open"))
    except redis.RedisError as error:
        redis_guard.failed(url, error)
        return False


def breaker_failure(schema: str) -> None:
    """Count a failure; after ENGINE_BREAKER_FAILURES in a row the breaker opens for a while."""
    try:
        opened = _redis().eval(*_failure_args(schema))
    except redis.RedisError:
        logger.info("Circuit breaker not updated (Redis unavailable)", exc_info=True)
        return
    if opened:
        logger.warning("Engine circuit breaker open for %s", schema)


def breaker_success(schema: str) -> None:
    with contextlib.suppress(redis.RedisError):
        _redis().delete(f"{_breaker_key(schema)}:failures")


async def abreaker_failure(schema: str) -> None:
    """`breaker_failure` from async code."""
    from sales.engine.provider import async_redis

    try:
        opened = await async_redis().eval(*_failure_args(schema))
    except (redis.RedisError, OSError):
        logger.info("Circuit breaker not updated (Redis unavailable)", exc_info=True)
        return
    if opened:
        logger.warning("Engine circuit breaker open for %s", schema)


async def abreaker_success(schema: str) -> None:
    """`breaker_success` from async code."""
    from sales.engine.provider import async_redis

    with contextlib.suppress(redis.RedisError, OSError):
        await async_redis().delete(f"{_breaker_key(schema)}:failures")


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_spend(now: dt.datetime | None = None) -> Decimal:
    """What the seller's AI answers cost this month (USD), from the stored replies."""
    from conversations.models import Message

    total = Message.objects.filter(created_at__gte=month_start(now), engine__startswith=ENGINE_NAME).aggregate(
        total=Sum("cost_usd")
    )["total"]
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


# The month's spend, summed again every few seconds per seller (a sum over the month's replies
# on every reply cost more than the reply's own reads at peak). What this process stores is
# added at once (`month_spend_add`); another process's replies count within seconds.
_spend = TTLCache[Decimal](seconds=5)


def month_spend_cached() -> Decimal:
    return _spend.get(current_schema(), month_spend)


def month_spend_add(amount: Decimal) -> None:
    """A reply that cost `amount` was stored in the current schema."""
    if amount:
        _spend.adjust(current_schema(), lambda spent: spent + amount)


def month_spend_forget() -> None:
    _spend.forget()


def openrouter_ready() -> bool:
    """A key, budget left this month, and a closed breaker."""
    if not openrouter_key():
        return False
    if breaker_open(current_schema()):
        return False
    return month_spend_cached() < bot_settings_cached().monthly_budget_usd
