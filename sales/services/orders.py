"""Orders: the draft the bot fills, the seller's changes, confirmation with stock, statuses.

Every total is computed here from the catalog and the seller's rules, never taken from an engine
or a form: the unit price is the variant's price when the item is added, the discount is at most
the seller's maximum, the delivery fee is the seller's fee to the wilaya.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ma5zani.csvio import csv_stream
from ma5zani.realtime import publish
from ma5zani.tenancy import after_commit, current_schema
from sales.geo import algerian_mobile, find_commune, find_wilaya, wilaya_by_number
from sales.models import DiscountGrant, Order, OrderItem, OrderStatusChange, Variant
from sales.selectors import bot_settings_cached, delivery_quote

Status = Order.Status
By = OrderStatusChange.By

# Which status may follow which. Stock leaves on confirmation and comes back on a cancellation
# of a confirmed order or on a return.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.AWAITING, Status.CONFIRMED, Status.CANCELLED}),
    Status.AWAITING: frozenset({Status.DRAFT, Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.SHIPPED, Status.CANCELLED}),
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.RETURNED}),
    Status.DELIVERED: frozenset({Status.RETURNED}),
    Status.RETURNED: frozenset(),
    Status.CANCELLED: frozenset(),
}
RESTOCKING = {
    (Status.CONFIRMED, Status.CANCELLED),
    (Status.SHIPPED, Status.RETURNED),
    (Status.DELIVERED, Status.RETURNED),
}
MAX_QUANTITY = 100


class OrderError(ValidationError):
    """A change the order cannot take; `code` says which (the engines word it for the customer)."""


class OutOfStock(OrderError):
    def __init__(self, variant: Variant, available: int) -> None:
        super().__init__(
            _("Only %(available)s left of %(sku)s.") % {"available": available, "sku": variant.sku}, code="out_of_stock"
        )
        self.variant = variant
        self.available = available


def _publish(order: Order) -> None:
    payload = {"id": order.pk, "status": order.status, "total": order.total, "reference": order.reference}
    publish(current_schema(), "order.updated", payload)


def _record(order: Order, from_status: str, *, by: str, member_id: int | None = None, note: str = "") -> None:
    OrderStatusChange.objects.create(
        order=order, from_status=from_status, to_status=order.status, by=by, member_id=member_id, note=note[:300]
    )


# --- Drafts -------------------------------------------------------------------------------


def order_open_for(conversation_id: int) -> Order | None:
    return Order.objects.open().filter(conversation_id=conversation_id).first()


def order_draft_for(*, conversation: Any) -> Order:
    """The conversation's open order, created (empty, by the bot) when there is none."""
    order = order_open_for(conversation.pk)
    if order is not None:
        return order
    # A returning customer's details are those of their last order (shown in the summary, where
    # the customer confirms or changes them).
    last = (
        Order.objects.sold().filter(customer_id=conversation.customer_id).order_by("-confirmed_at", "-pk").first()
        if conversation.customer_id and not conversation.is_sandbox
        else None
    )
    remembered = (
        {
            "customer_name": last.customer_name, "phone": last.phone, "wilaya": last.wilaya,
            "commune": last.commune, "address": last.address, "delivery_type": last.delivery_type,
        }
        if last is not None
        else {"customer_name": (conversation.customer.name or "")[:200] if conversation.customer_id else ""}
    )  # fmt: skip
    try:
        with transaction.atomic():
            order = Order.objects.create(
                conversation=conversation,
                customer_id=conversation.customer_id,
                channel=conversation.channel,
                created_by=Order.CreatedBy.BOT,
                is_test=conversation.is_sandbox,
                **remembered,
            )
            _record(order, "", by=By.BOT)
    except IntegrityError:  # created meanwhile by another reply
        order = order_open_for(conversation.pk)
        assert order is not None
    return order


@dataclass
class DraftChanges:
    """What a customer gave in one message (None: not given)."""

    customer_name: str | None = None
    phone: str | None = None
    wilaya: str | int | None = None
    commune: str | None = None
    address: str | None = None
    delivery_type: str | None = None
    notes: str | None = None


