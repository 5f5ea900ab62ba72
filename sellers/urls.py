from __future__ import annotations

from django.urls import path

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
    ],
    "dashboard",
)
