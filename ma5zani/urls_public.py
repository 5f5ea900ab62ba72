"""URLs of the public site (BASE_DOMAIN): landing, sign-up and sign-in, platform admin, health."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from channels_app.meta.linking import oauth_return as meta_oauth_return
from channels_app.meta.views import webhook as meta_webhook
from channels_app.widget.views import WidgetAPIView, demo_shop
from ma5zani.admin_sites import platform_admin
from ma5zani.health import HealthView, live
from sales.views import product_image
from sellers import views as seller_views

widget_api = [path("widget/v1/messages", WidgetAPIView.as_view(), name="widget-messages")]

WIDGET_API_DESCRIPTION = """
The web chat widget of a seller, reached with the widget's public key. Pages may use it only
from the seller's allowed origins.

**Websocket** `GET /ws/widget/?key=<key>&visitor=<uuid>` (upgrade). JSON frames:

* client → server: `{"type": "message", "text": "…", "client_id": "<uuid>"}` (stored once per
  client_id, then acknowledged), `{"type": "history", "after": <id>}`, `{"type": "ping"}`;
* server → client: `{"type": "history", "messages": [...]}` (on connect and on request),
  `{"type": "ack", "client_id", "id", "duplicate"}`, `{"type": "message", "message": {...}}`,
  `{"type": "typing", "on": true}`, `{"type": "pong"}`,
  `{"type": "error", "code", "detail"}` (malformed, too_deep, bad_text for a NUL or a lone
  surrogate, too_long, empty, bad_client_id, bad_after, unknown_type, rate_limited; nothing is
  stored and the connection stays open).

Close codes, sent after the handshake is accepted so that they reach the page: 4404 unknown key,
4403 origin not allowed, 4400 bad visitor id. The widget stops on them for good (no reconnection,
no polling).

**HTTP fallback**, for clients without websockets: the operations below. The widget stops polling
on 404 `unknown_key`, 403 `forbidden_origin` and 400 `bad_visitor`; the first two are readable by
any page (CORS; they hold no data).
"""

urlpatterns = [
    *widget_api,
    path(
        "api/schema/",
        SpectacularAPIView.as_view(
            urlconf=widget_api,
            permission_classes=[AllowAny],
            custom_settings={"TITLE": "ma5zani Bot widget API", "DESCRIPTION": WIDGET_API_DESCRIPTION},
        ),
        name="public-api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="public-api-schema", permission_classes=[AllowAny]),
        name="public-api-docs",
    ),
    path("webhooks/meta/", meta_webhook, name="meta-webhook"),
    re_path(r"^meta/oauth/(?P<platform>facebook|instagram)/$", meta_oauth_return, name="meta-oauth-return"),
    path("demo-shop/", demo_shop, name="demo_shop"),
    path("media/<str:schema>/products/<path:path>", product_image, name="product_image"),
    path("", seller_views.landing, name="landing"),
    path("accounts/continue/", seller_views.seller_continue, name="seller_continue"),
    path("accounts/open/<slug:slug>/", seller_views.seller_open, name="seller_open"),
    path("accounts/", include("allauth.urls")),
    path("admin/", platform_admin.urls),
    path("health/", HealthView.as_view(), name="health"),
    path("health/live/", live, name="health-live"),
    path("i18n/", include("django.conf.urls.i18n")),
]
