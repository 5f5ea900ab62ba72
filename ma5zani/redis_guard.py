"""Redis on a request path: a short timeout, then a short pause after a timeout.

Redis holds hints only (the cache, rate-limit counters, the task queue, live events): the
database is the truth. Every client on a request path uses `REDIS_TIMEOUT_SECONDS` to connect
and to read. A Redis that accepts connections but never answers would still cost each call that
timeout, so after one timeout this process leaves that Redis alone for `REDIS_PAUSE_SECONDS`:
callers fall back at once (a cache miss, a limit not enforced, a task left to the sweeper)
instead of holding a web thread. A refused connection (Redis down) fails fast by itself and
pauses nothing.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

_paused_until: dict[str, float] = {}


def is_timeout(error: BaseException | None) -> bool:
    """Whether `error`, or what caused it (kombu wraps redis-py's errors), is a timeout."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, redis.TimeoutError | socket.timeout | TimeoutError):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def paused(url: str) -> bool:
    """Whether calls to the Redis at `url` are skipped for now (it timed out a moment ago)."""
    until = _paused_until.get(url)
    return until is not None and time.monotonic() < until


def failed(url: str, error: BaseException) -> None:
    """Note a failed call to the Redis at `url`: a timeout pauses it."""
    if is_timeout(error) and not paused(url):
        _paused_until[url] = time.monotonic() + settings.REDIS_PAUSE_SECONDS
        logger.warning("Redis at %s timed out; skipped for %ss", _safe(url), settings.REDIS_PAUSE_SECONDS)


def resume(url: str | None = None) -> None:
    """Forget the pauses (of one Redis, or all): the tests start each from a clean state."""
    if url is None:
        _paused_until.clear()
    else:
        _paused_until.pop(url, None)


def _safe(url: str) -> str:
    """The URL without its password, for the logs."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


class FailOpenRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client where an unavailable Redis is a miss: reads find nothing,
    writes are dropped, `add` reports success (nothing here uses the cache to exclude anyone:
    what must fail closed, such as the sign-in hand-off's nonce, lives in the database)."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self.url = servers[0]  # the server written to (and read from, with one server)

    def _guarded(self, what: str, fallback: Any, call: Callable[..., Any], *args: Any) -> Any:
        url = self.url
        if paused(url):
            return fallback
        try:
            return call(*args)
        except redis.RedisError as error:
            failed(url, error)
            logger.warning("Cache %s skipped, Redis unavailable: %s", what, error)
            return fallback

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return bool(self._guarded("add", True, super().add, key, value, timeout))

    def get(self, key: Any, default: Any) -> Any:
        return self._guarded("get", default, super().get, key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guarded("set", None, super().set, key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        return bool(self._guarded("touch", False, super().touch, key, timeout))

    def delete(self, key: Any) -> bool:
        return bool(self._guarded("delete", False, super().delete, key))

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return dict(self._guarded("get_many", {}, super().get_many, keys))

    def has_key(self, key: Any) -> bool:
        return bool(self._guarded("has_key", False, super().has_key, key))

    def incr(self, key: Any, delta: int) -> int:
        missing = object()
        value = self._guarded("incr", missing, super().incr, key, delta)
        if value is missing:  # as for a key that is not there
            raise ValueError(f"Key '{key}' not found.")
        return int(value)

    def set_many(self, data: Any, timeout: Any) -> None:
        self._guarded("set_many", None, super().set_many, data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._guarded("delete_many", None, super().delete_many, keys)

    def clear(self) -> bool:
        return bool(self._guarded("clear", False, super().clear))


class FailOpenRedisCache(RedisCache):
    """The project's cache backend (settings.CACHES): Django's Redis cache, failing open."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
