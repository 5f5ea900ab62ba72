"""Writes to the catalog: products, variants, images, archive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from PIL import Image, UnidentifiedImageError

from ma5zani.realtime import publish
from ma5zani.tenancy import current_schema
from sales.models import Category, Product, ProductImage, Variant

PRODUCT_FIELDS = (
    "code", "name_ar", "name_fr", "name_en", "description_ar", "description_fr", "description_en",
    "synonyms", "category", "price", "compare_at_price", "is_active",
)  # fmt: skip


@dataclass(frozen=True)
class VariantData:
    sku: str
    size: str = ""
    colour: str = ""
    stock: int = 0
    price_override: int | None = None
    id: int | None = None


@dataclass
class ProductChanges:
    """What the dashboard form or the API asks to change on one product."""

    fields: dict[str, Any]
    variants: Sequence[VariantData]
    delete_variant_ids: Iterable[int] = ()
    new_images: Sequence[UploadedFile] = ()
    delete_image_ids: Iterable[int] = ()


def code_from_name(name: str) -> str:
    """A product code from a name in any script: ASCII letters kept, the rest dropped."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    code = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48]
    return code or "product"


def product_unique_code(base: str) -> str:
    code, n = base, 2
    while Product.objects.filter(code=code).exists():
        code = f"{base}-{n}"
        n += 1
    return code


def category_for_name(name: str) -> Category | None:
    name = " ".join((name or "").split())
    if not name:
        return None
    category = Category.objects.filter(name__iexact=name).first()
    return category or Category.objects.create(name=name)


def validate_image(upload: UploadedFile) -> None:
    if upload.size and upload.size > settings.PRODUCT_IMAGE_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(size)d MB.")
            % {"name": upload.name, "size": settings.PRODUCT_IMAGE_MAX_BYTES // (1024 * 1024)},
            code="image_too_large",
        )
    try:
        with Image.open(upload) as picture:
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError(_("%(name)s is not an image.") % {"name": upload.name}, code="not_an_image") from exc
    finally:
        upload.seek(0)


def _apply_fields(instance: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


@transaction.atomic
def product_save(*, product: Product | None, changes: ProductChanges) -> Product:
    """Create or update a product with its variants and images, all or nothing.

    Raises ValidationError (with field names where known) and stores nothing on error.
    """
    product = product or Product()
    values = {k: v for k, v in changes.fields.items() if k in PRODUCT_FIELDS}
    if not values.get("code") and not product.code:
        name = values.get("name_fr") or values.get("name_en") or values.get("name_ar") or ""
        values["code"] = product_unique_code(code_from_name(name))
    _apply_fields(product, values)
    product.full_clean()
    product.save()

    delete_ids = set(changes.delete_variant_ids)
    existing = {v.pk: v for v in product.variants.all()}
    if delete_ids:
        product.variants.filter(pk__in=delete_ids).delete()
    for position, data in enumerate(changes.variants):
        variant = existing.get(data.id) if data.id else None
        if data.id and variant is None:
            raise ValidationError(_("Unknown variant."), code="unknown_variant")
        variant = variant or Variant(product=product)
        _apply_fields(
            variant,
            {
                "sku": data.sku.strip(),
                "size": data.size.strip(),
                "colour": data.colour.strip(),
                "stock": data.stock,
                "price_override": data.price_override,
                "position": position,
            },
        )
        variant.full_clean()
        variant.save()
    if not product.variants.exists():
        raise ValidationError(_("A product needs at least one variant."), code="no_variant")

    if changes.delete_image_ids:
        for image in product.images.filter(pk__in=list(changes.delete_image_ids)):
            image.image.delete(save=False)
            image.delete()
    next_position = product.images.count()
    for offset, upload in enumerate(changes.new_images):
        validate_image(upload)
        ProductImage.objects.create(product=product, image=upload, position=next_position + offset)

    catalog_changed()
    return product


@transaction.atomic
def product_archive(*, product: Product) -> Product:
    if product.archived_at is None:
        product.archived_at = timezone.now()
        product.save(update_fields=["archived_at", "updated_at"])
        catalog_changed()
    return product


@transaction.atomic
def product_restore(*, product: Product) -> Product:
    if product.archived_at is not None:
        product.archived_at = None
        product.save(update_fields=["archived_at", "updated_at"])
        catalog_changed()
    return product


def catalog_changed() -> None:
    """Tell the seller's open dashboards that the catalog changed (after commit)."""
    from sales.selectors import catalog_status

    schema = current_schema()

    def send() -> None:
        with schema_context(schema):
            status = catalog_status()
        publish(schema, "catalog.changed", status)

    transaction.on_commit(send)
