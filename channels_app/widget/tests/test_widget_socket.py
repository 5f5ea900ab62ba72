"""The widget's websocket: the seller from the key, the page's origin checked, frames validated,
acknowledged only once stored, history restored, messages pushed live."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from channels_app.widget.services import widget_account_ensure, widget_settings_update
from conversations.models import Conversation, Message
from ma5zani.asgi import application
from ma5zani.testing import committed_db

pytestmark = committed_db

SHOP_SITE = "https://alpha-boutique.dz"
VISITOR = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


@pytest.fixture
def widget(drop_new_sellers, shop_a, monkeypatch):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)
    return widget_settings_update(account=widget_account_ensure(shop_a.seller), origins=[SHOP_SITE])


def communicator(key: str, visitor: str = VISITOR, origin: str = SHOP_SITE) -> WebsocketCommunicator:
    headers = [(b"host", b"localhost")]
    if origin:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, f"/ws/widget/?key={key}&visitor={visitor}", headers=headers)


def run(scenario):
    async_to_sync(scenario)()


def test_a_message_is_acknowledged_after_it_is_stored_and_history_comes_back(widget, shop_a):
    client_id = str(uuid.uuid4())

    async def scenario():
        socket = communicator(widget.external_id)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        assert await socket.receive_json_from(timeout=5) == {"type": "history", "messages": []}
        await socket.send_json_to({"type": "message", "text": "Salam, kayen size 42?", "client_id": client_id})
        ack = await socket.receive_json_from(timeout=5)
        assert ack["type"] == "ack" and ack["client_id"] == client_id and ack["duplicate"] is False
        await socket.send_json_to({"type": "message", "text": "Salam, kayen size 42?", "client_id": client_id})
        assert (await socket.receive_json_from(timeout=5))["duplicate"] is True
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
        await socket.disconnect()

        again = communicator(widget.external_id)
        await again.connect(timeout=5)
        history = await again.receive_json_from(timeout=5)
        assert [(m["text"], m["client_id"]) for m in history["messages"]] == [("Salam, kayen size 42?", client_id)]
        await again.disconnect()

    run(scenario)
    with shop_a.schema():
        assert Message.objects.filter(direction="in").count() == 1


def test_seller_and_bot_messages_reach_the_open_widget(widget, shop_a):
    from conversations.services import message_deliver, message_send_by_seller

    async def scenario():
        socket = communicator(widget.external_id)
        await socket.connect(timeout=5)
        await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "message", "text": "Bonjour", "client_id": str(uuid.uuid4())})
        await socket.receive_json_from(timeout=5)

        def seller_answers() -> int:
            with shop_a.schema():
                conversation = Conversation.objects.get()
                message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Oui ?")
                assert message_deliver(message.pk).status == "sent"
                return message.pk

        from channels.db import database_sync_to_async

        message_id = await database_sync_to_async(seller_answers)()
        pushed = await socket.receive_json_from(timeout=5)
        assert pushed["type"] == "message"
        assert (pushed["message"]["id"], pushed["message"]["author"], pushed["message"]["text"]) == (
            message_id, "seller", "Oui ?",
        )  # fmt: skip
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        (json.dumps({"type": "shout"}), "unknown_type"),
        (json.dumps({"type": "message", "text": "", "client_id": str(uuid.uuid4())}), "empty"),
        (json.dumps({"type": "message", "text": "x" * 2001, "client_id": str(uuid.uuid4())}), "too_long"),
        (json.dumps({"type": "message", "text": "hi", "client_id": "1"}), "bad_client_id"),
        (json.dumps({"type": "message", "text": "y" * 20000, "client_id": str(uuid.uuid4())}), "too_long"),
    ],
)
def test_malformed_frames_get_an_error_frame_and_store_nothing(widget, shop_a, frame, code):
    async def scenario():
        socket = communicator(widget.external_id)
        await socket.connect(timeout=5)
        await socket.receive_json_from(timeout=5)
        await socket.send_to(text_data=frame)
        error = await socket.receive_json_from(timeout=5)
        assert error["type"] == "error" and error["code"] == code
        await socket.send_json_to({"type": "ping"})  # the connection stays usable
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
        await socket.disconnect()

    run(scenario)
    with shop_a.schema():
        assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("key", "visitor", "origin", "code"),
    [
        ("wk_unknown", VISITOR, SHOP_SITE, 4404),
        ("wk_\x00", VISITOR, SHOP_SITE, 4404),
        (None, VISITOR, "https://evil.example", 4403),
        (None, "not-a-uuid", SHOP_SITE, 4400),
        (None, VISITOR + "\n", SHOP_SITE, 4400),
    ],
)
def test_refused_connections_are_accepted_then_closed_with_their_code(widget, key, visitor, origin, code):
    """A close before the accept is a refused handshake (HTTP 403): the browser sees 1006 and
    cannot tell a revoked key from a network fault. After the accept, the code reaches it."""

    async def scenario():
        socket = communicator(quote(key or widget.external_id), visitor=quote(visitor), origin=origin)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": code}
        assert await socket.receive_nothing()  # no history, nothing else

    run(scenario)


def test_a_key_of_seller_a_reads_nothing_of_seller_b(widget, shop_a, shop_b):
    from channels_app.widget.services import widget_account_ensure as ensure
    from conversations.services import ingest
    from conversations.tests.factories import widget_inbound

    with shop_b.schema():
        ingest(widget_inbound(shop_b, "Secret de Bravo", visitor=VISITOR))
    assert ensure(shop_b.seller).pk != widget.pk

    async def scenario():
        socket = communicator(widget.external_id)
        await socket.connect(timeout=5)
        assert (await socket.receive_json_from(timeout=5))["messages"] == []
        await socket.disconnect()

    run(scenario)


def test_rate_limits_per_visitor(widget, shop_a, settings):
    settings.WIDGET_RATE_LIMIT_VISITOR = "2/minute"

    async def scenario():
        socket = communicator(widget.external_id)
        await socket.connect(timeout=5)
        await socket.receive_json_from(timeout=5)
        kinds = []
        for n in range(4):
            await socket.send_json_to({"type": "message", "text": f"m{n}", "client_id": str(uuid.uuid4())})
            reply = await socket.receive_json_from(timeout=5)
            kinds.append(reply.get("code") or reply["type"])
        assert kinds == ["ack", "ack", "rate_limited", "rate_limited"]
        await socket.disconnect()

    run(scenario)
    with shop_a.schema():
        assert Message.objects.count() == 2


@pytest.mark.parametrize("change", ["regenerate_key", "remove_origin"])
def test_an_open_socket_ends_when_its_key_is_regenerated_or_its_site_removed(widget, shop_a, change):
    from channels_app.selectors import channel_accounts_forget

    async def scenario():
        socket = communicator(widget.external_id)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        await socket.receive_json_from(timeout=5)

        def update():
            if change == "regenerate_key":
                widget_settings_update(account=widget, origins=[SHOP_SITE], regenerate_key=True)
            else:
                widget_settings_update(account=widget, origins=["https://another-site.dz"])
            channel_accounts_forget()  # what a few seconds do in every process

        from channels.db import database_sync_to_async

        await database_sync_to_async(update)()
        await socket.send_json_to({"type": "message", "text": "Salam", "client_id": str(uuid.uuid4())})
        closed = await socket.receive_output(timeout=5)
        assert closed["type"] == "websocket.close"
        assert closed["code"] == (4404 if change == "regenerate_key" else 4403)

    run(scenario)
    with shop_a.schema():
        assert Message.objects.count() == 0
