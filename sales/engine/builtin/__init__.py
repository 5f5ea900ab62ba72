"""The built-in engine: sells with no network and no key.

It reads the customer's message (sales.understanding: whole words and known names, per script,
with scores), answers from the catalog and the seller's delivery fees, applies the seller's
intensity (urgency and scarcity only when true, how soon a discount is offered, how many
suggestions) and takes the order one question at a time: items chosen by text or by its own
buttons, edits, details, the summary of exactly what will be sent and the confirmation, through
the order services (which own prices, discounts and stock). It remembers between messages only
what the customer said or chose (sales.engine.builtin.state), never its own suggestions. After
the sale it tells where an order is, takes complaints to a person, and honours opt-outs.

It is the default without a key and the fallback of the OpenRouter engine.
"""

from __future__ import annotations

from sales.engine.base import EngineContext, EngineReply
from sales.engine.builtin import after_sale
from sales.engine.builtin.details import apply_details, settle_confirmation, take_details
from sales.engine.builtin.ordering import take_items
from sales.engine.builtin.questions import confirm, next_step, reopen
from sales.engine.builtin.selling import (
    ask_which,
    catalog_answer,
    delivery_answer,
    discount_answer,
    in_stock,
    product_answer,
    trust_answer,
    urgency,
)
from sales.engine.builtin.state import MAX_ASKS, Memory, offer_of
from sales.engine.builtin.turn import FEW_LEFT, INTENSITY, Answer, name_language, open_order, product_card
from sales.engine.texts import say
from sales.geo import phone_in_text
from sales.models import Order
from sales.services.orders import order_missing, order_open_for
from sales.understanding.catalog import Match, match_products, variant_in, variant_label, variants_named
from sales.understanding.places import wilaya_named
from sales.understanding.reading import Reading

__all__ = [
    "FEW_LEFT", "INTENSITY", "BuiltinEngine", "Match", "match_products", "name_language", "product_card",
    "variant_in", "variant_label",
]  # fmt: skip

DETAIL_QUESTIONS = frozenset({"customer_name", "phone", "wilaya", "commune", "address", "delivery_type"})


