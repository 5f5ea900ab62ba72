"""Buttons and quick replies reach the engine as structured choices: "Commander" on a product
card starts the order of that product, "talk to a person" hands the conversation over."""

from __future__ import annotations

import copy

import pytest

from channels_app.meta.tests.conftest import PAGE_A, fixture, link
from conversations.models import Conversation, Message
from conversations.services import conversation_reply
from ma5zani.testing import wait_for
from sales.models import DialogueState, Product
from sales.services.orders import order_open_for
from sales.tests.test_sales_conversations import prepare

pytestmark = pytest.mark.django_db


def postback(payload: str, title: str, mid: str) -> dict:
    body = copy.deepcopy(fixture("messenger/postback__get_started"))
    event = body["entry"][0]["messaging"][0]
    event["postback"] = {"mid": mid, "title": title, "payload": payload}
    return body


@pytest.fixture
def catalog(shop_a):
    link(shop_a, "messenger", PAGE_A)
    with shop_a.schema():
        prepare(shop_a)
        return list(Product.objects.live().order_by("pk"))


def answer(shop, queued, capture) -> Message | None:
    conversation_id, inbound_id = queued.replies[-1]
    with shop.schema(), capture(execute=True):
        return conversation_reply(conversation_id, inbound_id)


def test_order_on_a_product_card_starts_the_order_of_that_product(
    webhook, graph, catalog, shop_a, queued, follow_ups, django_capture_on_commit_callbacks
):
    product = catalog[-1]  # not the first: the choice decides, not a guess
    assert webhook.post(postback(f"ORDER:{product.pk}", "Commander", "m_pb_order_1")).status_code == 200
    with shop_a.schema():
        stored = Message.objects.get(external_id="m_pb_order_1")
        assert stored.text == "Commander"
        assert stored.extra["choice"] == {"kind": "order", "product_id": product.pk, "variant": "", "value": ""}
    reply = answer(shop_a, queued, django_capture_on_commit_callbacks)
    assert reply is not None
    assert reply.pk in queued.deliveries  # sent by a delivery worker, not on the replying thread
    with shop_a.schema():
        # The product under discussion is the card's, and the order, once started, holds only it.
        assert DialogueState.objects.get(conversation_id=stored.conversation_id).product_id == product.pk
        order = order_open_for(stored.conversation_id)
        assert order is not None
        assert {item.variant.product_id for item in order.items.select_related("variant") if item.variant} <= {
            product.pk
        }


def test_details_on_a_card_answers_about_that_product(
    webhook, graph, catalog, shop_a, queued, follow_ups, django_capture_on_commit_callbacks
):
    product = catalog[1]
    webhook.post(postback(f"DETAILS:{product.pk}", "Détails", "m_pb_details_1"))
    reply = answer(shop_a, queued, django_capture_on_commit_callbacks)
    assert reply is not None
    price = f"{product.price:,}".replace(",", " ")
    assert price in reply.text or str(product.price) in reply.text


def test_the_menus_talk_to_a_person_hands_the_conversation_over(webhook, catalog, shop_a, queued, follow_ups):
    webhook.post(postback("PERSON", "Parler à quelqu'un", "m_pb_person_1"))
    with shop_a.schema():
        conversation = Conversation.objects.get()
        assert (conversation.mode, conversation.handoff_reason) == ("human", "customer_asked")
    assert queued.replies == []


def test_the_bots_first_message_says_it_is_automated_and_only_the_first(
    webhook, graph, catalog, shop_a, queued, follow_ups, django_capture_on_commit_callbacks
):
    body = fixture("messenger/message__text")
    webhook.post(body)
    first = answer(shop_a, queued, django_capture_on_commit_callbacks)
    assert first is not None and first.text.startswith("🤖 ")

    def actions() -> list[str]:
        return [call.body.get("sender_action") for call in graph.calls_to("me/messages") if call.body]

    wait_for(lambda: "mark_seen" in actions(), 10, message="the customer's message marked seen")
    again = copy.deepcopy(body)
    again["entry"][0]["messaging"][0]["message"]["mid"] = "m_second_question"
    again["entry"][0]["messaging"][0]["timestamp"] += 60_000
    webhook.post(again)
    second = answer(shop_a, queued, django_capture_on_commit_callbacks)
    assert second is not None and "🤖" not in second.text
