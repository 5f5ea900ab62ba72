"""What arrives on WhatsApp, as neonize delivers it (its own protobuf classes), through the
gateway's handlers: what is stored, what is ignored, what is enqueued."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db.models import Q

from channels_app.whatsapp.events import parse_message
from channels_app.whatsapp.testing import image, message_event, voice_note
from channels_app.whatsapp.tests.conftest import CUSTOMER, SHOP_JID, linked_session
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from conversations.services import conversation_reply
from ma5zani.testing import committed_db, wait_for

pytestmark = committed_db


@pytest.fixture
def replies(monkeypatch: Any) -> list[tuple[str, int, int]]:
    """The replies the gateway's stores ask for (the workers would answer them)."""
    asked: list[tuple[str, int, int]] = []

    def record(schema: str, conversation_id: int, inbound_id: int, *, countdown: float | None = None) -> None:
        asked.append((schema, conversation_id, inbound_id))

    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", record)

    def record_many(schema: str, pairs: list[tuple[int, int]]) -> None:
        for conversation_id, inbound_id in pairs:
            record(schema, conversation_id, inbound_id)

    monkeypatch.setattr("conversations.services.enqueueing.enqueue_replies", record_many)
    return asked


def messages(shop: Any) -> list[Message]:
    with shop.schema():
        return list(Message.objects.select_related("conversation__identity", "conversation__customer").order_by("pk"))


def test_a_text_message_is_stored_once_with_the_customer_known_by_number(run_gateway, shop_a, replies):
    session = linked_session(shop_a)
    gw = run_gateway()
    event = message_event(chat=CUSTOMER, text="Salam, ch7al soum la robe?", message_id="3AAA0001", push_name="Amine")
    gw.event(session, event)
    gw.event(session, event)  # WhatsApp delivers again after a reconnect

    stored = messages(shop_a)
    assert len(stored) == 1
    message = stored[0]
    assert message.text == "Salam, ch7al soum la robe?" and message.external_id == "3AAA0001"
    assert message.author == Message.Author.CUSTOMER and message.channel == "whatsapp"
    assert message.conversation.identity.external_id == CUSTOMER
    assert str(message.conversation.customer.phone) == "+213550123456"
    assert message.conversation.customer.name == "Amine"
    assert replies == [(shop_a.seller.schema_name, message.conversation_id, message.pk)]  # one reply asked
    assert gw.gateway.metrics.messages_in == 1


def test_extended_text_and_a_lid_sender_then_the_number_stay_one_customer(run_gateway, shop_a, replies):
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat="98765432101@lid", text="Bonjour", extended=True, message_id="3AL1"))
    # Later the same person arrives with their number, the LID beside it.
    gw.event(
        session,
        message_event(
            chat=CUSTOMER, sender=CUSTOMER, sender_alt="98765432101@lid", text="Vous livrez à Oran ?", message_id="3AL2"
        ),
    )
    with shop_a.schema():
        identities = list(ChannelIdentity.objects.all())
        assert len(identities) == 1
        assert identities[0].external_id == CUSTOMER and identities[0].alt_id == "98765432101@lid"
        assert Customer.objects.count() == 1 and Conversation.objects.count() == 1
        assert list(Message.objects.values_list("text", flat=True)) == ["Bonjour", "Vous livrez à Oran ?"]


def test_a_lid_message_with_the_number_as_sender_alt_is_addressed_by_number(run_gateway, shop_a, replies):
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat="11122233344@lid", sender_alt=CUSTOMER, text="salam", message_id="3AL3"))
    with shop_a.schema():
        identity = ChannelIdentity.objects.get()
        assert (identity.external_id, identity.alt_id) == (CUSTOMER, "11122233344@lid")
        assert str(identity.customer.phone) == "+213550123456"


def test_status_newsletters_calls_and_reactions_are_ignored(run_gateway, shop_a, replies):
    from neonize.proto.Neonize_pb2 import CallOffer
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ReactionMessage

    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat="status@broadcast", sender=CUSTOMER, text="my status"))
    gw.event(session, message_event(chat="120363000000000001@newsletter", text="news"))
    gw.event(session, message_event(chat=CUSTOMER, content=WaMessage(reactionMessage=ReactionMessage(text="👍"))))
    gw.event(session, CallOffer())
    assert messages(shop_a) == [] and replies == []
    assert gw.gateway.metrics.ignored == 4


