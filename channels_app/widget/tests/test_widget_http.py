"""The widget's HTTP fallback: post a message, read messages after an id."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from channels_app.widget.services import widget_account_ensure, widget_settings_update
from conversations.models import Message

pytestmark = pytest.mark.django_db

SHOP_SITE = "https://alpha-boutique.dz"
VISITOR = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def widget(shop_a, monkeypatch):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    account = widget_account_ensure(shop_a.seller)
    return widget_settings_update(account=account, origins=[SHOP_SITE])


def post(key, text="Salam", client_id=None, origin=SHOP_SITE, visitor=VISITOR):
    client = Client(HTTP_HOST="localhost", HTTP_ORIGIN=origin) if origin else Client(HTTP_HOST="localhost")
    body = {"key": key, "visitor": visitor, "client_id": client_id or str(uuid.uuid4()), "text": text}
    return client.post(f"/widget/v1/messages?key={key}", body, content_type="application/json")


def test_post_then_read_with_cors_for_the_allowed_site(shop_a, widget):
    client_id = str(uuid.uuid4())
    response = post(widget.external_id, "Bonjour, vous livrez à Sétif ?", client_id)
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SHOP_SITE
    assert response.json()["duplicate"] is False
    again = post(widget.external_id, "Bonjour, vous livrez à Sétif ?", client_id)
    assert again.status_code == 200 and again.json() == {"id": response.json()["id"], "duplicate": True}
    with shop_a.schema():
        assert Message.objects.filter(text__startswith="Bonjour").count() == 1

    reader = Client(HTTP_HOST="localhost", HTTP_ORIGIN=SHOP_SITE)
    history = reader.get("/widget/v1/messages", {"key": widget.external_id, "visitor": VISITOR, "after": 0}).json()
    assert [m["text"] for m in history["messages"]] == ["Bonjour, vous livrez à Sétif ?"]
    assert history["messages"][0]["client_id"] == client_id
    after = reader.get(
        "/widget/v1/messages", {"key": widget.external_id, "visitor": VISITOR, "after": history["messages"][0]["id"]}
    ).json()
    assert after == {"messages": []}


def test_preflight_is_answered_for_the_allowed_site_only(widget):
    allowed = Client(HTTP_HOST="localhost", HTTP_ORIGIN=SHOP_SITE).options(
        f"/widget/v1/messages?key={widget.external_id}"
    )
    assert allowed.status_code == 204 and allowed["Access-Control-Allow-Origin"] == SHOP_SITE
    foreign = Client(HTTP_HOST="localhost", HTTP_ORIGIN="https://evil.example").options(
        f"/widget/v1/messages?key={widget.external_id}"
    )
    assert "Access-Control-Allow-Origin" not in foreign


def test_a_foreign_origin_and_an_unknown_key_are_refused(shop_a, widget):
    assert post(widget.external_id, origin="https://evil.example").status_code == 403
    assert post("wk_doesnotexist").status_code == 404
    with shop_a.schema():
        assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("key", "origin", "status", "code"),
    [("wk_revoked", SHOP_SITE, 404, "unknown_key"), (None, "https://evil.example", 403, "forbidden_origin")],
)
def test_the_final_refusals_are_readable_by_the_page_so_the_widget_stops(widget, key, origin, status, code):
    """A poll from a page reads these answers only with CORS: without it the browser reports a
    network error, and the widget would poll forever. They hold no data."""
    reader = Client(HTTP_HOST="localhost", HTTP_ORIGIN=origin)
    response = reader.get("/widget/v1/messages", {"key": key or widget.external_id, "visitor": VISITOR})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Methods" not in response  # no preflight is answered for it


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "empty"),
        ({"text": "x" * 2001}, "too_long"),
        ({"text": 42}, "empty"),
        ({"client_id": "not-a-uuid"}, "bad_client_id"),
        ({"visitor": "../../etc"}, "bad_visitor"),
    ],
)
def test_malformed_bodies_get_a_reason_and_store_nothing(shop_a, widget, body, code):
    payload = {"key": widget.external_id, "visitor": VISITOR, "client_id": str(uuid.uuid4()), "text": "ok", **body}
    client = Client(HTTP_HOST="localhost", HTTP_ORIGIN=SHOP_SITE)
    response = client.post(f"/widget/v1/messages?key={widget.external_id}", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    with shop_a.schema():
        assert Message.objects.count() == 0


def test_visitors_are_rate_limited(shop_a, widget, settings):
    settings.WIDGET_RATE_LIMIT_VISITOR = "3/minute"
    statuses = [post(widget.external_id, f"message {n}").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    with shop_a.schema():
        assert Message.objects.count() == 3


def test_a_key_of_seller_a_cannot_write_into_or_read_from_seller_b(shop_a, shop_b, widget):
    account_b = widget_settings_update(account=widget_account_ensure(shop_b.seller), origins=[SHOP_SITE])
    post(account_b.external_id, "Secret de Bravo")  # the same visitor id, on B's widget
    post(widget.external_id, "Pour Alpha")
    read_a = Client(HTTP_HOST="localhost").get("/widget/v1/messages", {"key": widget.external_id, "visitor": VISITOR})
    assert [m["text"] for m in read_a.json()["messages"]] == ["Pour Alpha"]
    with shop_b.schema():
        assert list(Message.objects.values_list("text", flat=True)) == ["Secret de Bravo"]
    with shop_a.schema():
        assert list(Message.objects.values_list("text", flat=True)) == ["Pour Alpha"]


def test_the_widget_api_is_in_the_public_openapi_schema():
    document = Client(HTTP_HOST="localhost").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = document["paths"]["/widget/v1/messages"]
    assert {"get", "post"} <= set(operations)
    assert "/ws/widget/" in document["info"]["description"]  # the websocket is documented too
    assert Client(HTTP_HOST="localhost").get("/api/docs/").status_code == 200
