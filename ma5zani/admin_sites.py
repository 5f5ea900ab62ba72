"""Two admin sites: the platform's (public site, staff only) and each seller's own.

The seller admin at <slug>.BASE_DOMAIN/admin/ shows that seller's data only (the schema is
the seller's) and is open to the seller's members and to platform staff, with the dashboard's
roles: agents work in the catalog, owners (and staff) alone change the shop's settings.

On both sites, a model field that holds a secret (a name ending in `_encrypted`) is never part of
a form, a read-only field, a list or a search, even encrypted: `register` adds that rule to every
model admin, and inlines get it from `SecretsHidden`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from sellers.login_throttle import (
    LoginThrottled,
    login_device_remember,
    login_throttle_attempt,
    login_throttle_succeeded,
)
from sellers.middleware import request_is_owner
from sellers.selectors import user_can_access_seller


def secret_field_names(model: type[Model]) -> frozenset[str]:
    """The model's fields that hold secrets (encrypted at rest by ma5zani.crypto)."""
    return frozenset(f.name for f in model._meta.get_fields() if f.name.endswith("_encrypted") and not f.is_relation)


def secret_names(model: type[Model]) -> frozenset[str]:
    """The secret fields and the names that read them decrypted (`openrouter_key` beside
    `openrouter_key_encrypted`): neither may ever be displayed."""
    fields = secret_field_names(model)
    return fields | {name.removesuffix("_encrypted") for name in fields}


def _without(names: Iterable[Any], secrets: frozenset[str]) -> list[Any]:
    return [name for name in names if not (isinstance(name, str) and name in secrets)]


class SecretsHidden:
    """Keeps secrets out of every form, read-only field, list and search of an admin.

    The encrypted field is never a form field. Its decrypted name may be a write-only form field
    (a password input that renders nothing) for someone who may change the object, and is left
    out for anyone else: the admin would display it read-only, that is, decrypted."""

    model: type[Model]

    def _shown(self, request: HttpRequest, obj: Any, names: Iterable[Any]) -> list[Any]:
        if self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return _without(names, secret_field_names(self.model))
        # Read-only, a form's own fields (the write-only key, its "remove" box) would be displayed
        # from the object's attributes: only model fields and declared read-only fields are shown.
        allowed = {f.name for f in self.model._meta.get_fields()} | set(
            super().get_readonly_fields(request, obj)  # type: ignore[misc]
        )
        return [
            name for name in _without(names, secret_names(self.model)) if not isinstance(name, str) or name in allowed
        ]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str] | None:
        exclude = super().get_exclude(request, obj)  # type: ignore[misc]
        secrets = secret_field_names(self.model)
        if not secrets:
            return exclude
        return [*(exclude or []), *sorted(secrets - set(exclude or []))]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._shown(request, obj, super().get_fields(request, obj))  # type: ignore[misc]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [
            (name, {**options, "fields": self._shown(request, obj, options.get("fields", ()))})
            for name, options in super().get_fieldsets(request, obj)  # type: ignore[misc]
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _without(super().get_readonly_fields(request, obj), secret_names(self.model))  # type: ignore[misc]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return _without(super().get_list_display(request), secret_names(self.model))  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return _without(super().get_list_filter(request), secret_names(self.model))  # type: ignore[misc]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        secrets = secret_names(self.model)
        return [f for f in super().get_search_fields(request) if f.lstrip("^=@").split("__")[0] not in secrets]  # type: ignore[misc]


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in, throttled like every other (sellers.login_throttle)."""

    def clean(self) -> dict[str, Any]:
        account = str(self.cleaned_data.get("username") or "")
        if self.request is not None:
            try:
                login_throttle_attempt(self.request, account)
            except LoginThrottled:
                raise ValidationError(
                    _("Too many failed sign-in attempts. Try again later."), code="throttled"
                ) from None
        cleaned = super().clean()
        if self.request is not None:
            login_throttle_succeeded(self.request, account)
        return cleaned


class ProjectAdminSite(admin.AdminSite):
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return login_device_remember(request, super().login(request, extra_context))  # type: ignore[return-value]

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        inlines = [
            inline if issubclass(inline, SecretsHidden) else type(inline.__name__, (SecretsHidden, inline), {})
            for inline in getattr(admin_class, "inlines", [])
        ]
        if inlines:
            admin_class = type(
                admin_class.__name__, (admin_class,), {"__module__": admin_class.__module__, "inlines": inlines}
            )
        if not issubclass(admin_class, SecretsHidden):
            admin_class = type(
                admin_class.__name__, (SecretsHidden, admin_class), {"__module__": admin_class.__module__}
            )
        super().register(model_or_iterable, admin_class, **options)


class PlatformAdminSite(ProjectAdminSite):
    site_header = _("ma5zani platform")
    site_title = _("ma5zani platform")
    index_title = _("Platform administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return getattr(request, "seller", None) is None and super().has_permission(request)


class SellerAdminSite(ProjectAdminSite):
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


class SellerModelAdmin(SecretsHidden, admin.ModelAdmin):
    """Members of the seller (and staff) may view its data in its admin and change it, but for
    `owner_only` models (the shop's settings), which only owners and staff may change."""

    owner_only = False

    def _allowed(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def _may_write(self, request: HttpRequest) -> bool:
        return self._allowed(request) and (not self.owner_only or request_is_owner(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)


class SellerInline(SecretsHidden, admin.TabularInline):
    owner_only = False

    def _may_write(self, request: HttpRequest) -> bool:
        return seller_admin.has_permission(request) and (not self.owner_only or request_is_owner(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return seller_admin.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request)
