"""Celery workers say they are alive, and which queues they consume, every few seconds.

A consumer bootstep (it runs in `celery worker` and in Celery's test workers alike) writes
`{"at": <unix time>, "queues": [...]}` under the worker's name in one Redis hash every
`WORKER_HEARTBEAT_SECONDS`, and removes it when the worker stops. `/health/` reads that hash in
one round trip instead of pinging the workers and waiting out a timeout (ma5zani.health).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis
from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)


def heartbeat_key() -> str:
    # The cache prefix is per deployment (and per test run, shared with the processes it starts).
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ma5zani')}:health:workers"


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def workers_alive(beats: dict[Any, Any], *, now: float | None = None) -> dict[str, list[str]]:
    """The workers whose last heartbeat (an HGETALL of `heartbeat_key()`) is recent, with their queues."""
    now = time.time() if now is None else now
    alive: dict[str, list[str]] = {}
    for name, raw in beats.items():
        try:
            beat = json.loads(raw)
            at, queues = float(beat["at"]), [str(q) for q in beat["queues"]]
        except (ValueError, KeyError, TypeError):
            continue
        if now - at <= settings.WORKER_HEARTBEAT_STALE_SECONDS:
            alive[name.decode() if isinstance(name, bytes) else str(name)] = queues
    return alive


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes this worker's heartbeat on a thread of its own while its consumer runs."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = ""

    def start(self, parent: Any) -> None:
        self._name = str(parent.hostname)
        queues = sorted(queue.name for queue in parent.task_consumer.queues)
        self._stop.clear()
        self._beat(_client(), queues)  # the first one before the worker says it is ready
        self._thread = threading.Thread(target=self._run, args=(queues,), name="worker-heartbeat", daemon=True)
        self._thread.start()

    def _run(self, queues: list[str]) -> None:
        client = _client()
        while not self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            self._beat(client, queues)
        client.close()

    def _beat(self, client: redis.Redis, queues: list[str]) -> None:
        try:
            client.hset(heartbeat_key(), self._name, json.dumps({"at": time.time(), "queues": queues}))
        except redis.RedisError:
            logger.warning("Could not write the worker heartbeat", exc_info=True)

    def stop(self, parent: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            _client().hdel(heartbeat_key(), self._name)
        except redis.RedisError:
            logger.warning("Could not remove the worker heartbeat", exc_info=True)

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)
