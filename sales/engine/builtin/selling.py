"""Answers that sell: a product's price and what is in stock, delivery fees, payment, trust,
suggestions, urgency and social proof when true, objections and discounts within the seller's
maximum."""

from __future__ import annotations

import contextlib

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format

from sales.engine.amounts import requested_percent
from sales.engine.builtin.turn import FEW_LEFT, SOCIAL_PROOF_MIN, Answer, product_card
from sales.engine.texts import money, say
from sales.geo import wilaya_by_number
from sales.models import Product, Variant
from sales.selectors import product_orders_this_week, served_rate
from sales.services.orders import OrderError, discount_promise, order_grant_discount
from sales.understanding.catalog import variant_in, variant_label
from sales.understanding.places import wilaya_named


def in_stock(product: Product) -> list[Variant]:
    return [variant for variant in product.variants.all() if variant.stock > 0]


def offer_products(turn: Answer, products: list[Product]) -> None:
    for product in products:
        turn.offer(product.display_name(turn.names), "product", product.pk)


def ask_which(turn: Answer, candidates: list[Product] | None = None, *, key: str = "which") -> None:
    """Ask which product, with the candidates (or the newest products) as buttons."""
    products = candidates or list(
        Product.objects.live().prefetch_related("variants", "images").order_by("-created_at")[:4]
    )
    if candidates:
        turn.say("which_of", list=", ".join(p.display_name(turn.names) for p in candidates))
    else:
        turn.say(key)
    offer_products(turn, products)


def catalog_answer(turn: Answer) -> None:
    in_stock_q = Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0))
    products = list(
        Product.objects.live().filter(in_stock_q).prefetch_related("variants", "images").order_by("-created_at")[:5]
    )
    if not products:
        turn.say("ask_items")
        return
    turn.say("catalog", list=", ".join(f"{p.display_name(turn.names)} ({money(p.price)})" for p in products))
    offer_products(turn, products)
    turn.cards += [product_card(p, turn.language) for p in products[:3]]


def product_answer(turn: Answer, product: Product, *, stock_only: bool = False) -> None:
    language = turn.language
    name = product.display_name(turn.names)
    available = in_stock(product)
    if not stock_only:
        line = say("price", language, name=name, price=money(product.price))
        if product.compare_at_price:
            line += say("was", language, old=money(product.compare_at_price))
        turn.lines.append(line)
    if available:
        overrides = {v.price for v in available if v.price != product.price}
        if overrides and not stock_only:
            listed = ", ".join(f"{variant_label(v, language) or name} ({money(v.price)})" for v in available)
        else:
            listed = ", ".join(dict.fromkeys(variant_label(v, language) or name for v in available))
        if stock_only:
            turn.lines.append(f"{name}: {say('variants', language, list=listed)}")
        else:
            turn.say("variants", list=listed)
        urgency(turn, product, sum(v.stock for v in available))
        social_proof(turn, product)
        turn.offer(say("order_it", language), "order", product.pk)
    else:
        turn.say("out", name=name)
    turn.cards.append(product_card(product, language))
    suggest(turn, product)


def urgency(turn: Answer, product: Product, stock: int) -> None:
    if not turn.rules.urgency:
        return
    if 0 < stock <= FEW_LEFT:
        turn.say("few_left", count=stock)
    if product.compare_at_price and product.promotion_ends_at and product.promotion_ends_at > timezone.now():
        turn.say("promo_until", date=date_format(timezone.localtime(product.promotion_ends_at), "SHORT_DATE_FORMAT"))


def social_proof(turn: Answer, product: Product, *, always: bool = False) -> None:
    if not (turn.rules.social_proof or always):
        return
    count = product_orders_this_week(product.pk)
    if count >= SOCIAL_PROOF_MIN:
        turn.say("social_proof", count=count)


def suggest(turn: Answer, product: Product) -> None:
    """Related products in stock: same category first, then the dearer ones (upsell). They are
    shown, never taken as the product the customer means."""
    if not turn.rules.suggestions:
        return
    exclude = {product.pk, *(match.product.pk for match in turn.matches)}
    stocked = Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0))
    related = Product.objects.live().exclude(pk__in=exclude).filter(stocked).prefetch_related("variants", "images")
    same = list(related.filter(category=product.category_id)[: turn.rules.suggestions]) if product.category_id else []
    if len(same) < turn.rules.suggestions:
        same += list(
            related.exclude(pk__in=[p.pk for p in same])
            .filter(price__gte=product.price)
            .order_by("price")[: turn.rules.suggestions - len(same)]
        )
    if same:
        turn.say("also", list=", ".join(p.display_name(turn.names) for p in same))
        offer_products(turn, same)
        turn.cards += [product_card(p, turn.language) for p in same]