def _bot_page_post(shop: Any, *, groups: bool) -> None:
    """The owner saves the bot settings page with "answer in group chats" ticked or not."""
    from sales.tests.test_settings_pages import bot_post

    response = shop.client().post("/dashboard/settings/bot/", bot_post(group_chats_enabled="on" if groups else ""))
    assert response.status_code == 302


def test_groups_follow_the_bot_settings_page_and_only_mentions_count(run_gateway, shop_a, replies):
    """The bot settings page's "answer in group chats" is the one setting: ticked, a group
    message that mentions the shop is stored and answered (in the group); unticked, ignored."""
    group = "120363025246125888@g.us"
    session = linked_session(shop_a)
    gw = run_gateway()
    runner = gw.connected(session)

    def mention(message_id: str) -> Any:
        return message_event(
            chat=group, sender=CUSTOMER, text="@213661000111 3andkom robe?", mentions=(SHOP_JID,), message_id=message_id
        )

    gw.event(session, mention("3AG0"))
    assert messages(shop_a) == [] and replies == []  # off by default

    _bot_page_post(shop_a, groups=True)
    wait_for(lambda: runner.spec.groups_enabled, 10, message="the page's setting to reach the gateway")
    gw.event(session, message_event(chat=group, sender=CUSTOMER, text="who sells shoes here?", message_id="3AG1"))
    assert messages(shop_a) == []  # not mentioned
    gw.event(session, mention("3AG2"))
    stored = messages(shop_a)
    assert [m.external_id for m in stored] == ["3AG2"]
    assert stored[0].conversation.identity.external_id == group  # the answer goes to the group
    assert replies == [(shop_a.seller.schema_name, stored[0].conversation_id, stored[0].pk)]
    with shop_a.schema():
        answer = conversation_reply(stored[0].conversation_id, stored[0].pk)
    assert answer is not None and answer.text and answer.conversation_id == stored[0].conversation_id

    _bot_page_post(shop_a, groups=False)
    wait_for(lambda: not runner.spec.groups_enabled, 10, message="the page's setting to reach the gateway")
    ignored_before = gw.gateway.metrics.ignored
    gw.event(session, mention("3AG3"))
    assert [m.external_id for m in messages(shop_a) if m.direction == "in"] == ["3AG2"]
    assert gw.gateway.metrics.ignored == ignored_before + 1
    assert len(replies) == 1


def test_a_message_the_seller_types_on_the_phone_puts_the_conversation_in_human_mode(run_gateway, shop_a, replies):
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat=CUSTOMER, text="salam", message_id="3AC1"))
    gw.event(
        session, message_event(chat=CUSTOMER, sender=SHOP_JID, from_me=True, text="Ahlan! nriglek", message_id="3AS1")
    )
    gw.event(
        session, message_event(chat=CUSTOMER, sender=SHOP_JID, from_me=True, text="Ahlan! nriglek", message_id="3AS1")
    )
    stored = messages(shop_a)
    assert [(m.author, m.direction, m.text) for m in stored] == [
        ("customer", "in", "salam"),
        ("seller", "out", "Ahlan! nriglek"),
    ]
    assert stored[1].status == Message.Status.SENT
    with shop_a.schema():
        conversation = Conversation.objects.get()
        assert conversation.mode == Conversation.Mode.HUMAN
        assert conversation.handoff_reason == "seller_replied_from_phone"
    # The customer writes again: stored, but the bot stays quiet.
    replies.clear()
    gw.event(session, message_event(chat=CUSTOMER, text="merci", message_id="3AC2"))
    assert replies == []
    # A from-me message to someone who never wrote to the shop is not a conversation.
    gw.event(
        session, message_event(chat="213770000000@s.whatsapp.net", sender=SHOP_JID, from_me=True, text="Salut cousin")
    )
    assert len(messages(shop_a)) == 3


