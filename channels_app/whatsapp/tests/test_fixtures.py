"""WhatsApp events in the shapes neonize delivers them (fixtures/<event>__<variant>.json): one
test per fixture, and every fixture has an expectation here (and every expectation a fixture).
Then a few fixtures through the services the gateway calls, in a seller's schema, down to the
rows they leave."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from channels_app.whatsapp import services
from channels_app.whatsapp.client import jid_string
from channels_app.whatsapp.events import RECEIPT_STATUS, downloadable, event_name, parse_message
from channels_app.whatsapp.tests.conftest import linked_session
from channels_app.whatsapp.tests.fixtures import FIXTURES, event_envelope, fixture_names, load_event
from conversations.models import ChannelIdentity, Conversation, Message

# The shop, and the customers who write to it (their phone-number JID and their LID).
SHOP = "213661482937@s.whatsapp.net"
SHOP_LID = "176204938571462@lid"
AMINA, AMINA_LID = "213550918273@s.whatsapp.net", "203814957360412@lid"  # known by her number
YACINE_LID, YACINE = "103251876492017@lid", "213770452618@s.whatsapp.net"  # writes from a LID chat
SARA, SARA_LID = "213698207145@s.whatsapp.net", "89412675301844@lid"  # her number, the LID beside
KARIM_LID, KARIM = "147025836914703@lid", "213541379206@s.whatsapp.net"  # in the shop's group
LYNA_LID = "251937468201375@lid"  # a LID and nothing else
NESRINE = "213795310864@s.whatsapp.net"  # disappearing messages on
GROUP = "120363317429856103@g.us"

# Ids the fixtures share: the bot's answer Amina quotes, what the seller typed on the phone
# (Amina reacts to it, and reads it), Amina's first message (the seller reads it on the phone).
BOT_REPLY = "3EB0C4F1A97D2B56E80312"
SELLER_PHONE_REPLY = "3A5F0D9C81B4E27A6C13"
AMINA_TEXT = "AC9D41E07B3F5A28C6D1E94B70A3F215"


def at(hour: int, minute: int, second: int) -> dt.datetime:
    return dt.datetime(2026, 12, 4, hour, minute, second, tzinfo=dt.UTC)


def says(
    *,
    id: str,
    chat: str,
    when: dt.datetime,
    push_name: str,
    sender: str = "",
    phone: str = "",
    lid: str = "",
    **rest: Any,
) -> dict[str, Any]:
    """Every field of the WaMessage the fixture must parse into (and its two properties): what
    is not given is empty. `phone` and `lid` are the sender's two ids when WhatsApp gave them."""
    fields: dict[str, Any] = {
        "id": id,
        "chat": chat,
        "sender": sender or chat,
        "sender_phone_jid": phone,
        "sender_lid": lid,
        "push_name": push_name,
        "from_me": False,
        "is_group": False,
        "timestamp": when,
        "text": "",
        "media_kind": "",
        "mime_type": "",
        "filename": "",
        "is_voice_note": False,
        "mentions": (),
        "customer_phone": "+" + phone.partition("@")[0] if phone else "",
    }
    fields |= rest
    fields["needs_download"] = fields["media_kind"] not in ("", "location")
    return fields


def amina(**fields: Any) -> dict[str, Any]:
    return says(chat=AMINA, phone=AMINA, push_name="Amina", **fields)


def yacine(**fields: Any) -> dict[str, Any]:
    return says(chat=YACINE_LID, phone=YACINE, lid=YACINE_LID, push_name="Yacine 🇩🇿", **fields)


def sara(**fields: Any) -> dict[str, Any]:
    return says(chat=SARA, phone=SARA, lid=SARA_LID, push_name="سارة", **fields)


def receipt(
    *, status: str | None, ids: list[str], chat: str, when: dt.datetime, from_me: bool = False
) -> dict[str, Any]:
    return {"status": status, "ids": ids, "chat": chat, "from_me": from_me, "when": when}


