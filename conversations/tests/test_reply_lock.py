"""The answer's check under the conversation's lock sees what was committed while it waited.

PostgreSQL (READ COMMITTED) runs a locking SELECT on the snapshot taken when the statement
began: a statement that waits for the conversation's lock and reads the latest message in the
same statement reads it as it was before the wait. A customer message stored meanwhile (its
ingest held the lock) would go unseen, and the burst would be answered twice: once for the
message before it, once for it. Found by the several-machines test (test_several_machines.py).
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection, transaction

from conversations.models import Message
from conversations.selectors import reply_slot_locked, reply_target
from conversations.services import ingest
from conversations.services.reply import store_reply
from conversations.tests.factories import widget_inbound
from ma5zani.testing import committed_db, wait_for
from sales.engine.base import EngineReply

pytestmark = committed_db


def waiting_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row and row[0] == "Lock")


def in_thread(shop: Any, function: Any, result: dict[str, Any]) -> threading.Thread:
    def run() -> None:
        try:
            with shop.schema():
                result["value"] = function()
        except BaseException as error:
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_an_answer_waiting_for_the_lock_sees_the_message_stored_meanwhile(drop_new_sellers, shop_a, queued):
    with shop_a.schema():
        first = ingest(widget_inbound(shop_a, "Salam"))
    held, release = threading.Event(), threading.Event()
    ingest_result: dict[str, Any] = {}

    def second_message_held_before_commit() -> Any:
        with transaction.atomic():  # ingest's own transaction, kept open a moment
            result = ingest(widget_inbound(shop_a, "3andkom sac noir?"))
            held.set()
            release.wait(30)
        return result

    writer = in_thread(shop_a, second_message_held_before_commit, ingest_result)
    assert held.wait(30)
    slot_result: dict[str, Any] = {}

    def slot() -> Any:
        with transaction.atomic():
            connection.ensure_connection()
            slot_result["pid"] = connection.connection.info.backend_pid
            return reply_slot_locked(first.conversation_id)

    reader = in_thread(shop_a, slot, slot_result)
    wait_for(lambda: "pid" in slot_result and waiting_for_a_lock(slot_result["pid"]), 30,
             message="the answer's check waiting for the conversation's lock")  # fmt: skip
    release.set()
    writer.join(30)
    reader.join(30)
    assert "error" not in ingest_result and "error" not in slot_result, (ingest_result, slot_result)
    second = ingest_result["value"]
    assert slot_result["value"].latest_inbound_id == second.message_id  # not the message before it


def test_a_second_answer_to_the_same_message_is_refused_without_an_error(drop_new_sellers, shop_a, queued):
    """Two runs of one reply store one answer: the second sees the first once it has the lock."""
    with shop_a.schema():
        inbound = ingest(widget_inbound(shop_a, "Salam"))
        target = reply_target(inbound.conversation_id)
    assert target is not None
    stored, release = threading.Event(), threading.Event()
    first_result: dict[str, Any] = {}
    second_result: dict[str, Any] = {}

    def first_answer() -> Any:
        with transaction.atomic():
            message = store_reply(target, inbound.message_id, EngineReply(text="Ahlan!", engine="test"))
            stored.set()
            release.wait(30)
        return message

    def second_answer() -> Any:
        connection.ensure_connection()
        second_result["pid"] = connection.connection.info.backend_pid
        return store_reply(target, inbound.message_id, EngineReply(text="Ahlan wa sahlan!", engine="test"))

    first = in_thread(shop_a, first_answer, first_result)
    assert stored.wait(30)
    second = in_thread(shop_a, second_answer, second_result)
    wait_for(lambda: "pid" in second_result and waiting_for_a_lock(second_result["pid"]), 30,
             message="the second run waiting for the conversation's lock")  # fmt: skip
    release.set()
    first.join(30)
    second.join(30)
    assert "error" not in first_result and "error" not in second_result, (first_result, second_result)
    assert first_result["value"] is not None and second_result["value"] is None
    with shop_a.schema():
        assert Message.objects.filter(author=Message.Author.BOT).count() == 1