def test_an_image_is_downloaded_into_the_sellers_storage_then_answered(run_gateway, shop_a, replies):
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    client.downloads["default"] = b"\xff\xd8\xff\xe0 fake jpeg"
    gw.event(session, message_event(chat=CUSTOMER, content=image("3andkom hadi?"), message_id="3AI1"))

    def attached() -> Message | None:
        stored = messages(shop_a)
        return stored[0] if stored and stored[0].media else None

    message = wait_for(attached, 10, message="the image to be stored")
    assert message is not None
    assert message.text == "3andkom hadi?" and message.media_kind == "image" and message.media_type == "image/jpeg"
    assert message.media.name.endswith(".jpg")
    with shop_a.schema():
        path = message.media.path
    assert f"/{shop_a.seller.schema_name}/media/" in path  # the seller's own folder
    with open(path, "rb") as file:
        assert file.read() == b"\xff\xd8\xff\xe0 fake jpeg"
    wait_for(lambda: replies, 5, message="the reply after the download")
    assert replies == [(shop_a.seller.schema_name, message.conversation_id, message.pk)]


def test_a_voice_note_without_transcription_gets_a_request_for_text_in_the_customers_language(
    run_gateway, shop_a, replies
):
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.client(session)
    gw.event(session, message_event(chat=CUSTOMER, text="Bonjour, je voudrais des informations", message_id="3AV0"))
    with shop_a.schema():
        Message.objects.all().delete()
    replies.clear()
    gw.event(session, message_event(chat=CUSTOMER, content=voice_note(), message_id="3AV1"))
    wait_for(lambda: replies, 10, message="the reply to the voice note")
    _schema, conversation_id, inbound_id = replies[0]
    with shop_a.schema():
        voice = Message.objects.get(pk=inbound_id)
        assert voice.media_kind == "audio" and voice.media.name.endswith(".ogg") and voice.transcript == ""
        answer = conversation_reply(conversation_id, inbound_id)
        assert answer is not None
        assert answer.text.startswith("Désolé, je ne peux pas écouter les messages vocaux")
        assert answer.engine == "voice"


class TranscriptionServer:
    """A local server speaking OpenAI's /audio/transcriptions (multipart upload)."""

    def __init__(self, text: str) -> None:
        self.uploads: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.uploads.append(
                    {
                        "path": self.path,
                        "content_type": self.headers["Content-Type"],
                        "body": body,
                        "auth": self.headers["Authorization"],
                    }
                )
                payload = json.dumps({"text": text}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def test_a_voice_note_is_transcribed_when_a_service_is_configured(run_gateway, shop_a, replies, settings):
    server = TranscriptionServer("ch7al soum la robe lmelouna?")
    settings.TRANSCRIPTION_BASE_URL = server.base_url
    settings.TRANSCRIPTION_API_KEY = "sk-transcribe"
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.client(session).downloads["default"] = b"OggS\x00 opus voice"
    gw.event(session, message_event(chat=CUSTOMER, content=voice_note(), message_id="3AV2"))
    wait_for(lambda: replies, 10, message="the reply after transcription")
    with shop_a.schema():
        voice = Message.objects.get(external_id="3AV2")
        assert voice.transcript == "ch7al soum la robe lmelouna?"
    upload = server.uploads[0]
    assert upload["path"] == "/v1/audio/transcriptions"
    assert upload["auth"] == "Bearer sk-transcribe"
    assert b'filename="voice.ogg"' in upload["body"] and b"OggS\x00 opus voice" in upload["body"]
    assert b'name="model"' in upload["body"] and b"whisper-1" in upload["body"]
    server.server.shutdown()


def test_a_location_is_stored_as_a_place_with_a_map_link(run_gateway, shop_a, replies):
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import LocationMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage

    session = linked_session(shop_a)
    gw = run_gateway()
    content = WaMessage(
        locationMessage=LocationMessage(degreesLatitude=36.7538, degreesLongitude=3.0588, name="Bab Ezzouar")
    )
    gw.event(session, message_event(chat=CUSTOMER, content=content, message_id="3ALOC"))
    message = messages(shop_a)[0]
    assert message.media_kind == "location"
    assert message.text == "Bab Ezzouar https://maps.google.com/?q=36.753800,3.058800"
    assert replies  # a place needs no download: answered at once


def test_parsing_video_document_and_sticker_events():
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import DocumentMessage, StickerMessage, VideoMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage

    video = parse_message(
        message_event(chat=CUSTOMER, content=WaMessage(videoMessage=VideoMessage(mimetype="video/mp4", caption="hadi")))
    )
    document = parse_message(
        message_event(
            chat=CUSTOMER,
            content=WaMessage(documentMessage=DocumentMessage(mimetype="application/pdf", fileName="facture.pdf")),
        )
    )
    sticker = parse_message(
        message_event(chat=CUSTOMER, content=WaMessage(stickerMessage=StickerMessage(mimetype="image/webp")))
    )
    assert video is not None and (video.media_kind, video.text, video.needs_download) == ("video", "hadi", True)
    assert document is not None and (document.media_kind, document.filename) == ("document", "facture.pdf")
    assert sticker is not None and sticker.media_kind == "sticker" and sticker.mime_type == "image/webp"


def test_receipts_move_sent_messages_to_delivered_and_read(run_gateway, shop_a, replies):
    from channels_app.whatsapp.testing import receipt_event

    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat=CUSTOMER, text="salam", message_id="3AR0"))
    with shop_a.schema():
        conversation = Conversation.objects.get()
        Message.objects.create(
            conversation=conversation, direction="out", author="bot", channel="whatsapp", text="Ahlan",
            status=Message.Status.SENT, external_id="3EB0SENT1",
        )  # fmt: skip
    gw.event(session, receipt_event(chat=CUSTOMER, message_ids=["3EB0SENT1"], kind=1))
    with shop_a.schema():
        assert Message.objects.get(external_id="3EB0SENT1").status == Message.Status.DELIVERED
    gw.event(session, receipt_event(chat=CUSTOMER, message_ids=["3EB0SENT1"], kind=4))
    gw.event(session, receipt_event(chat=CUSTOMER, message_ids=["3EB0SENT1"], kind=1))  # late, out of order
    with shop_a.schema():
        message = Message.objects.get(external_id="3EB0SENT1")
        assert message.status == Message.Status.READ and message.read_at and message.delivered_at
        assert not Message.objects.filter(Q(status="read") & Q(direction="in")).exists()


