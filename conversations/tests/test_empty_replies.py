"""No empty or meaningless answer is ever stored or sent, whatever made it: another engine's
empty answer is replaced by the built-in engine's; an empty built-in answer (or an empty
replacement) hands the conversation to the seller with the standard handoff message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conversations.models import Conversation, Message
from conversations.services import HANDOFF_TEXT, conversation_reply, ingest, message_send_by_bot
from conversations.tests.factories import widget_inbound
from sales.engine.base import EngineReply
from sales.engine.builtin import BuiltinEngine
from sales.engine.guardrails import is_empty_reply, is_empty_text
from sales.engine.texts import say as bot_says
from sales.tests.chat_server import ChatServer, text_turn, tool_turn
from sales.tests.test_sales_conversations import prepare

pytestmark = pytest.mark.django_db

EMPTY = ["", "   \n ", "...", " « » ", "\u200b", "؟!"]


def say(shop, capture, queued, text: str) -> Message | None:
    with capture(execute=True):
        ingest(widget_inbound(shop, text))
    conversation_id, inbound_id = queued.replies[-1]
    with capture(execute=True):
        return conversation_reply(conversation_id, inbound_id)


def bot_messages() -> list[Message]:
    return list(Message.objects.filter(author=Message.Author.BOT).order_by("pk"))


def assert_nothing_empty_stored() -> None:
    outgoing = Message.objects.filter(direction=Message.Direction.OUT).exclude(author=Message.Author.SYSTEM)
    assert outgoing.exists()
    for message in outgoing:
        assert not is_empty_text(message.text) or message.cards, f"an empty message was stored: {message.text!r}"


@pytest.mark.parametrize("text", EMPTY)
def test_what_counts_as_empty(text):
    assert is_empty_text(text)
    assert is_empty_reply(EngineReply(text=text))
    assert not is_empty_text("ok") and not is_empty_text("👍") and not is_empty_text("نعم")


def test_a_reply_with_only_a_product_card_is_not_empty():
    from conversations.content import ProductCard

    card = ProductCard(product_id=1, title="Sac", price=7600, in_stock=True)
    assert not is_empty_reply(EngineReply(text="", cards=(card,)))


@pytest.mark.parametrize("text", ["", " ... "])
def test_an_empty_builtin_answer_hands_off_with_the_standard_message(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks, text
):
    """The built-in engine (the default with no key) answers nothing: the seller takes over
    ("empty_reply") and the customer gets the handoff message in their language."""
    monkeypatch.setattr(BuiltinEngine, "reply", lambda self, context: EngineReply(text=text, engine="builtin"))
    with shop_a.schema():
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Bonjour, vous avez des sacs ?")
        assert answer is not None
        assert answer.text == HANDOFF_TEXT["fr"]
        assert answer.reply_to is not None and answer.reply_to.text == "Bonjour, vous avez des sacs ?"
        conversation = Conversation.objects.get()
        assert (conversation.mode, conversation.handoff_reason) == ("human", "empty_reply")
        assert [m.text for m in bot_messages()] == [HANDOFF_TEXT["fr"]]  # told once, nothing empty
        assert Message.objects.get(author=Message.Author.SYSTEM).note == {"kind": "handed_off", "reason": "empty_reply"}
        assert_nothing_empty_stored()


def test_another_engines_empty_answer_is_replaced_by_the_builtin_engines(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    class SilentEngine:
        name = "silent"
        shows_typing = False

        def reply(self, context):
            return EngineReply(text="  ", engine="silent", model="m-1", tokens_in=40, tokens_out=1)

    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: SilentEngine())
    with shop_a.schema():
        prepare(shop_a)
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Combien coûtent les baskets ?")
        assert answer is not None
        assert "5 900" in answer.text  # the built-in engine's answer
        assert (answer.engine, answer.engine_model, answer.tokens_in) == ("silent:empty", "m-1", 40)
        assert Conversation.objects.get().mode == Conversation.Mode.BOT
        assert_nothing_empty_stored()


def test_when_the_builtin_replacement_is_empty_too_the_seller_takes_over(
    shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    class SilentEngine:
        name = "silent"
        shows_typing = False

        def reply(self, context):
            return EngineReply(text="", engine="silent")

    monkeypatch.setattr("conversations.services.reply.engine_for_seller", lambda: SilentEngine())
    monkeypatch.setattr(BuiltinEngine, "reply", lambda self, context: EngineReply(text="…", engine="builtin"))
    with shop_a.schema():
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Salam, ch7al sabat?")
        assert answer is not None and answer.text == HANDOFF_TEXT["arabizi"]  # in the customer's language
        assert Conversation.objects.get().handoff_reason == "empty_reply"
        assert_nothing_empty_stored()


# --- The OpenRouter engine against the loopback chat server -------------------------------


@pytest.fixture
def server(settings) -> Iterator[ChatServer]:
    chat_server = ChatServer()
    settings.OPENROUTER_BASE_URL = chat_server.base_url
    settings.OPENROUTER_API_KEY = "sk-or-platform-test"
    settings.OPENROUTER_MAX_RETRIES = 0
    settings.OPENROUTER_TIMEOUT_SECONDS = 2.0
    yield chat_server
    chat_server.stop()


@pytest.mark.parametrize("content", ["", "   ", "…", " . "])
def test_an_empty_model_answer_is_replaced_by_the_builtin_engines(
    server, shop_a, queued, django_capture_on_commit_callbacks, content
):
    server.default = text_turn(content)
    with shop_a.schema():
        prepare(shop_a)
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Combien coûtent les baskets ?")
        assert server.requests  # the model was asked
        assert answer is not None and "5 900" in answer.text
        # The engine refuses the empty text itself (the router lets the built-in engine answer,
        # "openrouter:replaced"), or the reply path does ("openrouter:empty").
        assert answer.engine in ("openrouter:replaced", "openrouter:empty") or answer.engine.startswith("builtin")
        assert Conversation.objects.get().mode == Conversation.Mode.BOT
        assert_nothing_empty_stored()


def test_a_model_handing_off_without_words_tells_the_customer_in_their_language(
    server, shop_a, queued, django_capture_on_commit_callbacks
):
    server.script(tool_turn(("hand_off", {"reason": "complaint"})), text_turn(""))
    with shop_a.schema():
        prepare(shop_a)
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Votre livreur ne répond jamais, c'est nul")
        # The engine's own hand-off sentence, or the reply path's: never an empty message.
        assert answer is not None and answer.text in (HANDOFF_TEXT["fr"], bot_says("unsure_handoff", "fr"))
        assert answer.engine == "openrouter"
        conversation = Conversation.objects.get()
        assert (conversation.mode, conversation.handoff_reason) == ("human", "complaint")
        assert_nothing_empty_stored()


def test_an_empty_model_answer_and_an_empty_builtin_one_hand_off(
    server, shop_a, queued, monkeypatch, django_capture_on_commit_callbacks
):
    server.default = text_turn(" ... ")
    monkeypatch.setattr(BuiltinEngine, "reply", lambda self, context: EngineReply(text="", engine="builtin"))
    with shop_a.schema():
        prepare(shop_a)
        answer = say(shop_a, django_capture_on_commit_callbacks, queued, "Do you deliver to Oran?")
        assert answer is not None and answer.text == HANDOFF_TEXT["en"]
        assert answer.engine == "openrouter:empty" and answer.tokens_in > 0  # the model's tokens stay counted
        assert Conversation.objects.get().handoff_reason == "empty_reply"
        assert_nothing_empty_stored()


# --- The voice path ---------------------------------------------------------------------


def test_an_empty_voice_answer_hands_off_instead(shop_a, queued, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(
        "conversations.services.reply.VOICE_ASK_TEXT", dict.fromkeys(["ar", "arabizi", "fr", "en"], " ")
    )
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            ingest(widget_inbound(shop_a, ""))
        Conversation.objects.update(language="fr")
        conversation_id, inbound_id = queued.replies[-1]
        Message.objects.filter(pk=inbound_id).update(media_kind=Message.MediaKind.AUDIO)  # a voice note, no transcript
        with django_capture_on_commit_callbacks(execute=True):
            answer = conversation_reply(conversation_id, inbound_id)
        assert answer is not None and answer.text == HANDOFF_TEXT["fr"]
        assert (answer.engine, Conversation.objects.get().handoff_reason) == ("voice:empty", "empty_reply")
        assert_nothing_empty_stored()


def test_a_voice_note_gets_the_request_for_text_as_before(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            ingest(widget_inbound(shop_a, ""))
        conversation_id, inbound_id = queued.replies[-1]
        Message.objects.filter(pk=inbound_id).update(media_kind=Message.MediaKind.AUDIO)
        answer = conversation_reply(conversation_id, inbound_id)
        assert answer is not None and answer.engine == "voice" and not is_empty_text(answer.text)
        assert Conversation.objects.get().mode == Conversation.Mode.BOT


def test_the_bot_never_starts_an_empty_message(shop_a, queued, django_capture_on_commit_callbacks):
    with shop_a.schema():
        with django_capture_on_commit_callbacks(execute=True):
            ingest(widget_inbound(shop_a, "Bonjour"))
        conversation = Conversation.objects.get()
        with pytest.raises(ValueError):
            message_send_by_bot(conversation=conversation, text=" ... ")
        assert not Message.objects.filter(author=Message.Author.BOT).exists()
