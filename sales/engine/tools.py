"""The OpenRouter engine's tools: what the model may read and change, run through the same order
services as the dashboard, in the seller's schema.

The model finds products with `search_catalog` (or in its context), which gives product ids and
variant ids with their size, colour, stock and price; every other tool takes those ids, never a
name or a SKU. An id the model was not given in this reply (a guess, another shop's, a deleted
product's) is refused, and so is a product no longer for sale.

Each call runs in its own transaction: a call that fails changes nothing. Its result is a JSON
object the model can act on: `{"ok": true, ...}` with, for every order change, the order's
summary exactly as it would be confirmed (lines, fee, discount, total, what is missing); or
`{"ok": false, "error": <code>, "message": <what is wrong>, ...}` with, where it helps, the valid
choices (the product's variants, the units left, the expected phone format, close communes).
A tool never raises: an unexpected failure is logged and reported as `internal`.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from jsonschema import Draft202012Validator

from sales.engine.base import EngineContext
from sales.engine.builtin import match_products
from sales.engine.language import normalize
from sales.engine.prompt import order_facts, product_facts, urgency_allowed, variant_facts
from sales.geo import communes_of, find_wilaya, wilaya_by_number, wilayas
from sales.models import Order, Product, Variant
from sales.selectors import served_rate
from sales.services.orders import (
    MAX_QUANTITY,
    DraftChanges,
    OrderError,
    OutOfStock,
    discount_quote,
    order_confirm,
    order_delivery_problem,
    order_draft_for,
    order_grant_discount,
    order_missing,
    order_open_for,
    order_set_item,
    order_set_status,
    order_submit,
    order_update_draft,
)

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 5
CLOSE_CHOICES = 5
PHONE_FORMAT = (
    "an Algerian mobile number: 10 digits starting with 05, 06 or 07 (e.g. 0550 12 34 56), or +213 then 9 digits"
)

# --- The schemas sent to the model (and checked on every call) -----------------------------

PRODUCT_ID = {"type": "integer", "minimum": 1, "description": "product_id from search_catalog or the context"}
VARIANT_ID = {"type": "integer", "minimum": 1, "description": "variant_id of that product"}
QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}


def _tool(
    name: str, description: str, properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


ITEM = {"product_id": PRODUCT_ID, "variant_id": VARIANT_ID}
TOOLS = [
    _tool(
        "search_catalog",
        "Find products by the words the customer used (any language). Gives product ids and, for each "
        "variant, its variant_id, size, colour, units in stock and price: the other tools take these ids.",
        {"query": {"type": "string", "minLength": 1, "maxLength": 200}},
        ("query",),
    ),
    _tool("get_product", "A product with its variants, prices and stock.", {"product_id": PRODUCT_ID}, ("product_id",)),
    _tool("check_stock", "How many units of a variant are in stock.", ITEM, ("product_id", "variant_id")),
    _tool(
        "quote_price",
        "The price of a quantity of a variant with a requested discount, clamped to the shop's maximum "
        "(changes nothing).",
        {**ITEM, "quantity": QUANTITY, "discount_percent": PERCENT},
        ("product_id", "variant_id"),
    ),
    _tool(
        "add_item",
        "Put a variant in the customer's order (starting the order if needed); a second product is a second "
        "call. A variant already in the order gets this quantity.",
        {**ITEM, "quantity": QUANTITY},
        ("product_id", "variant_id", "quantity"),
    ),
    _tool(
        "change_variant",
        "Replace a variant of the order by another variant of the same product (another size or colour), "
        "keeping the quantity. For another product: remove_item, then add_item.",
        {**ITEM, "new_variant_id": {**VARIANT_ID, "description": "the variant_id to put instead"}},
        ("product_id", "variant_id", "new_variant_id"),
    ),
    _tool(
        "set_quantity",
        "Change the quantity of a variant already in the order.",
        {**ITEM, "quantity": QUANTITY},
        ("product_id", "variant_id", "quantity"),
    ),
    _tool("remove_item", "Take a variant out of the order.", ITEM, ("product_id", "variant_id")),
    _tool(
        "set_delivery_details",
        "Set or change the customer's details for delivery: any of the fields, all saved or none.",
        {
            "customer_name": {"type": "string", "minLength": 1, "maxLength": 200},
            "phone": {"type": "string", "minLength": 1, "maxLength": 40, "description": PHONE_FORMAT},
            "wilaya": {
                "type": "string",
                "minLength": 1,
                "maxLength": 80,
                "description": "the wilaya's name as the customer wrote it, or its number (1-69)",
            },
            "commune": {"type": "string", "minLength": 1, "maxLength": 120, "description": "a commune of the wilaya"},
            "address": {"type": "string", "minLength": 1, "maxLength": 300},
            "delivery_type": {
                "type": "string",
                "enum": list(Order.DeliveryType.values),
                "description": "home: to the address; desk: to the courier's stop desk",
            },
        },
        minProperties=1,
    ),
    _tool(
        "request_discount",
        "Grant a discount on the order the customer asked for; it is clamped to the shop's maximum.",
        {"percent": {**PERCENT, "minimum": 1}},
        ("percent",),
    ),
    _tool("cancel_order", "Cancel the customer's open order (the customer no longer wants it).", {}),
    _tool(
        "confirm_order",
        "Confirm the complete order after the customer said yes to the total you stated.",
        {"total_dzd": {"type": "integer", "minimum": 0, "description": "the total the customer agreed to"}},
        ("total_dzd",),
    ),
    _tool(
        "hand_off",
        "Pass the conversation to a person from the shop.",
        {"reason": {"type": "string", "minLength": 1, "maxLength": 200}},
        ("reason",),
    ),
]
SCHEMAS: dict[str, dict[str, Any]] = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


class ToolError(Exception):
    """A call the model can correct: an error code, what is wrong, and the valid choices."""

    def __init__(self, code: str, message: str, **choices: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.choices = code, message, choices

    def result(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, "message": self.message, **self.choices}


def _coerced(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Digits sent as a string for an integer, or a number for a string, read as meant."""
    values = dict(arguments)
    for key, value in values.items():
        kind = schema["properties"].get(key, {}).get("type")
        if kind == "integer" and isinstance(value, str) and value.strip().isdigit():
            values[key] = int(value.strip())
        elif kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
            values[key] = str(value)
    return values


