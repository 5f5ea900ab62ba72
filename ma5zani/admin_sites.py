"""Two admin sites: the platform's (public site, staff only) and each seller's own.

The seller admin at <slug>.BASE_DOMAIN/admin/ shows that seller's data only (the schema is
the seller's) and is open to the seller's members and to platform staff.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sellers.selectors import user_can_access_seller


class PlatformAdminSite(admin.AdminSite):
    site_header = _("ma5zani platform")
    site_title = _("ma5zani platform")
    index_title = _("Platform administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return getattr(request, "seller", None) is None and super().has_permission(request)


class SellerAdminSite(admin.AdminSite):
    index_title = _("Shop administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active) and user_can_access_seller(request.user, getattr(request, "seller", None))

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        seller = getattr(request, "seller", None)
        if seller is not None:
            context["site_header"] = context["site_title"] = seller.name
        return context


platform_admin = PlatformAdminSite(name="platform_admin")
seller_admin = SellerAdminSite(name="seller_admin")


class SellerModelAdmin(admin.ModelAdmin):
    """Members of the seller (and staff) may view and change its data in its admin."""

    def _allowed(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class SellerInline(admin.TabularInline):
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return seller_admin.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return seller_admin.has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return seller_admin.has_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return seller_admin.has_permission(request)