# A message fixture expects the WaMessage's fields, or None (the gateway ignores it); a
# receipt fixture the status it moves the shop's messages to (None: it moves nothing).
EXPECTED: dict[str, dict[str, Any] | None] = {
    "message__text": amina(
        id=AMINA_TEXT, when=at(9, 2, 11), text="السلام عليكم، شحال سومة هاد الصاك الكحل؟ و كاين التوصيل لوهران؟"
    ),
    # A reply quoting the bot's answer: the text is the customer's, the quote is not kept.
    "message__extended_text": amina(
        id="AC87DE4515BC261AF6293EFA077E5478",
        when=at(9, 6, 40),
        text="Ih had l'modèle, kayen f l'marron? w ch7al l'livraison l Bir El Djir?",
    ),
    "message__extended_text_link_preview": sara(
        id="3AAD273815567745668D",
        when=at(9, 11, 5),
        text="Salam, chft had la robe f la page ta3kom https://www.facebook.com/share/p/1BqXk7RmZt/ mazal kayna?",
    ),
    # A LID chat with the number as SenderAlt: both ids, the number is the customer's phone.
    "message__lid_sender": yacine(
        id="3AA4E6A67F602315D8CC", when=at(9, 14, 22), text="Bonsoir, vous livrez à Sétif ? Je veux 2 pièces taille 42."
    ),
    # Only a LID: no phone (the gateway asks the session store for the number behind it).
    "message__lid_sender_without_alt": says(
        id="AC530550CD71F606FFE8299771A7818D",
        chat=LYNA_LID,
        lid=LYNA_LID,
        push_name="Lyna",
        when=at(9, 15, 2),
        text="slm, les prix svp",
    ),
    "message__phone_sender_with_lid_alt": sara(
        id="AC91EA12AAEAA51321507F8682974B19",
        when=at(9, 17, 48),
        text="wach kayen livraison l Blida? w ch7al men nhar?",
    ),
    # A group in LID addressing: the member wrote it, the shop's LID is mentioned.
    "message__group": says(
        id="AC0E8C7144034B567FBF3C7D70486240",
        chat=GROUP,
        sender=KARIM_LID,
        phone=KARIM,
        lid=KARIM_LID,
        push_name="Karim DZ",
        when=at(9, 20, 3),
        is_group=True,
        text="@176204938571462 3andkom had la robe f taille L? w bch7al?",
        mentions=(SHOP_LID,),
    ),
    # The customer's current position: only coordinates, written as a map link.
    "message__location": amina(
        id="AC02005D7A2212F8575AC787B5AB0BB6",
        when=at(9, 24, 30),
        media_kind="location",
        text="https://maps.google.com/?q=35.725382,-0.584924",
    ),
    "message__location_place": yacine(
        id="3A1072612106B5AAE770",
        when=at(9, 25, 10),
        media_kind="location",
        text="Ain El Fouara Avenue du 8 Mai 1945, Sétif https://maps.google.com/?q=36.191100,5.413700",
    ),
    # A voice note keeps its codec in the MIME type (the transcription service is told it).
    "message__voice_note": sara(
        id="AC615CB4351F1375E0711B0F2B9DDE57",
        when=at(9, 27, 55),
        media_kind="audio",
        mime_type="audio/ogg; codecs=opus",
        is_voice_note=True,
    ),
    "message__audio_file": sara(
        id="ACECE39D7F8C5AB066D700B33F1188DA", when=at(9, 29, 12), media_kind="audio", mime_type="audio/mpeg"
    ),
    "message__image_caption": amina(
        id="ACF322D28EA5E26D19D3AE7F4C6F77EF",
        when=at(9, 31, 40),
        media_kind="image",
        mime_type="image/jpeg",
        text="ch7al had l'sac? 😍 kayen f l'bordeaux?",
    ),
    "message__video": yacine(
        id="3A867D72036D7CD23118",
        when=at(9, 34, 2),
        media_kind="video",
        mime_type="video/mp4",
        text="Kima hadi f taille 42, kayna?",
    ),
    # A round video recorded in the chat (ptvMessage): a video like any other.
    "message__video_note": amina(
        id="ACEED9BF0C057C376628BB8C4B7AC2C0", when=at(9, 35, 20), media_kind="video", mime_type="video/mp4"
    ),
    # Sent from WhatsApp on a computer (device 12): the device is no part of the ids.
    "message__document_with_caption": sara(
        id="3EB059C0AB11C2DF0399CA",
        when=at(9, 36, 18),
        media_kind="document",
        mime_type="application/pdf",
        filename="bon_de_commande_sara.pdf",
        text="Voici ma commande : 3 robes (M, L, XL), livraison à Blida centre.",
    ),
    "message__sticker": amina(
        id="AC6312E19CCEC30A4D488A589F0710C9", when=at(9, 38, 41), media_kind="sticker", mime_type="image/webp"
    ),
    "message__ephemeral": says(
        id="ACF2CBDBDC80F092B9F27731B582C87D",
        chat=NESRINE,
        phone=NESRINE,
        push_name="Nesrine",
        when=at(9, 41, 7),
        text="Bonjour, le pantalon palazzo existe en beige ? Taille 40 🙏",
    ),
    "message__view_once": yacine(
        id="3AF530E7BE6300F66BE3", when=at(9, 43, 30), media_kind="image", mime_type="image/jpeg"
    ),
    # The seller typed it on the shop's phone: the sender's ids are the shop's own.
    "message__from_me": says(
        id=SELLER_PHONE_REPLY,
        chat=AMINA,
        sender=SHOP,
        phone=SHOP,
        push_name="Nour Boutique",
        when=at(9, 46, 0),
        from_me=True,
        text="سلام أختي، الصاك الكحل بـ 4500 دج، التوصيل لوهران 600 دج. نبعثهولك غدوة إن شاء الله ✅",
    ),
    "message__reaction": None,  # a ❤️ on the seller's message: nothing to answer
    "message__status_broadcast": None,  # a customer's status, seen by all their contacts
    "message__newsletter": None,  # a channel's post
    "receipt__delivered": receipt(status="delivered", ids=[SELLER_PHONE_REPLY], chat=AMINA, when=at(9, 46, 2)),
    "receipt__read": receipt(status="read", ids=[BOT_REPLY, SELLER_PHONE_REPLY], chat=AMINA, when=at(9, 47, 2)),
    # The seller read Amina's message on the phone: none of the shop's messages moves.
    "receipt__read_self": receipt(status=None, ids=[AMINA_TEXT], chat=AMINA, when=at(9, 45, 20), from_me=True),
    # A voice message of the shop listened to: read.
    "receipt__played": receipt(status="read", ids=["3EB05A7E19C4D28B6F0A41"], chat=YACINE_LID, when=at(9, 58, 44)),
}


