"""The built-in engine: sells with no network and no key.

It reads intents from lexicons (sales.engine.lexicon), answers from the catalog and the seller's
delivery fees, applies the seller's intensity (urgency and scarcity only when true, how soon a
discount is offered, how many suggestions), and takes the order: it asks only for what the open
draft still misses, states the total with the delivery fee, asks for confirmation and confirms
through the order services (which own prices, discounts and stock). It is the default without a
key and the fallback of the OpenRouter engine.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format

from channels_app.base import ProductCard
from sales.engine.amounts import requested_percent
from sales.engine.base import EngineContext, EngineReply
from sales.engine.language import normalize, search_terms
from sales.engine.lexicon import intents_of, quantity_in
from sales.engine.texts import money, say
from sales.geo import (
    commune_in_text,
    find_commune,
    phone_in_text,
    wilaya_by_number,
    wilaya_in_text,
    without_place,
)
from sales.models import Order, Product, Variant
from sales.selectors import product_orders_this_week, served_rate
from sales.services.orders import (
    DraftChanges,
    OrderError,
    OutOfStock,
    order_confirm,
    order_draft_for,
    order_grant_discount,
    order_missing,
    order_open_for,
    order_set_item,
    order_set_status,
    order_submit,
    order_update_draft,
)

if TYPE_CHECKING:
    from conversations.models import Conversation

STOP_WORDS = frozenset(
    normalize(word)
    for word in """
    le la les un une des de du et est il elle je vous pour avec sur quel quelle the a an is of for
    and you do have what how much combien prix price stock dispo disponible available ch7al chhal
    kayen kayn wach wesh هل شحال كاين واش السعر commander commande order want veux nheb bghit
    taille size couleur colour color livraison delivery
    """.split()
)


@dataclass(frozen=True)
class Intensity:
    """What an intensity level allows (see docs/architecture.md, "Sales engine")."""

    urgency: bool  # mention low stock and promotion end dates (only when true)
    social_proof: bool  # mention real order counts of the week
    offer_after_objections: int  # the objection after which a discount is offered (0: never)
    offer_share: float  # share of the seller's maximum offered unasked
    suggestions: int  # related products suggested with an answer


INTENSITY = {
    "gentle": Intensity(urgency=False, social_proof=False, offer_after_objections=2, offer_share=0.5, suggestions=0),
    "balanced": Intensity(urgency=True, social_proof=True, offer_after_objections=1, offer_share=0.5, suggestions=1),
    "aggressive": Intensity(urgency=True, social_proof=True, offer_after_objections=1, offer_share=1.0, suggestions=2),
}
FEW_LEFT = 3
SOCIAL_PROOF_MIN = 3


@dataclass(frozen=True)
class Match:
    product: Product
    score: int


def match_products(text: str, limit: int = 3) -> list[Match]:
    """Live products whose names or synonyms share words with `text`, best first."""
    words = [w for w in search_terms(text) if len(w) >= 3 and w not in STOP_WORDS and not w.isdigit()]
    # A plural finds the singular too ("baskets" → "basket").
    words = [w[:-1] if len(w) > 4 and w[-1] in "sx" and w.isascii() else w for w in words]
    if not words:
        return []
    query = Q()
    for word in words:  # a trigram index serves these (sales.Product.search_text)
        query |= Q(search_text__contains=word)
    candidates = Product.objects.live().filter(query).values_list("pk", "search_text")[:200]
    scores = []
    for pk, search_text in candidates:
        vocabulary = set(search_text.split())
        score = sum(1 for word in words if word in vocabulary or any(word in term for term in vocabulary))
        if score:
            scores.append((-score, pk))
    scores.sort()
    best = {pk: -score for score, pk in scores[:limit]}
    products = Product.objects.filter(pk__in=best).prefetch_related("variants", "images")
    return sorted((Match(p, best[p.pk]) for p in products), key=lambda match: (-match.score, match.product.pk))


def name_language(language: str) -> str:
    return "ar" if language == "ar" else language if language in ("fr", "en") else "fr"


def product_card(product: Product, language: str) -> ProductCard:
    image = next(iter(product.images.all()), None)
    return ProductCard(
        product_id=product.pk,
        title=product.display_name(name_language(language)),
        price=product.price,
        in_stock=any(variant.stock > 0 for variant in product.variants.all()),
        image_url=image.image.url if image else "",
    )


def variant_label(variant: Variant) -> str:
    return " / ".join(value for value in (variant.size, variant.colour) if value)


def variant_in(text: str, variants: list[Variant]) -> Variant | None:
    """The variant whose size and/or colour the text names (a unique best match)."""
    words = set(normalize(text).split())
    scored = []
    for variant in variants:
        score = sum(1 for value in (variant.size, variant.colour) if value and normalize(value) in words)
        if score:
            scored.append((score, variant))
    scored.sort(key=lambda item: -item[0])
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    return None


class Answer:
    """One answer being composed."""

    def __init__(self, context: EngineContext, language: str, intents: set[str]) -> None:
        self.context = context
        self.language = language
        self.intents = intents
        self.rules = INTENSITY.get(context.intensity, INTENSITY["balanced"])
        self.lines: list[str] = []
        self.quick_replies: list[str] = []
        self.cards: list[ProductCard] = []
        self.handoff = False
        self.asked = False  # a question to the customer is in the answer already

    QUESTIONS = frozenset(
        {"which", "which_wilaya", "ask_variant", "ask_items", "ask_customer_name", "ask_phone", "ask_wilaya",
         "ask_commune", "ask_address", "ask_delivery_type", "bad_phone", "bad_commune", "change_what", "summary",
         "hesitation"}
    )  # fmt: skip

    @cached_property
    def matches(self) -> list[Match]:
        """The catalog's products named in the customer's message (searched once per answer)."""
        return match_products(self.context.text)

    @cached_property
    def product_in_play(self) -> Product | None:
        """The product the customer means: named now, else the latest one named in the chat."""
        if self.matches:
            return self.matches[0].product
        for past in reversed(self.context.history[-8:]):
            matches = match_products(past.text, 1)
            if matches:
                return matches[0].product
        return None

    def say(self, key: str, **values: object) -> None:
        self.asked = self.asked or key in self.QUESTIONS
        self.lines.append(say(key, self.language, **values))

    def reply(self) -> EngineReply:
        return EngineReply(
            text="\n".join(line for line in self.lines if line),
            quick_replies=tuple(dict.fromkeys(self.quick_replies))[:5],
            cards=tuple(self.cards[:3]),
            handoff=self.handoff,
            handoff_reason="unsure" if self.handoff else "",
            engine=BuiltinEngine.name,
        )


class BuiltinEngine:
    name = "builtin"
    shows_typing = False  # answers in milliseconds

    def reply(self, context: EngineContext) -> EngineReply:
        order = order_open_for(context.conversation_id)
        expecting = self._expecting(order)
        text = context.text
        intents = intents_of(text)
        language = context.reply_language
        turn = Answer(context, language, intents)

        # An answer the seller approved beats a generic one (not while details are being asked).
        if expecting is None or expecting == "items":
            from learning.services import knowledge_answer_for

            entry = knowledge_answer_for(text, language)
            if entry is not None:
                turn.lines.append(entry.answer)
                if order is not None:
                    self._next_step(turn, order)
                return turn.reply()

        if order is not None and order.status == Order.Status.AWAITING:
            if "yes" in intents and "no" not in intents:
                return self._confirm(turn, order)
            if "no" in intents:
                order_set_status(order=order, status=Order.Status.DRAFT, by="customer")
                turn.say("change_what")
                return turn.reply()

        if "hesitation" in intents and not intents & {"objection", "discount", "order", "yes"}:
            turn.say("hesitation")
            product = turn.product_in_play
            if product is not None:
                self._urgency(turn, product, sum(v.stock for v in product.variants.all()))
            turn.quick_replies += [say("order_it", language)]
            return turn.reply()

        if intents & {"objection", "discount"}:
            self._discount(turn, order)
            order = order_open_for(context.conversation_id)
            if order is not None:
                self._next_step(turn, order)
            return turn.reply()

        wants_to_order = "order" in intents
        if order is None and wants_to_order:
            order = order_draft_for(conversation=self._conversation(context))
        if order is not None:
            answered = self._answer_questions(turn, ask_product=False)
            captured = self._capture(turn, order, expecting)
            if answered or captured or wants_to_order or order.status == Order.Status.AWAITING:
                order.refresh_from_db()
                self._next_step(turn, order)
                return turn.reply()

        if self._answer_questions(turn, ask_product=True):
            return turn.reply()
        if "thanks" in intents:
            turn.say("thanks")
            return turn.reply()
        if "greeting" in intents or context.is_first_contact:
            self._greet(turn)
            return turn.reply()
        # Not understood: ask once, then bring in a person.
        unknown_before = say("unknown", language)
        if any(t.author == "bot" and t.text == unknown_before for t in context.history[-3:]):
            turn.say("unsure_handoff")
            turn.handoff = True
        else:
            turn.say("unknown")
        return turn.reply()

    # --- Pieces --------------------------------------------------------------------------

    @staticmethod
    def _conversation(context: EngineContext) -> Conversation:
        from conversations.models import Conversation

        return Conversation.objects.select_related("customer").get(pk=context.conversation_id)

    @staticmethod
    def _expecting(order: Order | None) -> str | None:
        if order is None or order.status != Order.Status.DRAFT:
            return None
        missing = order_missing(order)
        return missing[0] if missing else None

    def _greet(self, turn: Answer) -> None:
        context = turn.context
        if context.past_orders and context.is_first_contact:
            name = f" {context.customer_name}" if context.customer_name else ""
            turn.say("welcome_back", name=name)
        if turn.language == "ar" and context.greeting:
            turn.lines.append(context.greeting)
        else:
            turn.say("greet", persona=context.persona_name or "Amina", shop=context.shop_name)

    def _answer_questions(self, turn: Answer, *, ask_product: bool) -> bool:
        """Price, stock, options, delivery, payment and trust questions. True when answered."""
        intents = turn.intents
        answered = False
        matches = turn.matches
        about_delivery = "delivery" in intents and not matches
        if (intents & {"price", "stock", "options"} and not about_delivery) or (
            ask_product and matches and "order" not in intents
        ):
            product = matches[0].product if matches else (turn.product_in_play if not ask_product else None)
            if product is not None:
                self._product_answer(turn, product, matches, stock_only="stock" in intents and "price" not in intents)
                answered = True
            elif ask_product and intents & {"price", "stock", "options"} and not about_delivery:
                suggestions = list(Product.objects.live().order_by("-created_at")[:3])
                turn.say("which")
                turn.quick_replies += [p.display_name(name_language(turn.language)) for p in suggestions]
                answered = True
        if "delivery" in intents:
            self._delivery_answer(turn)
            answered = True
        if "payment" in intents:
            turn.say("payment")
            answered = True
        if "trust" in intents:
            turn.say("trust")
            product = turn.product_in_play
            if product is not None:
                self._social_proof(turn, product, always=True)
            answered = True
        return answered

    def _product_answer(self, turn: Answer, product: Product, matches: list[Match], *, stock_only: bool) -> None:
        language = turn.language
        name = product.display_name(name_language(language))
        variants = list(product.variants.all())
        in_stock = [v for v in variants if v.stock > 0]
        if not stock_only:
            line = say("price", language, name=name, price=money(product.price))
            if product.compare_at_price:
                line += say("was", language, old=money(product.compare_at_price))
            turn.lines.append(line)
        if in_stock:
            overrides = {v.price for v in in_stock if v.price != product.price}
            if overrides and not stock_only:
                listed = ", ".join(f"{variant_label(v) or name} ({money(v.price)})" for v in in_stock)
            else:
                listed = ", ".join(dict.fromkeys(variant_label(v) or name for v in in_stock))
            turn.say("variants", list=listed)
            self._urgency(turn, product, sum(v.stock for v in in_stock))
            self._social_proof(turn, product)
            turn.quick_replies.append(say("order_it", language))
        else:
            turn.say("out", name=name)
        turn.cards.append(product_card(product, language))
        self._suggest(turn, product, exclude={m.product.pk for m in matches})

    def _urgency(self, turn: Answer, product: Product, stock: int) -> None:
        if not turn.rules.urgency:
            return
        if 0 < stock <= FEW_LEFT:
            turn.say("few_left", count=stock)
        if product.compare_at_price and product.promotion_ends_at and product.promotion_ends_at > timezone.now():
            turn.say(
                "promo_until", date=date_format(timezone.localtime(product.promotion_ends_at), "SHORT_DATE_FORMAT")
            )

    def _social_proof(self, turn: Answer, product: Product, *, always: bool = False) -> None:
        if not (turn.rules.social_proof or always):
            return
        count = product_orders_this_week(product.pk)
        if count >= SOCIAL_PROOF_MIN:
            turn.say("social_proof", count=count)

    def _suggest(self, turn: Answer, product: Product, exclude: set[int]) -> None:
        """Related products in stock: same category first, then the dearer ones (upsell)."""
        if not turn.rules.suggestions:
            return
        in_stock = Exists(Variant.objects.filter(product=OuterRef("pk"), stock__gt=0))
        related = (
            Product.objects.live()
            .exclude(pk__in={product.pk, *exclude})
            .filter(in_stock)
            .prefetch_related("variants", "images")
        )
        same = (
            list(related.filter(category=product.category_id)[: turn.rules.suggestions]) if product.category_id else []
        )
        if len(same) < turn.rules.suggestions:
            same += list(
                related.exclude(pk__in=[p.pk for p in same])
                .filter(price__gte=product.price)
                .order_by("price")[: turn.rules.suggestions - len(same)]
            )
        if same:
            names = [p.display_name(name_language(turn.language)) for p in same]
            turn.say("also", list=", ".join(names))
            turn.quick_replies += names
            turn.cards += [product_card(p, turn.language) for p in same]

    def _delivery_answer(self, turn: Answer) -> None:
        place = wilaya_in_text(turn.context.text)
        if place is None:
            order = order_open_for(turn.context.conversation_id)
            place = wilaya_by_number(order.wilaya) if order is not None and order.wilaya else None
        if place is None:
            turn.say("which_wilaya")
            return
        wilaya = place.name(name_language(turn.language))
        rate = served_rate(place.number)  # both fees and the days in one read
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

    # --- Discounts -----------------------------------------------------------------------

    def _discount(self, turn: Answer, order: Order | None) -> None:
        context = turn.context
        maximum = context.max_discount_percent
        product = turn.product_in_play
        asked = "discount" in turn.intents
        if not asked:  # an objection: value first; a discount only when the intensity says so
            burst = set(context.burst)
            earlier = [t for t in context.history if t.author == "customer" and t.text not in burst]
            objections = 1 + sum(1 for t in earlier if "objection" in intents_of(t.text))
            if product is not None:
                turn.say("value", name=product.display_name(name_language(turn.language)))
            offer_now = turn.rules.offer_after_objections and objections >= turn.rules.offer_after_objections
            if not (offer_now and maximum and product is not None):
                if product is not None:
                    self._urgency(turn, product, sum(v.stock for v in product.variants.all()))
                return
            requested = max(1, int(maximum * turn.rules.offer_share))
        else:
            requested = requested_percent(context.text) or maximum
        if not maximum:
            turn.say("no_discount")
            return
        if order is None:
            if product is None:
                turn.say("which")
                return
            order = order_draft_for(conversation=self._conversation(context))
        if not order.items.exists() and product is not None:
            variant = self._variant_for(product, context.text)
            if variant is not None:
                with contextlib.suppress(OrderError):
                    order = order_set_item(order=order, variant=variant, quantity=1)
        quote = order_grant_discount(order=order, requested_percent=requested, engine=self.name)
        order.refresh_from_db()
        base = order.subtotal or (product.price if product is not None else 0)
        if not base:
            return
        percent = order.discount_percent
        turn.say("offer", percent=percent, price=money(base - base * percent // 100), old=money(base))
        if quote.requested_percent > quote.granted_percent:
            turn.say("max_discount")

    # --- Order capture -------------------------------------------------------------------

    @staticmethod
    def _variant_for(product: Product, text: str) -> Variant | None:
        in_stock = [v for v in product.variants.all() if v.stock > 0]
        if len(in_stock) == 1:
            return in_stock[0]
        return variant_in(text, in_stock)

    def _capture(self, turn: Answer, order: Order, expecting: str | None) -> bool:
        """Take what the message gives for the open order. True when something was taken or
        a problem was answered."""
        text = turn.context.text
        taken = False
        if expecting == "items" or "order" in turn.intents or (not order.items.exists()):
            taken = self._capture_item(turn, order) or taken
            order.refresh_from_db()
        changes = DraftChanges()
        phone = phone_in_text(text)
        if phone:
            changes.phone = phone
        elif expecting == "phone" and re.search(r"\d{4,}", text):
            turn.say("bad_phone")
            return True
        if "home" in turn.intents:
            changes.delivery_type = Order.DeliveryType.HOME
        elif "desk" in turn.intents:
            changes.delivery_type = Order.DeliveryType.DESK
        wilaya_number = order.wilaya
        place_text = text
        # A name is asked for: read it as a name, not as a place that sounds like it.
        looks_for_places = expecting != "customer_name"
        if looks_for_places and (expecting == "wilaya" or order.wilaya is None or "delivery" in turn.intents):
            place = wilaya_in_text(text, numbers=expecting == "wilaya", fuzzy=expecting == "wilaya")
            if place is not None and place.number != order.wilaya:
                changes.wilaya = wilaya_number = place.number
                place_text = without_place(text, place)  # "wahran" alone names no commune
        if (
            looks_for_places
            and wilaya_number
            and place_text
            and (expecting == "commune" or not order.commune or changes.wilaya)
        ):
            near = expecting == "commune"
            commune = find_commune(wilaya_number, place_text, fuzzy=near) or commune_in_text(
                wilaya_number, place_text, fuzzy=near
            )
            if commune is not None:
                changes.commune = commune.name_fr
            elif expecting == "commune" and changes == DraftChanges():
                place = wilaya_by_number(wilaya_number)
                turn.say("bad_commune", wilaya=place.name(name_language(turn.language)) if place else "")
                return True
        if expecting == "customer_name" and changes == DraftChanges() and not turn.intents:
            name = self._name_in(text)
            if name:
                changes.customer_name = name
        if expecting == "address" and changes == DraftChanges() and len(text.strip()) >= 3:
            changes.address = text.strip()
        if changes == DraftChanges():
            return taken
        try:
            order_update_draft(order=order, changes=changes)
        except ValidationError as error:
            fields = set(getattr(error, "message_dict", {}))
            if "phone" in fields:
                turn.say("bad_phone")
            elif "commune" in fields and order.wilaya:
                place = wilaya_by_number(order.wilaya)
                turn.say("bad_commune", wilaya=place.name(name_language(turn.language)) if place else "")
            return True
        return True

    def _capture_item(self, turn: Answer, order: Order) -> bool:
        product = turn.product_in_play
        if product is None:
            return False
        in_stock = [v for v in product.variants.all() if v.stock > 0]
        name = product.display_name(name_language(turn.language))
        if not in_stock:
            turn.say("out", name=name)
            return True
        variant = self._variant_for(product, turn.context.text)
        if variant is None:
            options = ", ".join(variant_label(v) for v in in_stock)
            turn.say("ask_variant", name=name, list=options)
            turn.quick_replies += [variant_label(v) for v in in_stock]
            return True
        existing = order.items.filter(variant=variant).first()
        quantity = quantity_in(turn.context.text) or (existing.quantity if existing else 1)
        try:
            order_set_item(order=order, variant=variant, quantity=quantity)
        except OutOfStock as error:
            turn.say("out_of_stock_order", name=name, count=error.available)
        except OrderError:
            turn.say("out", name=name)
        return True

    @staticmethod
    def _name_in(text: str) -> str:
        cleaned = re.sub(
            r"(?i)^\s*(ana|je m'appelle|je suis|my name is|i'm|i am|اسمي|انا|smiti|esmi|ismi)\s+", "", text.strip()
        )
        cleaned = cleaned.strip(" .,!")
        if re.search(r"\d", cleaned) or not (2 <= len(cleaned) <= 60) or len(cleaned.split()) > 4:
            return ""
        return cleaned

    def _next_step(self, turn: Answer, order: Order) -> None:
        """Ask for the first missing detail, or sum the order up and ask for confirmation."""
        if order.status not in (Order.Status.DRAFT, Order.Status.AWAITING):
            return
        if turn.asked:
            return  # a question is already asked (a variant, a commune again...)
        missing = order_missing(order)
        language = turn.language
        if missing:
            field = missing[0]
            if field == "commune" and order.wilaya:
                place = wilaya_by_number(order.wilaya)
                turn.say("ask_commune", wilaya=place.name(name_language(language)) if place else "")
            elif field == "delivery_type" and order.wilaya:
                rate = served_rate(order.wilaya)
                home, desk = (rate.home_fee, rate.desk_fee) if rate is not None else (None, None)
                if home is None and desk is None:
                    place = wilaya_by_number(order.wilaya)
                    turn.say("not_served", wilaya=place.name(name_language(language)) if place else "")
                    return
                turn.say(
                    "ask_delivery_type",
                    home=f"{money(home)} DA" if home is not None else "—",
                    desk=f"{money(desk)} DA" if desk is not None else "—",
                )
                turn.quick_replies += [say("home_choice", language), say("desk_choice", language)]
            elif field == "items" and (product := turn.product_in_play) is not None:
                in_stock = [v for v in product.variants.all() if v.stock > 0]
                if in_stock:
                    options = ", ".join(variant_label(v) for v in in_stock)
                    name = product.display_name(name_language(language))
                    turn.say("ask_variant", name=name, list=options)
                    turn.quick_replies += [variant_label(v) for v in in_stock]
                else:
                    turn.say("ask_items")
            else:
                turn.say(f"ask_{field}")
            return
        try:
            order = order_submit(order=order)
        except OrderError as error:
            if error.code == "not_served" and order.wilaya:
                place = wilaya_by_number(order.wilaya)
                turn.say("not_served", wilaya=place.name(name_language(language)) if place else "")
            return
        self._summary(turn, order)

    def _summary(self, turn: Answer, order: Order) -> None:
        language = turn.language
        lines = "\n".join(
            f"{item.quantity} × {item.product_name}{' (' + item.options + ')' if item.options else ''}: "
            f"{money(item.line_total)}"
            for item in order.items.all()
        )
        place = wilaya_by_number(order.wilaya) if order.wilaya else None
        discount = (
            say("summary_discount", language, percent=order.discount_percent, amount=money(order.discount))
            if order.discount
            else ""
        )
        turn.say(
            "summary",
            lines=lines,
            delivery=say("home_word" if order.delivery_type == "home" else "desk_word", language),
            commune=order.commune,
            wilaya=place.name(name_language(language)) if place else "",
            fee=money(order.delivery_fee),
            discount=discount,
            total=money(order.total),
        )
        turn.quick_replies += [say("yes", language), say("no", language)]

    def _confirm(self, turn: Answer, order: Order) -> EngineReply:
        try:
            order = order_confirm(order=order, by="customer")
        except OutOfStock as error:
            turn.say("out_of_stock_order", name=error.variant.sku, count=error.available)
            return turn.reply()
        except OrderError:
            self._next_step(turn, order)
            return turn.reply()
        turn.say("confirmed", reference=order.reference, total=money(order.total))
        return turn.reply()
