from __future__ import annotations

from django.urls import path, re_path

from channels_app.meta import linking
from channels_app.whatsapp.views import whatsapp_settings
from channels_app.widget.views import widget_settings
from sellers import views

dashboard_patterns = (
    [
        path("", views.dashboard_home, name="home"),
        path("team/", views.team, name="team"),
        path("team/<int:pk>/remove/", views.team_remove, name="team_remove"),
        path("team/invitations/<int:pk>/revoke/", views.team_invitation_revoke, name="team_invitation_revoke"),
        path("api/", views.api_access, name="api_access"),
        path("channels/widget/", widget_settings, name="widget"),
        path("channels/whatsapp/", whatsapp_settings, name="whatsapp"),
        path("channels/meta/", linking.meta_channels, name="meta"),
        re_path(
            r"^channels/meta/connect/(?P<platform>facebook|instagram)/$", linking.meta_connect, name="meta_connect"
        ),
        re_path(
            r"^channels/meta/callback/(?P<platform>facebook|instagram)/$", linking.meta_callback, name="meta_callback"
        ),
        path("channels/meta/pick/<str:pick_id>/", linking.meta_pick, name="meta_pick"),
    ],
    "dashboard",
)
