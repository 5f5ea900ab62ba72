"""A customer who opts out is recorded on the customer and on the channel identity they wrote
from, and nothing proactive is sent to them (reminders); answers to their own messages go on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conversations.customers import customer_opt_in, customer_opt_out, customers_merge, may_message_first
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from conversations.services import MayNotMessageFirst, ingest, message_send_by_bot
from conversations.tests.factories import widget_inbound
from sales.services.reminders import order_drafts_remind
from sales.tests.test_sales_conversations import Chat, prepare

pytestmark = pytest.mark.django_db

VISITOR_A = "00000000-0000-4000-8000-0000000000a1"
VISITOR_B = "00000000-0000-4000-8000-0000000000b2"


def conversation_of(shop, capture, visitor: str) -> Conversation:
    with capture(execute=True):
        result = ingest(widget_inbound(shop, "Bonjour", visitor=visitor))
    return Conversation.objects.select_related("customer", "identity").get(pk=result.conversation_id)


def test_opting_out_is_true_once_then_false(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        conversation = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_A)
        assert may_message_first(conversation)
        assert customer_opt_out(conversation=conversation) is True  # the bot acknowledges once
        assert customer_opt_out(conversation=conversation) is False
        assert not may_message_first(conversation)
        customer = Customer.objects.get(pk=conversation.customer_id)
        identity = ChannelIdentity.objects.get(pk=conversation.identity_id)
        assert customer.opted_out_at is not None and identity.opted_out_at is not None
        first = customer.opted_out_at
        customer_opt_out(conversation=conversation)
        assert Customer.objects.get(pk=customer.pk).opted_out_at == first  # the first time is kept
        customer_opt_in(conversation=conversation)
        assert may_message_first(conversation)
        assert Customer.objects.get(pk=customer.pk).opted_out_at is None
        assert ChannelIdentity.objects.get(pk=identity.pk).opted_out_at is None
        assert customer_opt_out(conversation=conversation) is True  # opted out again: acknowledged again


def test_opting_out_is_per_customer_and_per_channel_identity(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        first = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_A)
        other = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_B)
        assert first.customer_id != other.customer_id
        customer_opt_out(conversation=first)
        assert not may_message_first(first) and may_message_first(other)  # another customer
        # The same person on another identity: the customer's opt-out covers it.
        ChannelIdentity.objects.filter(pk=other.identity_id).update(customer=first.customer)
        Conversation.objects.filter(pk=other.pk).update(customer=first.customer)
        Customer.objects.filter(pk=other.customer_id).delete()
        other = Conversation.objects.get(pk=other.pk)
        assert not may_message_first(other)
        assert customer_opt_out(conversation=other) is False  # this conversation was opted out already
        # Opting in on one identity leaves the other identity opted out.
        customer_opt_in(conversation=other)
        assert may_message_first(other)
        assert not may_message_first(first)  # its identity still said STOP
        assert ChannelIdentity.objects.get(pk=first.identity_id).opted_out_at is not None


def test_a_merge_keeps_the_opt_out(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        first = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_A)
        other = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_B)
        customer_opt_out(conversation=other)
        ChannelIdentity.objects.filter(pk=other.identity_id).update(opted_out_at=None)  # only the customer said so
        kept = customers_merge(keep=first.customer, merge=Customer.objects.get(pk=other.customer_id))
        assert kept.opted_out_at is not None
        assert not may_message_first(Conversation.objects.get(pk=first.pk))


def test_the_bot_never_writes_first_to_an_opted_out_customer(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        conversation = conversation_of(shop_a, django_capture_on_commit_callbacks, VISITOR_A)
        customer_opt_out(conversation=conversation)
        with pytest.raises(MayNotMessageFirst):
            message_send_by_bot(conversation=conversation, text="Votre commande vous attend !")
        assert not Message.objects.filter(author=Message.Author.BOT).exists()


def test_an_opted_out_customer_gets_no_reminder(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        prepare(shop_a)
        stopped = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor=VISITOR_A)
        stopped.say("Je veux commander les baskets en 41")
        waiting = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor=VISITOR_B)
        waiting.say("Je veux commander la montre")
        customer_opt_out(conversation=stopped.conversation)
        bot_before = Message.objects.filter(author=Message.Author.BOT).count()
        with django_capture_on_commit_callbacks(execute=True):
            assert order_drafts_remind(timezone.now() + dt.timedelta(minutes=61)) == 1  # only the other one
        reminders = Message.objects.filter(author=Message.Author.BOT).order_by("pk")[bot_before:]
        assert [m.conversation_id for m in reminders] == [waiting.conversation.pk]
        # An opt-out on the channel identity alone is honoured too.
        customer_opt_in(conversation=stopped.conversation)
        ChannelIdentity.objects.filter(pk=stopped.conversation.identity_id).update(opted_out_at=timezone.now())
        assert order_drafts_remind(timezone.now() + dt.timedelta(minutes=62)) == 0
        # Replies to the customer's own messages still go.
        assert stopped.say("Karim Benali") is not None