def parse_arguments(name: str, raw: str | None) -> dict[str, Any]:
    """The call's arguments checked against the tool's schema, or a ToolError."""
    if name not in SCHEMAS:
        raise ToolError("unknown_tool", f"There is no tool {name!r}.", tools=sorted(SCHEMAS))
    try:
        arguments = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ToolError("bad_arguments", f"The arguments are not valid JSON ({exc.msg}).") from exc
    if not isinstance(arguments, dict):
        raise ToolError("bad_arguments", "The arguments must be a JSON object.", parameters=SCHEMAS[name])
    arguments = _coerced(SCHEMAS[name], arguments)
    errors = sorted(VALIDATORS[name].iter_errors(arguments), key=lambda error: list(error.absolute_path))
    if errors:
        problems = []
        for error in errors[:4]:
            where = "/".join(str(part) for part in error.absolute_path)
            problems.append(f"{where + ': ' if where else ''}{error.message}")
        raise ToolError("bad_arguments", "; ".join(problems) + ".", parameters=SCHEMAS[name])
    return arguments


# --- Places ---------------------------------------------------------------------------------


@cache
def _commune_names(wilaya: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(French name, normalized names) of the wilaya's communes, in the package's order."""
    return tuple(
        (place.name_fr, tuple(normalize(name) for name in (place.name_fr, place.name_ar, place.name_en)))
        for place in communes_of(wilaya)
    )


def close_communes(wilaya: int, text: str, limit: int = CLOSE_CHOICES) -> list[str]:
    """The communes of `wilaya` whose names are closest to `text` (French names)."""
    wanted = normalize(text)
    scored = [
        (max(difflib.SequenceMatcher(None, wanted, name).ratio() for name in names), position, french)
        for position, (french, names) in enumerate(_commune_names(wilaya))
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [french for _score, _position, french in scored[:limit]]


def wilayas_with_commune(text: str) -> list[dict[str, Any]]:
    """The wilayas that have a commune named exactly `text`."""
    wanted = normalize(text)
    found = []
    for place in wilayas():
        for french, names in _commune_names(place.number):
            if wanted in names:
                found.append({"wilaya": place.number, "wilaya_name": place.name_fr, "commune": french})
                break
    return found[:CLOSE_CHOICES]


def close_wilayas(text: str, limit: int = CLOSE_CHOICES) -> list[dict[str, Any]]:
    wanted = normalize(text)
    scored = sorted(
        wilayas(),
        key=lambda place: (
            -max(
                difflib.SequenceMatcher(None, wanted, normalize(name)).ratio()
                for name in (place.name_fr, place.name_ar, place.name_en)
            )
        ),
    )
    return [{"number": place.number, "name": place.name_fr} for place in scored[:limit]]


def _place(number: int) -> dict[str, Any]:
    place = wilaya_by_number(number)
    return {"number": number, "name": place.name_fr if place else str(number)}


# --- The tools ------------------------------------------------------------------------------


class ToolRun:
    """Runs the model's tool calls of one reply, in the seller's schema, through the services.

    `shown` holds the products whose ids the model was given: those of its context, then those
    it finds or fetches during the reply. Only these ids are accepted."""

    def __init__(self, context: EngineContext, shown: frozenset[int] | set[int] = frozenset()) -> None:
        self.context = context
        self.shown: set[int] = set(shown)
        self.handoff_reason = ""
        self.cards: dict[int, Product] = {}
        self.urgency = urgency_allowed(context)

    def __call__(self, name: str, raw_arguments: str | None) -> dict[str, Any]:
        try:
            arguments = parse_arguments(name, raw_arguments)
            handler: Callable[..., dict[str, Any]] = getattr(self, f"tool_{name}")
            with transaction.atomic():  # a call that fails leaves nothing behind
                result = handler(**arguments)
            return {"ok": True, **result}
        except ToolError as exc:
            return exc.result()
        except Exception:
            logger.exception("Tool %s failed", name)
            return ToolError("internal", "The tool failed and changed nothing; try once more or hand off.").result()

    # --- Reading ---------------------------------------------------------------------------

    def _facts(self, product: Product) -> dict[str, Any]:
        return product_facts(product, urgency=self.urgency)

    def _product(self, product_id: int, *, for_sale: bool = True) -> Product:
        product = Product.objects.prefetch_related("variants", "images").filter(pk=product_id).first()
        if product is None or product.pk not in self.shown:
            raise ToolError(
                "unknown_product",
                f"No product {product_id} was given to you: product ids come from search_catalog or the "
                "context. Search the catalog for what the customer wants.",
            )
        if for_sale and (not product.is_active or product.is_archived):
            raise ToolError("not_for_sale", f"Product {product_id} is no longer for sale.")
        return product

    def _variant(self, product: Product, variant_id: int, *, what: str = "variant") -> Variant:
        variants = list(product.variants.all())
        variant = next((v for v in variants if v.pk == variant_id), None)
        if variant is None:
            raise ToolError(
                "unknown_variant",
                f"Product {product.pk} has no {what} {variant_id}; its variants are listed.",
                variants=[variant_facts(v) for v in variants],
            )
        return variant

    def tool_search_catalog(self, query: str) -> dict[str, Any]:
        products = [match.product for match in match_products(query, SEARCH_LIMIT)]
        self.shown |= {product.pk for product in products}
        result: dict[str, Any] = {"products": [self._facts(product) for product in products]}
        if not products:
            result["message"] = "Nothing in the catalog matches; ask the customer to say it with other words."
        return result

    def tool_get_product(self, product_id: int) -> dict[str, Any]:
        product = self._product(product_id)
        self.cards[product.pk] = product
        return {"product": self._facts(product)}

    def tool_check_stock(self, product_id: int, variant_id: int) -> dict[str, Any]:
        variant = self._variant(self._product(product_id), variant_id)
        return {"variant": variant_facts(variant), "in_stock": variant.stock > 0}

    def tool_quote_price(
        self, product_id: int, variant_id: int, quantity: int = 1, discount_percent: int = 0
    ) -> dict[str, Any]:
        variant = self._variant(self._product(product_id), variant_id)
        quote = discount_quote(subtotal=variant.price * quantity, requested_percent=discount_percent)
        return {
            "unit_price_dzd": variant.price,
            "quantity": quantity,
            "discount_percent_granted": quote.granted_percent,
            "discount_percent_max": quote.max_percent,
            "total_before_delivery_dzd": quote.total_before_delivery,
        }

    # --- The order -------------------------------------------------------------------------

    def _order(self, *, create: bool = False) -> Order:
        """The open order, back to a draft if it awaited the customer's yes (a change means a
        new summary and a new yes)."""
        order = order_open_for(self.context.conversation_id)
        if order is None:
            if not create:
                raise ToolError("no_open_order", "There is no open order in this conversation; add_item starts one.")
            from conversations.models import Conversation

            conversation = Conversation.objects.select_related("customer").get(pk=self.context.conversation_id)
            order = order_draft_for(conversation=conversation)
        if order.status == Order.Status.AWAITING:
            order = order_set_status(order=order, status=Order.Status.DRAFT, by="customer")
        return order

    def _summary(self, order: Order) -> dict[str, Any]:
        """The order after a change, submitted for the customer's yes once it is complete."""
        order.refresh_from_db()
        if order.is_open and not order_missing(order) and order_delivery_problem(order) is None:
            order = order_submit(order=order)
        return {"order": order_facts(order)}

    def _line_items(self, order: Order) -> list[dict[str, Any]]:
        return list((order_facts(order) or {}).get("items", []))

    def _set_item(self, order: Order, product: Product, variant: Variant, quantity: int) -> Order:
        try:
            return order_set_item(order=order, variant=variant, quantity=quantity)
        except OutOfStock as exc:
            raise ToolError(
                "out_of_stock",
                f"Only {exc.available} left of variant {variant.pk}; nothing was changed.",
                available=exc.available,
                variants_in_stock=[variant_facts(v) for v in product.variants.all() if v.stock > 0],
            ) from exc
        except OrderError as exc:
            raise _order_error(exc) from exc

    def _in_order(self, order: Order, variant: Variant) -> int:
        line = order.items.filter(variant=variant).first()
        if line is None:
            raise ToolError(
                "not_in_order",
                f"Variant {variant.pk} is not in the order; its lines are listed.",
                items=self._line_items(order),
            )
        return line.quantity

    def tool_add_item(self, product_id: int, variant_id: int, quantity: int) -> dict[str, Any]:
        product = self._product(product_id)
        variant = self._variant(product, variant_id)
        order = self._order(create=True)
        return self._summary(self._set_item(order, product, variant, quantity))

    def tool_change_variant(self, product_id: int, variant_id: int, new_variant_id: int) -> dict[str, Any]:
        product = self._product(product_id)
        old = self._variant(product, variant_id)
        new = self._variant(product, new_variant_id, what="variant (new_variant_id)")
        order = self._order()
        quantity = self._in_order(order, old)
        if new.pk != old.pk:
            already = order.items.filter(variant=new).values_list("quantity", flat=True).first() or 0
            order = self._set_item(order, product, new, min(quantity + already, MAX_QUANTITY))
            order = self._set_item(order, product, old, 0)
        return self._summary(order)

    def tool_set_quantity(self, product_id: int, variant_id: int, quantity: int) -> dict[str, Any]:
        product = self._product(product_id, for_sale=False)
        variant = self._variant(product, variant_id)
        order = self._order()
        self._in_order(order, variant)
        return self._summary(self._set_item(order, product, variant, quantity))

    def tool_remove_item(self, product_id: int, variant_id: int) -> dict[str, Any]:
        product = self._product(product_id, for_sale=False)
        variant = self._variant(product, variant_id)
        order = self._order()
        self._in_order(order, variant)
        return self._summary(self._set_item(order, product, variant, 0))

    def tool_set_delivery_details(self, **fields: str) -> dict[str, Any]:
        order = self._order(create=True)
        changes = DraftChanges(**fields)
        try:
            order = order_update_draft(order=order, changes=changes)
        except OrderError as exc:
            raise _order_error(exc) from exc
        except ValidationError as exc:
            raise _details_error(exc, changes, order) from exc
        if "wilaya" in fields or "delivery_type" in fields:
            _check_served(order)
        return self._summary(order)

    def tool_request_discount(self, percent: int) -> dict[str, Any]:
        order = self._order()
        if not order.items.exists():
            raise ToolError("empty_order", "The order has no item yet: add_item first (quote_price changes nothing).")
        try:
            quote = order_grant_discount(order=order, requested_percent=percent, engine="openrouter")
        except OrderError as exc:
            raise _order_error(exc) from exc
        return {
            "requested_percent": quote.requested_percent,
            "granted_percent": quote.granted_percent,
            "max_percent": quote.max_percent,
            **self._summary(order),
        }

    def tool_cancel_order(self) -> dict[str, Any]:
        order = order_open_for(self.context.conversation_id)
        if order is None:
            raise ToolError("no_open_order", "There is no open order to cancel.")
        order = order_set_status(order=order, status=Order.Status.CANCELLED, by="customer", note="cancelled in chat")
        return {"reference": order.reference, "status": order.status}

    def tool_confirm_order(self, total_dzd: int) -> dict[str, Any]:
        order = order_open_for(self.context.conversation_id)
        if order is None:
            raise ToolError("no_open_order", "There is no open order to confirm.")
        missing = order_missing(order)
        if missing:
            raise ToolError(
                "incomplete", "The order cannot be confirmed yet: ask for what is missing.", missing=missing
            )
        if order.total != total_dzd:
            raise ToolError(
                "total_changed",
                f"The order's total is {order.total} DZD, not {total_dzd}: give the customer the summary again "
                "and confirm after their yes.",
                order=order_facts(order),
            )
        try:
            confirmed = order_confirm(order=order, by="customer")
        except OutOfStock as exc:
            raise ToolError(
                "out_of_stock",
                f"Only {exc.available} left of variant {exc.variant.pk}: change the quantity or the variant.",
                variant_id=exc.variant.pk,
                available=exc.available,
            ) from exc
        except OrderError as exc:
            raise _order_error(exc) from exc
        if confirmed.total != total_dzd:  # a fee changed at the last moment: undone (atomic)
            raise ToolError(
                "total_changed",
                f"The order's total is now {confirmed.total} DZD, not {total_dzd}: tell the customer and ask again.",
                total_dzd=confirmed.total,
            )
        return {"reference": confirmed.reference, "status": confirmed.status, "order": order_facts(confirmed)}

    def tool_hand_off(self, reason: str) -> dict[str, Any]:
        self.handoff_reason = reason[:200]
        return {}


