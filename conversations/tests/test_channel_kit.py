"""The channel kit: the public services every channel package calls (conversations alone owns a
message's state). Exercised here with a channel that has Meta's rules (a 24-hour window, no
idempotency key), through a recording adapter registered for it."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.base import (
    Capabilities,
    ChannelAdapter,
    DeliveryError,
    InboundMedia,
    InboundMessage,
    InboundSource,
    OutboundMessage,
    SendResult,
)
from channels_app.models import ChannelAccount
from channels_app.selectors import channel_accounts_forget
from conversations.content import Choice, choice_from_payload, choice_payload
from conversations.models import Conversation, DeliveryAttempt, Message
from conversations.services import (
    INTERRUPTED,
    comment_reply_window,
    customer_messages_read,
    customer_messages_unread,
    ingest,
    message_deliver,
    message_mark_deleted,
    message_media_attached,
    message_react,
    message_send_by_bot,
    message_send_by_seller,
    message_store_from_seller,
    messaging_window,
    receipts_apply,
    receipts_apply_watermark,
    send_pending,
)
from conversations.services.outbound import MayNotMessageFirst

pytestmark = pytest.mark.django_db
CHANNEL = "messenger"
_mids = itertools.count(1)


@dataclass
class RecordingAdapter(ChannelAdapter):
    """Meta-like: no idempotency key. Records what was sent and, at each send, whether the
    attempt was already committed; fails as told."""

    channel = CHANNEL
    capabilities = Capabilities(idempotent_sends=False)
    sent: list[OutboundMessage] = field(default_factory=list)
    recorded_first: list[bool] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)

    def send(self, *, account, schema, message):
        self.recorded_first.append(
            DeliveryAttempt.objects.filter(message_id=message.message_id, number=message.attempt, error=INTERRUPTED)
            .exclude(succeeded=True)
            .exists()
        )
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendResult(external_id=f"m_sent_{len(self.sent)}")


@pytest.fixture
def adapter(monkeypatch) -> RecordingAdapter:
    recording = RecordingAdapter()
    monkeypatch.setitem(__import__("channels_app.base", fromlist=["_registry"])._registry, CHANNEL, recording)
    return recording


@pytest.fixture
def page(shop_a) -> ChannelAccount:
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.create(
            seller=shop_a.seller, channel=CHANNEL, external_id="104000000000001", status="connected"
        )
    channel_accounts_forget()
    return account


def inbound(page: ChannelAccount, text: str, *, psid: str = "7100000000000001", **kwargs: Any) -> InboundMessage:
    message = InboundMessage(
        channel=CHANNEL,
        channel_account_id=page.pk,
        sender_id=psid,
        external_id=f"m_in_{next(_mids)}",
        text=text,
        timestamp=timezone.now(),
        sender_name="Amina",
    )
    return replace(message, **kwargs)


def stored(shop, page, text="Ch7al had sac?", **kwargs) -> Conversation:
    with shop.schema():
        result = ingest(inbound(page, text, **kwargs))
        return Conversation.objects.get(pk=result.conversation_id)


def age(conversation: Conversation, hours: float) -> None:
    """The customer's last message was `hours` ago."""
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - dt.timedelta(hours=hours))
    conversation.refresh_from_db()


# --- The seller's own messages, receipts, media, reactions --------------------------------


def test_the_sellers_message_from_outside_is_stored_once_and_puts_the_conversation_in_their_hands(
    shop_a, page, queued, django_capture_on_commit_callbacks
):
    conversation = stored(shop_a, page)
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        when = timezone.now()
        first = message_store_from_seller(
            channel=CHANNEL,
            channel_account_id=page.pk,
            customer_id="7100000000000001",
            external_id="m_seller_1",
            text="Oui, 4500 DA",
            timestamp=when,
            reason="seller_replied_from_meta",
        )
        again = message_store_from_seller(
            channel=CHANNEL,
            channel_account_id=page.pk,
            customer_id="7100000000000001",
            external_id="m_seller_1",
            text="Oui, 4500 DA",
            timestamp=when,
            reason="seller_replied_from_meta",
        )
        stranger = message_store_from_seller(
            channel=CHANNEL,
            channel_account_id=page.pk,
            customer_id="7199999999999999",
            external_id="m_seller_2",
            text="Salam",
            timestamp=when,
            reason="seller_replied_from_meta",
        )
        assert first is not None and first.conversation_id == conversation.pk
        assert again is None and stranger is None
        message = Message.objects.get(pk=first.message_id)
        assert (message.author, message.direction, message.status, message.text) == (
            "seller",
            "out",
            "sent",
            "Oui, 4500 DA",
        )
        conversation.refresh_from_db()
        assert (conversation.mode, conversation.handoff_reason) == ("human", "seller_replied_from_meta")
        assert Message.objects.filter(external_id="m_seller_1").count() == 1


