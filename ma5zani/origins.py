"""Websockets of the dashboard accept pages of the very host they are opened on.

Channels' AllowedHostsOriginValidator accepts any host of ALLOWED_HOSTS, and `.<BASE_DOMAIN>`
covers every seller: a page on another shop's subdomain (or any page a seller's member visits
there) could open a member's dashboard socket of this shop with the member's cookie. The Origin
must name exactly the scheme (http for ws, https for wss) and the Host the socket is opened on;
no Origin, no socket (`sellers.consumers.DashboardConsumer` closes it with 4403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ma5zani.tenancy import scope_header

SCHEMES = {"ws": "http", "wss": "https"}


def same_origin(scope: dict[str, Any]) -> bool:
    origin, host = scope_header(scope, b"origin"), scope_header(scope, b"host").strip().lower()
    if not origin or not host:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme == SCHEMES.get(str(scope.get("scheme") or "ws")) and parts.netloc.lower() == host