def parsed(message: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(message)
    fields.update(customer_phone=message.customer_phone, needs_download=message.needs_download)
    return fields


@pytest.mark.parametrize("name", sorted(set(fixture_names()) | set(EXPECTED)))
def test_fixture(name: str) -> None:
    assert name in EXPECTED, f"the fixture {name} has no expectation"
    assert name in fixture_names(), f"the expectation {name} has no fixture"
    event = load_event(name)
    # Each file is exactly what `event_envelope` writes of its event: nothing neonize would not send.
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    assert text == json.dumps(event_envelope(event), ensure_ascii=False, indent=2) + "\n"
    expected = EXPECTED[name]
    if name.startswith("message__"):
        assert event_name(event) == "Message"  # what the gateway's handler parses
        message = parse_message(event)
        assert (None if message is None else parsed(message)) == expected
    else:
        assert name.startswith("receipt__") and expected is not None
        assert event_name(event) == "Receipt"  # handled by the gateway's `_on_Receipt`
        got = {
            "status": RECEIPT_STATUS.get(int(event.Type)),
            "ids": list(event.MessageIDs),
            "chat": jid_string(event.MessageSource.Chat),
            "from_me": event.MessageSource.IsFromMe,
            "when": dt.datetime.fromtimestamp(event.Timestamp, tz=dt.UTC),
        }
        assert got == expected


@pytest.mark.parametrize(
    ("name", "wrapper"),
    [
        ("message__ephemeral", "ephemeralMessage"),
        ("message__view_once", "viewOnceMessageV2"),
        ("message__document_with_caption", "documentWithCaptionMessage"),
    ],
)
def test_a_message_still_in_its_wrapper_parses_as_the_unwrapped_one(name: str, wrapper: str) -> None:
    """neonize hands over what whatsmeow unwrapped; the raw message WhatsApp sent (as whatsmeow's
    RawMessage keeps it) parses the same, should a wrapped one ever reach the gateway."""
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaE2EMessage

    event = load_event(name)
    inner = WaE2EMessage()
    inner.CopyFrom(event.Message)
    event.Message.Clear()
    getattr(event.Message, wrapper).message.CopyFrom(inner)
    assert parse_message(event) == parse_message(load_event(name))


@pytest.mark.parametrize(
    "name", [name for name, expected in EXPECTED.items() if expected and expected.get("needs_download")]
)
def test_every_file_a_customer_sends_is_one_whatsmeow_can_download(name: str) -> None:
    """whatsmeow's DownloadAny fetches the first of an image, a video, an audio, a document or
    a sticker at the top of the message; a video note is handed over as the video it is."""
    event = load_event(name)
    content = downloadable(event.Message)
    kinds = ("imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage")
    present = [kind for kind in kinds if content.HasField(kind)]
    assert len(present) == 1
    media = getattr(content, present[0])
    assert media.directPath and len(media.mediaKey) == 32 and media.fileLength > 0
    if event.Message.HasField("ptvMessage"):
        assert present == ["videoMessage"] and media == event.Message.ptvMessage
    else:
        assert content == event.Message


# --- Through the services, in a seller's schema ------------------------------------------------


@pytest.fixture
def account_id(shop_a: Any) -> int:
    return linked_session(shop_a, jid=SHOP, phone="+213661482937").account_id


def customer_message(name: str, account: int) -> services.Stored:
    message = parse_message(load_event(name))
    assert message is not None and not message.from_me
    return services.store_customer_message(account, message)


def receipt_applied(name: str) -> int:
    event = load_event(name)
    when = dt.datetime.fromtimestamp(event.Timestamp, tz=dt.UTC)
    return services.apply_receipt(list(event.MessageIDs), int(event.Type), when)


def test_a_text_the_sellers_answer_from_the_phone_and_its_receipts(shop_a, account_id):
    with shop_a.schema():
        stored = customer_message("message__text", account_id)
        assert stored.created and not stored.needs_media
        seller = parse_message(load_event("message__from_me"))
        assert seller is not None
        answered = services.store_seller_message(account_id, seller)
        assert answered is not None and answered.conversation_id == stored.conversation_id
        assert services.store_seller_message(account_id, seller) is None  # the same event again

        conversation = Conversation.objects.select_related("identity", "customer").get()
        assert (conversation.identity.external_id, conversation.identity.alt_id) == (AMINA, "")
        assert str(conversation.customer.phone) == "+213550918273" and conversation.customer.name == "Amina"
        # The seller answered from the phone: the bot does not talk over them.
        assert conversation.mode == Conversation.Mode.HUMAN
        rows = list(Message.objects.order_by("pk").values_list("external_id", "author", "direction", "status", "text"))
        assert rows == [
            (
                AMINA_TEXT,
                "customer",
                "in",
                "received",
                "السلام عليكم، شحال سومة هاد الصاك الكحل؟ و كاين التوصيل لوهران؟",
            ),
            (SELLER_PHONE_REPLY, "seller", "out", "sent", seller.text),
        ]

        assert receipt_applied("receipt__delivered") == 1
        assert receipt_applied("receipt__read") == 1  # the bot's answer is not in this shop's rows
        assert receipt_applied("receipt__read_self") == 0  # the seller reading Amina changes nothing
        sent = Message.objects.get(external_id=SELLER_PHONE_REPLY)
        assert (sent.status, sent.delivered_at, sent.read_at) == ("read", at(9, 46, 2), at(9, 47, 2))
        assert Message.objects.get(external_id=AMINA_TEXT).status == "received"


def test_a_lid_chat_is_the_customer_known_by_number_with_the_lid_beside(shop_a, account_id):
    with shop_a.schema():
        stored = customer_message("message__lid_sender", account_id)
        again = customer_message("message__location_place", account_id)  # the same person, later
        assert again.conversation_id == stored.conversation_id
        identity = ChannelIdentity.objects.select_related("customer").get()
        assert (identity.external_id, identity.alt_id) == (YACINE, YACINE_LID)
        assert str(identity.customer.phone) == "+213770452618" and identity.customer.name == "Yacine 🇩🇿"
        place = Message.objects.get(pk=again.message_id)
        assert (place.author, place.media_kind, place.media_type) == ("customer", "location", "")
        assert Conversation.objects.get().mode == Conversation.Mode.BOT


def test_a_voice_note_is_answered_once_its_file_is_attached(
    shop_a, account_id, monkeypatch, django_capture_on_commit_callbacks
):
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(
        "conversations.services.enqueueing.enqueue_reply",
        lambda schema, conversation_id, inbound_id, **kw: asked.append((conversation_id, inbound_id)),
    )
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            stored = customer_message("message__voice_note", account_id)
        assert stored.created and stored.needs_media  # the gateway downloads it, then attaches it
        note = Message.objects.select_related("conversation__identity").get()
        assert (note.author, note.direction, note.status) == ("customer", "in", "received")
        assert (note.media_kind, note.media_type, note.text, note.media.name) == (
            "audio", "audio/ogg; codecs=opus", "", "",
        )  # fmt: skip
        assert (note.conversation.identity.external_id, note.conversation.identity.alt_id) == (SARA, SARA_LID)
        assert asked == []  # no answer before the file (and its transcript) is there

        with django_capture_on_commit_callbacks(execute=True):
            services.media_attached(
                stored.message_id,
                content=b"OggS\x00\x02 a voice note",
                filename=f"whatsapp-{note.external_id}.ogg",
                transcript="سلام، شحال التوصيل لبليدة؟",
            )
        note.refresh_from_db()
        assert note.transcript == "سلام، شحال التوصيل لبليدة؟" and note.media.name.endswith(".ogg")
        assert note.media.read() == b"OggS\x00\x02 a voice note"
        assert asked == [(stored.conversation_id, stored.message_id)]