def _clean_changes(order: Order, changes: DraftChanges) -> dict[str, Any]:
    """Validated values for the fields given; a ValidationError names every bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if changes.customer_name is not None:
        name = " ".join(changes.customer_name.split())[:200]
        if len(name) < 2:
            errors["customer_name"] = [_("Enter the name for the delivery.")]
        values["customer_name"] = name
    if changes.phone is not None:
        try:
            values["phone"] = algerian_mobile(changes.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    wilaya_number = order.wilaya
    if changes.wilaya is not None:
        place = (
            wilaya_by_number(changes.wilaya) if isinstance(changes.wilaya, int) else find_wilaya(str(changes.wilaya))
        )
        if place is None:
            errors["wilaya"] = [_("Unknown wilaya.")]
        else:
            wilaya_number = values["wilaya"] = place.number
            if order.commune and find_commune(place.number, order.commune) is None:
                values["commune"] = ""  # the commune was of another wilaya
    if changes.commune is not None:
        if wilaya_number is None:
            errors["commune"] = [_("Give the wilaya first.")]
        else:
            commune = find_commune(wilaya_number, changes.commune)
            if commune is None:
                errors["commune"] = [_("This commune is not in the wilaya.")]
            else:
                values["commune"] = commune.name_fr
    if changes.address is not None:
        address = " ".join(changes.address.split())[:300]
        if len(address) < 3:
            errors["address"] = [_("Enter the delivery address.")]
        values["address"] = address
    if changes.delivery_type is not None:
        if changes.delivery_type not in Order.DeliveryType.values:
            errors["delivery_type"] = [_("Choose home delivery or stop desk.")]
        values["delivery_type"] = changes.delivery_type
    if changes.notes is not None:
        values["notes"] = changes.notes[:2000]
    if errors:
        raise ValidationError(errors)
    return values


def _locked_open(order_id: int) -> Order:
    order = Order.objects.select_for_update().get(pk=order_id)
    if not order.is_open:
        raise OrderError(_("This order can no longer be changed."), code="closed")
    return order


@transaction.atomic
def order_update_draft(*, order: Order, changes: DraftChanges) -> Order:
    """Apply the customer's details to an open order (all or nothing) and reprice it."""
    locked = _locked_open(order.pk)
    values = _clean_changes(locked, changes)
    for field, value in values.items():
        setattr(locked, field, value)
    _reprice(locked)
    locked.save()
    after_commit(_publish, locked)
    return locked


@transaction.atomic
def order_set_item(*, order: Order, variant: Variant, quantity: int) -> Order:
    """Put `quantity` of `variant` in an open order (0 removes it). Stock is checked now and
    again at confirmation; the unit price is the catalog's."""
    locked = _locked_open(order.pk)
    if not 0 <= quantity <= MAX_QUANTITY:
        raise OrderError(_("Quantity must be between 1 and %(max)s.") % {"max": MAX_QUANTITY}, code="quantity")
    variant = Variant.objects.select_related("product").get(pk=variant.pk)
    if quantity and (not variant.product.is_active or variant.product.is_archived):
        raise OrderError(_("This product is not for sale."), code="not_for_sale")
    if quantity > variant.stock:
        raise OutOfStock(variant, variant.stock)
    item = locked.items.filter(variant=variant).first()
    if quantity == 0:
        if item is not None:
            item.delete()
    elif item is None:
        OrderItem.objects.create(
            order=locked,
            variant=variant,
            product_name=variant.product.display_name()[:200],
            sku=variant.sku,
            options=" / ".join(v for v in (variant.size, variant.colour) if v)[:100],
            quantity=quantity,
            unit_price=variant.price,
        )
    else:
        item.quantity, item.unit_price = quantity, variant.price
        item.save(update_fields=["quantity", "unit_price"])
    _reprice(locked)
    locked.save()
    after_commit(_publish, locked)
    return locked


@dataclass(frozen=True)
class DiscountQuote:
    requested_percent: int
    granted_percent: int
    max_percent: int
    subtotal: int
    discount: int
    total_before_delivery: int


def discount_quote(*, subtotal: int, requested_percent: int) -> DiscountQuote:
    """What a requested discount comes to under the seller's maximum (no state changed)."""
    maximum = bot_settings_cached().max_discount_percent
    requested = max(0, int(requested_percent))
    granted = min(requested, maximum)
    discount = subtotal * granted // 100
    return DiscountQuote(requested, granted, maximum, subtotal, discount, subtotal - discount)


@transaction.atomic
def order_grant_discount(*, order: Order, requested_percent: int, engine: str) -> DiscountQuote:
    """Grant a discount on an open order, clamped to the seller's maximum, and log it."""
    locked = _locked_open(order.pk)
    _reprice(locked)
    quote = discount_quote(subtotal=locked.subtotal, requested_percent=requested_percent)
    locked.discount_percent = max(locked.discount_percent, quote.granted_percent)
    _reprice(locked)
    locked.save()
    DiscountGrant.objects.create(
        conversation_id=locked.conversation_id,
        order=locked,
        requested_percent=min(quote.requested_percent, 1000),
        granted_percent=quote.granted_percent,
        max_percent=quote.max_percent,
        engine=engine[:32],
    )
    after_commit(_publish, locked)
    return quote