def test_many_sessions_receiving_at_once_store_every_message_once(run_gateway, shop_a, make_shop, replies):
    from concurrent.futures import ThreadPoolExecutor

    shop_b = make_shop("bravo")
    sessions = [linked_session(shop_a), linked_session(shop_b, jid="213661000222@s.whatsapp.net")]
    gw = run_gateway()
    for session in sessions:
        gw.connected(session)
    events = [
        (
            session,
            message_event(chat=f"21355000{n % 10:04d}@s.whatsapp.net", text=f"salam {n}", message_id=f"3AM{s}{n:04d}"),
        )
        for s, session in enumerate(sessions)
        for n in range(60)
    ]
    with ThreadPoolExecutor(32) as pool:  # like neonize's callback threads of many sessions
        list(pool.map(lambda item: gw.event(*item), events + events[:20]))  # and some delivered twice
    for shop in (shop_a, shop_b):
        with shop.schema():
            assert Message.objects.count() == 60
            assert Conversation.objects.count() == 10
            assert sorted(Conversation.objects.values_list("unread_count", flat=True)) == [6] * 10
    assert gw.gateway.metrics.messages_in == 120
    # Every conversation's latest message has a reply asked for.
    for shop in (shop_a, shop_b):
        with shop.schema():
            latest = {c.pk: max(c.messages.values_list("pk", flat=True)) for c in Conversation.objects.all()}
        asked = {
            (conversation, inbound) for schema, conversation, inbound in replies if schema == shop.seller.schema_name
        }
        assert set(latest.items()) <= asked


def test_a_batch_that_fails_is_stored_message_by_message(run_gateway, shop_a, replies, monkeypatch):
    calls = {"n": 0}
    from channels_app.whatsapp import services as wa_services

    real = wa_services.store_customer_messages

    def failing_once(items: list) -> list:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a message the batch path could not store")
        return real(items)

    monkeypatch.setattr(wa_services, "store_customer_messages", failing_once)
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat=CUSTOMER, text="salam", message_id="3AF1"))
    gw.event(session, message_event(chat=CUSTOMER, text="wach kayen?", message_id="3AF2"))
    assert [m.external_id for m in messages(shop_a)] == ["3AF1", "3AF2"]
    assert calls["n"] >= 2  # the first batch failed, and nothing was lost
