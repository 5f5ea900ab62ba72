"""The widget's websocket on the public site: /ws/widget/?key=<public key>&visitor=<uuid>.

The seller comes from the key (the routing index), never from the host. The page's Origin must
be one of the seller's allowed origins. Frames are JSON:

  in   {"type": "message", "text": "...", "client_id": "<uuid>"}   → {"type": "ack", ...}
  in   {"type": "history", "after": <id>}                          → {"type": "history", ...}
  in   {"type": "ping"}                                            → {"type": "pong"}
  out  {"type": "message", "message": {...}}  {"type": "typing", "on": true}
  out  {"type": "error", "code": "...", "detail": "..."}  (a malformed frame stores nothing)

A refused connection is accepted, then closed with its code (4404 unknown key, 4403 origin not
allowed, 4400 bad visitor id): a close before the accept reaches the browser as a failed
handshake (HTTP 403, close code 1006), and the widget could not tell it from a network fault.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from channels_app.models import ChannelAccount
from channels_app.ratelimit import allow
from channels_app.selectors import channel_account_cached
from channels_app.widget.adapter import visitor_group
from channels_app.widget.inbound import WidgetInputError, clean_visitor, inbound_from
from channels_app.widget.services import origin_allowed, widget_account_for_key, widget_history
from conversations.services import ingest
from ma5zani.inputs import InputError, json_loads, strict_int
from ma5zani.tenancy import db_call, run_in_tenant, scope_header

CLOSE_UNKNOWN_KEY = 4404
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_BAD_REQUEST = 4400
MAX_FRAME_BYTES = 16_384


def client_ip(scope: dict[str, Any]) -> str:
    """The client's address: the connection's peer, or what a trusted proxy said (ma5zani.asgi
    resolved X-Forwarded-For before the consumer runs; the header itself is never read here)."""
    client = scope.get("client") or ("", 0)
    return str(client[0])


class WidgetConsumer(AsyncWebsocketConsumer):
    account: ChannelAccount
    schema: str
    visitor: str
    group: str | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        account = await db_call(widget_account_for_key)((query.get("key") or [""])[0])
        if account is None:
            return await self._refuse(CLOSE_UNKNOWN_KEY)
        if not origin_allowed(account, scope_header(self.scope, b"origin")):
            return await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
        try:
            self.visitor = clean_visitor((query.get("visitor") or [""])[0])
        except WidgetInputError:
            return await self._refuse(CLOSE_BAD_REQUEST)
        self.account, self.schema = account, account.seller.schema_name
        self.group = visitor_group(self.schema, account.pk, self.visitor)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_history(after=0)

    async def _refuse(self, code: int) -> None:
        """Accept, then close with the code: only a close after the accept reaches the page."""
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = self._parse(text_data, bytes_data)
            kind = frame.get("type")
            if kind == "ping":
                await self._send({"type": "pong"})
            elif kind == "history":
                after = strict_int(frame.get("after", 0))
                if after is None:
                    raise WidgetInputError("bad_after", "after must be a message id (a whole number, 0 or more).")
                await self._send_history(after=after)
            elif kind == "message":
                await self._receive_message(frame)
            else:
                raise WidgetInputError("unknown_type", "type must be message, history or ping.")
        except WidgetInputError as error:
            await self._send(error.frame())

    def _parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        if text_data is None or bytes_data is not None:
            raise WidgetInputError("malformed", "Frames are JSON text.")
        if len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            raise WidgetInputError("too_long", "The frame is too large.")
        try:
            frame = json_loads(text_data)
        except InputError as exc:
            raise WidgetInputError(exc.code, exc.detail) from exc
        if not isinstance(frame, dict):
            raise WidgetInputError("malformed", "A frame is a JSON object.")
        return frame

    async def _receive_message(self, frame: dict[str, Any]) -> None:
        inbound = inbound_from(frame, account=self.account, visitor=self.visitor)
        # A key regenerated or a site removed since the socket opened ends it (the account is
        # read again at most every few seconds per process).
        current = await db_call(channel_account_cached)(self.account.pk)
        if current is None or current.external_id != self.account.external_id:
            await self.close(code=CLOSE_UNKNOWN_KEY)
            return
        if not origin_allowed(current, scope_header(self.scope, b"origin")):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        # Counting is Redis work: off the thread that runs the database calls.
        if not await sync_to_async(self._within_limits, thread_sensitive=False)():
            raise WidgetInputError("rate_limited", "Too many messages; wait a moment.")
        result = await run_in_tenant(self.schema, ingest, inbound)
        # Stored and committed: only now is the message acknowledged.
        await self._send(
            {"type": "ack", "client_id": frame["client_id"], "id": result.message_id, "duplicate": not result.created}
        )

    def _within_limits(self) -> bool:
        return allow(settings.WIDGET_RATE_LIMIT_VISITOR, "widget", self.schema, "visitor", self.visitor) and allow(
            settings.WIDGET_RATE_LIMIT_IP, "widget", "ip", client_ip(self.scope)
        )

    async def _send_history(self, *, after: int) -> None:
        messages = await run_in_tenant(self.schema, widget_history, self.account, self.visitor, after=after)
        await self._send({"type": "history", "messages": messages})

    async def _send(self, data: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(data, ensure_ascii=False))

    async def widget_message(self, event: dict[str, Any]) -> None:
        await self._send({"type": "message", "message": event["message"]})

    async def widget_typing(self, event: dict[str, Any]) -> None:
        await self._send({"type": "typing", "on": bool(event.get("on"))})
