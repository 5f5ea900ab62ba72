"""The reply stream: what the reply runners answer.

One Redis stream (`<REPLY_STREAM_PREFIX>:reply-stream`) read by the consumer group `runners`. An
entry names a seller's schema, a conversation and its latest customer message, and the moment
before which it must not start (a pause, when one is set). An entry stays pending until the
runner that read it has stored the answer (or found nothing to answer), so the entries of a
runner that died are claimed by another one (XAUTOCLAIM). The stream is a hint like every queue
here: the database is the truth, the sweeper enqueues again what is left unanswered, and the
reply path itself never answers a message twice.

Enqueueing fails open like `ma5zani.celery.enqueue`: a Redis outage is logged, not raised (the
message is stored; the sweeper answers it), and a Redis that timed out a moment ago is not tried
again yet (`ma5zani.redis_guard`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from django.conf import settings

from ma5zani import redis_guard

logger = logging.getLogger(__name__)

GROUP = "runners"
# Far above what waits at any moment (a runner acknowledges what it finished); trimming only
# drops entries long acknowledged.
MAX_LENGTH = 200_000


def stream_key() -> str:
    return f"{settings.REPLY_STREAM_PREFIX}:reply-stream"


def newer_channel() -> str:
    """Pub/sub channel on which a runner that starts a reply tells the others to drop theirs
    for the same conversation (a burst whose messages reached two runners)."""
    return f"{settings.REPLY_STREAM_PREFIX}:reply-stream:newer"


def counter_key(name: str) -> str:
    """A counter shared by the runners (`cancelled`: model calls cancelled by a newer message)."""
    return f"{settings.REPLY_STREAM_PREFIX}:reply-stream:count:{name}"


@cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL, settings.REDIS_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Entry:
    """One entry of the stream, as a runner reads it."""

    entry_id: str
    schema: str
    conversation_id: int
    inbound_id: int
    not_before: float  # unix time; 0: at once (whatever the clocks of the machines say)
    enqueued_at: float

    @classmethod
    def parse(cls, entry_id: str, fields: dict[str, str]) -> Entry | None:
        """None for an entry that is not ours to read (malformed): it is acknowledged and dropped."""
        try:
            enqueued_at, delay = float(fields.get("t", 0)), float(fields.get("d", 0))
            return cls(
                entry_id=entry_id,
                schema=str(fields["s"]),
                conversation_id=int(fields["c"]),
                inbound_id=int(fields["m"]),
                not_before=enqueued_at + delay if delay > 0 else 0.0,
                enqueued_at=enqueued_at,
            )
        except (KeyError, ValueError, TypeError):
            return None


def entry_fields(schema: str, conversation_id: int, inbound_id: int, now: float, delay: float = 0.0) -> dict[Any, Any]:
    """An entry: the schema, the conversation, its latest customer message, when it was enqueued
    and the pause before it may start."""
    return {"s": schema, "c": conversation_id, "m": inbound_id, "t": now, "d": delay}


def enqueue(schema: str, pairs: Iterable[tuple[int, int]], *, delay: float = 0.0) -> bool:
    """Ask a runner to answer each (conversation, latest customer message) of `schema`, not
    before `delay` seconds from now. False when Redis could not be reached (the sweeper asks again)."""
    pairs = list(pairs)
    if not pairs:
        return True
    url = settings.REDIS_URL
    if redis_guard.paused(url):
        logger.warning("Redis paused after a timeout; %d replies for %s left to the sweeper", len(pairs), schema)
        return False
    now = time.time()
    try:
        pipe = client().pipeline(transaction=False)
        for conversation_id, inbound_id in pairs:
            pipe.xadd(stream_key(), entry_fields(schema, conversation_id, inbound_id, now, delay), maxlen=MAX_LENGTH,
                      approximate=True)  # fmt: skip
        pipe.execute()
    except redis.RedisError as error:
        redis_guard.failed(url, error)
        logger.warning("Could not enqueue %d replies for %s", len(pairs), schema, exc_info=True)
        return False
    return True


def ensure_group(r: redis.Redis) -> None:
    try:
        r.xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def backlog() -> dict[str, int]:
    """What waits in the stream: entries not yet read by any runner and entries read but not
    acknowledged (for /health/ and the benchmarks)."""
    r = client()
    try:
        groups = r.xinfo_groups(stream_key())
    except redis.ResponseError:  # no stream yet
        return {"waiting": 0, "pending": 0}
    for group in groups:
        if group.get("name") == GROUP:
            lag = group.get("lag")
            return {"waiting": int(lag or 0), "pending": int(group.get("pending") or 0)}
    return {"waiting": int(r.xlen(stream_key())), "pending": 0}
