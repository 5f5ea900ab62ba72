"""Exponential backoff with jitter: one formula for every retry of the project."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Seconds before retry number `attempt` (1 for the first): base × 2^(attempt−1), capped,
    plus a random jitter of up to `base` so that many retries do not land together."""
    delay = min(base * (2 ** max(0, attempt - 1)), cap)
    return delay + random.uniform(0, base)  # noqa: S311 - jitter, not secrecy
