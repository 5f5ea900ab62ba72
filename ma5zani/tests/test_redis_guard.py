"""A hanging Redis costs one timeout, then is left alone for a moment; a down one fails fast.

The servers here are sockets that accept connections and never answer (a frozen Redis), counting
the connections they were offered: after a timeout, the cache, the rate limiter and the task
queue skip Redis without even connecting, until the pause is over.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache
from kombu.exceptions import OperationalError

from channels_app import ratelimit
from ma5zani import redis_guard
from ma5zani.celery import app, enqueue
from ma5zani.testing import free_port, wait_for


class FrozenRedis:
    """Accepts connections and never answers a command."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def frozen() -> Iterator[FrozenRedis]:
    server = FrozenRedis()
    yield server
    server.close()
    redis_guard.resume(server.url)


@pytest.fixture
def frozen_cache(settings, frozen: FrozenRedis) -> FrozenRedis:
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": frozen.url}}
    settings.REDIS_TIMEOUT_SECONDS = 0.3
    settings.CACHES["default"]["OPTIONS"] = {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}
    return frozen


def test_the_cache_misses_and_drops_writes_when_redis_hangs_then_leaves_it_alone(frozen_cache):
    assert cache.get("k", "default") == "default"  # one timeout
    wait_for(lambda: len(frozen_cache.accepted) == 1, 5, message="the cache's connection")
    assert redis_guard.paused(frozen_cache.url)
    cache.set("k", "v")
    assert cache.add("lock", 1) is True  # nothing here uses the cache to exclude anyone
    assert cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False
    assert "k" not in cache
    with pytest.raises(ValueError):
        cache.incr("counter")
    assert len(frozen_cache.accepted) == 1  # none of these even connected


def test_redis_is_tried_again_after_the_pause(frozen_cache, settings):
    settings.REDIS_PAUSE_SECONDS = 0  # the pause ends at once
    assert cache.get("k") is None
    assert cache.get("k") is None
    wait_for(lambda: len(frozen_cache.accepted) == 2, 5, message="a second connection after the pause")


def test_a_down_redis_fails_fast_and_pauses_nothing(settings):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    assert cache.get("k", 1) == 1
    cache.set("k", 2)
    assert not redis_guard.paused(url)  # a refused connection costs nothing: tried every time


def test_the_rate_limiter_allows_at_once_while_redis_is_paused(settings, frozen):
    settings.REDIS_URL = frozen.url
    settings.REDIS_TIMEOUT_SECONDS = 0.3
    assert ratelimit.allow("1/minute", "visitor") is True  # one timeout: not enforced
    assert redis_guard.paused(frozen.url)
    connections = wait_for(lambda: len(frozen.accepted), 5, message="the limiter's connection")
    assert ratelimit.allow("1/minute", "visitor") is True
    assert ratelimit.allow("1/minute", "visitor") is True
    with pytest.raises(ratelimit.RedisPaused):
        ratelimit.limiter().test(ratelimit.parse("1/minute"), "prefix", "visitor")
    assert len(frozen.accepted) == connections


def test_a_paused_broker_is_not_published_to(monkeypatch):
    from conversations.tasks import reply_task

    broker = str(app.conf.broker_url)
    sent: list[tuple] = []
    monkeypatch.setattr(reply_task, "apply_async", lambda *args, **kwargs: sent.append(args))
    redis_guard.failed(broker, OperationalError("publish failed"))  # not a timeout: no pause
    assert enqueue(reply_task, 1, 2, schema="public") is True
    try:
        wrapped = OperationalError("Error while publishing")
        wrapped.__cause__ = redis.TimeoutError("Timeout reading from socket")
        redis_guard.failed(broker, wrapped)  # kombu's error around redis-py's timeout
        assert enqueue(reply_task, 1, 2, schema="public") is False  # left to the sweeper
        assert len(sent) == 1
    finally:
        redis_guard.resume(broker)
    assert enqueue(reply_task, 1, 2, schema="public") is True


def test_a_publish_to_a_frozen_broker_gives_up_after_its_timeouts(frozen, settings):
    """kombu waits forever by default; with the broker's socket timeouts and the app's publish
    retry policy (one more try, at once) a publish ends with a timeout, which pauses the broker."""
    from kombu import Connection

    options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "socket_timeout": 0.3, "socket_connect_timeout": 0.3}
    with Connection(frozen.url, transport_options=options) as connection:
        producer = connection.Producer()
        with pytest.raises(OperationalError) as raised:
            producer.publish({"x": 1}, routing_key="q", retry=True, retry_policy=app.conf.task_publish_retry_policy)
    assert redis_guard.is_timeout(raised.value)
    wait_for(lambda: len(frozen.accepted) == 2, 5, message="the first try and the one retry")
