"""The conversation's language as ingest keeps it, message by message: a new language needs a
sentence, not a loan word; Standard Arabic is told from Darija; what the bot says without the
engine (voice notes, a hand-off) follows the form and the seller's languages."""

from __future__ import annotations

import dataclasses

import pytest

from conversations.models import Conversation, Message
from conversations.services import conversation_hand_off, conversation_reply, ingest, ingest_many
from conversations.tests.factories import widget_inbound
from sales.services.settings import bot_settings_update

pytestmark = pytest.mark.django_db

SEQUENCES = {
    "arabizi_keeps_loans": [
        ("salam khoya, ch7al had sabat?", "arabizi"),
        ("ok merci", "arabizi"),
        ("c bon, livraison l wahran", "arabizi"),
        ("Karim Benali", "arabizi"),
        ("Bonjour, je voudrais savoir si vous livrez aussi à Constantine", "fr"),
    ],
    "french_keeps_a_darija_word": [
        ("Bonjour, c'est combien la montre ?", "fr"),
        ("sahit", "fr"),
        ("0550 12 34 56", "fr"),
        ("wach kayen la couleur noire? bghit nchri zouj", "arabizi"),
    ],
    "standard_arabic": [
        ("هل يوجد مقاس 42؟", "msa"),
        ("شحال السعر", "msa"),  # one Darija word
        ("السعر من فضلك", "msa"),
        ("واش كاين الأبيض؟ راني حاب نشري زوج", "ar"),  # a Darija sentence
        ("أريد أن أطلب، هل يمكنكم التوصيل إلى وهران؟", "msa"),
    ],
    "darija_with_shared_words": [
        ("السلام عليكم", "ar"),  # no marker: Darija in Arabic script
        ("شكرا جزيلا", "ar"),
        ("هل كاين 42؟", "ar"),  # a tie keeps the form
        ("ok", "ar"),
    ],
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_the_stored_language_changes_only_on_clear_evidence(shop_a, queued, django_capture_on_commit_callbacks, name):
    visitor = "00000000-0000-4000-8000-00000000a001"
    with shop_a.schema():
        stored = []
        for text, _ in SEQUENCES[name]:
            with django_capture_on_commit_callbacks(execute=True):
                result = ingest(widget_inbound(shop_a, text, visitor=visitor))
            stored.append(Conversation.objects.get(pk=result.conversation_id).language)
    assert stored == [form for _, form in SEQUENCES[name]]


def test_a_batch_follows_the_same_rules(shop_a, queued, django_capture_on_commit_callbacks):
    visitor = "00000000-0000-4000-8000-00000000a002"
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(widget_inbound(shop_a, "salam, ch7al had sabat?", visitor=visitor))
        with django_capture_on_commit_callbacks(execute=True):
            ingest_many([widget_inbound(shop_a, "ok merci", visitor=visitor)])
        assert Conversation.objects.get(pk=first.conversation_id).language == "arabizi"
        with django_capture_on_commit_callbacks(execute=True):
            ingest_many([widget_inbound(shop_a, "هل يوجد توصيل إلى وهران؟", visitor=visitor)])
        assert Conversation.objects.get(pk=first.conversation_id).language == "msa"


def test_a_standard_arabic_customer_handed_off_is_told_in_standard_arabic(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "أريد التحدث مع موظف من فضلك"))
        conversation = Conversation.objects.get(pk=result.conversation_id)
        assert conversation.language == "msa" and conversation.mode == Conversation.Mode.HUMAN
        told = Message.objects.get(author=Message.Author.BOT)
        assert "سأحولك إلى أحد موظفي المتجر" in told.text


def test_a_darija_only_seller_tells_a_standard_arabic_customer_in_darija(
    shop_a, queued, django_capture_on_commit_callbacks
):
    with shop_a.schema():
        bot_settings_update(languages=["darija", "fr"])
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(widget_inbound(shop_a, "هل يوجد مقاس 42؟"))
            conversation = Conversation.objects.get(pk=result.conversation_id)
            conversation_hand_off(conversation=conversation, reason="test", tell_customer=True)
        told = Message.objects.get(author=Message.Author.BOT)
        assert "راني نحولك" in told.text


def test_a_voice_note_of_a_standard_arabic_customer_gets_the_request_for_text_in_standard_arabic(
    shop_a, queued, django_capture_on_commit_callbacks
):
    from channels_app.base import InboundMedia

    visitor = "00000000-0000-4000-8000-00000000a003"
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(widget_inbound(shop_a, "هل يوجد توصيل إلى وهران؟", visitor=visitor))
        with django_capture_on_commit_callbacks(execute=True):
            assert conversation_reply(first.conversation_id, first.message_id) is not None
        voice = dataclasses.replace(
            widget_inbound(shop_a, "", visitor=visitor),
            media=(InboundMedia(kind="audio", mime_type="audio/ogg", filename="n.ogg", content=b"OggS"),),
        )
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(voice)
        with django_capture_on_commit_callbacks(execute=True):
            reply = conversation_reply(result.conversation_id, result.message_id)
    assert reply is not None and reply.engine == "voice"
    assert reply.text.startswith("عذرًا، لا يمكنني الاستماع إلى الرسائل الصوتية")
