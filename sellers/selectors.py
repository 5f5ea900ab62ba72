"""Reads for sellers and memberships."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from ma5zani.caching import TTLCache
from sellers.models import Membership, Seller, User


def sellers_real() -> QuerySet[Seller]:
    """Every real shop: not the public tenant, not the template."""
    return Seller.objects.exclude(schema_name__in=[get_public_schema_name(), settings.TENANT_TEMPLATE_SCHEMA]).exclude(
        is_template=True
    )


def active_seller_schemas() -> list[str]:
    """The schemas that periodic work visits: every active real shop."""
    return list(sellers_real().filter(is_active=True).values_list("schema_name", flat=True))


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, seller__is_active=True, seller__is_template=False)
        .select_related("seller")
        .order_by("seller__name")
    )


def membership_for(user: object, seller: Seller | None) -> Membership | None:
    """The user's membership in `seller`, or None (anonymous users have none)."""
    if seller is None or not isinstance(user, User) or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, seller=seller).first()


def user_can_access_seller(user: object, seller: Seller | None) -> bool:
    """Members reach their seller; platform staff reach every seller."""
    if seller is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False) and getattr(user, "is_active", False):
        return True
    return membership_for(user, seller) is not None


def seller_primary_domain(seller: Seller) -> str:
    domain = seller.domains.filter(is_primary=True).first()
    return domain.domain if domain else f"{seller.slug}.{settings.BASE_DOMAIN}"


_names: TTLCache[str] = TTLCache(60.0)


def seller_name_cached(schema_name: str) -> str:
    """The shop's name for the message path (read at most once a minute per process)."""
    return _names.get(
        schema_name, lambda: Seller.objects.filter(schema_name=schema_name).values_list("name", flat=True).first() or ""
    )


def seller_id_for_schema(schema_name: str) -> int | None:
    """The id of the seller of a schema (None for the public and template ones)."""
    return Seller.objects.filter(schema_name=schema_name).values_list("pk", flat=True).first()
