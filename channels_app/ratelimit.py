"""Rate limits on public endpoints, counted in Redis with the `limits` library.

Keys carry the seller's schema. When Redis cannot be reached the limit is not enforced (and a
warning is logged): refusing every customer because a counter is down would be worse. Its
client connects and reads with `REDIS_TIMEOUT_SECONDS`, and a Redis that timed out is left alone
for a moment (`ma5zani.redis_guard`): the limiter's calls then fail at once, so a hanging Redis
holds no request.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import redis
from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ma5zani import redis_guard

logger = logging.getLogger(__name__)


class RedisPaused(redis.ConnectionError):
    """Redis timed out a moment ago: not asked again yet."""


class GuardedLimiter(MovingWindowRateLimiter):
    """The moving-window limiter, failing at once while its Redis is paused."""

    def __init__(self, url: str) -> None:
        timeout = settings.REDIS_TIMEOUT_SECONDS
        super().__init__(storage_from_string(url, socket_timeout=timeout, socket_connect_timeout=timeout))
        self.url = url

    def _guarded(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        if redis_guard.paused(self.url):
            raise RedisPaused("Redis timed out a moment ago")
        try:
            return call(*args, **kwargs)
        except Exception as error:
            redis_guard.failed(self.url, error)
            raise

    def hit(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._guarded(super().hit, *args, **kwargs))

    def test(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._guarded(super().test, *args, **kwargs))

    def get_window_stats(self, *args: Any, **kwargs: Any) -> Any:
        return self._guarded(super().get_window_stats, *args, **kwargs)

    def clear(self, *args: Any, **kwargs: Any) -> None:
        self._guarded(super().clear, *args, **kwargs)


@cache
def _limiter(url: str) -> GuardedLimiter:
    return GuardedLimiter(url)


def limiter() -> GuardedLimiter:
    """The process's limiter on the project's Redis (keys under `RATE_LIMIT_PREFIX`)."""
    return _limiter(settings.REDIS_URL)


def allow(limit: str, *identifiers: str) -> bool:
    """Count one hit against `limit` (e.g. "20/minute") for `identifiers`; False when over."""
    try:
        return bool(limiter().hit(parse(limit), settings.RATE_LIMIT_PREFIX, *identifiers))
    except Exception as error:
        logger.warning("Rate limit store unavailable; allowing %s: %s", identifiers, error)
        return True
