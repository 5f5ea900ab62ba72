"""Ingest stores each inbound message once, and hands off when the customer asks for a person."""

from __future__ import annotations

import pytest

from conversations.handoff import wants_a_person
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from conversations.services import ingest
from conversations.tests.factories import widget_inbound
from sales.services.settings import bot_settings_update

pytestmark = pytest.mark.django_db


def test_the_same_inbound_delivered_twice_is_stored_once(shop_a, queued, django_capture_on_commit_callbacks):
    inbound = widget_inbound(shop_a, "Salam, ch7al hada?")
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(inbound)
        with django_capture_on_commit_callbacks(execute=True):
            second = ingest(inbound)
        assert first.created and not second.created
        assert first.message_id == second.message_id
        assert Message.objects.count() == 1
        assert (Customer.objects.count(), ChannelIdentity.objects.count(), Conversation.objects.count()) == (1, 1, 1)
        conversation = Conversation.objects.get()
        assert conversation.unread_count == 1
        assert conversation.language == "arabizi"
    assert queued.replies == [(first.conversation_id, first.message_id)]  # one reply asked for
    assert queued.reply_schemas == ["s_alpha"]


def test_messages_of_one_visitor_share_a_conversation(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        one = ingest(widget_inbound(shop_a, "Bonjour"))
        two = ingest(widget_inbound(shop_a, "Vous livrez à Oran ?"))
        other = ingest(widget_inbound(shop_a, "Hello", visitor="00000000-0000-4000-8000-000000000002"))
    assert one.conversation_id == two.conversation_id != other.conversation_id


@pytest.mark.parametrize(
    "text",
    [
        "نحب نهدر مع واحد من المحل",
        "بغيت نتكلم مع إنسان حقيقي",
        "nheb nahder m3a wahed men l'mahal",
        "bghit nhder m3a chi wahed",
        "أريد التحدث مع موظف",
        "Je veux parler à un conseiller",
        "Est-ce que je peux parler à quelqu'un ?",
        "Can I talk to a human please",
        "I want a real person",
    ],
)
def test_asking_for_a_person_is_understood_in_every_language(text):
    assert wants_a_person(text)


@pytest.mark.parametrize(
    "text", ["Combien coûte le sac ?", "Pas assez d'argent", "kayen size 42?", "شحال الثمن", "I have a question"]
)
def test_ordinary_questions_are_not_handoffs(text):
    assert not wants_a_person(text)


def test_a_customer_asking_for_a_person_is_handed_to_the_seller(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "Je veux parler à un conseiller"))
        conversation = Conversation.objects.get(pk=result.conversation_id)
        assert conversation.mode == Conversation.Mode.HUMAN
        assert conversation.handoff_reason == "customer_asked"
        system = Message.objects.get(author=Message.Author.SYSTEM)
        assert system.note == {"kind": "handed_off", "reason": "customer_asked"}  # words at view time
        told = Message.objects.get(author=Message.Author.BOT)
        assert told.status == Message.Status.QUEUED and "boutique" in told.text  # in the customer's language
    assert queued.replies == []  # the bot does not answer a conversation in the seller's hands


def test_the_seller_handoff_keywords_count_too(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        bot_settings_update(handoff_keywords=["patron"])
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "Je veux le patron"))
        assert Conversation.objects.get(pk=result.conversation_id).mode == Conversation.Mode.HUMAN


