"""Live events for the dashboard and inbox: one publish() for services, sent after commit.

One group per seller, named after its schema, so a consumer can only ever join its own
seller's group.

Sync code (services, tasks) reaches the async channel layer through one event loop per process
that runs in a background thread: its Redis connections are kept, where `async_to_sync` would
open a new loop (and new connections) for every event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or not _loop.is_running():
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                loop.run_forever()

            threading.Thread(target=run, name="channel-layer-loop", daemon=True).start()
            started.wait(5)
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def layer_call(function: Callable[..., Awaitable[T]], *args: Any, timeout: float = 5.0) -> T:
    """Run one channel-layer coroutine from sync code and wait for its result."""
    coroutine: Coroutine[Any, Any, T] = function(*args)  # type: ignore[assignment]
    future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coroutine, _background_loop())
    return future.result(timeout)


def layer_send_soon(function: Callable[..., Awaitable[Any]], *args: Any, what: str) -> None:
    """Start one channel-layer coroutine from sync code without waiting for it: for hints such
    as live events, so that a database thread never waits on Redis. A failure is logged."""
    coroutine: Coroutine[Any, Any, Any] = function(*args)  # type: ignore[assignment]
    future = asyncio.run_coroutine_threadsafe(coroutine, _background_loop())

    def done(result: concurrent.futures.Future[Any]) -> None:
        if not result.cancelled() and result.exception() is not None:
            logger.warning("Could not send %s: %s", what, result.exception())

    future.add_done_callback(done)


def seller_group(schema_name: str) -> str:
    return f"seller.{schema_name}"


def publish(schema_name: str, event: str, payload: dict[str, Any]) -> None:
    """Send `event` to the seller's group once the current transaction commits.

    The caller does not wait for Redis, and a failure to reach the channel layer is logged,
    never raised: the database is the source of truth and the page reloads what it missed.
    """

    message = {"type": "seller.event", "event": event, "payload": payload}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            layer_send_soon(layer.group_send, seller_group(schema_name), message, what=f"{event} to {schema_name}")
        except Exception:  # the event is a hint; never break the caller
            logger.warning("Could not publish %s to %s", event, schema_name, exc_info=True)

    transaction.on_commit(send)
