from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from django.urls import path

from channels_app.widget.consumer import WidgetConsumer
from sellers.consumers import DashboardConsumer

websocket_urlpatterns = [
    # The dashboard: pages of the shop's own host only (the consumer checks the Origin), members.
    path("ws/dashboard/", AuthMiddlewareStack(DashboardConsumer.as_asgi())),
    # The widget: embedded in sellers' own sites; origins are checked per seller.
    path("ws/widget/", WidgetConsumer.as_asgi()),
]
