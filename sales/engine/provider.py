"""What the async OpenRouter path shares within a process: the clients of each event loop, and
the per-key gate of the provider's rate limits.

Clients. Each event loop has one `httpx2.AsyncClient` per base URL, a connection pool of
OPENROUTER_MAX_CONNECTIONS shared by every key, and one `openai.AsyncOpenAI` per key over it
(cached by a hash of the key, the newest CLIENTS_PER_LOOP kept), so a reply never opens its own
pool. A loop's clients live as long as the loop: `aclose_clients()` closes them (the reply
runner calls it when it stops; a closed loop's are dropped on the next loop's first use).

Rate limits. The SDK does not retry a 429 here (`_should_retry`): `gated` does. A 429 pauses its
key until the time the provider gives (Retry-After in seconds or as an HTTP date, Retry-After-Ms,
OpenRouter's X-RateLimit-Reset in epoch milliseconds, in the headers or in the error's
`metadata.headers`; one second when it gives none). While a key is paused every request of that
key waits (an asyncio sleep, holding no thread and no connection) and then goes; requests of
other keys never wait. A request whose wait would end after OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS
from its start raises `RateLimited` at once (the built-in engine answers). The pause is kept in
this process and in Redis (`<prefix>:openrouter-pause:<key hash>`, expiring with the pause) so
that other processes wait too; Redis is a hint: when it is unreachable (short timeout, then
`ma5zani.redis_guard`'s pause) each process keeps its own pauses. Keys are never stored or
logged, only their hash.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
import openai
import redis
import redis.asyncio
from django.conf import settings

from ma5zani import redis_guard

logger = logging.getLogger(__name__)

T = TypeVar("T")

CLIENTS_PER_LOOP = 1024
DEFAULT_PAUSE_SECONDS = 1.0  # a 429 that gives no time
MIN_PAUSE_SECONDS = 0.25  # a 429 asking for no wait at all still waits this much


# --- Clients of each event loop ---------------------------------------------------------------


class AsyncOpenRouter(openai.AsyncOpenAI):
    """The SDK's async client, retrying timeouts, connection errors, 408, 409 and 5xx as it
    does (OPENROUTER_MAX_RETRIES) but never a 429: `gated` waits for those, per key."""

    def _should_retry(self, response: httpx2.Response) -> bool:
        if response.status_code == 429:
            return False
        return super()._should_retry(response)


@dataclass
class _LoopClients:
    http: dict[str, httpx2.AsyncClient] = field(default_factory=dict)
    openai: OrderedDict[tuple[Any, ...], AsyncOpenRouter] = field(default_factory=OrderedDict)
    redis: dict[str, redis.asyncio.Redis] = field(default_factory=dict)


_loops: dict[asyncio.AbstractEventLoop, _LoopClients] = {}


def _clients() -> _LoopClients:
    loop = asyncio.get_running_loop()
    clients = _loops.get(loop)
    if clients is None:
        for closed in [other for other in list(_loops) if other.is_closed()]:
            _loops.pop(closed, None)
        clients = _loops[loop] = _LoopClients()
    return clients


def key_id(api_key: str) -> str:
    """The name of a key in caches, Redis and logs: a hash, never the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:24]


def async_client(api_key: str) -> AsyncOpenRouter:
    """The running loop's client for `api_key` at OPENROUTER_BASE_URL."""
    clients = _clients()
    base_url = settings.OPENROUTER_BASE_URL
    options = (
        settings.OPENROUTER_TIMEOUT_SECONDS,
        settings.OPENROUTER_MAX_RETRIES,
        settings.OPENROUTER_APP_URL,
        settings.OPENROUTER_APP_TITLE,
    )
    cache_key = (base_url, key_id(api_key), *options)
    client = clients.openai.get(cache_key)
    if client is not None:
        clients.openai.move_to_end(cache_key)
        return client
    http = clients.http.get(base_url)
    if http is None or http.is_closed:
        size = settings.OPENROUTER_MAX_CONNECTIONS
        http = clients.http[base_url] = openai.DefaultAsyncHttpxClient(
            limits=httpx2.Limits(max_connections=size, max_keepalive_connections=size)
        )
    client = AsyncOpenRouter(
        api_key=api_key,
        base_url=base_url,
        timeout=settings.OPENROUTER_TIMEOUT_SECONDS,
        max_retries=settings.OPENROUTER_MAX_RETRIES,
        default_headers={"HTTP-Referer": settings.OPENROUTER_APP_URL, "X-Title": settings.OPENROUTER_APP_TITLE},
        http_client=http,
    )
    clients.openai[cache_key] = client
    while len(clients.openai) > CLIENTS_PER_LOOP:
        clients.openai.popitem(last=False)  # its pool is the shared one: nothing to close
    return client


