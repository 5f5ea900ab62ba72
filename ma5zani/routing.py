from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from django.urls import path

from channels_app.widget.consumer import WidgetConsumer
from ma5zani.origins import SameOriginValidator
from sellers.consumers import DashboardConsumer

websocket_urlpatterns = [
    # The dashboard: pages of the shop's own host only, signed-in members.
    path("ws/dashboard/", SameOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi()))),
    # The widget: embedded in sellers' own sites; origins are checked per seller.
    path("ws/widget/", WidgetConsumer.as_asgi()),
]
