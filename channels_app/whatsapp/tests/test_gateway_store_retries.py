"""A customer's message counts as received once the gateway's handler returns: while the
database cannot be reached (restarting, failing over) the handler waits for it, however long;
any other error is given up after a few tries so that one bad message never holds a session."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from channels_app.whatsapp import gateway as gateway_module
from channels_app.whatsapp import services as wa_services
from channels_app.whatsapp.testing import message_event
from channels_app.whatsapp.tests.conftest import CUSTOMER, linked_session
from conversations.models import Message
from ma5zani.testing import committed_db

pytestmark = committed_db


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: Any) -> None:
    monkeypatch.setattr(gateway_module, "STORE_RETRY_SECONDS", 0.001)
    monkeypatch.setattr(gateway_module, "STORE_RETRY_MAX_SECONDS", 0.01)
    # The replies the store asks for are not this test's business.
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *args, **kwargs: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_replies", lambda *args, **kwargs: None)


def failing(monkeypatch: Any, error: Exception, times: int) -> dict[str, int]:
    """The gateway's stores (the batch path and the one-message path) fail `times` times."""
    calls = {"n": 0}
    batch, one = wa_services.store_customer_messages, wa_services.store_customer_message

    def store_many(items: list) -> list:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return batch(items)

    def store_one(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return one(*args, **kwargs)

    monkeypatch.setattr(wa_services, "store_customer_messages", store_many)
    monkeypatch.setattr(wa_services, "store_customer_message", store_one)
    return calls


def stored(shop: Any) -> list[str]:
    with shop.schema():
        return [str(m.external_id) for m in Message.objects.filter(direction=Message.Direction.IN)]


def test_a_message_waits_for_the_database_longer_than_the_tries_of_other_errors(
    run_gateway: Any, shop_a: Any, monkeypatch: Any
) -> None:
    calls = failing(monkeypatch, OperationalError("connection to server failed: Connection refused"), times=40)
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat=CUSTOMER, text="salam", message_id="3ADB1"))  # returns once stored
    assert stored(shop_a) == ["3ADB1"]
    assert calls["n"] > 40 and calls["n"] > 3 * gateway_module.STORE_ATTEMPTS


def test_another_error_is_given_up_after_a_few_tries(run_gateway: Any, shop_a: Any, monkeypatch: Any) -> None:
    calls = failing(monkeypatch, RuntimeError("a message that cannot be stored"), times=10_000)
    session = linked_session(shop_a)
    gw = run_gateway()
    gw.event(session, message_event(chat=CUSTOMER, text="salam", message_id="3ADB2"))
    assert stored(shop_a) == []
    # Each try goes through the batch, then the seller's batch, then the message alone.
    assert calls["n"] == 3 * gateway_module.STORE_ATTEMPTS
