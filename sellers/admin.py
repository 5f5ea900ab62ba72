from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ma5zani.admin_sites import platform_admin
from sellers.models import Domain, Membership, Seller, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Seller, site=platform_admin)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "plan", "is_active", "created_at"]
    list_filter = ["plan", "is_active"]
    search_fields = ["name", "slug", "schema_name"]
    readonly_fields = ["schema_name", "created_at"]
    inlines = [DomainInline, MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Seller]:
        return super().get_queryset(request).filter(is_template=False).exclude(schema_name="public")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Sellers are created by sign-up (or sellers.services.seller_provision).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Seller | None = None) -> bool:
        return False


@admin.register(User, site=platform_admin)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [MembershipInline]


@admin.register(Membership, site=platform_admin)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "seller", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "seller__name", "seller__slug"]
    autocomplete_fields = ["user", "seller"]


@admin.register(EmailAddress, site=platform_admin)
class EmailAddressAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "primary", "verified"]
    search_fields = ["email"]
