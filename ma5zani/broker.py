"""The Celery broker's transport: kombu's Redis transport, with one client per connection pool.

kombu makes a new `redis.Redis` for every publish and every acknowledgement; redis-py builds
its table of response callbacks in each one, which cost a worker more CPU per task than the
commands themselves (bench/README.md). A client is safe to share between threads (each
command borrows a connection from the pool), so the channel keeps one per pool.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _shared_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the consuming connection: kombu manages it
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:  # a new pool after a reconnection
            client = self._shared_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
