"""Websockets of the dashboard accept pages of the very host they are opened on.

Channels' AllowedHostsOriginValidator accepts any host of ALLOWED_HOSTS, and `.<BASE_DOMAIN>`
covers every seller: a page on another shop's subdomain (or any page a seller's member visits
there) could open a member's dashboard socket of this shop with the member's cookie. The Origin
must name exactly the Host the socket is opened on (scheme aside); no Origin, no socket.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier

from ma5zani.tenancy import scope_header


def same_origin(scope: dict[str, Any]) -> bool:
    origin, host = scope_header(scope, b"origin"), scope_header(scope, b"host").strip().lower()
    if not origin or not host:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host


class SameOriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
