"""Returning customers: recognized by their channel identity (a WhatsApp number, a widget
visitor), greeted as such, their last details remembered; a number given in a chat is a merge
suggestion for the seller, never a merge; their conversations and orders on one profile; two
customers merged."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount
from conversations.customers import customers_merge, merge_suggestion_accept
from conversations.models import Conversation, Customer, MergeSuggestion
from conversations.services import conversation_reply, ingest
from sales.models import Order
from sales.tests.test_sales_conversations import Chat, prepare

pytestmark = pytest.mark.django_db


def buy_on_the_widget(chat: Chat) -> None:
    for text in [
        "Je veux commander les baskets en 41", "Karim Benali", "0550 12 34 56", "Alger", "Bab Ezzouar",
        "Cité 200 logements", "à domicile", "oui",
    ]:  # fmt: skip
        chat.say(text)


def whatsapp_message(shop, text: str, queued, capture):
    account, _ = ChannelAccount.objects.get_or_create(
        channel="whatsapp", external_id="213770000000", defaults={"seller": shop.seller}
    )
    inbound = InboundMessage(
        channel="whatsapp", channel_account_id=account.pk, sender_id="213550123456@s.whatsapp.net",
        external_id=f"wa-{timezone.now().timestamp()}", text=text, timestamp=timezone.now(),
        sender_name="Karim", sender_phone="+213550123456",
    )  # fmt: skip
    with capture(execute=True):
        ingest(inbound)
    with capture(execute=True):
        return conversation_reply(*queued.replies[-1])


def test_a_returning_customer_on_another_channel_is_recognized_once_the_seller_merges(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        prepare(shop_a)
        buy_on_the_widget(Chat(shop_a, queued, django_capture_on_commit_callbacks))
        customer = Customer.objects.get()
        assert str(customer.phone) == "+213550123456"
        reply = whatsapp_message(shop_a, "Salam", queued, django_capture_on_commit_callbacks)
        # The number typed on the widget was a claim: WhatsApp's sender is not taken for the
        # widget customer (nor greeted as them) until the seller confirms the suggested merge.
        assert Customer.objects.count() == 2
        assert not any(
            welcome in reply.text
            for welcome in ("Mar7ba bik men jdid", "Quel plaisir de vous revoir", "مرحبا بيك من جديد")
        )
        suggestion = MergeSuggestion.objects.get(status="pending")
        kept = merge_suggestion_accept(suggestion_id=suggestion.pk, member_id=shop_a.owner.pk)
        assert kept.pk == customer.pk and Customer.objects.count() == 1
        assert Conversation.objects.filter(customer=customer).count() == 2
        assert (str(Customer.objects.get().phone), Customer.objects.get().phone_verified) == ("+213550123456", True)
        # Their details are remembered: the next order goes straight to the summary.
        reply = whatsapp_message(shop_a, "Je veux commander la montre", queued, django_capture_on_commit_callbacks)
        assert "Bab Ezzouar" in reply.text and "4 800" in reply.text
        order = Order.objects.get(status="awaiting")
        assert (order.customer_id, order.channel, order.customer_name) == (customer.pk, "whatsapp", "Karim Benali")


def test_the_same_number_given_on_another_channel_is_a_suggestion_not_a_merge(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        prepare(shop_a)
        buy_on_the_widget(Chat(shop_a, queued, django_capture_on_commit_callbacks))
        first = Customer.objects.get()
        other = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-00000000aaaa")
        other.say("Je veux commander la montre")
        assert Customer.objects.count() == 2
        # The summary proposes nothing (a new visitor); the number given merges nothing either.
        for text in ["Karim", "0550123456", "Alger", "Hydra", "Rue 5", "bureau", "oui"]:
            other.say(text)
        assert Customer.objects.count() == 2
        second = other.conversation.customer
        assert Order.objects.filter(customer=first, status="confirmed").count() == 1
        assert Order.objects.filter(customer=second, status="confirmed").count() == 1
        assert (str(first.phone), str(second.phone)) == ("+213550123456", "")  # the number is the first's
        suggestion = MergeSuggestion.objects.get()
        assert (suggestion.customer_id, suggestion.other_id, suggestion.status) == (first.pk, second.pk, "pending")


def test_profile_lists_conversations_and_orders_and_the_seller_can_merge(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        prepare(shop_a)
        buy_on_the_widget(Chat(shop_a, queued, django_capture_on_commit_callbacks))
        karim = Customer.objects.get()
        stranger = Customer.objects.create(name="<b>Sara</b>")
    client = shop_a.client()
    page = client.get(reverse("customers:detail", args=[karim.pk])).content.decode()
    assert "Karim Benali" in page and "#0000" in page and "Bab Ezzouar" in page
    assert "&lt;b&gt;Sara&lt;/b&gt;" in client.get(reverse("customers:list")).content.decode()
    client.post(reverse("customers:merge", args=[karim.pk]), {"other": stranger.pk})
    with shop_a.schema():
        assert list(Customer.objects.values_list("pk", flat=True)) == [karim.pk]


def test_merging_keeps_everything(shop_a):
    with shop_a.schema():
        a = Customer.objects.create(name="A", tags=["vip"])
        b = Customer.objects.create(name="", phone="+213661234567", tags=["wilaya-31"])
        order = Order.objects.create(customer=b)
        kept = customers_merge(keep=a, merge=b)
        order.refresh_from_db()
        assert (kept.name, str(kept.phone), kept.tags, order.customer_id) == (
            "A",
            "+213661234567",
            ["vip", "wilaya-31"],
            a.pk,
        )
