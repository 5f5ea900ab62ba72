from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from ma5zani.admin_sites import SellerInline, SellerModelAdmin, seller_admin
from sales.forms import CatalogImportForm, OpenRouterKeyFields
from sales.models import BotSettings, CatalogImport, Category, DeliveryRate, Product, ProductImage, Variant
from sales.services.catalog import product_archive, product_restore
from sales.services.catalog_csv import catalog_export_stream, catalog_import_create
from sales.services.settings import (
    BOT_SETTINGS_FIELDS,
    RateData,
    bot_settings_set_openrouter_key,
    bot_settings_update,
    delivery_rate_problems,
    delivery_rates_update,
    validate_business_hours,
)


class VariantInline(SellerInline):
    model = Variant
    extra = 0
    fields = ["sku", "size", "colour", "stock", "price_override", "position"]


class ImageInline(SellerInline):
    model = ProductImage
    extra = 0
    fields = ["image", "alt_text", "position"]


@admin.register(Product, site=seller_admin)
class ProductAdmin(SellerModelAdmin):
    list_display = ["code", "name_fr", "name_ar", "name_en", "price", "is_active", "archived_at"]
    list_filter = ["is_active", ("archived_at", admin.EmptyFieldListFilter), "category"]
    search_fields = ["code", "name_ar", "name_fr", "name_en", "variants__sku"]
    inlines = [VariantInline, ImageInline]
    actions = ["archive", "restore", "export_csv"]
    change_list_template = "admin/sales/product/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="sales_product_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV; it runs as the same import job as in the dashboard."""
        form = CatalogImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = catalog_import_create(upload=form.cleaned_data["file"], user_id=request.user.pk)
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                messages.success(request, _("The import has started."))
                return redirect(reverse("catalog:import_detail", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": _("Import products from CSV"),
        }
        return render(request, "admin/sales/product/import.html", context)

    @admin.action(description=_("Archive the selected products"))
    def archive(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            product_archive(product=product)

    @admin.action(description=_("Restore the selected products"))
    def restore(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            product_restore(product=product)

    @admin.action(description=_("Export the whole catalog as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Product]) -> StreamingHttpResponse:
        response = StreamingHttpResponse(
            catalog_export_stream(base_url=f"{request.scheme}://{request.get_host()}"),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="catalog.csv"'
        return response


@admin.register(Category, site=seller_admin)
class CategoryAdmin(SellerModelAdmin):
    search_fields = ["name"]


class DeliveryRateAdminForm(forms.ModelForm):
    class Meta:
        model = DeliveryRate
        fields = ["wilaya", "is_served", "home_fee", "desk_fee", "days"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        current = self.instance  # the list's inline edits carry only some of the fields
        rate = RateData(
            wilaya=cleaned.get("wilaya", current.wilaya) or 0,
            is_served=bool(cleaned.get("is_served", current.is_served)),
            home_fee=cleaned.get("home_fee", current.home_fee),
            desk_fee=cleaned.get("desk_fee", current.desk_fee),
            days=cleaned.get("days", current.days),
        )
        if problems := delivery_rate_problems(rate):
            raise ValidationError(problems)
        return cleaned


@admin.register(DeliveryRate, site=seller_admin)
class DeliveryRateAdmin(SellerModelAdmin):
    owner_only = True  # a shop setting, as on the dashboard
    form = DeliveryRateAdminForm
    list_display = ["wilaya", "is_served", "home_fee", "desk_fee"]
    list_editable = ["is_served", "home_fee", "desk_fee"]

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        # The list's inline edits get the same checks as the change page.
        return super().get_changelist_form(request, form=DeliveryRateAdminForm, **kwargs)

    def save_model(self, request: HttpRequest, obj: DeliveryRate, form: Any, change: bool) -> None:
        # Through the dashboard's service (the form ran its checks already).
        delivery_rates_update(
            rates=[RateData(wilaya=obj.wilaya, is_served=obj.is_served, home_fee=obj.home_fee, desk_fee=obj.desk_fee,
                            days=obj.days)]
        )  # fmt: skip
        obj.pk = DeliveryRate.objects.get(wilaya=obj.wilaya).pk


class BotSettingsAdminForm(forms.ModelForm, OpenRouterKeyFields):
    """The bot settings with the key write-only: never shown, not even encrypted."""

    class Meta:
        model = BotSettings
        fields = list(BOT_SETTINGS_FIELDS)

    def clean_business_hours(self) -> Any:
        return validate_business_hours(self.cleaned_data.get("business_hours"))


@admin.register(BotSettings, site=seller_admin)
class BotSettingsAdmin(SellerModelAdmin):
    owner_only = True  # persona, discounts, the model and its key: the owner's, as on the dashboard
    form = BotSettingsAdminForm
    list_display = ["persona_name", "is_enabled", "intensity", "max_discount_percent"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not BotSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BotSettings, form: Any, change: bool) -> None:
        """Through the dashboard's services: the same checks, cache and live event."""
        values = {name: getattr(obj, name) for name in BOT_SETTINGS_FIELDS}
        with transaction.atomic():
            bot_settings_update(**values)
            key = form.cleaned_data.get("openrouter_key", "")
            if key or form.cleaned_data.get("forget_openrouter_key"):
                bot_settings_set_openrouter_key(key=key)
        obj.refresh_from_db()


@admin.register(CatalogImport, site=seller_admin)
class CatalogImportAdmin(SellerModelAdmin):
    list_display = ["original_name", "status", "total_rows", "created_count", "updated_count", "created_at"]
    readonly_fields = [f.name for f in CatalogImport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
