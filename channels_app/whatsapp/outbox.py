"""Durable hand-over of outbound messages to the gateway that holds the seller's session.

One Redis stream per WhatsApp account (`wa:out:<account id>`) read by the consumer group
`gateways`. Whoever holds the session's lease reads it; an entry stays pending until that
gateway acknowledges it after the send is recorded, so a gateway that dies mid-queue leaves
its entries to the next holder (XAUTOCLAIM). The stream is a hint like every queue here: the
message row is the truth, and the gateway re-reads it before sending.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
GROUP = "gateways"
# A message handed over once is not handed over again for this long (the sweeper's re-sends
# of a message still waiting for its gateway do not pile up in the stream).
DEDUPE_SECONDS = 600
MAX_LENGTH = 100_000


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, decode_responses=True)


def client() -> redis.Redis:
    return _redis(settings.REDIS_URL)


def stream_key(account_id: int) -> str:
    return f"{settings.WHATSAPP_REDIS_PREFIX}:out:{account_id}"


def _dedupe_key(schema: str, message_id: int) -> str:
    return f"{settings.WHATSAPP_REDIS_PREFIX}:queued:{schema}:{message_id}"


def enqueue(account_id: int, schema: str, message_id: int) -> bool:
    """Hand a queued message to the account's gateway. False when it was handed over already."""
    r = client()
    if not r.set(_dedupe_key(schema, message_id), "1", nx=True, ex=DEDUPE_SECONDS):
        return False
    try:
        r.xadd(
            stream_key(account_id),
            {"schema": schema, "message_id": str(message_id)},
            maxlen=MAX_LENGTH,
            approximate=True,
        )
    except Exception:
        r.delete(_dedupe_key(schema, message_id))
        raise
    return True


def ensure_group(r: redis.Redis, key: str) -> None:
    try:
        r.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def claim_pending(r: redis.Redis, key: str, consumer: str) -> list[tuple[str, dict[str, str]]]:
    """Entries a previous holder read and never acknowledged: now this consumer's."""
    claimed: list[tuple[str, dict[str, str]]] = []
    start = "0-0"
    while True:
        result: Any = r.xautoclaim(key, GROUP, consumer, min_idle_time=0, start_id=start, count=100)
        start, entries = result[0], result[1]
        claimed.extend((entry_id, fields) for entry_id, fields in entries if fields)
        if start in ("0-0", b"0-0"):
            return claimed


def read(
    r: redis.Redis, consumer: str, keys: list[str], *, block_ms: int, count: int = 50
) -> list[tuple[str, str, dict[str, str]]]:
    if not keys:
        return []
    response: Any = r.xreadgroup(GROUP, consumer, dict.fromkeys(keys, ">"), count=count, block=block_ms)
    return [(key, entry_id, fields) for key, entries in (response or []) for entry_id, fields in entries]


def ack(r: redis.Redis, key: str, entry_id: str, fields: dict[str, str]) -> None:
    pipe = r.pipeline(transaction=False)
    pipe.xack(key, GROUP, entry_id)
    pipe.xdel(key, entry_id)
    pipe.delete(_dedupe_key(fields.get("schema", ""), int(fields.get("message_id", 0) or 0)))
    pipe.execute()