def discount_promise(*, conversation_id: int, requested_percent: int, subtotal: int, engine: str) -> DiscountQuote:
    """A discount offered before the conversation has an order (the customer has not chosen a
    variant yet): clamped to the seller's maximum and logged now; the order that starts later
    gets it (`order_keep_promise`)."""
    quote = discount_quote(subtotal=subtotal, requested_percent=requested_percent)
    DiscountGrant.objects.create(
        conversation_id=conversation_id,
        order=None,
        requested_percent=min(quote.requested_percent, 1000),
        granted_percent=quote.granted_percent,
        max_percent=quote.max_percent,
        engine=engine[:32],
    )
    return quote


@transaction.atomic
def order_keep_promise(*, order: Order) -> Order:
    """Apply the discounts promised in the order's conversation before it existed (still within
    the seller's maximum) and attach their log lines to it."""
    locked = _locked_open(order.pk)
    if locked.conversation_id is None:
        return locked
    promised = DiscountGrant.objects.filter(conversation_id=locked.conversation_id, order__isnull=True)
    best = max(promised.values_list("granted_percent", flat=True), default=0)
    if not best:
        return locked
    promised.update(order=locked)
    locked.discount_percent = max(locked.discount_percent, best)
    _reprice(locked)
    locked.save()
    after_commit(_publish, locked)
    return locked


def _reprice(order: Order) -> None:
    """Subtotal from the items, discount within the seller's maximum, delivery fee from the
    seller's rates (0 while the wilaya or delivery type is unknown)."""
    subtotal = sum(item.quantity * item.unit_price for item in order.items.all()) if order.pk else 0
    maximum = bot_settings_cached().max_discount_percent
    order.discount_percent = min(order.discount_percent, maximum)
    order.subtotal = subtotal
    order.discount = subtotal * order.discount_percent // 100
    fee = None
    if order.wilaya and order.delivery_type:
        fee = delivery_quote(order.wilaya, home=order.delivery_type == Order.DeliveryType.HOME)
    order.delivery_fee = fee or 0
    order.total = subtotal - order.discount + order.delivery_fee


REQUIRED = ("items", "customer_name", "phone", "wilaya", "commune", "address", "delivery_type")


def order_missing(order: Order) -> list[str]:
    """What the order still needs before it can be confirmed, in the order a person asks."""
    missing = []
    if not order.items.exists():
        missing.append("items")
    for field in REQUIRED[1:]:
        if not getattr(order, field):
            missing.append(field)
    return missing


def order_delivery_problem(order: Order) -> str | None:
    """Why the seller cannot deliver this order as chosen, or None."""
    if order.wilaya and order.delivery_type:
        fee = delivery_quote(order.wilaya, home=order.delivery_type == Order.DeliveryType.HOME)
        if fee is None:
            return "not_served"
    return None


def _require_complete(order: Order) -> None:
    missing = order_missing(order)
    if missing:
        raise OrderError(_("The order is missing: %(fields)s.") % {"fields": ", ".join(missing)}, code="incomplete")
    if order_delivery_problem(order):
        raise OrderError(_("This wilaya is not delivered with this delivery type."), code="not_served")


@transaction.atomic
def order_submit(*, order: Order, by: str = By.BOT) -> Order:
    """A complete draft goes to awaiting confirmation (the customer is asked to confirm)."""
    locked = _locked_open(order.pk)
    _require_complete(locked)
    _reprice(locked)
    if locked.status != Status.AWAITING:
        previous, locked.status = locked.status, Status.AWAITING
        locked.save()
        _record(locked, previous, by=by)
    else:
        locked.save()
    after_commit(_publish, locked)
    return locked


@transaction.atomic
def order_confirm(*, order: Order, by: str = By.CUSTOMER, member_id: int | None = None) -> Order:
    """Confirm a complete order and take its units out of stock, in one transaction.

    The variants' rows are locked in a fixed order, so two confirmations racing for the last
    unit run one after the other and the second finds no stock (OutOfStock, nothing changed).
    """
    locked = _locked_open(order.pk)
    _require_complete(locked)
    items = list(locked.items.all())
    variant_ids = sorted({item.variant_id for item in items if item.variant_id})
    if len(variant_ids) != len(items):
        raise OrderError(_("A product of this order was deleted from the catalog."), code="not_for_sale")
    variants = {v.pk: v for v in Variant.objects.select_for_update().filter(pk__in=variant_ids).order_by("pk")}
    for item in items:
        variant = variants[item.variant_id]  # type: ignore[index]
        if variant.stock < item.quantity:
            raise OutOfStock(variant, variant.stock)
    for item in items:
        if not locked.is_test:  # a sandbox order checks the stock but takes nothing
            Variant.objects.filter(order_items=item).update(stock=F("stock") - item.quantity)
    _reprice(locked)
    previous, locked.status, locked.confirmed_at = locked.status, Status.CONFIRMED, timezone.now()
    locked.save()
    _record(locked, previous, by=by, member_id=member_id)
    if locked.conversation_id and not locked.is_test:
        from conversations.models import Conversation

        Conversation.objects.filter(pk=locked.conversation_id).update(sales_stage=Conversation.Stage.ORDERED)
    if locked.customer_id and locked.phone and not locked.is_test:
        from conversations.customers import customer_phone_given

        # A number given in an order is a claim: kept on the customer while nobody else has it;
        # another customer's number makes a merge suggestion for the seller, never a merge.
        locked.customer = customer_phone_given(
            customer_id=locked.customer_id, phone=str(locked.phone), name=locked.customer_name, order_id=locked.pk
        )
    if locked.conversation_id and not locked.is_test:  # a conversation that sold: learn from it
        from learning.tasks import enqueue_extraction

        schema, conversation_id = current_schema(), locked.conversation_id
        transaction.on_commit(lambda: enqueue_extraction(schema, conversation_id))
    after_commit(_publish, locked)
    return locked


