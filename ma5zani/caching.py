"""Per-process caches of a few seconds for rows the message path reads on every message (bot
settings, channel accounts, shop names): a change made elsewhere shows within the TTL."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[Hashable, tuple[float, V]] = {}

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        now = time.monotonic()
        cached = self._items.get(key)
        if cached is None or cached[0] < now:
            cached = self._items[key] = (now + self.seconds, load())
        return cached[1]

    def adjust(self, key: Hashable, change: Callable[[V], V]) -> None:
        """Change a cached value in place (what this process knows changed it), keeping its expiry."""
        cached = self._items.get(key)
        if cached is not None:
            self._items[key] = (cached[0], change(cached[1]))

    def forget(self, key: Hashable | None = None) -> None:
        if key is None:
            self._items.clear()
        else:
            self._items.pop(key, None)
