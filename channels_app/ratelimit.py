"""Rate limits on public endpoints, counted in Redis with the `limits` library.

Keys carry the seller's schema. When Redis cannot be reached the limit is not enforced (and a
warning is logged): refusing every customer because a counter is down would be worse.
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)


@cache
def _limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(url, socket_timeout=1, socket_connect_timeout=1))


def limiter() -> MovingWindowRateLimiter:
    """The process's limiter on the project's Redis (keys under `RATE_LIMIT_PREFIX`)."""
    return _limiter(settings.REDIS_URL)


def allow(limit: str, *identifiers: str) -> bool:
    """Count one hit against `limit` (e.g. "20/minute") for `identifiers`; False when over."""
    try:
        return bool(limiter().hit(parse(limit), settings.RATE_LIMIT_PREFIX, *identifiers))
    except Exception:
        logger.warning("Rate limit store unavailable; allowing %s", identifiers, exc_info=True)
        return True
