"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket connections resolve their seller from the Host header (TenantWebsocketMiddleware);
consumers then switch to that seller's schema inside every database call.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ma5zani.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from ma5zani.routing import websocket_urlpatterns  # noqa: E402
from ma5zani.tenancy import TenantWebsocketMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
