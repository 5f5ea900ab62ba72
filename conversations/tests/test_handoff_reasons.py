"""Why a conversation went to the seller: kept after a hand-back, and shown in words in the
viewer's language on the inbox list, the thread (its system notes too) and the customer page."""

from __future__ import annotations

import pytest
from django.utils import translation

from conversations.models import Conversation, Message
from conversations.reasons import HANDOFF_REASONS, handoff_reason_label, note_text
from conversations.services import conversation_hand_back, conversation_hand_off, ingest
from conversations.tests.factories import widget_inbound

pytestmark = pytest.mark.django_db

# What a seller reads for "customer_asked" and for a code nobody listed.
WORDS = {
    "en": {"reason": "The customer asked for a person", "handed": "Handed to the seller", "other": "Other"},
    "fr": {"reason": "Le client a demandé à parler à quelqu'un", "handed": "Transférée au vendeur", "other": "Autre"},
    "ar": {"reason": "طلب الزبون التحدث إلى شخص", "handed": "حُوّلت إلى البائع", "other": "سبب آخر"},
}


@pytest.fixture
def handed(shop_a, monkeypatch, django_capture_on_commit_callbacks) -> int:
    """A conversation the customer asked a person for."""
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        result = ingest(widget_inbound(shop_a, "Je veux parler à un conseiller"))
    return result.conversation_id


def page_in(shop, language: str, path: str) -> str:
    client = shop.client()
    client.cookies["ma5zani_language"] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_the_reason_is_shown_in_words_in_the_viewers_language(shop_a, handed, language):
    words = WORDS[language]
    thread = page_in(shop_a, language, f"/dashboard/conversations/{handed}/")
    assert words["reason"] in thread  # the banner
    assert f"{words['handed']} : {words['reason']}" in thread or f"{words['handed']}: {words['reason']}" in thread
    assert "customer_asked</" not in thread and ": customer_asked" not in thread  # never the raw code
    listing = page_in(shop_a, language, "/dashboard/conversations/")
    assert words["reason"] in listing
    with shop_a.schema():
        customer_id = Conversation.objects.get(pk=handed).customer_id
    assert words["reason"] in page_in(shop_a, language, f"/dashboard/customers/{customer_id}/")


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_the_system_note_is_rendered_when_read_not_when_written(shop_a, handed, language):
    """The note keeps codes: the JSON of the thread (what the live page appends) gives it in
    the language of whoever reads it."""
    client = shop_a.client()
    client.cookies["ma5zani_language"] = language
    data = client.get(f"/dashboard/conversations/{handed}/messages/?after=0").json()
    notes = [m["text"] for m in data["messages"] if m["author"] == "system"]
    assert len(notes) == 1 and WORDS[language]["reason"] in notes[0] and WORDS[language]["handed"] in notes[0]


def test_the_reason_is_kept_after_the_hand_back(shop_a, handed):
    with shop_a.schema():
        conversation = Conversation.objects.get(pk=handed)
        conversation_hand_back(conversation=conversation)
        conversation.refresh_from_db()
        assert (conversation.mode, conversation.handoff_reason) == ("bot", "customer_asked")
        notes = list(Message.objects.filter(author=Message.Author.SYSTEM).order_by("pk").values_list("note", flat=True))
        assert notes == [{"kind": "handed_off", "reason": "customer_asked"}, {"kind": "handed_back"}]
    thread = page_in(shop_a, "fr", f"/dashboard/conversations/{handed}/")
    assert "Dernier transfert" in thread and WORDS["fr"]["reason"] in thread
    assert "Le bot répond de nouveau." in thread
    # The next handoff replaces it.
    with shop_a.schema():
        conversation_hand_off(conversation=Conversation.objects.get(pk=handed), reason="complaint")
        assert Conversation.objects.get(pk=handed).handoff_reason == "complaint"


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_an_unknown_code_reads_as_other(shop_a, handed, language):
    with shop_a.schema():
        Conversation.objects.filter(pk=handed).update(handoff_reason="the model's own words")
    thread = page_in(shop_a, language, f"/dashboard/conversations/{handed}/")
    assert WORDS[language]["other"] in thread and "the model's own words" not in thread
    with translation.override(language):
        assert handoff_reason_label("the model's own words") == WORDS[language]["other"]


def test_every_code_has_words_in_french_and_arabic():
    for code in (
        "customer_asked", "unsure", "seller_took_over", "engine", "complaint", "empty_reply", "after_hours",
        "repeated_question", "guardrail", "seller_replied", "seller_replied_from_phone",
    ):  # fmt: skip
        assert code in HANDOFF_REASONS
        english = str(HANDOFF_REASONS[code])
        for language in ("fr", "ar"):
            with translation.override(language):
                assert handoff_reason_label(code) != english, (code, language)
    with translation.override("ar"):
        assert note_text({"kind": "handed_back"}) != "The bot answers again."
