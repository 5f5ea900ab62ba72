"""URLs of the public site (BASE_DOMAIN): landing, sign-up and sign-in, platform admin, health."""

from __future__ import annotations

from django.urls import include, path

from ma5zani.admin_sites import platform_admin
from ma5zani.health import HealthView
from sellers import views as seller_views

urlpatterns = [
    path("", seller_views.landing, name="landing"),
    path("accounts/continue/", seller_views.seller_continue, name="seller_continue"),
    path("accounts/open/<slug:slug>/", seller_views.seller_open, name="seller_open"),
    path("accounts/", include("allauth.urls")),
    path("admin/", platform_admin.urls),
    path("health/", HealthView.as_view(), name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
]
