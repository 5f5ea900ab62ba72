"""A seller with a linked WhatsApp session, and a gateway holding it with loopback clients."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount, WhatsAppSession
from channels_app.whatsapp.gateway import Gateway, SessionRunner
from channels_app.whatsapp.testing import FakeSessionClient
from ma5zani.testing import wait_for

SHOP_JID = "213661000111@s.whatsapp.net"
CUSTOMER = "213550123456@s.whatsapp.net"


@pytest.fixture(autouse=True)
def _wa_settings(settings: Any) -> None:
    settings.WHATSAPP_REDIS_PREFIX = f"test-wa-{uuid.uuid4().hex[:10]}"
    settings.WHATSAPP_LEASE_SECONDS = 3.0
    settings.WHATSAPP_START_GAP_SECONDS = 0.0
    settings.WHATSAPP_TYPING_MIN_SECONDS = 0.05
    settings.WHATSAPP_TYPING_MAX_SECONDS = 0.2
    settings.WHATSAPP_CHAT_GAP_SECONDS = 0.0
    settings.WHATSAPP_JITTER_SECONDS = 0.0
    settings.WHATSAPP_RECONNECT_BASE_SECONDS = 0.2
    settings.DELIVERY_BACKOFF_SECONDS = 0.1
    settings.TRANSCRIPTION_BASE_URL = ""
    settings.WHATSAPP_DB_THREADS = 3


def linked_session(shop: Any, *, jid: str = SHOP_JID, **fields: Any) -> WhatsAppSession:
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.create(
            seller=shop.seller, channel="whatsapp", external_id=jid.partition("@")[0], display_name="Shop"
        )
        defaults: dict[str, Any] = {"state": WhatsAppSession.State.CONNECTING, "jid": jid, "phone": "+213661000111"}
        return WhatsAppSession.objects.create(account=account, **{**defaults, **fields})


@dataclass
class RunningGateway:
    gateway: Gateway
    thread: threading.Thread
    clients: dict[str, FakeSessionClient] = field(default_factory=dict)

    def runner(self, session: WhatsAppSession, timeout: float = 15) -> SessionRunner:
        runner = wait_for(lambda: self.gateway.runners.get(session.pk), timeout, message="the session to be held")
        assert runner is not None
        return runner

    def connected(self, session: WhatsAppSession, timeout: float = 15) -> SessionRunner:
        runner = self.runner(session, timeout)
        wait_for(runner.connected.is_set, timeout, message="the session to connect")
        return runner

    def client(self, session: WhatsAppSession) -> FakeSessionClient:
        runner = self.connected(session)
        assert isinstance(runner.client, FakeSessionClient)
        return runner.client

    def event(self, session: WhatsAppSession, event: Any) -> None:
        """Deliver an event the way neonize does: on the client's side, waiting for the store."""
        runner = self.runner(session)
        runner.on_event(event, runner.generation)

    def stop(self) -> None:
        self.gateway.stop()
        self.thread.join(30)


@pytest.fixture
def run_gateway(drop_new_sellers: None) -> Iterator[Callable[..., RunningGateway]]:
    running: list[RunningGateway] = []
    before = _checked_out()  # what other tests' threads may still hold

    def start(**kwargs: Any) -> RunningGateway:
        gateway = Gateway(name=f"test-{uuid.uuid4().hex[:6]}", client_factory=FakeSessionClient, **kwargs)
        thread = threading.Thread(target=gateway.run, kwargs={"tick_seconds": 0.1}, daemon=True)
        thread.start()
        handle = RunningGateway(gateway, thread)
        running.append(handle)
        return handle

    yield start
    for handle in running:
        handle.stop()
    if running:  # every thread of a stopped gateway gave its database connection back
        wait_for(lambda: _checked_out() <= before + 1, 10, message="the gateway's connections back in the pool")


def _checked_out() -> int:
    from django.db import connection

    pool = getattr(connection, "pool", None)
    if pool is None:
        return 0
    stats = pool.get_stats()
    return int(stats.get("pool_size", 0)) - int(stats.get("pool_available", 0))
