"""One answer per burst, never twice, never over the seller."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.services import conversation_reply, ingest
from conversations.tests.factories import widget_inbound
from sales.engine.base import EngineReply
from sales.services.catalog_csv import catalog_import_text
from sales.services.settings import bot_settings_update

pytestmark = pytest.mark.django_db


def send(shop, text, capture):
    with capture(execute=True):
        return ingest(widget_inbound(shop, text))


def test_a_burst_of_three_messages_gets_exactly_one_reply(shop_a, queued, django_capture_on_commit_callbacks):
    replies, deliveries = queued.replies, queued.deliveries
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price,size,stock\nsac,SAC-1,Sac en cuir,7600,M,3\n")
        for text in ("Bonjour", "je cherche un sac", "combien il coûte ?"):
            send(shop_a, text, django_capture_on_commit_callbacks)
        assert len(replies) == 3  # one task per message, each after the pause
        answers = []
        for conversation_id, inbound_id in replies:  # the tasks run, oldest first
            with django_capture_on_commit_callbacks(execute=True):
                answers.append(conversation_reply(conversation_id, inbound_id))
        assert answers[0] is None and answers[1] is None  # superseded by a newer message
        reply = answers[2]
        assert reply is not None
        assert Message.objects.filter(direction="out", author="bot").count() == 1
        assert "7 600" in reply.text  # the whole burst was read: the price of the bag
        assert reply.reply_to_id == replies[2][1]
        # Stored as queued, then handed to delivery at once by the same worker.
        reply.refresh_from_db()
        assert reply.status == Message.Status.SENT and reply.attempts.count() == 1
        assert deliveries == []
        # The same task delivered again changes nothing.
        assert conversation_reply(*replies[2]) is None
        assert Message.objects.filter(author="bot").count() == 1


def test_a_draft_is_dropped_when_a_newer_message_arrives_meanwhile(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    replies = queued.replies
    with shop_a.schema():
        send(shop_a, "Bonjour", django_capture_on_commit_callbacks)
        first = replies[-1]

        class SlowEngine:
            name = "slow"

            def reply(self, context):
                # While the model thinks, the customer writes again.
                send(shop_a, "Vous êtes là ?", django_capture_on_commit_callbacks)
                return EngineReply(text="Bonjour !", engine="slow")

        monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: SlowEngine())
        assert conversation_reply(*first) is None
        assert not Message.objects.filter(author="bot").exists()
        monkeypatch.undo()
        with django_capture_on_commit_callbacks(execute=True):
            answer = conversation_reply(*replies[-1])
        assert answer is not None and answer.reply_to is not None
        assert answer.reply_to.text == "Vous êtes là ?"


def test_the_bot_is_quiet_in_human_mode_and_when_switched_off(shop_a, queued, django_capture_on_commit_callbacks):
    replies = queued.replies
    with shop_a.schema():
        result = send(shop_a, "Bonjour", django_capture_on_commit_callbacks)
        Conversation.objects.filter(pk=result.conversation_id).update(mode=Conversation.Mode.HUMAN)
        assert conversation_reply(*replies[-1]) is None
        Conversation.objects.filter(pk=result.conversation_id).update(mode=Conversation.Mode.BOT)
        bot_settings_update(is_enabled=False)
        assert conversation_reply(*replies[-1]) is None
        bot_settings_update(is_enabled=True)
        assert conversation_reply(*replies[-1]) is not None


def test_engine_data_and_latency_are_stored(shop_a, queued, monkeypatch, django_capture_on_commit_callbacks):
    from decimal import Decimal

    replies = queued.replies

    class CountingEngine:
        name = "counting"

        def reply(self, context):
            return EngineReply(
                text="ok", engine="openrouter", model="anthropic/claude-haiku-4.5", tokens_in=120, tokens_out=30,
                cost_usd=Decimal("0.000270"),
            )  # fmt: skip

    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: CountingEngine())
    with shop_a.schema():
        send(shop_a, "Hello", django_capture_on_commit_callbacks)
        message = conversation_reply(*replies[-1])
        assert message is not None
        assert (message.engine, message.engine_model, message.tokens_in, message.tokens_out) == (
            "openrouter", "anthropic/claude-haiku-4.5", 120, 30,
        )  # fmt: skip
        assert message.cost_usd == Decimal("0.000270")
        assert message.reply_latency_ms is not None and message.reply_latency_ms >= 0


def test_an_engine_asking_for_a_person_hands_off(shop_a, queued, monkeypatch, django_capture_on_commit_callbacks):
    replies = queued.replies

    class UnsureEngine:
        name = "unsure"

        def reply(self, context):
            return EngineReply(text="Je vérifie avec la boutique.", handoff=True, handoff_reason="unsure")

    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: UnsureEngine())
    with shop_a.schema():
        result = send(shop_a, "Vous faites des prix de gros ?", django_capture_on_commit_callbacks)
        conversation_reply(*replies[-1])
        conversation = Conversation.objects.get(pk=result.conversation_id)
        assert (conversation.mode, conversation.handoff_reason) == ("human", "unsure")


def _capture_events(monkeypatch) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        "conversations.services.live.publish", lambda schema, event, payload: events.append((event, payload))
    )
    return events


def test_an_answer_is_sent_then_shown_in_the_inbox_once_with_its_status(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        send(shop_a, "Bonjour", django_capture_on_commit_callbacks)
        events = _capture_events(monkeypatch)
        with django_capture_on_commit_callbacks(execute=True):
            reply = conversation_reply(*queued.replies[-1])
        assert reply is not None
        about_reply = [(event, payload) for event, payload in events if payload.get("id") == reply.pk]
        assert about_reply == [("message.created", about_reply[0][1])]
        assert about_reply[0][1]["status"] == "sent" and about_reply[0][1]["author"] == "bot"
        assert queued.deliveries == []


def test_an_answer_the_channel_refuses_at_first_is_queued_for_a_retry_and_shown_queued(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    from channels_app.base import DeliveryError

    class Refusing:
        def send(self, **kwargs):
            raise DeliveryError("503 from the channel")

        def typing(self, **kwargs):
            return None

    with shop_a.schema():
        send(shop_a, "Bonjour", django_capture_on_commit_callbacks)
        events = _capture_events(monkeypatch)
        monkeypatch.setattr("conversations.services.delivery.adapter_for", lambda channel: Refusing())
        with django_capture_on_commit_callbacks(execute=True):
            reply = conversation_reply(*queued.replies[-1])
        assert reply is not None
        reply.refresh_from_db()
        assert reply.status == Message.Status.QUEUED and reply.error == "503 from the channel"
        assert list(reply.attempts.values_list("number", "succeeded")) == [(1, False)]
        assert queued.deliveries == [reply.pk]  # the delivery task tries again after the backoff
        shown = [payload for event, payload in events if event == "message.created" and payload["id"] == reply.pk]
        assert len(shown) == 1 and shown[0]["status"] == "queued" and shown[0]["error"] == "503 from the channel"


def test_a_second_answer_to_the_same_message_is_refused_under_the_lock(
    shop_a, queued, django_capture_on_commit_callbacks
):
    """Two runs of one reply task that both passed the first check: the second stores nothing."""
    from conversations.selectors import reply_target
    from conversations.services.reply import store_reply

    with shop_a.schema():
        send(shop_a, "Bonjour", django_capture_on_commit_callbacks)
        conversation_id, inbound_id = queued.replies[-1]
        target = reply_target(conversation_id)
        assert target is not None
        with django_capture_on_commit_callbacks(execute=True):
            first = store_reply(target, inbound_id, EngineReply(text="Salam", engine="test"))
            second = store_reply(target, inbound_id, EngineReply(text="Salam again", engine="test"))
        assert first is not None and second is None
        assert list(Message.objects.filter(author="bot").values_list("text", flat=True)) == ["Salam"]


def test_the_recent_history_is_the_latest_messages_oldest_first(shop_a, queued, django_capture_on_commit_callbacks):
    from conversations.selectors import recent_history

    with shop_a.schema():
        for number in range(5):
            result = send(shop_a, f"message {number}", django_capture_on_commit_callbacks)
        history = recent_history(result.conversation_id, limit=3)
        assert [m.text for m in history] == ["message 2", "message 3", "message 4"]
        assert history[-1].pk == result.message_id and history[-1].direction == "in"
        assert history[0].engine == ""  # a field the read leaves out is still there when asked for
