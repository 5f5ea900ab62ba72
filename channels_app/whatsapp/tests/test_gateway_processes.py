"""Gateways as real processes (`manage.py run_whatsapp_gateway --fake-clients`) against the real
PostgreSQL and Redis: leases share the sessions with none held twice, a killed gateway's
sessions move within the lease time, and a gateway killed mid-queue loses and repeats nothing.

The clients are loopback ones (WhatsApp's servers cannot be reached here); everything else is
the production gateway. A client records in Redis when it runs while another live client of
the same session runs (`doubles`), and every text it sends (`sent`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount, Gateway, WhatsAppSession
from channels_app.whatsapp import outbox
from channels_app.whatsapp.testing import fake_key, quick_gateway_env
from conversations.models import Conversation, Message
from conversations.reasons import send_failure_label
from conversations.services import ingest, message_deliver, message_send_by_seller
from ma5zani.testing import committed_db, wait_for

pytestmark = committed_db
LEASE = 3.0


@pytest.fixture
def gateways(live_stack: Any, settings: Any) -> Any:
    stack = live_stack(**quick_gateway_env(LEASE), WHATSAPP_START_GAP_SECONDS="0.002", WHATSAPP_DB_THREADS="3")

    return stack


def make_sessions(shop: Any, count: int) -> list[int]:
    with schema_context(get_public_schema_name()):
        accounts = ChannelAccount.objects.bulk_create(
            ChannelAccount(seller=shop.seller, channel="whatsapp", external_id=f"2136600{n:05d}") for n in range(count)
        )
        sessions = WhatsAppSession.objects.bulk_create(
            WhatsAppSession(account=account, jid=f"{account.external_id}@s.whatsapp.net", state="connecting")
            for account in accounts
        )
        return [session.pk for session in sessions]


def holders() -> dict[int, tuple[str, str]]:
    with schema_context(get_public_schema_name()):
        return {
            pk: (owner, state) for pk, owner, state in WhatsAppSession.objects.values_list("pk", "lease_owner", "state")
        }


def doubles() -> list[str]:
    return [str(item) for item in outbox.client().lrange(fake_key("doubles"), 0, -1)]


def test_three_gateways_share_300_sessions_and_take_over_a_killed_ones(gateways, shop_a):
    ids = make_sessions(shop_a, 300)
    for name in ("gw-1", "gw-2", "gw-3"):
        gateways.start_gateway(name)

    def all_connected() -> bool:
        rows = holders()
        return all(owner and state == "connected" for owner, state in rows.values())

    wait_for(all_connected, 90, interval=0.5, message=f"300 sessions connected (logs in {gateways.logs})")

    def balanced() -> bool:
        shares = Counter(owner for owner, state in holders().values() if state == "connected")
        return len(shares) == 3 and max(shares.values()) <= 100 and sum(shares.values()) == 300

    wait_for(balanced, 60, interval=0.5, message="an even share")
    rows = holders()
    per_gateway = Counter(owner for owner, _state in rows.values())
    assert set(per_gateway) == {"gw-1", "gw-2", "gw-3"}
    assert sum(per_gateway.values()) == 300
    assert max(per_gateway.values()) <= 100  # an even share each
    assert doubles() == []

    killed = [pk for pk, (owner, _state) in rows.items() if owner == "gw-1"]
    gateways.kill("gw-1")  # SIGKILL: no release, its leases must expire
    started = time.monotonic()

    def moved() -> bool:
        now = holders()
        return all(now[pk][0] in ("gw-2", "gw-3") and now[pk][1] == "connected" for pk in killed)

    wait_for(moved, 60, interval=0.25, message="the killed gateway's sessions to move")
    took = time.monotonic() - started
    assert took < LEASE * 4, f"took {took:.1f}s for a {LEASE}s lease"
    assert doubles() == []
    assert len(ids) == 300

    # A gateway stopped cleanly releases its leases: the last one takes everything at once.
    gateways.stop("gw-2")
    wait_for(lambda: all(owner == "gw-3" for owner, _s in holders().values()), 30, message="gw-3 to hold all")
    assert doubles() == []
    assert "releasing leases" in gateways.log("gw-2")


def test_a_gateway_killed_mid_queue_loses_and_repeats_nothing(gateways, shop_a):
    [session_id] = make_sessions(shop_a, 1)
    with schema_context(get_public_schema_name()):
        account_id = WhatsAppSession.objects.get(pk=session_id).account_id
    gateways.start_gateway("gw-a", WA_FAKE_SEND_SECONDS="0.25")
    wait_for(lambda: holders()[session_id][1] == "connected", 30, message="the session to connect")

    customer = "213550999888@s.whatsapp.net"
    with shop_a.schema():
        result = ingest(
            InboundMessage(
                channel="whatsapp", channel_account_id=account_id, sender_id=customer, external_id="3AQ1",
                text="salam", timestamp=timezone.now(),
            ),
            reply=False,
        )  # fmt: skip
        conversation = Conversation.objects.get(pk=result.conversation_id)
        queued = []
        for n in range(20):
            message = message_send_by_seller(
                conversation=conversation, member_id=shop_a.owner.pk, text=f"reply {n:02d}"
            )
            assert message_deliver(message.pk).status == "handed"
            queued.append(message.pk)

    r = outbox.client()
    wait_for(lambda: r.llen(fake_key("sent")) >= 5, 30, message="the first sends")
    gateways.kill("gw-a")
    gateways.start_gateway("gw-b")

    def settled() -> bool:
        with shop_a.schema():
            return not Message.objects.filter(pk__in=queued, status=Message.Status.QUEUED).exists()

    wait_for(settled, 60, interval=0.5, message=f"every message sent or failed (logs in {gateways.logs})")
    sent_texts = [json.loads(item)["text"] for item in r.lrange(fake_key("sent"), 0, -1)]
    assert len(sent_texts) == len(set(sent_texts)), "a message reached the customer twice"
    with shop_a.schema():
        rows = list(Message.objects.filter(pk__in=queued).values_list("text", "status", "error"))
    sent = {text for text, status, _e in rows if status == "sent"}
    failed = [(text, error) for text, status, error in rows if status == "failed"]
    assert sent <= set(sent_texts)  # recorded as sent only what really went out
    assert len(failed) <= 1  # at most the one send the kill interrupted…
    for _text, error in failed:
        assert "may have reached the customer" in send_failure_label(error)  # …failed visibly, not sent again
    assert len(sent) + len(failed) == 20  # nothing lost
    assert "gw-b" in {owner for owner, _s in holders().values()}


def test_the_gateway_command_stops_on_sigterm_and_releases(gateways, shop_a):
    [session_id] = make_sessions(shop_a, 1)
    gateways.start_gateway("gw-t")
    wait_for(lambda: holders()[session_id] == ("gw-t", "connected"), 30, message="the session held")

    def reported() -> dict | None:
        with schema_context(get_public_schema_name()):
            gateway = Gateway.objects.filter(name="gw-t").first()
        return gateway.metrics if gateway and gateway.metrics.get("sessions") == {"connected": 1} else None

    metrics = wait_for(reported, 15, message="the gateway's metrics")
    assert metrics is not None
    assert metrics["db_connections"]["own_threads"] > 0 and "session_stores" in metrics["db_connections"]
    assert {"messages_in", "messages_out", "reconnects", "send_latency_ms_p50"} <= set(metrics)
    process = gateways.processes["gw-t"]
    os.kill(process.pid, signal.SIGTERM)
    process.wait(20)
    assert holders()[session_id][0] == ""
    assert "stopped" in gateways.log("gw-t")
    with schema_context(get_public_schema_name()):
        assert not Gateway.objects.filter(name="gw-t").exists()  # gone from the live gateways
