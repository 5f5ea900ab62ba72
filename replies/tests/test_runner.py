"""The reply runner against the real Redis stream and the committed test database: a burst is
answered once for its newest message (a reply in progress is cancelled and started again), the
database connections stay at the pool's size whatever the number of replies waiting on the
model, sellers take turns, a dead runner's entries are claimed, a stopping runner hands its
work back, and a newer message read by another runner cancels this one's reply."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from django.db import connection

from conversations.models import Message
from conversations.services import ingest
from conversations.tests.factories import widget_inbound
from ma5zani.testing import committed_db, wait_for
from replies import queue
from replies.testing import running
from sales.engine.base import EngineReply

pytestmark = committed_db


class GateEngine:
    """A model that thinks until the test lets it answer (or a reply is cancelled)."""

    name = "gate"
    shows_typing = False

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.cancelled: list[tuple[str, ...]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def reply(self, context):  # pragma: no cover - the runner awaits areply
        raise AssertionError("the runner must not block a thread on the model")

    async def areply(self, context, db):
        with self.lock:
            self.calls.append(context.burst)
        try:
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            with self.lock:
                self.cancelled.append(context.burst)
            raise
        return EngineReply(text="answer: " + " / ".join(context.burst), engine=self.name)


@pytest.fixture
def engine(monkeypatch) -> GateEngine:
    gate = GateEngine()
    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: gate)
    return gate


@pytest.fixture(autouse=True)
def _own_stream(drop_new_sellers, settings) -> None:
    settings.REPLY_STREAM_PREFIX = f"test-runner-{uuid.uuid4().hex[:10]}"
    settings.REPLY_RUNNER = "async"
    settings.REPLY_RUNNER_PAUSE_SECONDS = 0


def customer_writes(shop, text: str, visitor: str) -> int:
    with shop.schema():
        return ingest(widget_inbound(shop, text, visitor=visitor)).message_id


def bot_answers(shop) -> list[Message]:
    with shop.schema():
        return list(Message.objects.filter(author=Message.Author.BOT).order_by("pk"))


def stream_pending() -> int:
    return queue.backlog()["pending"]


def visitor() -> str:
    return str(uuid.uuid4())


def test_a_message_is_answered_and_its_entry_acknowledged(shop_a, engine):
    with running():
        inbound = customer_writes(shop_a, "Bonjour", visitor())
        wait_for(lambda: engine.calls, 30, message="the engine to be asked")
        engine.release.set()
        answers = wait_for(lambda: bot_answers(shop_a), 30, message="the answer")
        wait_for(lambda: stream_pending() == 0, 30, message="the entry acknowledged")
    assert [(a.reply_to_id, a.text, a.status) for a in answers] == [(inbound, "answer: Bonjour", Message.Status.SENT)]


def test_a_newer_message_cancels_the_reply_in_progress_and_the_burst_is_answered_once(shop_a, engine):
    person = visitor()
    with running() as run:
        customer_writes(shop_a, "salam", person)
        wait_for(lambda: engine.calls, 30, message="the first reply to start")
        second = customer_writes(shop_a, "ch7al sac?", person)
        wait_for(lambda: len(engine.calls) == 2, 30, message="the reply started again")
        engine.release.set()
        answers = wait_for(lambda: bot_answers(shop_a), 30, message="the answer")
        wait_for(lambda: stream_pending() == 0, 30)
        stats = run.runner.stats
    assert engine.cancelled == [("salam",)]  # the first model request was cancelled, not answered
    assert engine.calls[1] == ("salam", "ch7al sac?")  # the new one read the whole burst
    assert [(a.reply_to_id, a.text) for a in answers] == [(second, "answer: salam / ch7al sac?")]
    assert stats.cancelled == 1 and stats.answered == 1


def test_database_connections_stay_at_the_pool_size_with_hundreds_of_replies_waiting(shop_a, engine):
    def server_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return int(cursor.fetchone()[0])

    before = server_connections()
    with running(db_threads=3) as run:
        for _ in range(150):
            customer_writes(shop_a, "bonjour", visitor())
        wait_for(lambda: len(engine.calls) == 150, 60, message="every reply waiting on the model")
        during = server_connections()
        assert run.runner.active == 150  # all in progress at once, on one thread
        engine.release.set()
        wait_for(lambda: len(bot_answers(shop_a)) == 150, 60, message="every answer")
    assert during - before <= 3  # the runner's threads, not one per waiting reply


def test_sellers_take_turns_under_the_per_seller_cap(shop_a, shop_b, engine):
    with running(concurrency=100, per_seller=4) as run:
        for number in range(20):
            customer_writes(shop_a, f"flood {number}", visitor())
        wait_for(lambda: len(engine.calls) == 4, 30, message="the flooding seller at its cap")
        customer_writes(shop_b, "one customer", visitor())
        wait_for(lambda: len(engine.calls) == 5, 30, message="the other seller's reply to start at once")
        assert engine.calls[4] == ("one customer",)
        assert run.runner.queue.running(shop_a.seller.schema_name) == 4
        engine.release.set()
        wait_for(lambda: len(bot_answers(shop_a)) == 20 and len(bot_answers(shop_b)) == 1, 60)


def test_entries_of_a_runner_that_died_are_claimed_and_answered(shop_a, engine, settings):
    from replies.queue import client, ensure_group, stream_key

    r = client()
    ensure_group(r)
    engine.release.set()
    inbound = customer_writes(shop_a, "anyone there?", visitor())
    # A runner read the entry and died before answering: it stays pending under its name.
    read: Any = r.xreadgroup(queue.GROUP, "dead-runner", {stream_key(): ">"}, count=10)
    assert read and len(read[0][1]) == 1
    with running(claim_idle_seconds=1.0) as run:
        answers = wait_for(lambda: bot_answers(shop_a), 30, message="the claimed entry answered")
        wait_for(lambda: stream_pending() == 0, 30)
        assert run.runner.stats.claimed == 1
    assert [a.reply_to_id for a in answers] == [inbound]


def test_a_stopping_runner_hands_back_what_it_did_not_answer(shop_a, engine):
    with running(concurrency=1, shutdown_seconds=0.5) as first:
        inbounds = [customer_writes(shop_a, f"hello {n}", visitor()) for n in range(3)]
        wait_for(lambda: len(engine.calls) == 1 and len(first.runner.queue) == 2, 30)
        first.stop()  # one reply cancelled at the deadline, two never started
    assert bot_answers(shop_a) == []
    engine.release.set()
    with running(claim_idle_seconds=60):  # no claim: what was handed back is simply read
        wait_for(lambda: len(bot_answers(shop_a)) == 3, 30, message="the three answers")
        wait_for(lambda: stream_pending() == 0, 30)
    assert sorted(a.reply_to_id or 0 for a in bot_answers(shop_a)) == sorted(inbounds)


def test_a_newer_message_read_by_another_runner_cancels_this_runners_reply(shop_a, engine):
    from replies.queue import client, newer_channel

    person = visitor()
    with running("first") as first:
        customer_writes(shop_a, "salam", person)
        wait_for(lambda: engine.calls, 30, message="the reply to start")
        with shop_a.schema():  # the customer writes again; another runner read that entry
            newer = ingest(widget_inbound(shop_a, "rani hna", visitor=person), reply=False)
        schema = shop_a.seller.schema_name
        client().publish(newer_channel(), f"{schema}|{newer.conversation_id}|{newer.message_id}|second")
        wait_for(lambda: engine.cancelled == [("salam",)], 30, message="this runner's reply cancelled")
        wait_for(lambda: stream_pending() == 0, 30, message="its entry let go: the other runner answers")
        assert first.runner.stats.cancelled == 1 and bot_answers(shop_a) == []
        queue.enqueue(schema, [(newer.conversation_id, newer.message_id)])  # what the other runner holds
        engine.release.set()
        answers = wait_for(lambda: bot_answers(shop_a), 30)
    assert [(a.reply_to_id, a.text) for a in answers] == [(newer.message_id, "answer: salam / rani hna")]


def test_two_messages_of_a_conversation_read_at_once_leave_no_slot_taken(shop_a, engine):
    """The older one's reply is cancelled before it ever ran: its seller's slot is freed all the same."""
    person = visitor()
    with shop_a.schema():
        first = ingest(widget_inbound(shop_a, "salam", visitor=person), reply=False)
        second = ingest(widget_inbound(shop_a, "kayen?", visitor=person), reply=False)
    schema = shop_a.seller.schema_name
    queue.enqueue(schema, [(first.conversation_id, first.message_id), (second.conversation_id, second.message_id)])
    engine.release.set()
    with running(per_seller=1) as run:
        answers = wait_for(lambda: bot_answers(shop_a), 30, message="the burst's answer")
        other = customer_writes(shop_a, "another customer", visitor())  # the seller's one slot is free
        wait_for(lambda: len(bot_answers(shop_a)) == 2, 30, message="the next customer answered")
        wait_for(lambda: stream_pending() == 0, 30)
        assert run.runner.active == 0 and run.runner.queue.running(schema) == 0
    assert [a.reply_to_id for a in bot_answers(shop_a)] == [second.message_id, other]
    assert answers[0].text == "answer: salam / kayen?"


def test_a_message_asked_for_again_while_another_runner_answers_it_is_left_to_that_runner(shop_a, engine):
    from replies.queue import client, stream_key

    with running("first", shutdown_seconds=60) as first:  # stopping, it finishes its reply
        inbound = customer_writes(shop_a, "bonjour", visitor())
        wait_for(lambda: engine.calls, 30, message="the first runner's reply under way")
        with running("second") as second:
            first.loop.call_soon_threadsafe(first.runner.stop)  # no more reading; its reply goes on
            with shop_a.schema():
                conversation_id = Message.objects.get(pk=inbound).conversation_id
            # The sweeper asks again for the same message, and the second runner reads it.
            queue.enqueue(shop_a.seller.schema_name, [(conversation_id, inbound)])
            wait_for(lambda: second.runner.stats.skipped == 1, 30, message="the second runner to leave it")
            assert len(engine.calls) == 1  # the model was not asked twice
            engine.release.set()
            wait_for(lambda: bot_answers(shop_a), 30)
            first.thread.join(30)
    assert [a.reply_to_id for a in bot_answers(shop_a)] == [inbound]
    assert client().xinfo_groups(stream_key())[0]["pending"] == 0


def test_consumers_of_runners_long_gone_are_removed_from_the_group(monkeypatch):
    from replies.queue import client, ensure_group, stream_key

    r = client()
    ensure_group(r)
    r.xgroup_createconsumer(stream_key(), queue.GROUP, "runner-gone-long-ago")
    monkeypatch.setattr("replies.runner.GONE_AFTER_MS", -1)  # every idle consumer counts as gone

    def names() -> set[str]:
        return {c["name"] for c in r.xinfo_consumers(stream_key(), queue.GROUP)}

    assert "runner-gone-long-ago" in names()
    with running("tidy", claim_idle_seconds=3):
        wait_for(lambda: "runner-gone-long-ago" not in names(), 30, message="the gone runner forgotten")
