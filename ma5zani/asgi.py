"""ASGI entry point: HTTP through Django, websockets through Channels.

The client's address and scheme come from X-Forwarded-For / X-Forwarded-Proto only when the
connection comes from one of TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware: the rightmost
address that is not a trusted proxy); otherwise the connection's own peer is the client, whatever
the headers say. Rate limits and logs read that address (`scope["client"]`, `REMOTE_ADDR`).

Websocket connections resolve their seller from the Host header (TenantWebsocketMiddleware);
consumers then switch to that seller's schema inside every database call.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ma5zani.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

from ma5zani.routing import websocket_urlpatterns  # noqa: E402
from ma5zani.tenancy import TenantWebsocketMiddleware  # noqa: E402


def build_application(trusted_proxies: list[str]) -> ProxyHeadersMiddleware:
    return ProxyHeadersMiddleware(
        ProtocolTypeRouter(
            {
                "http": django_asgi_app,
                "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
            }
        ),
        trusted_hosts=trusted_proxies,
    )


application = build_application(settings.TRUSTED_PROXIES)