def async_redis() -> redis.asyncio.Redis:
    """The running loop's Redis client (REDIS_URL, REDIS_TIMEOUT_SECONDS)."""
    clients = _clients()
    url = settings.REDIS_URL
    client = clients.redis.get(url)
    if client is None:
        timeout = settings.REDIS_TIMEOUT_SECONDS
        client = clients.redis[url] = redis.asyncio.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return client


async def aclose_clients() -> None:
    """Close the running loop's clients (HTTP pools and Redis connections)."""
    clients = _loops.pop(asyncio.get_running_loop(), None)
    if clients is None:
        return
    for http in clients.http.values():
        await http.aclose()
    for client in clients.redis.values():
        await client.aclose()


# --- The per-key gate ---------------------------------------------------------------------


class RateLimited(Exception):
    """The key is paused beyond the wait allowed."""

    def __init__(self, until: float) -> None:
        super().__init__(f"rate limited until {until:.3f}")
        self.until = until


_paused: dict[str, float] = {}  # key hash -> until (epoch seconds), this process's pauses


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def retry_at(headers: Mapping[str, Any], body: object, now: float) -> float:
    """When a key that got a 429 may ask again (epoch seconds): the latest of the times the
    provider gives, else DEFAULT_PAUSE_SECONDS from `now`; at least MIN_PAUSE_SECONDS."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    inner = metadata.get("headers") if isinstance(metadata, dict) else None
    sources = [headers, inner] if isinstance(inner, Mapping) else [headers]
    times: list[float] = []
    for source in sources:
        if (value := _header(source, "retry-after-ms")) is not None:
            times += [now + seconds / 1000 for seconds in _number(value)]
        if (value := _header(source, "retry-after")) is not None:
            times += [now + seconds for seconds in _number(value)] or _http_date(value)
        if (value := _header(source, "x-ratelimit-reset")) is not None:
            times += [_reset_time(number, now) for number in _number(value)]
    until = max(times) if times else now + DEFAULT_PAUSE_SECONDS
    return max(until, now + MIN_PAUSE_SECONDS)


def _number(value: str) -> list[float]:
    try:
        number = float(value.strip())
    except ValueError:
        return []
    return [number] if number == number and abs(number) != float("inf") else []


def _http_date(value: str) -> list[float]:
    try:
        return [email.utils.parsedate_to_datetime(value).timestamp()]
    except (TypeError, ValueError, IndexError, OverflowError):
        return []


def _reset_time(number: float, now: float) -> float:
    """X-RateLimit-Reset: epoch milliseconds (OpenRouter); epoch seconds or seconds from now
    from providers that write it so."""
    if number >= 1e12:
        return number / 1000
    if number >= 1e9:
        return number
    return now + number


def _pause_key(key: str) -> str:
    return f"{settings.RATE_LIMIT_PREFIX}:openrouter-pause:{key}"


async def paused_until(key: str) -> float:
    """Until when `key` (a key hash) is paused, in this process or another (0: not paused)."""
    until = _paused.get(key, 0.0)
    if until and until <= time.time():
        _paused.pop(key, None)
    url = settings.REDIS_URL
    if redis_guard.paused(url):
        return until
    try:
        shared = await async_redis().get(_pause_key(key))
    except (redis.RedisError, OSError) as error:
        redis_guard.failed(url, error)
        return until
    try:
        return max(until, int(shared) / 1000) if shared else until
    except ValueError:
        return until


async def pause(key: str, until: float) -> None:
    """Pause `key` until `until` (epoch seconds), here and for the other processes."""
    if until > _paused.get(key, 0.0):
        _paused[key] = until
    milliseconds = int((until - time.time()) * 1000)
    url = settings.REDIS_URL
    if milliseconds <= 0 or redis_guard.paused(url):
        return
    try:
        await async_redis().set(_pause_key(key), int(until * 1000), px=milliseconds)
    except (redis.RedisError, OSError) as error:
        redis_guard.failed(url, error)


def paused_here(key: str) -> float:
    """Until when this process knows `key` is paused (0: not paused)."""
    return _paused.get(key, 0.0)


def forget_pauses() -> None:
    """Forget this process's pauses (the tests start each from a clean state)."""
    _paused.clear()


async def _wait_turn(key: str, deadline: float) -> None:
    while True:
        until = await paused_until(key)
        now = time.time()
        if until <= now:
            return
        if until > deadline:
            raise RateLimited(until)
        await asyncio.sleep(until - now)


async def gated(key: str, send: Callable[[], Awaitable[T]]) -> T:
    """`send()` once `key` is not paused; after a 429, pause the key and send again, as long as
    the wait ends within OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS of the start (else RateLimited)."""
    deadline = time.time() + settings.OPENROUTER_RATE_LIMIT_MAX_WAIT_SECONDS
    while True:
        await _wait_turn(key, deadline)
        try:
            return await send()
        except openai.RateLimitError as exc:
            until = retry_at(exc.response.headers, exc.body, time.time())
            logger.info("OpenRouter key %s rate limited for %.1fs", key, until - time.time())
            await pause(key, until)