def _order_error(exc: OrderError) -> ToolError:
    code = exc.code or "order_error"
    messages = {
        "closed": "The order can no longer be changed (it was confirmed or cancelled).",
        "quantity": f"The quantity must be between 1 and {MAX_QUANTITY}.",
        "not_for_sale": "A product of the order is no longer for sale: remove it.",
        "incomplete": "The order is not complete yet.",
        "not_served": "The shop does not deliver this wilaya with this delivery type.",
    }
    return ToolError(code, messages.get(code, " ".join(exc.messages)))


def _check_served(order: Order) -> None:
    """The wilaya and delivery type chosen must be delivered; otherwise nothing is saved."""
    if not order.wilaya:
        return
    rate = served_rate(order.wilaya)
    place = _place(order.wilaya)
    if rate is None:
        raise ToolError(
            "not_served", f"The shop does not deliver to {place['name']} ({place['number']}); nothing was saved."
        )
    if order.delivery_type:
        fees = {Order.DeliveryType.HOME: rate.home_fee, Order.DeliveryType.DESK: rate.desk_fee}
        if fees[Order.DeliveryType(order.delivery_type)] is None:
            raise ToolError(
                "delivery_type_unavailable",
                f"No {order.delivery_type} delivery to {place['name']}; nothing was saved.",
                choices=[{"delivery_type": kind, "fee_dzd": fee} for kind, fee in fees.items() if fee is not None],
            )


