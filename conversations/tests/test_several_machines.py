"""Several machines: two web processes, two Celery workers, two WhatsApp gateways (and two reply
runners once the Procfile has them) and beat, against one PostgreSQL (the test database) and
one Redis, while customers write on the widget's HTTP path and over WhatsApp. One process of
each kind is killed (SIGKILL, as when its machine dies) while replies are under way, and another
of each is started. Nothing may be lost, nothing answered or sent twice.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django_tenants.utils import schema_context

from channels_app.whatsapp.testing import fake_key, quick_gateway_env, sending, sent_messages
from conversations.models import DeliveryAttempt, Message
from conversations.reasons import send_failure_label
from conversations.tests.crowd import (
    INTERRUPTED_ERROR,
    Row,
    SellerChannels,
    WhatsAppCustomers,
    WidgetCustomers,
    Writers,
    bot_answers,
    broker_idle,
    bursts,
    holders,
    seller_with_channels,
    stored,
    unanswered,
    wait_until_settled,
)
from ma5zani.testing import REPLIES, LiveStack, committed_db, reply_runner, wait_for

pytestmark = committed_db
SELLERS = 4
# Short enough for a quick takeover, long enough that a gateway starved of CPU on a loaded machine
# still renews its leases in time (at 3 s, renewals every second slipped under a full test run).
LEASE = 8.0


@pytest.fixture
def sellers(make_shop: Any) -> list[SellerChannels]:
    return [seller_with_channels(make_shop(f"multi{n}", name=f"Multi {n}")) for n in range(SELLERS)]


def stack_env(settings: Any, counter: str, **extra: str) -> dict[str, str]:
    return {
        "REPLY_RUNNER": reply_runner(),
        "BOT_ENGINE_CLASS": "bench.engines.SlowEngine",
        "ENGINE_DELAY_SECONDS": "0.5",  # replies are under way when a process dies
        "ENGINE_COUNTER_KEY": counter,
        "WORKER_CONCURRENCY": "4",
        "DB_POOL_MAX_SIZE": "5",  # nine processes and more on a shared server
        # A lost task comes back from the broker after the visibility timeout, and the sweeper
        # asks again for an answer or a delivery: both on, shortened for the test.
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "CELERY_RESTORE_EVERY_SECONDS": "1",
        "SWEEP_EVERY_SECONDS": "2",
        "SWEEP_REPLY_AFTER_SECONDS": "8",
        "SWEEP_DELIVERY_AFTER_SECONDS": "8",
        "DELIVERY_BACKOFF_SECONDS": "0.5",
        **quick_gateway_env(LEASE),
        "WHATSAPP_START_GAP_SECONDS": "0.01",
        "WHATSAPP_DB_THREADS": "3",
        "WA_FAKE_INBOX": "1",  # customers write to the loopback clients
        "WA_FAKE_SEND_SECONDS": "0.3",  # WhatsApp confirms a send after a moment: a gateway dies between
        **extra,
    }


def in_flight(counter: str, pid: int) -> int:
    """Engine calls under way in process `pid` (bench.engines counts them)."""
    return int(_redis().hget(f"{counter}-inflight", str(pid)) or 0)


def engine_calls(counter: str, pid: int) -> int:
    """Engine calls made in process `pid`."""
    return int(_redis().hget(f"{counter}-pids", str(pid)) or 0)


def test_several_machines_lose_nothing_and_answer_once_when_one_of_each_dies(live_stack, sellers, settings):
    settings.WHATSAPP_REDIS_PREFIX = f"test-wa-{uuid.uuid4().hex[:10]}"
    counter = f"engine-{uuid.uuid4().hex[:8]}"
    stack: LiveStack = live_stack(**stack_env(settings, counter))
    kinds = ["web", "worker", "gateway"] + ([REPLIES] if reply_runner() == "async" else [])
    answering = REPLIES if reply_runner() == "async" else "worker"
    for kind in kinds:
        stack.start(kind)
        stack.start(kind)
    stack.start("beat")
    for web in stack.names("web"):
        stack.wait_healthy(120, web=web)

    def sessions_spread() -> bool:  # every session connected, on both gateways
        rows = holders()
        owners = Counter(owner for owner, state in rows.values() if state == "connected")
        return sum(owners.values()) == SELLERS and set(owners) == set(stack.names("gateway"))

    wait_for(sessions_spread, 60, interval=0.5, message=f"the sessions spread over both gateways ({stack.logs})")

    widget = WidgetCustomers(stack, sellers, webs=lambda: list(stack.names("web")))
    whatsapp = WhatsAppCustomers(sellers)
    writers = Writers()
    writers.run(widget.burst, pause=0.25)
    writers.run(widget.burst, pause=0.25)
    writers.run(whatsapp.burst, pause=0.3)

    def answers() -> int:
        return sum(len(bot_answers(stored(seller.schema))) for seller in sellers)

    wait_for(lambda: answers() >= 6, 90, interval=0.5, message=f"the first answers (logs in {stack.logs})")

    # One of each dies, each while it is busy: the answering process with a reply between the
    # model call and its store, the gateway with a send under way.
    killed: dict[str, str] = {}
    victim = stack.names(answering)[0]
    wait_for(lambda: in_flight(counter, stack.pid(victim)) > 0, 60, interval=0.05,
             message=f"a reply under way in {victim}")  # fmt: skip
    stack.kill(victim)
    killed[answering] = victim
    gateway = stack.names("gateway")[0]
    gateway_pid = stack.pid(gateway)
    held_by_killed = {pk for pk, (owner, _state) in holders().items() if owner == gateway}
    wait_for(lambda: sending(gateway_pid) > 0, 60, interval=0.02, message=f"a send under way in {gateway}")
    stack.kill(gateway)
    killed_at = time.time()
    killed["gateway"] = gateway
    for kind in kinds:
        if kind not in killed:
            killed[kind] = stack.names(kind)[0]
            stack.kill(killed[kind])
    assert held_by_killed, "the killed gateway held no session"

    # The killed gateway's sessions are taken over by the other gateway (its lease expired).
    survivor = stack.names("gateway")[0]
    wait_for(lambda: all(holders()[pk] == (survivor, "connected") for pk in held_by_killed), 60, interval=0.25,
             message=f"the killed gateway's sessions taken over (logs in {stack.logs})")  # fmt: skip

    # Another of each is started while customers keep writing.
    started = {kind: stack.start(kind) for kind in kinds}
    stack.wait_web(web=started["web"])
    widget_before, whatsapp_before = widget.count, whatsapp.count

    def new_processes_serve() -> bool:
        new_gateway = str(stack.pid(started["gateway"]))
        return (
            widget.count >= widget_before + 12
            and whatsapp.count >= whatsapp_before + 8
            and widget.by_web[started["web"]] >= 3  # the new web process takes messages,
            and engine_calls(counter, stack.pid(started[answering])) > 0  # the new one answers,
            and any(item["pid"] == new_gateway for item in sent_messages())  # the new gateway sends
        )

    wait_for(new_processes_serve, 90, interval=0.5,
             message=f"customers served by the new processes (logs in {stack.logs})")  # fmt: skip
    writers.stop()

    # Every message is answered (or, on WhatsApp, failed visibly): wait on the data.
    def pending() -> dict[str, Any]:
        unanswered_by_seller = {seller.schema: unanswered(stored(seller.schema)) for seller in sellers}
        return {
            "whatsapp messages": whatsapp.waiting(),
            "conversations": {k: v for k, v in unanswered_by_seller.items() if v},
        }

    wait_until_settled(pending, 120, stack.logs)
    wait_for(broker_idle, 60, interval=0.5, message="nothing left in the queues or held by a worker")

    acked = whatsapp.acknowledged()
    sent = sent_messages()
    sent_texts = Counter((item["chat"], item["text"]) for item in sent)
    sent_ids = {item["id"] for item in sent}
    interrupted: list[tuple[str, Row]] = []
    totals = Counter[str]()
    for seller in sellers:
        rows = stored(seller.schema)
        inbound = [row for row in rows if row.direction == Message.Direction.IN]
        widget_in = {row.id for row in inbound if row.channel == "widget"}
        whatsapp_in = Counter(row.external_id for row in inbound if row.channel == "whatsapp")
        # Every message a customer got a 201/200 (widget) or an acknowledgement (WhatsApp) for
        # is stored exactly once, and nothing else is.
        assert widget_in == widget.accepted[seller.schema]
        assert set(whatsapp_in) == whatsapp.written[seller.schema]
        assert all(n == 1 for n in whatsapp_in.values()), "a WhatsApp message stored twice"
        assert all(acked[str(message_id)] >= 1 for message_id in whatsapp_in), "stored but never acknowledged"
        # Every burst has exactly one answer, replying to its latest message.
        result = bursts(rows)
        assert result.problems == [], result.problems
        for row in bot_answers(rows):
            totals[f"{row.channel}:{row.status}"] += 1
            if row.channel == "widget":
                assert row.status == Message.Status.SENT, row
            elif row.status == Message.Status.FAILED:
                interrupted.append((seller.schema, row))
            else:  # sent once, and recorded with the id of that one send
                assert row.status == Message.Status.SENT and row.external_id in sent_ids, row
        totals["bursts"] += result.answers
        totals["messages"] += len(inbound)
    # No WhatsApp answer reached a customer twice, after a gateway was killed mid-send too.
    assert [key for key, n in sent_texts.items() if n > 1] == [], "a WhatsApp answer reached the customer twice"
    # A failed answer is acceptable only for the send the killed gateway had under way: it is
    # failed visibly ("may have reached the customer") instead of being sent a second time.
    assert 1 <= len(interrupted) <= len(held_by_killed), (
        f"the send under way in the killed gateway must be failed visibly, and only that: {interrupted}"
    )
    for schema, row in interrupted:
        assert INTERRUPTED_ERROR in send_failure_label(row.error), (
            f"answer {row.id} failed without being under way at the kill: {row}"
        )
        with schema_context(schema):
            attempts = list(DeliveryAttempt.objects.filter(message_id=row.id).values_list("started_at", flat=True))
        assert attempts and max(attempts).timestamp() <= killed_at, (
            f"answer {row.id} failed as interrupted, but no send of it was under way when the gateway was killed"
        )
    # The killed gateway's sessions are held by the live gateways, once each.
    final = holders()
    assert {owner for owner, _state in final.values()} <= set(stack.names("gateway"))
    assert all(state == "connected" for _owner, state in final.values())
    assert doubles() == [], "a session ran on two gateways at once"
    calls = sum(_counters(counter).values())
    assert calls > totals["bursts"]  # the reply lost with the killed process was made again
    for kind, name in killed.items():
        assert not stack.alive(name), f"{kind} {name} still runs"
    for name in stack.processes:
        assert stack.alive(name), f"{name} exited (logs in {stack.logs})"
    print(f"several machines: {dict(totals)}, {calls} engine calls, {len(interrupted)} interrupted sends")


def doubles() -> list[str]:
    return [str(item) for item in _redis().lrange(fake_key("doubles"), 0, -1)]


def _counters(counter: str) -> dict[str, int]:
    r = _redis()
    return {str(key): int(r.get(key) or 0) for key in r.keys(f"{counter}:*")}


def _redis() -> redis.Redis:
    return redis.Redis.from_url(django_settings.REDIS_URL, decode_responses=True)