def test_receipts_move_forward_only_by_ids_and_by_watermark(shop_a, page, adapter, queued):
    conversation = stored(shop_a, page)
    with shop_a.schema():
        texts = ["Salam!", "Hada howa", "Prix 4500"]
        messages = [message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text=t) for t in texts]
        for message in messages:
            assert message_deliver(message.pk).status == "sent"
        first, second, third = (Message.objects.get(pk=m.pk) for m in messages)
        first_id = [str(first.external_id)]
        assert receipts_apply(channel=CHANNEL, external_ids=first_id, status="read", when=timezone.now()) == 1
        # Delivered after read changes nothing: never backward.
        assert (
            receipts_apply(
                channel=CHANNEL, external_ids=[str(first.external_id)], status="delivered", when=timezone.now()
            )
            == 0
        )
        Message.objects.filter(pk=third.pk).update(sent_at=timezone.now() + dt.timedelta(minutes=5))
        watermark = timezone.now() + dt.timedelta(minutes=1)
        moved = receipts_apply_watermark(
            channel=CHANNEL,
            channel_account_id=page.pk,
            customer_id="7100000000000001",
            status="read",
            watermark=watermark,
        )
        assert moved == 1  # the second; the first was read already, the third sent after the mark
        statuses = dict(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("text", "status"))
        assert statuses == {"Salam!": "read", "Hada howa": "read", "Prix 4500": "sent"}
        assert Message.objects.get(pk=second.pk).read_at == watermark


def test_media_fetched_later_waits_for_its_file_before_the_answer(
    shop_a, page, queued, django_capture_on_commit_callbacks
):
    voice = InboundMedia(kind="audio", mime_type="audio/mp4", url="https://cdn.example/a.mp4", fetch_later=True)
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        result = ingest(inbound(page, "", media=(voice,)))
        assert queued.replies == []  # no answer before the file is there
        message = Message.objects.get(pk=result.message_id)
        assert (message.media_kind, message.media_type, message.media_url, bool(message.media)) == (
            "audio",
            "audio/mp4",
            "",
            False,
        )
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        message_media_attached(message.pk, content=b"\x00\x01voice", filename="voice.mp4", transcript="ch7al")
        message.refresh_from_db()
        assert message.media.read() == b"\x00\x01voice" and message.transcript == "ch7al"
    assert queued.replies == [(result.conversation_id, result.message_id)]


def test_a_story_is_kept_as_its_link_never_copied(shop_a, page, queued):
    story = InboundMedia(kind="story", url="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1")
    with shop_a.schema():
        result = ingest(inbound(page, "Ch7al hada?", media=(story,), extra={"story": {"id": "1790"}}))
        message = Message.objects.get(pk=result.message_id)
        assert message.media_kind == "story" and not message.media
        assert message.media_url.startswith("https://lookaside.fbsbx.com/")
        assert message.extra == {"story": {"id": "1790"}}


def test_a_choice_is_stored_as_data_and_a_source_on_the_conversation(shop_a, page, queued):
    choice = choice_from_payload(choice_payload("order", 12))
    source = InboundSource(kind="ad", detail={"ad_id": "6045", "ref": "spring"})
    conversation = stored(shop_a, page, "Commander", choice=choice, source=source)
    with shop_a.schema():
        message = Message.objects.filter(conversation=conversation).get()
        assert message.extra["choice"] == {"kind": "order", "product_id": 12, "variant": "", "value": ""}
        assert (conversation.source, conversation.source_detail["ad_id"]) == ("ad", "6045")
        assert conversation.source_at is not None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("ORDER:12", Choice(kind="order", product_id=12)),
        ("details:7", Choice(kind="product", product_id=7)),
        ("VARIANT:7:Rouge M", Choice(kind="variant", product_id=7, variant="Rouge M")),
        ("PERSON", Choice(kind="person")),
        ("GET_STARTED", Choice(kind="start", value="GET_STARTED")),
        ("PRODUCTS", Choice(kind="catalog", value="PRODUCTS")),
        ("ICEBREAKER_DELIVERY", Choice(kind="other", value="ICEBREAKER_DELIVERY")),
        ("ORDER:abc", Choice(kind="other", value="ORDER:abc")),
        ("ORDER:99999999999999999999", Choice(kind="other", value="ORDER:99999999999999999999")),
        ("   ", None),
    ],
)
def test_payloads_of_the_shops_buttons_become_choices(payload, expected):
    assert choice_from_payload(payload) == expected