class BuiltinEngine:
    name = "builtin"
    shows_typing = False  # answers in milliseconds

    def reply(self, context: EngineContext) -> EngineReply:
        order = order_open_for(context.conversation_id)
        memory = Memory(context.conversation_id, context.text, tapped=offer_of(context.choice))
        expecting = self._expecting(order, memory)
        reading = Reading(context.text, expecting=expecting)
        turn = Answer(context, context.reply_language, reading, memory, order)
        self._answer(turn, expecting)
        if not any(line.strip() for line in turn.lines):
            self._not_understood(turn)
        if turn.handoff_reason or not turn.asked:
            memory.answered()  # nothing is pending: the next question starts its count afresh
        memory.save()
        return turn.reply(self.name)

    @staticmethod
    def _expecting(order: Order | None, memory: Memory) -> str | None:
        if memory.pending.get("confirm"):
            return "confirm"
        if order is not None and order.status == Order.Status.AWAITING:
            return "summary"
        if order is not None and order.status == Order.Status.DRAFT:
            missing = order_missing(order)
            return missing[0] if missing else None
        if memory.question == "variant":
            return "variant"
        return None

    def _answer(self, turn: Answer, expecting: str | None) -> None:
        intents = turn.intents
        choice = turn.memory.choice
        kind = choice["kind"] if choice is not None else None
        buying = bool(intents & {"order", "price", "stock", "options"})
        if turn.chosen is not None:
            turn.memory.choose(turn.chosen)  # whatever the message is about, this product is the customer's

        # Not about buying: a person, an opt-out, a complaint, a cancellation, an order's status.
        if kind == "talk" or "human" in intents:
            after_sale.person(turn)
            return
        if "optout" in intents and not buying:
            after_sale.opt_out(turn)
            return
        if "complaint" in intents and not ("order" in intents and turn.chosen is not None):
            after_sale.complaint(turn)
            return
        if expecting == "confirm" and settle_confirmation(turn) is not None:
            next_step(turn)
            return
        named_something = bool(turn.matches) or bool(turn.reading.colours)
        if kind == "cancel" or ("cancel" in intents and not intents & {"add", "change"} and not named_something):
            after_sale.cancel(turn)
            return
        if "track" in intents and not (turn.chosen is not None and "order" in intents):
            if after_sale.track(turn):
                return
            if open_order(turn) is None:
                turn.say("track_none")
                turn.handoff_reason = "track_unknown"
                return

        order = open_order(turn)
        if order is not None and order.status == Order.Status.AWAITING:
            edits = intents & {"change", "remove", "add"} or turn.matches or turn.reading.colours
            if (kind == "yes" or ("yes" in intents and "no" not in intents)) and not edits:
                confirm(turn, order)
                return
            if (kind == "no" or "no" in intents) and not edits:
                reopen(turn, order)
                return

        # An answer the seller approved beats a generic one (not while details are being asked).
        if expecting in (None, "items", "variant"):
            from learning.services import knowledge_answer_for

            entry = knowledge_answer_for(turn.context.text, turn.language)
            if entry is not None:
                turn.lines.append(entry.answer)
                turn.progressed = True
                next_step(turn)
                return

        if "hesitation" in intents and not intents & {"objection", "discount", "order", "yes"}:
            turn.say("hesitation")
            product = turn.product_in_play
            if product is not None:
                urgency(turn, product, sum(v.stock for v in product.variants.all()))
            turn.offer(say("order_it", turn.language), "order", product.pk if product else None)
            return

        if intents & {"objection", "discount"}:
            discount_answer(turn)
            next_step(turn)
            return

        if kind == "product" and turn.chosen is not None:
            turn.memory.choose(turn.chosen)
        # "bghit khimar", "nheb 2 beige", "نحب زوج 41": a weak "I want" beside a product, a size,
        # a colour or a count is an order; so is a phone number given while a product is chosen.
        product = turn.product_in_play
        said = product is not None and (
            turn.reading.quantity is not None
            or bool(variants_named(turn.context.text, in_stock(product), reading=turn.reading))
        )
        named_any = turn.chosen is not None or bool(turn.matches)
        weak_want = turn.reading.weakly("order") and (named_any or said) and not intents & {"price", "stock"}
        # "زوج عطور مسك 50 مل": a count and a variant, asking nothing, is an order too.
        questions = intents & {"price", "stock", "delivery", "payment", "trust", "discount", "objection"}
        stated = said and turn.reading.quantity is not None and not questions
        weak_want = weak_want or stated
        gives_details = (
            product is not None and open_order(turn) is None and phone_in_text(turn.context.text) is not None
        )
        wants = "order" in intents or kind in ("order", "variant") or weak_want or gives_details
        if kind == "order" and choice is not None and choice.get("value"):
            from sales.models import Product

            product = Product.objects.live().filter(pk=choice["value"]).first()
            if product is not None and turn.chosen is None:
                turn.memory.choose(product)
                turn.__dict__.pop("product_in_play", None)
        if kind in ("delivery", "wilaya"):
            self._take_choice(turn, choice)
        engaged = (
            open_order(turn) is not None or wants or turn.memory.question == "variant" or expecting in DETAIL_QUESTIONS
        )
        if engaged:
            answered = self._answer_questions(turn, ask_product=False)
            took = take_details(turn, expecting)
            took = take_items(turn, wants=wants) or took
            if wants and turn.product_in_play is None and not turn.asked and not turn.matches:
                ask_which(turn, key="ask_items")
                turn.memory.ask("items", progressed=answered or took)
                return
            if answered or took or wants or open_order(turn) is not None:
                next_step(turn)
                if turn.lines:
                    return

        if "catalog" in intents and not turn.matches and not intents & {"price", "stock", "options"}:
            catalog_answer(turn)  # "ابعثولي الكتالوج" is no delivery question
            return
        if self._answer_questions(turn, ask_product=True):
            return
        if "catalog" in intents:
            catalog_answer(turn)
            return
        if "thanks" in intents:
            turn.say("thanks")
            return
        if "greeting" in intents or turn.context.is_first_contact:
            self._greet(turn)
            return

    @staticmethod
    def _take_choice(turn: Answer, choice: dict[str, object] | None) -> None:
        if choice is None:
            return
        field = "delivery_type" if choice["kind"] == "delivery" else "wilaya"
        order = open_order(turn)
        if order is not None:
            apply_details(turn, order, {field: choice["value"]})
        else:
            details = dict(turn.memory.pending.get("details") or {})
            details[field] = choice["value"]
            turn.memory.keep(details=details)
            turn.progressed = True

    @staticmethod
    def _answer_questions(turn: Answer, *, ask_product: bool) -> bool:
        """Price, stock, options, delivery, payment and trust questions. True when answered."""
        intents = turn.intents
        answered = False
        # "9adech l constantine?": a price with a wilaya and no product is the delivery's.
        place = wilaya_named(turn.reading, exclude=turn.product_tokens) if not turn.matches else None
        if place is not None and place.certain and intents & {"price", "stock"} and turn.chosen is None:
            intents = intents | {"delivery"}
        about_delivery = "delivery" in intents and not turn.matches
        product_question = bool(intents & {"price", "stock", "options"}) and not about_delivery
        # "w l 100 ml?", "et en bleu ?": a size or colour of the product under discussion, alone.
        in_play = turn.product_in_play
        answering = turn.memory.question in ("variant", "items") or open_order(turn) is not None
        if (
            not intents
            and not answering
            and in_play is not None
            and variants_named(turn.context.text, in_stock(in_play), reading=turn.reading)
        ):
            product_question = True
        if product_question and turn.ambiguous:
            ask_which(turn, turn.ambiguous)
            answered = True
        elif product_question or (ask_product and turn.chosen is not None and "order" not in intents):
            product = turn.chosen or turn.product_in_play
            if product is not None:
                product_answer(turn, product, stock_only="stock" in intents and "price" not in intents)
                if turn.chosen is not None:
                    turn.memory.choose(turn.chosen)
                # "kayen L bordeaux?" then "je le prends": the variant asked about is the one meant
                # (or, when the question left several open, one of them: "iPhone 15?" then "black").
                ranked = variants_named(turn.context.text, in_stock(product), reading=turn.reading)
                if ranked:
                    best = [variant.pk for score, variant in ranked if score == ranked[0][0]]
                    turn.memory.keep(variant=best[0] if len(best) == 1 else None, variants=best)
                answered = True
            elif ask_product:
                ask_which(turn)
                answered = True
        if "delivery" in intents:
            delivery_answer(turn)
            answered = True
        if "payment" in intents:
            turn.say("payment")
            answered = True
        if "trust" in intents:
            trust_answer(turn)
            answered = True
        if answered:
            turn.progressed = True
        return answered

    @staticmethod
    def _greet(turn: Answer) -> None:
        context = turn.context
        if context.past_orders and context.is_first_contact:
            name = f" {context.customer_name}" if context.customer_name else ""
            turn.say("welcome_back", name=name)
        if turn.language in ("ar", "msa") and context.greeting:
            turn.lines.append(context.greeting)
        else:
            turn.say("greet", persona=context.persona_name or "Amina", shop=context.shop_name)

    @staticmethod
    def _not_understood(turn: Answer) -> None:
        """Asked once, with buttons; the second time in a row a person takes over."""
        turn.quick_replies.clear()
        turn.offers.clear()
        count = turn.memory.ask("unknown", progressed=False)
        if count > MAX_ASKS:
            turn.hand_off("unsure")
            return
        turn.say("unknown_again" if count == MAX_ASKS else "unknown")
        turn.offer(say("order_it", turn.language), "order")
        turn.offer(say("talk_choice", turn.language), "talk")