def delivery_answer(turn: Answer) -> None:
    hit = wilaya_named(turn.reading, exclude=turn.product_tokens)
    place = hit.place if hit is not None and hit.certain else None
    order = turn.order
    if place is None and order is not None and order.wilaya:
        place = wilaya_by_number(order.wilaya)
    if place is None and turn.memory.pending.get("wilaya"):
        place = wilaya_by_number(int(turn.memory.pending["wilaya"]))
    if place is None:
        turn.say("which_wilaya")
        return
    wilaya = place.name(turn.names)
    rate = served_rate(place.number)
    if rate is None or (rate.home_fee is None and rate.desk_fee is None):
        turn.say("not_served", wilaya=wilaya)
        return
    fees = []
    if rate.home_fee is not None:
        fees.append(say("home_fee", turn.language, fee=money(rate.home_fee)))
    if rate.desk_fee is not None:
        fees.append(say("desk_fee", turn.language, fee=money(rate.desk_fee)))
    turn.say("delivery_fee", wilaya=wilaya, fees=", ".join(fees))
    if rate.days:
        turn.say("delivery_days", days=rate.days)


def trust_answer(turn: Answer) -> None:
    turn.say("trust")
    product = turn.product_in_play
    if product is not None:
        social_proof(turn, product, always=True)


def discount_answer(turn: Answer) -> None:
    """An objection gets the value first (a discount only as the intensity says); a discount
    asked for gets what the seller allows. Never an empty answer."""
    from sales.engine.builtin.ordering import draft_with

    context = turn.context
    maximum = context.max_discount_percent
    product = turn.product_in_play
    asked = "discount" in turn.intents
    if not asked:
        burst = set(context.burst)
        earlier = [t for t in context.history if t.author == "customer" and t.text not in burst]
        from sales.understanding.reading import Reading

        objections = 1 + sum(1 for t in earlier if "objection" in Reading(t.text).intents)
        if product is not None:
            turn.say("value", name=product.display_name(turn.names))
        else:
            turn.say("value_generic")
        offer_now = turn.rules.offer_after_objections and objections >= turn.rules.offer_after_objections
        if not (offer_now and maximum and product is not None):
            if product is not None:
                urgency(turn, product, sum(v.stock for v in product.variants.all()))
            else:
                ask_which(turn)
            return
        requested = max(1, int(maximum * turn.rules.offer_share))
    else:
        requested = requested_percent(context.text) or maximum
    if not maximum:
        turn.say("no_discount")
        return
    order = turn.order
    if order is None or not order.items.exists():
        if product is None:
            turn.say("value_generic")
            ask_which(turn)
            return
        variant = _single_variant(product, context.text, turn)
        if variant is None:
            # Quoted on the product's price and kept: the order that starts once a variant is
            # chosen gets it (sales.engine.builtin.ordering.draft_with).
            quote = discount_promise(
                conversation_id=context.conversation_id, requested_percent=requested, subtotal=product.price,
                engine="builtin",
            )  # fmt: skip
            percent = quote.granted_percent
            turn.say("offer", percent=percent, price=money(product.price - quote.discount), old=money(product.price))
            if quote.requested_percent > quote.granted_percent:
                turn.say("max_discount")
            return
        with contextlib.suppress(OrderError):
            order = draft_with(turn, product, variant, quantity=1)
    if order is None:
        turn.say("value_generic")
        return
    quote = order_grant_discount(order=order, requested_percent=requested, engine="builtin")
    order.refresh_from_db()
    turn.order = order
    base = order.subtotal or (product.price if product is not None else 0)
    if not base:
        turn.say("value_generic")
        return
    percent = order.discount_percent
    turn.say("offer", percent=percent, price=money(base - base * percent // 100), old=money(base))
    if quote.requested_percent > quote.granted_percent:
        turn.say("max_discount")


def _single_variant(product: Product, text: str, turn: Answer) -> Variant | None:
    available = in_stock(product)
    if len(available) == 1:
        return available[0]
    return variant_in(text, available, reading=turn.reading)
