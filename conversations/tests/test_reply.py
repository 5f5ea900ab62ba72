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

        monkeypatch.setattr("conversations.services.engine_for_seller", lambda: SlowEngine())
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

    monkeypatch.setattr("conversations.services.engine_for_seller", lambda: CountingEngine())
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

    monkeypatch.setattr("conversations.services.engine_for_seller", lambda: UnsureEngine())
    with shop_a.schema():
        result = send(shop_a, "Vous faites des prix de gros ?", django_capture_on_commit_callbacks)
        conversation_reply(*replies[-1])
        conversation = Conversation.objects.get(pk=result.conversation_id)
        assert (conversation.mode, conversation.handoff_reason) == ("human", "unsure")