def test_unsend_and_reactions_are_kept_on_the_message(shop_a, page, queued):
    with shop_a.schema():
        result = ingest(inbound(page, "Rani ghalet", external_id="m_unsent"))
        assert message_mark_deleted(channel=CHANNEL, external_id="m_unsent", when=timezone.now())
        assert not message_mark_deleted(channel=CHANNEL, external_id="m_unsent", when=timezone.now())
        assert message_react(channel=CHANNEL, external_id="m_unsent", reaction="❤")
        message = Message.objects.get(pk=result.message_id)
        assert message.deleted_at is not None and message.reaction == "❤"
        assert message_react(channel=CHANNEL, external_id="m_unsent", reaction="")
        assert Message.objects.get(pk=result.message_id).reaction == ""
        assert not message_react(channel=CHANNEL, external_id="m_nobody", reaction="❤")


def test_unread_customer_messages_are_listed_then_marked_read(shop_a, page, queued):
    conversation = stored(shop_a, page, external_id="m_a")
    stored(shop_a, page, "w rouge?", external_id="m_b")
    with shop_a.schema():
        assert customer_messages_unread(conversation.pk, channel=CHANNEL) == ("m_b", "m_a")
        assert customer_messages_read(conversation.pk, ("m_a",)) == 1
        assert customer_messages_unread(conversation.pk, channel=CHANNEL) == ("m_b",)


# --- Messaging windows ----------------------------------------------------------------------


def test_metas_windows_for_the_bot_and_for_people(shop_a, page, queued):
    conversation = stored(shop_a, page)
    with shop_a.schema():
        age(conversation, 23)
        assert messaging_window(conversation, author="bot").open
        age(conversation, 25)
        bot = messaging_window(conversation, author="bot")
        person = messaging_window(conversation, author="seller")
        assert (bot.open, bot.reason) == (False, "window_closed")
        assert (person.open, person.tag) == (True, "HUMAN_AGENT")
        age(conversation, 24 * 7 + 1)
        person = messaging_window(conversation, author="seller")
        assert (person.open, person.reason) == (False, "human_window_closed")
        # After an ad click the bot may answer for 7 days from the click.
        Conversation.objects.filter(pk=conversation.pk).update(
            source="ad", source_at=timezone.now() - dt.timedelta(days=5)
        )
        age(conversation, 24 * 5)
        assert messaging_window(conversation, author="bot").open
        Conversation.objects.filter(pk=conversation.pk).update(source_at=timezone.now() - dt.timedelta(days=8))
        age(conversation, 24 * 8)
        assert not messaging_window(conversation, author="bot").open


def test_channels_without_a_window_are_always_open(shop_a, queued):
    from conversations.tests.factories import widget_inbound

    with shop_a.schema():
        conversation = Conversation.objects.get(pk=ingest(widget_inbound(shop_a, "Salam")).conversation_id)
        age(conversation, 24 * 30)
        assert messaging_window(conversation, author="bot").open


def test_a_comment_gets_its_private_reply_within_seven_days():
    now = timezone.now()
    assert comment_reply_window(now - dt.timedelta(days=6, hours=23), now=now).open
    closed = comment_reply_window(now - dt.timedelta(days=7, minutes=1), now=now)
    assert (closed.open, closed.reason) == (False, "window_closed")


def test_the_seller_is_told_why_a_message_cannot_go_and_nothing_is_stored(shop_a, page, queued):
    conversation = stored(shop_a, page)
    with shop_a.schema():
        age(conversation, 24 * 8)
        before = Message.objects.count()
        with pytest.raises(ValidationError, match="7 days"):
            message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Mazal?")
        with pytest.raises(MayNotMessageFirst):
            message_send_by_bot(conversation=conversation, text="Votre panier vous attend")
        assert Message.objects.count() == before


# --- Sends recorded before they happen --------------------------------------------------------


def test_each_attempt_is_committed_before_the_send_and_a_human_reply_after_a_day_is_tagged(
    shop_a, page, adapter, queued
):
    conversation = stored(shop_a, page)
    with shop_a.schema():
        quick = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Oui")
        assert message_deliver(quick.pk).status == "sent"
        age(conversation, 30)
        late = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Mazal disponible")
        assert message_deliver(late.pk).status == "sent"
    assert adapter.recorded_first == [True, True]
    assert [(m.text, m.tag) for m in adapter.sent] == [("Oui", ""), ("Mazal disponible", "HUMAN_AGENT")]
    with shop_a.schema():
        assert list(DeliveryAttempt.objects.filter(message_id=late.pk).values_list("number", "succeeded", "error")) == [
            (1, True, "")
        ]
        assert Message.objects.get(pk=late.pk).external_id == "m_sent_2"


