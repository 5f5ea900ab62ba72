"""Reads of the catalog and settings of the current seller (the active schema)."""

from __future__ import annotations

import copy
from datetime import timedelta as dt_timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from ma5zani.caching import TTLCache
from ma5zani.tenancy import current_schema
from sales.models import BotSettings, DeliveryRate, Order, Product, ProductImage, Variant


def product_list(*, query: str = "", status: str = "active") -> QuerySet[Product]:
    """Products for the dashboard list and the API, filtered by status and search text.

    `status` is one of active (not archived), archived, all. The search looks at every
    name, the code, the synonyms, the category and the SKUs.
    """
    products = Product.objects.select_related("category").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("position", "id")),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )
    if status == "archived":
        products = products.filter(archived_at__isnull=False)
    elif status != "all":
        products = products.filter(archived_at__isnull=True)
    query = " ".join(query.split())
    if query:
        matches: Q = Q()
        for term in query.split(" "):
            term_match = (
                Q(name_ar__icontains=term)
                | Q(name_fr__icontains=term)
                | Q(name_en__icontains=term)
                | Q(code__icontains=term)
                | Q(category__name__icontains=term)
                | Q(synonyms__icontains=term)
                | Q(Exists(Variant.objects.filter(product=OuterRef("pk"), sku__icontains=term)))
            )
            matches = matches & term_match
        products = products.filter(matches)
    return products.order_by("-created_at", "-id")


def catalog_status() -> dict[str, int]:
    """The figures on the dashboard home page."""
    counts = Product.objects.aggregate(
        active=Count("id", filter=Q(is_active=True, archived_at__isnull=True)),
        inactive=Count("id", filter=Q(is_active=False, archived_at__isnull=True)),
        archived=Count("id", filter=Q(archived_at__isnull=False)),
    )
    out_of_stock = Variant.objects.filter(stock=0, product__archived_at__isnull=True, product__is_active=True).count()
    return {
        "products_active": counts["active"],
        "products_inactive": counts["inactive"],
        "products_archived": counts["archived"],
        "variants_out_of_stock": out_of_stock,
        "bot_enabled": int(bot_settings().is_enabled),
    }


def bot_settings() -> BotSettings:
    """The seller's bot settings (created with defaults the first time)."""
    settings_row, _ = BotSettings.objects.get_or_create(pk=1)
    return settings_row


BOT_SETTINGS_CACHE_SECONDS = 5.0
_bot_settings: TTLCache[BotSettings] = TTLCache(BOT_SETTINGS_CACHE_SECONDS)


def bot_settings_cached() -> BotSettings:
    """The bot settings for the message path: read at most every few seconds per process (a
    change made elsewhere shows within BOT_SETTINGS_CACHE_SECONDS). A copy: callers may not
    change the cached row."""
    return copy.copy(_bot_settings.get(current_schema(), bot_settings))


def bot_settings_forget(schema: str | None = None) -> None:
    _bot_settings.forget(schema)


def delivery_table(language: str) -> list[dict[str, Any]]:
    """One row per wilaya with the seller's fees (none stored yet means not set)."""
    from sales.geo import wilayas

    stored = {rate.wilaya: rate for rate in DeliveryRate.objects.all()}
    rows = []
    for place in wilayas():
        number = place.number
        rate = stored.get(number)
        rows.append(
            {
                "number": number,
                "code": place.code,
                "name": place.name(language),
                "is_served": rate.is_served if rate else False,
                "home_fee": rate.home_fee if rate else None,
                "desk_fee": rate.desk_fee if rate else None,
                "days": rate.days if rate else None,
            }
        )
    return rows


def served_rate(wilaya: int) -> DeliveryRate | None:
    """The seller's fees and delivery time to a wilaya, or None when it is not served."""
    return DeliveryRate.objects.filter(wilaya=wilaya, is_served=True).first()


def delivery_quote(wilaya: int, *, home: bool) -> int | None:
    """The delivery fee to a wilaya, or None when the seller does not deliver there."""
    rate = served_rate(wilaya)
    if rate is None:
        return None
    return rate.home_fee if home else rate.desk_fee


def product_orders_this_week(product_id: int) -> int:
    """Confirmed orders of the last seven days that contain the product (social proof: only
    real figures)."""
    import datetime as dt

    from django.utils import timezone

    from sales.models import Order, OrderItem

    since = timezone.now() - dt.timedelta(days=7)
    return (
        OrderItem.objects.filter(
            variant__product_id=product_id,
            order__in=Order.objects.sold().filter(confirmed_at__gte=since),
        )
        .values("order_id")
        .distinct()
        .count()
    )


def engine_usage(*, months: int = 6) -> list[dict[str, Any]]:
    """Per month, oldest first: bot replies by engine, tokens and cost (USD)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth
    from django.utils import timezone

    from conversations.models import Message

    now = timezone.localtime()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - dt_timedelta(days=1)).replace(day=1)
    starts.reverse()
    rows = (
        Message.objects.filter(author=Message.Author.BOT, created_at__gte=starts[0], conversation__is_sandbox=False)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "engine")
        .annotate(count=Count("id"), tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost=Sum("cost_usd"))
    )
    table: dict[Any, dict[str, Any]] = {
        start.date(): {"month": start, "ai": 0, "builtin": 0, "tokens_in": 0, "tokens_out": 0, "cost": Decimal(0)}
        for start in starts
    }
    for row in rows:
        entry = table.get(timezone.localtime(row["month"]).date() if row["month"] else None)
        if entry is None:
            continue
        kind = (
            "ai"
            if str(row["engine"]).startswith("openrouter") and not str(row["engine"]).endswith(":replaced")
            else "builtin"
        )
        entry[kind] += row["count"]
        entry["tokens_in"] += row["tokens_in"] or 0
        entry["tokens_out"] += row["tokens_out"] or 0
        entry["cost"] += row["cost"] or Decimal(0)
    return list(table.values())


def order_list(
    *,
    status: str = "",
    channel: str = "",
    created_by: str = "",
    query: str = "",
    since: Any = None,
    tests: bool = False,
) -> QuerySet[Order]:
    """Orders for the dashboard and the export; the sandbox's test orders only when asked."""
    orders = Order.objects.filter(is_test=tests)
    if status == "open":
        orders = orders.open()
    elif status in Order.Status.values:
        orders = orders.filter(status=status)
    if channel:
        orders = orders.filter(channel=channel)
    if created_by in Order.CreatedBy.values:
        orders = orders.filter(created_by=created_by)
    if since:
        orders = orders.filter(created_at__date__gte=since)
    query = " ".join(query.split())[:100]
    if query:
        match = (
            Q(customer_name__icontains=query) | Q(phone__icontains=query.replace(" ", "")) | Q(commune__icontains=query)
        )
        if query.lstrip("#").isdigit():
            match |= Q(pk=int(query.lstrip("#")))
        orders = orders.filter(match)
    return orders.prefetch_related("items").order_by("-created_at", "-id")