def test_a_closed_conversation_reopens_for_the_bot(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(widget_inbound(shop_a, "Bonjour"))
        Conversation.objects.filter(pk=first.conversation_id).update(mode=Conversation.Mode.CLOSED)
        with django_capture_on_commit_callbacks(execute=True):
            ingest(widget_inbound(shop_a, "Encore moi"))
        assert Conversation.objects.get(pk=first.conversation_id).mode == Conversation.Mode.BOT
    assert len(queued.replies) == 2


def test_an_attachment_is_stored_in_the_seller_storage(shop_a, queued, django_capture_on_commit_callbacks):
    import dataclasses

    from channels_app.base import InboundMedia

    inbound = dataclasses.replace(
        widget_inbound(shop_a, ""),
        media=(InboundMedia(kind="audio", mime_type="audio/ogg", filename="note.ogg", content=b"OggS\x00voice"),),
    )
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(inbound)
        message = Message.objects.get(pk=result.message_id)
        assert (message.media_kind, message.media_type) == ("audio", "audio/ogg")
        assert "/s_alpha/" in message.media.path and message.media.read() == b"OggS\x00voice"


def test_a_batch_of_repeated_deliveries_only_stores_nothing_and_does_not_fail(
    shop_a, queued, django_capture_on_commit_callbacks
):
    from conversations.services import ingest_many

    known = widget_inbound(shop_a, "Bonjour", visitor="00000000-0000-4000-8000-0000000000a9")
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(known)
        queued.replies.clear()
        with django_capture_on_commit_callbacks(execute=True):
            results = ingest_many([known, known])
        assert [(r.created, r.message_id) for r in results] == [(False, first.message_id)] * 2
        assert Message.objects.filter(direction="in").count() == 1
        assert Conversation.objects.get(pk=first.conversation_id).unread_count == 1
        assert queued.replies == []


def test_a_batch_is_stored_like_one_message_at_a_time(shop_a, queued, django_capture_on_commit_callbacks, monkeypatch):
    from conversations.services import ingest_many

    events: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        "conversations.services.live.publish", lambda schema, event, payload: events.append((event, payload))
    )

    known = widget_inbound(shop_a, "Bonjour", visitor="00000000-0000-4000-8000-0000000000a1")
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(known)
        queued.replies.clear()
        seller_side = widget_inbound(shop_a, "salam", visitor="00000000-0000-4000-8000-0000000000c3")
        with django_capture_on_commit_callbacks(execute=True):
            human = ingest(seller_side)
        Conversation.objects.filter(pk=human.conversation_id).update(mode=Conversation.Mode.HUMAN)
        queued.replies.clear()
        batch = [
            known,  # delivered again
            widget_inbound(shop_a, "Vous livrez à Oran ?", visitor="00000000-0000-4000-8000-0000000000a1"),
            widget_inbound(shop_a, "et à Blida ?", visitor="00000000-0000-4000-8000-0000000000a1"),
            widget_inbound(shop_a, "wach kayen taille 42?", visitor="00000000-0000-4000-8000-0000000000b2"),
            widget_inbound(shop_a, "je veux parler à un humain", visitor="00000000-0000-4000-8000-0000000000d4"),
            widget_inbound(shop_a, "merci", visitor="00000000-0000-4000-8000-0000000000c3"),
        ]
        batch.append(batch[3])  # the same message twice in one batch
        with django_capture_on_commit_callbacks(execute=True):
            results = ingest_many(batch)
        assert [r.created for r in results] == [False, True, True, True, True, True, False]
        assert results[0].message_id == first.message_id
        assert results[6].message_id == results[3].message_id
        assert Message.objects.filter(direction="in").count() == 7
        oran = Conversation.objects.get(pk=first.conversation_id)
        assert oran.unread_count == 3 and oran.language == "fr"
        new = Conversation.objects.get(pk=results[3].conversation_id)
        assert new.unread_count == 1 and new.language == "arabizi"
        assert Conversation.objects.get(pk=results[4].conversation_id).mode == Conversation.Mode.HUMAN  # asked
        assert Conversation.objects.get(pk=human.conversation_id).unread_count == 2
    # One live event for the batch, with every new message.
    batch_events = [payload for event, payload in events if event == "messages.created"]
    assert len(batch_events) == 1 and len(batch_events[0]["messages"]) == 5
    # One reply per bot conversation, for its latest message; none for the seller's ones.
    assert sorted(queued.replies) == sorted(
        [(first.conversation_id, results[2].message_id), (results[3].conversation_id, results[3].message_id)]
    )


def test_a_batch_of_replies_is_fanned_out_by_a_worker(shop_a, queued):
    from conversations.tasks import reply_many_task

    with shop_a.schema():
        assert reply_many_task([[11, 101], [12, 102], [13, 103]]) == 3
    assert queued.replies == [(11, 101), (12, 102), (13, 103)]
    assert queued.reply_schemas == [shop_a.seller.schema_name] * 3  # each in the seller's schema


def test_a_batch_across_accounts_touches_only_its_own_conversations(shop_a, queued, django_capture_on_commit_callbacks):
    from django.utils import timezone
    from django_tenants.utils import get_public_schema_name, schema_context

    from channels_app.base import InboundMessage
    from channels_app.models import ChannelAccount
    from conversations.services import ingest_many

    with schema_context(get_public_schema_name()):
        first, second = (
            ChannelAccount.objects.create(seller=shop_a.seller, channel="whatsapp", external_id=number)
            for number in ("213661000001", "213661000002")
        )

    def inbound(account, sender, text):
        return InboundMessage(
            channel="whatsapp", channel_account_id=account.pk, sender_id=sender, external_id=f"{account.pk}-{text}",
            text=text, timestamp=timezone.now(),
        )  # fmt: skip

    x, y = "213550000001@s.whatsapp.net", "213550000002@s.whatsapp.net"
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            ingest_many([inbound(first, x, "salam"), inbound(second, x, "bonjour"), inbound(second, y, "hello")])
        before = dict(Conversation.objects.values_list("pk", "unread_count"))
        assert sorted(before.values()) == [1, 1, 1]
        # x on the first account and y on the second: x on the second is in the cross product only.
        with django_capture_on_commit_callbacks(execute=True):
            results = ingest_many([inbound(first, x, "ch7al?"), inbound(second, y, "price?")])
        after = dict(Conversation.objects.values_list("pk", "unread_count"))
        x_second = Conversation.objects.get(channel_account_id=second.pk, identity__external_id=x).pk
        assert after[x_second] == 1  # untouched
        assert after[results[0].conversation_id] == 2 and after[results[1].conversation_id] == 2
