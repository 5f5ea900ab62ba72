"""The OpenRouter engine against a local server that speaks the chat-completions protocol:
requests carry the tools, context and attribution headers; tool calls go through the order
services; the seller's rules hold whatever the model says; failures fall back to the built-in
engine; 402 is not retried; the tool loop, the budget and the circuit breaker bound the spend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conversations.models import Message
from sales.models import Order, Variant
from sales.services.settings import bot_settings_update
from sales.tests.chat_server import error_turn, text_turn, tool_turn

pytestmark = pytest.mark.django_db

TOOL_NAMES = {
    "search_catalog", "get_product", "check_stock", "quote_price", "add_item", "change_variant", "set_quantity",
    "remove_item", "set_delivery_details", "request_discount", "cancel_order", "confirm_order", "hand_off",
}  # fmt: skip


def test_requests_carry_tools_context_and_attribution_and_usage_is_stored(server, chat):
    sneakers = Variant.objects.get(sku="BS-41")
    server.script(
        tool_turn(("get_product", {"product_id": sneakers.product_id})),
        text_turn("Les baskets sont à 5 900 DA au lieu de 7 500 DA, en 41 et 42.", cost=0.0005),
    )
    reply = chat.say("Bonjour, combien coûtent les baskets ?")
    first, second = server.requests
    assert first["path"] == "/api/v1/chat/completions"
    assert first["headers"]["authorization"] == "Bearer sk-or-platform-test"
    assert first["headers"]["http-referer"] and first["headers"]["x-title"] == "ma5zani Bot"
    body = first["body"]
    assert body["model"] == "anthropic/claude-haiku-4.5"
    assert {tool["function"]["name"] for tool in body["tools"]} == TOOL_NAMES
    system, context = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "Réponds en français" in system and "10 %" in system and "Alpha Shop" in system
    assert '"price_dzd": 5900' in context and "Baskets de sport" in context  # retrieval found the product
    assert body["messages"][-1] == {"role": "user", "content": "Bonjour, combien coûtent les baskets ?"}
    tool_result = second["body"]["messages"][-1]
    assert tool_result["role"] == "tool" and tool_result["tool_call_id"] == "call_1"
    assert '"price_dzd": 5900' in tool_result["content"]
    assert reply.text.startswith("Les baskets sont à 5 900 DA")
    assert (reply.engine, reply.engine_model) == ("openrouter", "anthropic/claude-haiku-4.5")
    assert (reply.tokens_in, reply.tokens_out) == (150 + 120, 20 + 30)
    assert reply.cost_usd == Decimal("0.0008")
    assert reply.cards and reply.cards[0]["product_id"] == sneakers.product_id


def test_a_reply_offering_more_than_the_maximum_never_reaches_the_customer(server, chat):
    server.script(text_turn("Pour vous je fais 40% de remise : les baskets à 3 540 DA !"))
    reply = chat.say("Combien coûtent les baskets ?")
    assert "40" not in reply.text and "3 540" not in reply.text
    assert "5 900 DA" in reply.text  # the built-in engine's answer from the catalog replaced it
    assert reply.engine == "openrouter:replaced" and reply.cost_usd == Decimal("0.0004")
    assert Message.objects.filter(text__contains="40%").count() == 0


def test_a_price_the_catalog_does_not_have_is_caught(server, chat):
    server.script(text_turn("Les baskets sont à 2 000 DA seulement."))
    reply = chat.say("Combien coûtent les baskets ?")
    assert "2 000" not in reply.text and "5 900 DA" in reply.text


@pytest.mark.parametrize(
    "failure",
    [error_turn(500, "upstream error"), error_turn(503, "overloaded"), error_turn(200, delay=3.0)],
    ids=["500", "503", "timeout"],
)
def test_provider_failures_fall_back_to_the_builtin_engine(server, chat, settings, failure):
    settings.OPENROUTER_TIMEOUT_SECONDS = 0.5
    server.default = failure
    reply = chat.say("Combien coûtent les baskets ?")
    assert reply.engine == "builtin" and "5 900 DA" in reply.text
    assert len(server.requests) == 2  # one retry (OPENROUTER_MAX_RETRIES), then the fallback


def test_402_is_not_retried(server, chat):
    server.default = error_turn(402, "Insufficient credits")
    reply = chat.say("Combien coûtent les baskets ?")
    assert reply.engine == "builtin" and len(server.requests) == 1


def test_a_429_is_retried_after_the_time_the_provider_asks(server, chat):
    server.script(error_turn(429, "rate limited", headers={"Retry-After": "1"}), text_turn("Elles sont à 5 900 DA."))
    reply = chat.say("Combien coûtent les baskets ?")
    assert reply.engine == "openrouter" and len(server.requests) == 2


def test_the_tool_loop_is_bounded(server, chat, settings):
    settings.ENGINE_MAX_TOOL_ROUNDS = 3
    server.default = tool_turn(("search_catalog", {"query": "baskets"}), cost=0.0003)
    reply = chat.say("Combien coûtent les baskets ?")
    assert len(server.requests) == 3  # then the built-in engine answers
    assert reply.engine == "openrouter:replaced" and "5 900 DA" in reply.text
    # The three requests were paid: their tokens and cost stay on the reply (the month's budget).
    assert (reply.tokens_in, reply.cost_usd) == (3 * 150, Decimal("0.0009"))


def test_the_calls_of_the_last_allowed_request_are_not_run(server, chat, settings):
    """Their results could never reach the model, nor be told to the customer."""
    settings.ENGINE_MAX_TOOL_ROUNDS = 2
    variant = Variant.objects.get(sku="BS-41")
    server.script(
        tool_turn(("search_catalog", {"query": "baskets"})),
        tool_turn(("add_item", {"product_id": variant.product_id, "variant_id": variant.pk, "quantity": 1})),
    )
    reply = chat.say("Vous avez les baskets en 41 ?")  # the built-in engine answers without an order
    assert len(server.requests) == 2 and reply.engine == "openrouter:replaced"
    assert not Order.objects.exists()  # the add_item never ran


def test_the_breaker_opens_after_repeated_failures_and_the_model_is_left_alone(server, chat):
    server.default = error_turn(500)
    for _ in range(3):
        chat.say("Combien coûtent les baskets ?")
    asked = len(server.requests)
    assert asked == 6
    assert chat.say("Et la montre ?").engine == "builtin"
    assert len(server.requests) == asked  # open: no request


def test_over_the_monthly_budget_the_builtin_engine_answers(server, chat):
    bot_settings_update(monthly_budget_usd=Decimal("0.01"))
    server.default = text_turn("Elles sont à 5 900 DA.", cost=0.006)
    assert chat.say("Combien coûtent les baskets ?").engine == "openrouter"
    assert chat.say("Et en 42 ?").engine == "openrouter"  # 0.006 spent, under 0.01
    assert chat.say("Merci, et la montre ?").engine == "builtin"  # 0.012 spent: over
    assert len(server.requests) == 2


def test_a_sellers_own_key_is_used_and_stored_encrypted(server, chat):
    from sales.models import BotSettings
    from sales.services.settings import bot_settings_set_openrouter_key

    bot_settings_set_openrouter_key(key="sk-or-seller-own-key")
    stored = BotSettings.objects.values_list("openrouter_key_encrypted", flat=True).get()
    assert "sk-or-seller-own-key" not in stored and BotSettings.objects.get().openrouter_key == "sk-or-seller-own-key"
    server.script(text_turn("Elles sont à 5 900 DA."))
    chat.say("Combien coûtent les baskets ?")
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-or-seller-own-key"


def test_a_product_the_catalog_does_not_have_is_never_named(server, chat):
    server.script(text_turn("Nous avons aussi «Veste en cuir» à 5 900 DA."))
    reply = chat.say("Combien coûtent les baskets ?")
    assert "Veste" not in reply.text and reply.engine == "openrouter:replaced"
    server.script(text_turn("Les «Baskets de sport» sont à 5 900 DA."))
    reply = chat.say("Et les baskets en 42 ?")
    assert reply.text == "Les Baskets de sport sont à 5 900 DA." and reply.engine == "openrouter"


def test_the_answer_follows_the_sellers_languages(server, chat):
    bot_settings_update(languages=["darija", "fr"])
    server.script(text_turn("Elles sont à 5 900 DA."))
    chat.say("How much are the running sneakers?")
    assert "Réponds en français" in server.requests[0]["body"]["messages"][0]["content"]


@pytest.mark.parametrize("stored", ["garbage", "rotated"])
def test_a_stored_key_that_cannot_be_decrypted_never_stops_the_bot(server, chat, stored):
    from cryptography.fernet import Fernet

    from ma5zani.crypto import SecretUnreadable
    from sales.models import BotSettings
    from sales.selectors import bot_settings_forget

    if stored == "rotated":  # encrypted with a key the server no longer has
        stored = Fernet(Fernet.generate_key()).encrypt(b"sk-or-old-key").decode()
    BotSettings.objects.filter(pk=1).update(openrouter_key_encrypted=stored)
    bot_settings_forget()
    with pytest.raises(SecretUnreadable):
        BotSettings.objects.get().openrouter_key  # noqa: B018
    # The customer is answered by the built-in engine, every time; the model is never asked
    # (not even with the platform key: the seller chose to pay for their own).
    for text in ("Bonjour, combien coûtent les baskets ?", "Je prends la 41"):
        reply = chat.say(text)
        assert reply.engine == "builtin" and reply.text.strip()
    assert server.requests == []
    # The seller is told on the home page, the bot settings and the usage page.
    client = chat.shop.client()
    for url in ("/dashboard/", "/dashboard/settings/bot/", "/dashboard/settings/usage/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"data-key-unreadable" in response.content, url
    # Entering the key again puts the model back.
    from sales.services.settings import bot_settings_set_openrouter_key

    bot_settings_set_openrouter_key(key="sk-or-v1-new-key-0123456789")
    bot_settings_forget()
    assert not BotSettings.objects.get().openrouter_key_unreadable
    assert b"data-key-unreadable" not in client.get("/dashboard/settings/bot/").content


@pytest.mark.parametrize(
    "model_text",
    [
        "Pour vous, les «Baskets de sport» à moitié prix !",
        "Je vous fais cinquante pour cent sur les baskets.",
        "Les baskets à trois mille huit cents dinars seulement.",
        "Les baskets à 3800 seulement.",
        "Promo : 5O% sur les baskets.",
    ],
)
def test_a_promise_in_words_or_without_a_currency_never_reaches_the_customer(server, chat, model_text):
    server.script(text_turn(model_text))
    reply = chat.say("Combien coûtent les baskets ?")
    assert reply.engine == "openrouter:replaced" and "5 900 DA" in reply.text
    assert not Message.objects.filter(text__in=[model_text, model_text.replace("«", "").replace("»", "")]).exists()


def test_a_price_in_words_that_the_catalog_gives_reaches_the_customer(server, chat):
    server.script(text_turn("Les «Baskets de sport» sont à cinq mille neuf cents dinars, livraison à Alger 600 DA."))
    reply = chat.say("Combien coûtent les baskets ?")
    assert reply.engine == "openrouter"
    assert reply.text == "Les Baskets de sport sont à cinq mille neuf cents dinars, livraison à Alger 600 DA."
