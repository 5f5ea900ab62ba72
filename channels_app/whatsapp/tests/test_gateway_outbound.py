"""Sending on WhatsApp through the gateway, and the session's lifecycle: what is sent (once),
what waits, what fails visibly, and the state the seller sees."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount, WhatsAppSession
from channels_app.whatsapp.testing import FakeSessionClient, message_event
from channels_app.whatsapp.tests.conftest import CUSTOMER, linked_session
from conversations.models import Conversation, DeliveryAttempt, Message
from conversations.services import message_deliver, message_send_by_seller
from ma5zani.testing import committed_db, wait_for

pytestmark = committed_db
State = WhatsAppSession.State


@pytest.fixture(autouse=True)
def _no_celery(monkeypatch: Any) -> None:
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_replies", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)


def conversation_with_customer(gw: Any, session: WhatsAppSession, shop: Any) -> Conversation:
    gw.event(session, message_event(chat=CUSTOMER, text="salam, 3andkom la robe?", message_id="3AIN1"))
    with shop.schema():
        return Conversation.objects.get()


def queue_text(shop: Any, conversation: Conversation, text: str) -> Message:
    """A reply queued and handed to delivery, as the reply task does."""
    with shop.schema():
        message = message_send_by_seller(conversation=conversation, member_id=shop.owner.pk, text=text)
        outcome = message_deliver(message.pk)
        assert outcome.status == "handed"  # the gateway sends it
        return message


def status_of(shop: Any, message: Message) -> Message:
    with shop.schema():
        return Message.objects.get(pk=message.pk)


def wait_status(shop: Any, message: Message, status: str, timeout: float = 20) -> Message:
    wait_for(lambda: status_of(shop, message).status == status, timeout, message=f"the message to be {status}")
    return status_of(shop, message)


def wait_row(session: WhatsAppSession, field: str, timeout: float = 15) -> WhatsAppSession:
    wait_for(lambda: getattr(session_row(session), field), timeout, message=f"the session's {field}")
    return session_row(session)


def session_row(session: WhatsAppSession) -> WhatsAppSession:
    with schema_context(get_public_schema_name()):
        return WhatsAppSession.objects.select_related("account").get(pk=session.pk)


def test_a_reply_is_marked_read_typed_and_sent_once(run_gateway, shop_a):
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    conversation = conversation_with_customer(gw, session, shop_a)
    message = queue_text(shop_a, conversation, "Ahlan! Oui, 3500 DA.")
    with shop_a.schema():
        assert message_deliver(message.pk).status == "handed"  # a repeated task hands nothing new

    sent = wait_status(shop_a, message, "sent")
    assert client.sent == [(CUSTOMER, "Ahlan! Oui, 3500 DA.")]
    assert client.read == [(CUSTOMER, ["3AIN1"])]  # the customer's message was marked read first
    assert client.typing_calls == [(CUSTOMER, True)]
    assert (sent.external_id or "").startswith("3EB0") and sent.sent_at is not None
    with shop_a.schema():
        assert list(DeliveryAttempt.objects.filter(message=message).values_list("number", "succeeded")) == [(1, True)]
        assert Message.objects.get(external_id="3AIN1").read_at is not None
    time.sleep(0.5)
    assert len(client.sent) == 1
    assert gw.gateway.metrics.messages_out == 1


def test_a_send_failing_twice_then_succeeding_is_sent_once(run_gateway, shop_a):
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    client.fail_sends = 2
    conversation = conversation_with_customer(gw, session, shop_a)
    message = queue_text(shop_a, conversation, "Livraison 48h")
    wait_for(lambda: status_of(shop_a, message).status == "sent", 20, message="the send after two failures")
    assert client.sent == [(CUSTOMER, "Livraison 48h")]
    with shop_a.schema():
        attempts = list(DeliveryAttempt.objects.filter(message=message).values_list("number", "succeeded", "error"))
    assert [(n, ok) for n, ok, _error in attempts] == [(1, False), (2, False), (3, True)]
    assert "479" in attempts[0][2]


def test_a_send_failing_always_ends_failed_with_the_error_visible(run_gateway, shop_a, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    client.fail_sends = 100
    conversation = conversation_with_customer(gw, session, shop_a)
    message = queue_text(shop_a, conversation, "Livraison 48h")
    failed = wait_status(shop_a, message, "failed")
    assert "479" in failed.error and client.sent == []
    page = shop_a.client().get(f"/dashboard/conversations/{conversation.pk}/")
    assert "server returned error 479" in page.content.decode()


def test_a_send_interrupted_by_a_dead_gateway_is_failed_not_repeated(run_gateway, shop_a):
    from conversations.services import INTERRUPTED

    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    conversation = conversation_with_customer(gw, session, shop_a)
    with shop_a.schema():
        message = message_send_by_seller(conversation=conversation, member_id=shop_a.owner.pk, text="Hadi l'adresse")
        DeliveryAttempt.objects.create(message=message, number=1, succeeded=False, error=INTERRUPTED)
        message_deliver(message.pk)
    failed = wait_status(shop_a, message, "failed")
    assert failed.error == "unknown_outcome" and "may have reached the customer" in failed.error_text
    assert client.sent == []


def test_rate_limits_hold_under_a_burst(run_gateway, shop_a, settings):
    settings.WHATSAPP_RATE_PER_CHAT = "3/minute"
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    conversation = conversation_with_customer(gw, session, shop_a)
    burst = [queue_text(shop_a, conversation, f"message {n}") for n in range(8)]
    wait_for(lambda: len(client.sent) >= 3, 15, message="the first three sends")
    time.sleep(2.0)
    assert [text for _chat, text in client.sent] == ["message 0", "message 1", "message 2"]  # in order, capped
    statuses = [status_of(shop_a, m).status for m in burst]
    assert statuses == ["sent"] * 3 + ["queued"] * 5  # the rest wait, visible as queued


def test_the_seller_limit_per_minute_holds_across_chats(run_gateway, shop_a, settings):
    settings.WHATSAPP_RATE_PER_MINUTE = "4/minute"
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    conversations = []
    for n in range(6):
        chat = f"21355000000{n}@s.whatsapp.net"
        gw.event(session, message_event(chat=chat, text="salam", message_id=f"3ACH{n}"))
        with shop_a.schema():
            conversations.append(Conversation.objects.get(identity__external_id=chat))
    for conversation in conversations:
        queue_text(shop_a, conversation, "Ahlan")
    wait_for(lambda: len(client.sent) >= 4, 15)
    time.sleep(2.0)
    assert len(client.sent) == 4


def test_logged_out_stops_sending_and_tells_the_seller(run_gateway, shop_a):
    from neonize.proto.Neonize_pb2 import LoggedOut

    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    conversation = conversation_with_customer(gw, session, shop_a)
    gw.event(session, LoggedOut(OnConnect=False, Reason=2))
    row = session_row(session)
    assert row.state == State.LOGGED_OUT and row.jid == "" and "unlinked" in row.last_error
    assert row.lease_owner == ""  # released: nothing runs it until the seller links again
    assert row.account.status == ChannelAccount.Status.ERROR
    assert session.pk not in gw.gateway.runners
    message = queue_text(shop_a, conversation, "Ahlan")
    time.sleep(1.0)
    assert client.sent == []
    assert status_of(shop_a, message).status == "queued"  # waits for a gateway; none holds it
    page = shop_a.client().get("/dashboard/channels/whatsapp/")
    assert "Unlinked from the phone" in page.content.decode()


def test_stream_replaced_and_temporary_ban_get_their_own_states(run_gateway, shop_a, make_shop):
    from neonize.proto.Neonize_pb2 import StreamReplaced, TemporaryBan

    session = linked_session(shop_a)
    gw = run_gateway()
    gw.client(session)
    gw.event(session, StreamReplaced())
    assert session_row(session).state == State.REPLACED

    class SlowToStop(FakeSessionClient):
        def stop(self) -> None:  # a real disconnect takes a while: the supervisor ticks meanwhile
            super().stop()
            time.sleep(1.0)

    gw.gateway.client_factory = SlowToStop
    shop_b = make_shop("bravo")
    banned = linked_session(shop_b, jid="213661000222@s.whatsapp.net")
    wait_for(lambda: banned.pk in gw.gateway.runners, 15)
    gw.client(banned)
    gw.event(banned, TemporaryBan(Code=4, Expire=3600))
    row = session_row(banned)
    assert row.state == State.BANNED and row.ban_expires_at is not None and row.state_changed_at is not None
    assert 3500 < (row.ban_expires_at - row.state_changed_at).total_seconds() <= 3600
    runner = gw.gateway.runners[banned.pk]
    assert runner.client is None  # nothing runs (and nothing is sent) until the ban ends
    time.sleep(0.5)
    assert runner.client is None and session_row(banned).lease_owner == gw.gateway.name


def test_a_failing_connect_reconnects_with_backoff(run_gateway, shop_a, monkeypatch):
    monkeypatch.setenv("WA_FAKE_CONNECT_ERROR", "failed to dial whatsapp web websocket")
    session = linked_session(shop_a)
    gw = run_gateway()
    wait_for(lambda: session_row(session).reconnects >= 3, 20, message="several reconnects")
    row = session_row(session)
    assert row.state == State.DISCONNECTED and "failed to dial" in row.last_error
    monkeypatch.delenv("WA_FAKE_CONNECT_ERROR")
    wait_for(lambda: session_row(session).state == State.CONNECTED, 20, message="the reconnection")
    assert gw.gateway.runners[session.pk].failures == 0


def test_a_stuck_connect_is_restarted(run_gateway, shop_a, settings, monkeypatch):
    settings.WHATSAPP_CONNECT_TIMEOUT_SECONDS = 0.5

    class Stuck(FakeSessionClient):
        def _serve(self) -> None:  # never says connected
            self._stopped.wait()

    session = linked_session(shop_a)
    gw = run_gateway()
    gw.gateway.client_factory = Stuck
    wait_for(lambda: session_row(session).reconnects >= 2, 20, message="restarts of the stuck connect")
    assert "took too long" in session_row(session).last_error


def test_a_connected_but_silent_session_is_flagged_and_restarted(run_gateway, shop_a, settings, monkeypatch):
    from neonize.proto.Neonize_pb2 import KeepAliveTimeout

    told: list[dict[str, Any]] = []
    monkeypatch.setattr("channels_app.whatsapp.sessions.publish", lambda schema, event, payload: told.append(payload))
    settings.WHATSAPP_SILENT_SECONDS = 0.3
    session = linked_session(shop_a)
    gw = run_gateway()
    runner = gw.connected(session)
    first_client = runner.client
    gw.event(session, KeepAliveTimeout(ErrorCount=3, LastSuccess=0))
    wait_for(lambda: runner.client is not None and runner.client is not first_client, 15, message="a restart")
    assert session_row(session).reconnects >= 1
    flagged = [payload for payload in told if payload["state"] == State.STALE]
    assert flagged and "silent" in flagged[0]["last_error"].lower()  # the seller was told


def test_pairing_shows_the_qr_then_links_the_number(run_gateway, shop_a, settings):
    from neonize.proto.Neonize_pb2 import JID, PairStatus

    from channels_app.whatsapp.sessions import session_connect, session_ensure

    session = session_connect(session_ensure(shop_a.seller))
    gw = run_gateway()
    row = wait_row(session, "qr")
    assert row.state == State.PAIRING and row.qr.startswith("2@fake-qr-")
    page = shop_a.client().get("/dashboard/channels/whatsapp/")
    assert 'src="data:image/svg+xml' in page.content.decode()  # rendered with segno

    gw.event(session, PairStatus(ID=JID(User="213661000333", Server="s.whatsapp.net"), Status=2, BusinessName="Shop"))
    row = session_row(session)
    assert row.jid == "213661000333@s.whatsapp.net" and row.phone == "+213661000333" and row.qr == ""
    assert row.account.external_id == "213661000333"  # the routing index knows the number now


def test_a_pairing_not_scanned_in_time_expires_and_releases(run_gateway, shop_a, settings):
    from channels_app.whatsapp.sessions import session_connect, session_ensure

    settings.WHATSAPP_LOGIN_TIMEOUT_SECONDS = 0.5
    session = session_connect(session_ensure(shop_a.seller))
    gw = run_gateway()
    # The runner halts (one write), then gives its lease back (another): wait for both.
    wait_for(
        lambda: (row := session_row(session)).state == State.PAIRING_EXPIRED and row.lease_owner == "",
        15,
        message="the login timeout",
    )
    row = session_row(session)
    assert row.qr == "" and row.lease_owner == ""
    assert session.pk not in gw.gateway.runners


def test_pairing_by_phone_number_gets_a_code(run_gateway, shop_a):
    from channels_app.whatsapp.sessions import session_ensure, session_pair_by_phone

    session = session_pair_by_phone(session_ensure(shop_a.seller), "0661 00 04 44")
    assert session.pair_phone == "213661000444"
    run_gateway()
    row = wait_row(session, "pair_code")
    assert row.pair_code == "ABCD-1234"


def test_disconnect_and_log_out_from_the_dashboard(run_gateway, shop_a):
    session = linked_session(shop_a)
    gw = run_gateway()
    client = gw.client(session)
    response = shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "disconnect"})
    assert response.status_code == 302
    wait_for(lambda: session_row(session).state == State.STOPPED, 15, message="the disconnect")
    assert session.pk not in gw.gateway.runners and not client.logged_out

    shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "connect"})
    client = gw.client(session)
    shop_a.client().post("/dashboard/channels/whatsapp/", {"action": "logout"})
    wait_for(lambda: session_row(session).state == State.NEW, 15, message="the log out")
    assert client.logged_out
    row = session_row(session)
    assert row.jid == "" and row.phone == "" and row.lease_owner == ""


def test_disconnected_then_connected_again_is_tracked(run_gateway, shop_a, monkeypatch):
    from neonize.proto.Neonize_pb2 import Connected, Disconnected

    told: list[str] = []
    monkeypatch.setattr(
        "channels_app.whatsapp.sessions.publish", lambda schema, event, payload: told.append(payload["state"])
    )
    session = linked_session(shop_a)
    gw = run_gateway()
    runner = gw.connected(session)
    gw.event(session, Disconnected(status=True))
    assert session_row(session).state == State.DISCONNECTED and not runner.connected.is_set()
    gw.event(session, Connected(status=True))  # whatsmeow reconnected by itself
    row = session_row(session)
    assert row.state == State.CONNECTED and runner.connected.is_set()
    assert told[-2:] == [State.DISCONNECTED, State.CONNECTED]  # the seller's page followed
