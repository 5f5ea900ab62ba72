"""URLs of a seller's domain (<slug>.BASE_DOMAIN): dashboard, API, the seller's admin."""

from __future__ import annotations

from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from conversations.customer_urls import customer_patterns
from conversations.urls import conversation_patterns
from learning.urls import knowledge_patterns
from ma5zani.admin_sites import seller_admin
from sales import views as sales_views
from sales.urls import catalog_patterns, order_patterns, settings_patterns
from sellers import views as seller_views
from sellers.urls import dashboard_patterns

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:home", permanent=False)),
    path("dashboard/", include(dashboard_patterns)),
    path("dashboard/catalog/", include(catalog_patterns)),
    path("dashboard/settings/", include(settings_patterns)),
    path("dashboard/conversations/", include(conversation_patterns)),
    path("dashboard/orders/", include(order_patterns)),
    path("dashboard/knowledge/", include(knowledge_patterns)),
    path("dashboard/customers/", include(customer_patterns)),
    path("accounts/handoff/", seller_views.handoff, name="seller_handoff"),
    path("accounts/invitation/<str:token>/", seller_views.invitation_page, name="seller_invitation"),
    path("accounts/", include("allauth.urls")),
    path("admin/", seller_admin.urls),
    path("api/v1/", include("sales.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("media/<str:schema>/<path:path>", sales_views.tenant_media, name="tenant_media"),
]