FIELD_ORDER = ("customer_name", "phone", "wilaya", "commune", "address", "delivery_type")


def _details_error(exc: ValidationError, changes: DraftChanges, order: Order) -> ToolError:
    """One error per bad field, the first as the result's code; nothing was saved."""
    fields = getattr(exc, "message_dict", {}) or {"details": exc.messages}
    errors = [_field_error(field, changes, order) for field in FIELD_ORDER if field in fields]
    if not errors:
        return ToolError("invalid_details", " ".join(exc.messages) + " Nothing was saved.")
    first, rest = errors[0], errors[1:]
    if rest:
        first.choices["other_errors"] = [error.result() for error in rest]
    return first


def _field_error(field: str, changes: DraftChanges, order: Order) -> ToolError:
    if field == "phone":
        return ToolError("invalid_phone", f"{changes.phone!r} is not an Algerian mobile number; nothing was saved.",
                         expected=PHONE_FORMAT)  # fmt: skip
    if field == "wilaya":
        return ToolError(
            "unknown_wilaya",
            f"{changes.wilaya!r} is not a wilaya; nothing was saved.",
            expected="a wilaya's name or its number (1-69)",
            close_wilayas=close_wilayas(str(changes.wilaya)),
        )
    if field == "commune":
        place = find_wilaya(str(changes.wilaya)) if changes.wilaya is not None else None
        wilaya = place.number if place else order.wilaya
        if not wilaya:
            return ToolError("wilaya_first", "Give the wilaya before the commune; nothing was saved.")
        commune = str(changes.commune)
        error = ToolError(
            "commune_not_in_wilaya",
            f"{commune!r} is not a commune of {_place(wilaya)['name']} ({wilaya}); nothing was saved.",
            wilaya=_place(wilaya),
            close_communes=close_communes(wilaya, commune),
        )
        elsewhere = wilayas_with_commune(commune)
        if elsewhere:
            error.choices["found_in_wilayas"] = elsewhere
        return error
    if field == "customer_name":
        return ToolError("invalid_name", "The name must have at least 2 letters; nothing was saved.")
    if field == "address":
        return ToolError("invalid_address", "The address is too short; nothing was saved.")
    return ToolError("invalid_delivery_type", "The delivery type is home or desk; nothing was saved.",
                     choices=list(Order.DeliveryType.values))  # fmt: skip
