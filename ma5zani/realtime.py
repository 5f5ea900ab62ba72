"""Live events for the dashboard and inbox: one publish() for services, sent after commit.

One group per seller, named after its schema, so a consumer can only ever join its own
seller's group.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def seller_group(schema_name: str) -> str:
    return f"seller.{schema_name}"


def publish(schema_name: str, event: str, payload: dict[str, Any]) -> None:
    """Send `event` to the seller's group once the current transaction commits.

    A failure to reach the channel layer is logged, never raised: the database is the source
    of truth and the page reloads what it missed.
    """

    message = {"type": "seller.event", "event": event, "payload": payload}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(seller_group(schema_name), message)
        except Exception:  # the event is a hint; never break the caller
            logger.warning("Could not publish %s to %s", event, schema_name, exc_info=True)

    transaction.on_commit(send)
