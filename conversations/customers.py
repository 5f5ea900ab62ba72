"""Returning customers: one customer across channels, recognized by phone number, channel
identity (a WhatsApp number, a Messenger id) and widget visitor id; merging two customers.
The reads (customer_by_phone, customer_list, customer_summary) are in conversations.selectors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from conversations.models import ChannelIdentity, Conversation, Customer
from conversations.selectors import customer_by_phone


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
