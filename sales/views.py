"""Dashboard pages of the catalog and the seller's settings. Thin: parse, call, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import BaseForm
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ma5zani.inputs import strict_int
from ma5zani.media import media_is_public, media_path_parts, media_serve
from sales.forms import BotSettingsForm, CatalogImportForm, ProductForm, VariantFormSet
from sales.models import CatalogImport, Product
from sales.selectors import bot_settings, delivery_table, product_list
from sales.services.catalog import (
    ProductChanges,
    category_for_name,
    product_archive,
    product_restore,
    product_save,
)
from sales.services.catalog_csv import catalog_export_stream, catalog_import_create
from sales.services.settings import (
    RateData,
    bot_settings_set_openrouter_key,
    bot_settings_update,
    delivery_rates_update,
)
from sellers.middleware import require_owner
from sellers.selectors import user_can_access_seller


def add_validation_error(form: BaseForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form fields it names (else the form)."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error)


# --- Catalog ------------------------------------------------------------------------------


def catalog_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    status = request.GET.get("status", "active")
    if status not in ("active", "archived", "all"):
        status = "active"
    page = Paginator(product_list(query=query, status=status), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/catalog_list.html",
        {"page": page, "query": query, "status": status},
    )


def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk) if pk else None
    instance = product or Product()
    form = ProductForm(request.POST or None, request.FILES or None, instance=instance)
    formset = VariantFormSet(request.POST or None, instance=instance, prefix="variants")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = dict(form.cleaned_data)
        data["category"] = category_for_name(data.pop("category_name", ""))
        new_images = data.pop("new_images", [])
        variants, deleted = [], []
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms:
                if variant_form.instance.pk:
                    deleted.append(variant_form.instance.pk)
            elif variant_form.instance.pk or variant_form.has_changed():
                variants.append(variant_form.to_data())
        changes = ProductChanges(
            fields=data,
            variants=variants,
            delete_variant_ids=deleted,
            new_images=new_images,
            delete_image_ids=[pk for pk in map(strict_int, request.POST.getlist("delete_image")) if pk is not None],
        )
        try:
            saved = product_save(product=product, changes=changes)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("“%(name)s” was saved.") % {"name": saved.display_name(get_language())})
            return redirect("catalog:list")
    return render(
        request,
        "sales/product_form.html",
        {"form": form, "formset": formset, "product": product},
    )


@require_POST
def product_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_archive(product=get_object_or_404(Product, pk=pk))
    messages.success(request, _("“%(name)s” was archived.") % {"name": product.display_name(get_language())})
    return redirect("catalog:list")


@require_POST
def product_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    product = product_restore(product=get_object_or_404(Product, pk=pk))
    messages.success(request, _("“%(name)s” is back in the catalog.") % {"name": product.display_name(get_language())})
    return redirect(reverse("catalog:list") + "?status=archived")


def catalog_export(request: HttpRequest) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        catalog_export_stream(base_url=f"{request.scheme}://{request.get_host()}"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="catalog-{stamp}.csv"'
    return response


def catalog_import(request: HttpRequest) -> HttpResponse:
    form = CatalogImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = catalog_import_create(upload=form.cleaned_data["file"], user_id=request.user.pk)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("catalog:import_detail", pk=job.pk)
    imports = CatalogImport.objects.all()[:10]
    return render(request, "sales/catalog_import.html", {"form": form, "imports": imports})


def catalog_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(CatalogImport, pk=pk)
    return render(request, "sales/catalog_import_detail.html", {"job": job})


def catalog_import_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_object_or_404(CatalogImport, pk=pk)
    return JsonResponse(_import_payload(job))


def _import_payload(job: CatalogImport) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "percent": job.percent,
        "total": job.total_rows,
        "processed": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "error_count": len(job.errors),
        "errors": job.errors[:200] if job.status == CatalogImport.Status.DONE else [],
        "error_message": job.error_message,
    }


# --- Settings -----------------------------------------------------------------------------


def bot_settings_view(request: HttpRequest) -> HttpResponse:
    row = bot_settings()
    form = BotSettingsForm(request.POST or None, instance=row)
    if request.method == "POST":
        require_owner(request)
        if form.is_valid():
            try:
                with transaction.atomic():
                    bot_settings_update(**form.settings_values())
                    key = form.cleaned_data.get("openrouter_key", "")
                    if key or form.cleaned_data.get("forget_openrouter_key"):
                        bot_settings_set_openrouter_key(key=key)
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                messages.success(request, _("Bot settings saved."))
                return redirect("settings:bot")
    return render(
        request,
        "sales/bot_settings.html",
        {"form": form, "has_key": bool(row.openrouter_key_encrypted), "key_unreadable": row.openrouter_key_unreadable},
    )


@require_POST
def bot_toggle(request: HttpRequest) -> HttpResponse:
    require_owner(request)
    row = bot_settings_update(is_enabled=not bot_settings().is_enabled)
    messages.success(request, _("The bot is on.") if row.is_enabled else _("The bot is off."))
    return redirect("dashboard:home")


def _parse_fee(value: str) -> int | None:
    value = (value or "").strip().replace(" ", "")
    if not value:
        return None
    return int(value)


def delivery_settings(request: HttpRequest) -> HttpResponse:
    rows = delivery_table(get_language() or "fr")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        require_owner(request)
        rates = []
        for row in rows:
            number = row["number"]
            try:
                rate = RateData(
                    wilaya=number,
                    is_served=request.POST.get(f"served_{number}") == "on",
                    home_fee=_parse_fee(request.POST.get(f"home_{number}", "")),
                    desk_fee=_parse_fee(request.POST.get(f"desk_{number}", "")),
                    days=_parse_fee(request.POST.get(f"days_{number}", "")),
                )
            except ValueError:
                errors[str(number)] = [_("Fees are whole numbers of dinars.")]
                continue
            rates.append(rate)
            row.update(is_served=rate.is_served, home_fee=rate.home_fee, desk_fee=rate.desk_fee, days=rate.days)
        if not errors:
            try:
                changed = delivery_rates_update(rates=rates)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Delivery fees saved (%(count)d changed).") % {"count": changed})
                return redirect("settings:delivery")
        for row in rows:
            row["errors"] = errors.get(str(row["number"]), [])
        messages.error(request, _("Some fees need a look; nothing was saved."))
    served = sum(1 for row in rows if row["is_served"])
    return render(request, "sales/delivery_settings.html", {"rows": rows, "served": served})


# --- Files --------------------------------------------------------------------------------


def tenant_media(request: HttpRequest, schema: str, path: str) -> HttpResponse | FileResponse:
    """Serve the seller's uploaded files on its domain: product images to anyone (customers
    see them in the chat), everything else (imports, conversation media) to members only.
    The rule is decided on the canonical path (ma5zani.media)."""
    seller = getattr(request, "seller", None)
    if seller is None or schema != seller.schema_name:
        raise Http404
    parts = media_path_parts(path)
    if not media_is_public(parts) and not user_can_access_seller(request.user, seller):
        raise Http404
    return media_serve(request, schema=schema, parts=parts)


def product_image(request: HttpRequest, schema: str, path: str) -> HttpResponse | FileResponse:
    """Product images on the public site, where the widget (on the seller's own site) finds them."""
    from sellers.selectors import sellers_real

    parts = ("products", *media_path_parts(path))
    if not sellers_real().filter(schema_name=schema, is_active=True).exists():
        raise Http404
    return media_serve(request, schema=schema, parts=parts)