@transaction.atomic
def order_set_status(
    *, order: Order, status: str, by: str = By.SELLER, member_id: int | None = None, note: str = ""
) -> Order:
    """Move an order along its life (shipped, delivered, returned, cancelled...); stock comes
    back when a confirmed order is cancelled or a parcel is returned."""
    if status == Status.CONFIRMED:
        return order_confirm(order=order, by=by, member_id=member_id)
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if status not in TRANSITIONS.get(locked.status, frozenset()):
        raise OrderError(
            _("An order that is %(current)s cannot become %(new)s.")
            % {
                "current": locked.get_status_display(),
                "new": Status(status).label if status in Status.values else status,
            },
            code="transition",
        )
    if (locked.status, status) in RESTOCKING and not locked.is_test:
        for item in locked.items.exclude(variant=None).order_by("variant_id"):
            Variant.objects.filter(order_items=item).update(stock=F("stock") + item.quantity)
    previous, locked.status = locked.status, status
    locked.save()
    _record(locked, previous, by=by, member_id=member_id, note=note)
    after_commit(_publish, locked)
    return locked


@dataclass(frozen=True)
class SellerOrderData:
    variant_id: int
    quantity: int
    customer_name: str
    phone: str
    wilaya: int
    commune: str
    address: str
    delivery_type: str
    notes: str = ""


@transaction.atomic
def order_create_by_seller(*, data: SellerOrderData, member_id: int | None) -> Order:
    """An order the seller took by phone or in person: stored as awaiting confirmation."""
    order = Order.objects.create(created_by=Order.CreatedBy.SELLER, created_by_member_id=member_id)
    _record(order, "", by=By.SELLER, member_id=member_id)
    changes = DraftChanges(
        customer_name=data.customer_name,
        phone=data.phone,
        wilaya=data.wilaya,
        commune=data.commune,
        address=data.address,
        delivery_type=data.delivery_type,
        notes=data.notes,
    )
    variant = Variant.objects.filter(pk=data.variant_id).first()
    if variant is None:
        raise ValidationError({"variant_id": [_("Choose a product.")]})
    order = order_set_item(order=order, variant=variant, quantity=data.quantity)
    order = order_update_draft(order=order, changes=changes)
    return order_submit(order=order, by=By.SELLER)


# --- Exporting ----------------------------------------------------------------------------


CSV_HEADER = [
    "reference", "created_at", "status", "created_by", "channel", "customer_name", "phone", "wilaya",
    "wilaya_name", "commune", "address", "delivery_type", "items", "subtotal", "discount_percent",
    "discount", "delivery_fee", "total",
]  # fmt: skip


def _csv_row(order: Order) -> list[object]:
    wilaya = wilaya_by_number(order.wilaya) if order.wilaya else None
    items = "; ".join(
        f"{item.quantity} x {item.sku}{' (' + item.options + ')' if item.options else ''} @ {item.unit_price}"
        for item in order.items.all()
    )
    return [
        order.reference, order.created_at.isoformat(timespec="seconds"), order.status, order.created_by,
        order.channel, order.customer_name, str(order.phone) if order.phone else "", order.wilaya or "",
        wilaya.name_fr if wilaya else "", order.commune, order.address, order.delivery_type, items,
        order.subtotal, order.discount_percent, order.discount, order.delivery_fee, order.total,
    ]  # fmt: skip


def orders_csv_rows(orders: Iterable[Order]) -> Iterator[str]:
    """The orders as CSV text chunks (ma5zani.csvio: BOM, formula cells defused)."""
    return csv_stream(itertools.chain([CSV_HEADER], (_csv_row(order) for order in orders)))
