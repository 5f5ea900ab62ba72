from __future__ import annotations

from django import template
from django.utils.translation import get_language

from sales.models import Product, Variant

register = template.Library()


@register.filter
def product_name(product: Product) -> str:
    """The product's name in the page's language, falling back to another one."""
    return product.display_name(get_language())


@register.filter
def variant_label(variant: Variant) -> str:
    options = " / ".join(value for value in (variant.size, variant.colour) if value)
    return options or variant.sku