def test_a_send_whose_outcome_is_unknown_is_never_repeated(shop_a, page, adapter, queued):
    conversation = stored(shop_a, page)
    adapter.failures = [DeliveryError("read timeout", unknown=True)]
    with shop_a.schema():
        message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Wach rak?")
        assert message_deliver(message.pk).status == "failed"
        assert message_deliver(message.pk).status == "skipped"
        failed = Message.objects.get(pk=message.pk)
        assert (failed.status, failed.error) == ("failed", "unknown_outcome")
        assert "may have reached the customer" in failed.error_text
    assert adapter.sent == []


def test_temporary_errors_are_retried_with_a_new_attempt_then_sent(shop_a, page, adapter, queued):
    conversation = stored(shop_a, page)
    adapter.failures = [DeliveryError("temporary", retryable=True), DeliveryError("rate limit", retryable=True)]
    with shop_a.schema():
        message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Wach rak?")
        outcomes = [message_deliver(message.pk) for _ in range(3)]
        assert [o.status for o in outcomes] == ["retry", "retry", "sent"] and outcomes[0].countdown > 0
        attempts = list(DeliveryAttempt.objects.filter(message_id=message.pk).values_list("number", "succeeded"))
        assert attempts == [(1, False), (2, False), (3, True)]
    assert len(adapter.sent) == 1


def test_a_refusal_fails_with_its_reason_and_a_closed_window_sends_nothing(shop_a, page, adapter, queued):
    conversation = stored(shop_a, page)
    adapter.failures = [DeliveryError("(#551) This person isn't available", retryable=False, reason="unavailable")]
    with shop_a.schema():
        refused = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Salam")
        assert message_deliver(refused.pk).status == "failed"
        assert Message.objects.get(pk=refused.pk).error == "unavailable"
        # Queued while the window was open; it closed before the send: nothing goes.
        late = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Rani hna")
        age(conversation, 24 * 8)
        assert message_deliver(late.pk).status == "failed"
        assert Message.objects.get(pk=late.pk).error == "human_window_closed"
        assert not DeliveryAttempt.objects.filter(message_id=late.pk).exists()
    assert adapter.sent == []


def test_an_attempt_left_in_progress_is_waited_for_then_failed_never_sent_twice(shop_a, page, adapter, queued):
    conversation = stored(shop_a, page)
    with shop_a.schema():
        message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Salam")
        DeliveryAttempt.objects.create(message=message, number=1, succeeded=False, error=INTERRUPTED)
        assert message_deliver(message.pk).status == "skipped"  # another worker may still be sending
        DeliveryAttempt.objects.filter(message=message).update(started_at=timezone.now() - dt.timedelta(minutes=5))
        assert message_deliver(message.pk).status == "skipped"
        assert (Message.objects.get(pk=message.pk).status, Message.objects.get(pk=message.pk).error) == (
            "failed",
            "unknown_outcome",
        )
        assert send_pending(message.pk, channel=CHANNEL) is None
    assert adapter.sent == []


def test_what_follows_a_commit_acts_for_its_own_seller_when_one_transaction_spans_several(
    shop_a, shop_b, queued, monkeypatch, django_capture_on_commit_callbacks
):
    """The WhatsApp gateway commits many sellers' batches in one transaction: each live event
    after the commit goes to the seller whose rows changed, never to another (or to none)."""
    from django.db import transaction

    from conversations.tests.factories import widget_inbound

    published: list[tuple[str, str, int]] = []
    monkeypatch.setattr(
        "conversations.services.live.publish",
        lambda schema, event, payload: published.append(
            (schema, event, payload.get("conversation", payload.get("id")))
        ),
    )
    mine, theirs = widget_inbound(shop_a, "Salam"), widget_inbound(shop_b, "Je veux parler à un humain")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with shop_a.schema():
            a = ingest(mine)
        with shop_b.schema():
            b = ingest(theirs)  # asks for a person: a handoff, its note and the notice
    by_schema = {schema for schema, _event, _id in published}
    assert by_schema == {shop_a.seller.schema_name, shop_b.seller.schema_name}
    for schema, event, _id in published:
        if schema == shop_a.seller.schema_name:
            assert event == "message.created"
    with shop_b.schema():
        assert Conversation.objects.get(pk=b.conversation_id).mode == "human"
    assert (shop_a.seller.schema_name, "message.created", a.conversation_id) in published
    assert any(event == "handoff" and schema == shop_b.seller.schema_name for schema, event, _ in published)
