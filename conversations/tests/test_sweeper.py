"""The sweeper re-enqueues what a lost task or a restarted broker left behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import conversation_reply, ingest, message_send_by_seller, sweep
from conversations.tests.factories import widget_inbound

pytestmark = pytest.mark.django_db


def age(conversation_id: int, seconds: int) -> None:
    past = timezone.now() - dt.timedelta(seconds=seconds)
    Conversation.objects.filter(pk=conversation_id).update(last_inbound_at=past, last_message_at=past)
    Message.objects.filter(conversation_id=conversation_id).update(created_at=past)


def test_unanswered_messages_and_stuck_deliveries_are_enqueued_again(
    shop_a, queued, django_capture_on_commit_callbacks
):
    replies, deliveries = queued.replies, queued.deliveries
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            lost = ingest(widget_inbound(shop_a, "Bonjour", visitor="00000000-0000-4000-8000-00000000000a"))
            fresh = ingest(widget_inbound(shop_a, "Salam", visitor="00000000-0000-4000-8000-00000000000b"))
            answered = ingest(widget_inbound(shop_a, "Hello", visitor="00000000-0000-4000-8000-00000000000c"))
        with django_capture_on_commit_callbacks(execute=True):
            reply = conversation_reply(answered.conversation_id, answered.message_id)
        assert reply is not None
        for result in (lost, answered):
            age(result.conversation_id, 120)
        # The answer's delivery was lost: still queued five minutes later.
        Message.objects.filter(pk=reply.pk).update(
            status=Message.Status.QUEUED, created_at=timezone.now() - dt.timedelta(minutes=5)
        )
        replies.clear()
        deliveries.clear()

        swept = sweep()
        assert replies == [(lost.conversation_id, lost.message_id)]  # not the fresh one, not the answered one
        assert deliveries == [reply.pk]  # queued for five minutes: stuck
        assert (swept.replies, swept.deliveries) == (1, 1)
    del fresh


def test_conversations_with_the_seller_and_old_messages_are_left_alone(
    shop_a, queued, django_capture_on_commit_callbacks
):
    replies = queued.replies
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            seller_side = ingest(widget_inbound(shop_a, "Bonjour", visitor="00000000-0000-4000-8000-00000000000d"))
            ancient = ingest(widget_inbound(shop_a, "Bonjour", visitor="00000000-0000-4000-8000-00000000000e"))
        Conversation.objects.filter(pk=seller_side.conversation_id).update(mode=Conversation.Mode.HUMAN)
        age(seller_side.conversation_id, 120)
        age(ancient.conversation_id, 3 * 24 * 3600)
        replies.clear()
        sweep()
        assert replies == []


def test_the_bot_takes_over_again_after_the_seller_is_silent(shop_a, queued, django_capture_on_commit_callbacks):
    from sales.services.settings import bot_settings_update

    with shop_a.schema():
        bot_settings_update(bot_resume_after_minutes=30)
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "Bonjour"))
        conversation = Conversation.objects.get(pk=result.conversation_id)
        message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Je suis là")
        assert Conversation.objects.get(pk=conversation.pk).mode == Conversation.Mode.HUMAN
        assert sweep().resumed == 0  # the seller just wrote
        past = timezone.now() - dt.timedelta(minutes=31)
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=past, mode_changed_at=past)
        assert sweep().resumed == 1
        assert Conversation.objects.get(pk=conversation.pk).mode == Conversation.Mode.BOT
        assert Message.objects.filter(conversation=conversation, author="system").exists()
