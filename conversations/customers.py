"""Returning customers: one customer across channels, recognized by phone number, channel
identity (a WhatsApp number, a Messenger id) and widget visitor id; merging two customers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from conversations.models import ChannelIdentity, Conversation, Customer


def customer_by_phone(phone: str, *, exclude: int | None = None) -> Customer | None:
    """The oldest customer known by this (E.164) number."""
    if not phone:
        return None
    customers = Customer.objects.filter(phone=phone)
    if exclude is not None:
        customers = customers.exclude(pk=exclude)
    return customers.order_by("first_seen_at", "pk").first()


@transaction.atomic
def customers_merge(*, keep: Customer, merge: Customer) -> Customer:
    """Move everything of `merge` (identities, conversations, orders, notes, tags) to `keep`
    and delete `merge`. The older first-seen date and any missing detail are kept."""
    from sales.models import Order

    if keep.pk == merge.pk:
        raise ValidationError(_("Choose two different customers."))
    keep = Customer.objects.select_for_update().get(pk=keep.pk)
    merge = Customer.objects.select_for_update().get(pk=merge.pk)
    ChannelIdentity.objects.filter(customer=merge).update(customer=keep)
    Conversation.objects.filter(customer=merge).update(customer=keep)
    Order.objects.filter(customer=merge).update(customer=keep)
    keep.name = keep.name or merge.name
    keep.phone = keep.phone or merge.phone
    keep.language = keep.language or merge.language
    keep.notes = "\n".join(part for part in (keep.notes, merge.notes) if part)
    keep.tags = list(dict.fromkeys([*keep.tags, *merge.tags]))
    keep.first_seen_at = min(keep.first_seen_at, merge.first_seen_at)
    keep.last_seen_at = max(keep.last_seen_at, merge.last_seen_at)
    keep.save()
    merge.delete()
    return keep


@transaction.atomic
def customer_recognize(*, customer_id: int, phone: str, name: str = "") -> Customer:
    """A customer gave their number (and name): if another customer has the number, they are the
    same person (the older record is kept); otherwise the number is remembered."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    known = customer_by_phone(phone, exclude=customer.pk)
    if known is not None:
        older, newer = sorted((known, customer), key=lambda c: (c.first_seen_at, c.pk))
        customer = customers_merge(keep=older, merge=newer)
    customer.phone = customer.phone or phone
    customer.name = customer.name or name[:200]
    customer.save(update_fields=["phone", "name"])
    return customer


def customer_list(*, query: str = "") -> QuerySet[Customer]:
    customers = Customer.objects.exclude(conversations__is_sandbox=True).prefetch_related("identities")
    query = " ".join(query.split())[:100]
    if query:
        customers = customers.filter(Q(name__icontains=query) | Q(phone__icontains=query.replace(" ", "")))
    return customers.order_by("-last_seen_at", "-pk")


def customer_summary(customer_id: int | None, limit: int = 3) -> dict[str, object]:
    """What the bot may know of a returning customer: a short summary, never the full history."""
    from sales.models import Order

    if customer_id is None:
        return {}
    sold = Order.objects.sold().filter(customer_id=customer_id)
    orders = list(sold.prefetch_related("items").order_by("-confirmed_at")[:limit])
    if not orders:
        return {}
    last = orders[0]
    return {
        "orders_count": len(orders) if len(orders) < limit else sold.count(),
        "past_orders": [
            {
                "date": order.confirmed_at.date().isoformat() if order.confirmed_at else "",
                "items": [
                    f"{item.quantity} × {item.product_name} {item.options}".strip() for item in order.items.all()
                ],
                "status": order.status,
            }
            for order in orders
        ],
        "last_delivery": {"wilaya": last.wilaya, "commune": last.commune, "delivery_type": last.delivery_type},
    }
