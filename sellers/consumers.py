"""The dashboard's websocket: live status of the seller (catalog figures, bot on/off).

The connection's seller comes from the Host header (ma5zani.tenancy); the user from the
session. Every database call runs in the seller's schema through run_in_tenant.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ma5zani.origins import same_origin
from ma5zani.realtime import seller_group
from ma5zani.tenancy import run_in_tenant
from sales.selectors import catalog_status
from sellers.selectors import user_can_access_seller

CLOSE_FORBIDDEN = 4403


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        seller = self.scope.get("tenant")
        user = self.scope.get("user")
        # A refusal is accepted, then closed with its code: only a close after the accept reaches
        # the page (before it, the browser sees a failed handshake and would try again forever).
        if seller is None or user is None or not same_origin(self.scope):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        allowed = await database_sync_to_async(user_can_access_seller)(user, seller)
        if not allowed:
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = seller_group(seller.schema_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        status = await run_in_tenant(seller.schema_name, catalog_status)
        await self.send_json({"event": "status", "payload": status})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The dashboard only listens; anything sent is answered with an error frame.
        await self.send_json({"event": "error", "payload": {"detail": "This socket is read-only."}})

    async def seller_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "payload": message["payload"]})
