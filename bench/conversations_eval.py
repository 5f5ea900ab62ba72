"""How well the sales bot understands and serves real customers: the evaluation corpus
(`sales/tests/corpus/`) through the real message path.

An evaluation seller (bench database, schema of `bench-corpus`) gets the corpus's catalog through
the CSV import service, its delivery rates through `delivery_rates_update` and the default bot
settings (balanced intensity, 10 % maximum discount). Every customer message is a widget
`InboundMessage` stored by `conversations.services.ingest`; the reply task is run at once by
calling `conversation_reply` (the pause and Celery are skipped; delivery to the widget runs for
real; learning extraction is not enqueued). Each run starts from an empty shop.

1. Single messages: each message of `messages.jsonl` is the first message of a new conversation
   (a new visitor id). A message marked `past_order` comes from a customer whose conversation
   already holds a confirmed order (made through the order services before the message).
2. Scripted customers: each customer's script is played message by message; then, while the
   order is not confirmed and the bot still answers, at most 15 more messages answer what the
   open order lacks (the first field of `order_missing(order)`; "yes" when it awaits the
   customer's confirmation or lacks nothing; when the bot cannot deliver to the stored wilaya,
   the customer's own wilaya if the stored one is another, else the delivery type again), from
   the goal and in the customer's way of writing. The
   customer leaves when the bot sends the same text three times in a row.

Judges (behaviour and data only; every text is compared lower-cased, without accents, with the
Arabic alef/ta marbuta/ya variants and Arabic-Indic digits folded; amounts are read with any
thousands separator, so "8 500", "8500", "8.500" and "8,500" are one amount):

- language: the reply is mostly in Arabic letters for `ar` and `msa`, mostly in Latin letters for
  the others, and the conversation's stored language code is the expected one (`ar`, `msa`,
  `arabizi`, `fr`, `en`; STORED_CODES below). An empty reply does not match.
- "generic" replies: the replies the same run gave to the corpus's greetings and to a few
  unreadable messages (digits ignored). A generic reply never serves an intent but greeting.
- greeting: a nonempty reply, no order created, not handed off.
- catalog: the reply (with its quick replies and cards) names at least two catalog products.
- price: with a product named, one of its prices (variants' included) is in the reply; with none,
  the bot offers a choice (two products or more named).
- stock, options: the product is named and one of its in-stock sizes or colours appears (for a
  product with no stock at all: it is named, with a word saying it is unavailable, and no order
  holds it); with no product named, a choice as for price.
- delivery_fee: a served wilaya's home or stop-desk fee is in the reply; a wilaya not served (or
  without a rate): a nonempty reply with none of the rates' fees, not handed off; no wilaya named:
  a fee, or a question about the wilaya.
- delivery_time: a served wilaya's usual days are in the reply (digits, or the word for one or two
  days); not served: a nonempty reply, not handed off; no wilaya: some rate's days or a question
  about the wilaya.
- payment: the reply says payment is on delivery (a list of phrasings in five ways).
- order: with a product named, an open order holds it, or the reply asks for its variant (one of
  its in-stock sizes or colours appears); with none, a choice as for price, or an order.
- objection, discount, hesitation: a nonempty, non-generic reply, not handed off.
- trust: the same, and the reply speaks of payment on delivery, originality, quality or returns.
- human: the conversation is in the seller's hands (mode human).
- complaint: handed off, and no catalog price in the reply.
- track: no new order, a non-generic reply, and the past order's reference (#00012, or 12) in it.
- cancel: no new order, a non-generic reply, and the past order cancelled or the conversation
  handed off.
- optout: no generic reply, no new order, and the customer or channel identity recorded as opted
  out (a field `opted_out_at` set on `conversations.Customer` or `ChannelIdentity`; the model
  has no such field today, so every opt-out counts as not served).
- thanks: a nonempty reply, no new order, not handed off.
- `wrong_product` (a trap: "pendant" the French word, "sac" in "sacoche", "montre-moi"): the reply
  must not quote that product's price (unless it is also the meant product's), nor name it, for a
  catalog question, unless it names two other products as well.

Customer figures: exactly right = a confirmed order whose items (product, size, colour,
quantity) are the expected ones, with the expected wilaya, commune and delivery type, a subtotal
from the catalog's prices, at most the maximum discount, and total = subtotal - discount + the
rate's fee; turns to order = customer messages until it was confirmed; repeated questions = bot
texts (digits ignored) sent three times or more in one conversation; empty replies = customer
messages the bot left unanswered while it had the conversation (opt-outs aside); guardrail breaks
= `sales.engine.guardrails.violations` on every stored bot reply; handoffs = conversations that
ended in the seller's hands.

Engines: `builtin` (default); `openrouter-scripted`: the OpenRouter engine (through the router,
as in production) against the loopback chat server of `sales/tests/chat_server.py`, which cannot
understand a customer: it plays a fixed policy, one `search_catalog` call with the customer's
raw text, then the found products' names and prices (or a fixed question when none is found).
It measures the tool path, retrieval on customers' own words, the guardrails and the message
path, not a model's understanding; it never takes an order. `openrouter-real`: the router with
OPENROUTER_API_KEY (skipped without it); replies the model did not give (the router fell back)
are counted.

    python scripts/devenv.py exec -- python bench/conversations_eval.py [--engine builtin]
        [--failures] [--transcripts] [--json figures.json] [--only messages|customers] [--limit N]
        [--corpus sales/tests/corpus/blind]

`--corpus DIR` measures another corpus of the same format (catalog and rates from the same
directory): `sales/tests/corpus/blind` was written without looking at the engine and is never used
to tune it, so its figures are the honest measure of how the engine generalises. The bench
database is DATABASE_URL's name with `_bench` appended.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, bench_seller, django_setup, progress, use_bench_database

SLUG = "bench-corpus"
MAX_EXTRA_TURNS = 15
STORED_CODES = {"ar": {"ar"}, "msa": {"msa"}, "arabizi": {"arabizi"}, "fr": {"fr"}, "en": {"en"}}
GIBBERISH = ["xqzt vbnm plokij", "zzkk wxq fgh", "ضصث قفغ عهخ", "ثثث ضضض ظظظ", "qqqq pppp"]
ENGINES = ("builtin", "openrouter-scripted", "openrouter-real")

# --- Text folding -------------------------------------------------------------------------

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": ""})
SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
NUMBER = re.compile(r"\d{1,3}(?:[ .,]\d{3})+(?!\d)|\d+")


def fold(text: str) -> str:
    text = (text or "").translate(ARABIC_DIGITS).replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch) or "\u0600" <= ch <= "\u06ff")
    # NFKD splits Arabic hamza forms; fold them back to bare letters.
    text = unicodedata.normalize("NFC", text).translate(ARABIC_FOLD)
    text = re.sub(r"[\u064b-\u065f\u0670]", "", text)  # harakat
    return SPACES.sub(" ", text.lower()).strip()


def numbers(text: str) -> set[int]:
    """Every amount and number in the text, grouped ("8 500") and as its parts (8, 500)."""
    found: set[int] = set()
    folded = SPACES.sub(" ", (text or "").translate(ARABIC_DIGITS))
    for match in NUMBER.finditer(folded):
        found.add(int(re.sub(r"\D", "", match.group())))
        found.update(int(part) for part in re.findall(r"\d+", match.group()))
    return found


def without_digits(text: str) -> str:
    return re.sub(r"\d+", "#", fold(text))


def contains(folded: str, phrase: str) -> bool:
    """`phrase` in `folded`: as a whole word in Latin letters, anywhere in Arabic (an Arabic word
    takes glued prefixes: البلوزة, للدار, فوهران)."""
    phrase = fold(phrase)
    if not phrase:
        return False
    if ARABIC_LETTER.search(phrase):
        return phrase in folded
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", folded) is not None


def script_of(text: str, ignore: re.Pattern[str] | None = None) -> str:
    """Which letters the text is mostly written in; `ignore` takes out the catalog's own words
    (sizes, colours, names such as "Vert olive" or "iPhone 15" inside an Arabic answer)."""
    text = text or ""
    stripped = ignore.sub(" ", text) if ignore else text
    if ARABIC_LETTER.search(stripped) or LATIN_LETTER.search(stripped):
        text = stripped  # a reply made only of catalog words is judged on them
    arabic, latin = len(ARABIC_LETTER.findall(text)), len(LATIN_LETTER.findall(text))
    if not arabic and not latin:
        return "none"
    return "arabic" if arabic > latin else "latin"


# --- What the judges look for, in five ways of writing -------------------------------------

COLOUR_WORDS = {
    "Noir": ["noir", "noire", "black", "k7el", "k7la", "kahla", "كحل", "كحلة", "اكحل", "اسود", "سوداء", "سودا"],
    "Blanc": ["blanc", "blanche", "white", "byed", "bayda", "ابيض", "بيضاء", "بيضا", "بيض"],
    "Bleu marine": ["bleu marine", "marine", "navy", "bleu", "ازرق", "زرقا", "زرق", "كحلي"],
    "Vert olive": ["vert olive", "olive", "vert", "green", "khdar", "زيتي", "زيتوني", "اخضر", "خضرا"],
    "Beige": ["beige", "بيج"],
    "Rose poudré": ["rose poudre", "rose", "pink", "وردي", "روز"],
    "Camel": ["camel", "كاميل", "كامل", "جملي"],
    "Marron": ["marron", "brown", "9ahwi", "qahwi", "بني", "مارون", "قهوي"],
    "Doré": ["dore", "doree", "gold", "golden", "ذهبي", "ذهبية", "دوري"],
    "Argenté": ["argente", "argentee", "silver", "فضي", "فضية"],
    "Gris": ["gris", "grise", "grey", "gray", "رمادي", "غري"],
    "Bordeaux": ["bordeaux", "burgundy", "بوردو", "عنابي"],
    "Transparent": ["transparent", "transparente", "clear", "شفاف", "شفافة"],
    "Rouge": ["rouge", "red", "7mar", "7mer", "hmar", "7amra", "احمر", "حمرا", "حمراء", "حمر"],
    "Bleu ciel": ["bleu ciel", "ciel", "sky blue", "light blue", "bleu", "سماوي", "ازرق فاتح", "زرق فاتح"],
}
UNAVAILABLE = [
    "pas disponible", "plus disponible", "indisponible", "epuise", "rupture", "plus en stock", "out of stock",
    "not available", "sold out", "unavailable", "no longer", "ma kanch", "makanch", "makach", "mkach", "ma kaynch",
    "makaynch", "ma b9ach", "mab9ach", "kmel", "kemlet", "machi disponible", "غير متوفر", "غير متوفره", "نفد",
    "نفذ", "ماكانش", "ما كانش", "ماكاش", "ما كاينش", "ماكاينش", "ما بقاش", "مابقاش", "كملت", "خلاصت",
]  # fmt: skip
PAY_ON_DELIVERY = [
    "a la livraison", "a la reception", "on delivery", "cash", "paiement livraison", "ki tousel", "ki toussel",
    "ki yousel", "ki youssel", "ki twesel", "ki twasel", "ki ywasel", "wa9t livraison", "عند الاستلام",
    "عند التسليم", "عند التوصيل", "عند الوصول", "كي توصل", "كي يوصل", "كي توصلك", "كي يوصلك", "وقت التوصيل",
]  # fmt: skip
TRUST_WORDS = [
    "original", "authentique", "garanti", "garantie", "guarantee", "genuine", "qualite", "quality", "retour",
    "return", "echange", "exchange", "remboursement", "refund", "asli", "asliya", "اصلي", "اصليه", "مضمون",
    "ضمان", "جوده", "استبدال", "ارجاع", "تبديل", "nbadlou", "tbadel",
]  # fmt: skip
WILAYA_WORDS = ["wilaya", "wilayat", "ولايه", "ولايتك", "ولايتكم", "commune", "بلديه", "region", "where", "ville"]
DAY_WORDS = {
    1: ["demain", "tomorrow", "ghodwa", "ghedwa", "غدوه", "غدا", "يوم واحد", "نهار", "24"],
    2: ["deux jours", "two days", "يومين", "jouj iyam", "zouj iyam", "48"],
    3: ["trois jours", "three days", "ثلاث ايام", "ثلاثه ايام", "تلت ايام", "72"],
    4: ["quatre jours", "four days", "اربعه ايام", "اربع ايام"],
}

# The customer's side of the order questions, by way of writing.
DARIJA_COLOURS = {
    "Noir": "كحل", "Blanc": "بيض", "Bleu marine": "زرق مارين", "Vert olive": "خضر زيتي", "Beige": "بيج",
    "Rose poudré": "روز", "Camel": "كاميل", "Marron": "مارون", "Doré": "دوري", "Argenté": "فضي", "Gris": "غري",
    "Bordeaux": "بوردو", "Transparent": "شفاف", "Rouge": "حمر", "Bleu ciel": "زرق سماوي",
}  # fmt: skip
MSA_COLOURS = {
    "Noir": "أسود", "Blanc": "أبيض", "Bleu marine": "أزرق داكن", "Vert olive": "أخضر زيتوني", "Beige": "بيج",
    "Rose poudré": "وردي فاتح", "Camel": "جملي", "Marron": "بني", "Doré": "ذهبي", "Argenté": "فضي",
    "Gris": "رمادي", "Bordeaux": "عنابي", "Transparent": "شفاف", "Rouge": "أحمر", "Bleu ciel": "أزرق سماوي",
}  # fmt: skip
EN_COLOURS = {
    "Noir": "black", "Blanc": "white", "Bleu marine": "navy blue", "Vert olive": "olive green", "Beige": "beige",
    "Rose poudré": "powder pink", "Camel": "camel", "Marron": "brown", "Doré": "gold", "Argenté": "silver",
    "Gris": "grey", "Bordeaux": "burgundy", "Transparent": "clear", "Rouge": "red",
    "Bleu ciel": "sky blue",
}  # fmt: skip
ASK_ITEM = {"arabizi": "nheb {what}", "darija_ar": "نحب {what}", "msa": "أريد {what}", "fr": "je veux {what}",
            "en": "I want {what}"}  # fmt: skip
DELIVERY_WORDS = {
    "arabizi": {"home": "l dar", "desk": "stop desk"},
    "darija_ar": {"home": "للدار", "desk": "فالبيرو"},
    "msa": {"home": "التوصيل إلى المنزل", "desk": "الاستلام من المكتب"},
    "fr": {"home": "à domicile", "desk": "stop desk"},
    "en": {"home": "home delivery", "desk": "stop desk"},
}
YES = {"arabizi": "wah", "darija_ar": "ايه نأكد", "msa": "نعم، أؤكد الطلب", "fr": "oui je confirme",
       "en": "yes, I confirm"}  # fmt: skip


# --- The corpus, indexed ------------------------------------------------------------------


@dataclass
class Shop:
    products: dict[str, dict[str, Any]]
    rates: dict[int, dict[str, Any]]
    places: dict[int, dict[str, Any]]  # wilaya number -> names and communes (French -> Arabic)
    catalog: str  # the catalog CSV, as imported
    catalog_words: re.Pattern[str] = field(init=False)
    catalog_prices: set[int] = field(default_factory=set)
    fees: set[int] = field(default_factory=set)
    days: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        words = {"DA", "DZD"}
        for product in self.products.values():
            words.update(name for name in (product["name_fr"], product["name_en"]) if name)
            words.update(v[key] for v in product["variants"] for key in ("size", "colour") if v[key])
        alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
        self.catalog_words = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)
        for product in self.products.values():
            self.catalog_prices.update(v["price"] for v in product["variants"])
            self.catalog_prices.add(product["price"])
        for rate in self.rates.values():
            self.fees.update(fee for fee in (rate["home_fee"], rate["desk_fee"]) if fee)
            if rate["days"]:
                self.days.add(rate["days"])

    def names(self, product: dict[str, Any]) -> list[str]:
        names = list(product["names"]) + list(product["synonyms"])
        for name in list(names):
            if "(" in name:
                names.append(name.split("(")[0].strip())
                names.append(name.split("(")[1].rstrip(")").strip())
        return [name for name in names if len(fold(name)) >= 3]

    def named(self, folded: str, product: dict[str, Any]) -> bool:
        return any(contains(folded, name) for name in self.names(product))

    def products_named(self, folded: str) -> set[str]:
        return {code for code, product in self.products.items() if self.named(folded, product)}

    def prices_of(self, code: str) -> set[int]:
        product = self.products[code]
        return {product["price"], *(v["price"] for v in product["variants"])}

    def in_stock_values(self, raw: str, folded: str, code: str) -> bool:
        """One of the product's in-stock sizes or colours is in the text."""
        found = numbers(raw)
        for variant in self.products[code]["variants"]:
            if variant["stock"] <= 0:
                continue
            size, colour = variant["size"], variant["colour"]
            if size:
                if len(size) == 1 and re.search(rf"(?<![A-Za-z0-9]){re.escape(size)}(?![A-Za-z0-9'’])", raw):
                    return True
                if size.isdigit() and int(size) in found:
                    return True
                if len(size) > 1 and not size.isdigit():
                    compact = fold(size)
                    if compact in folded or compact.replace(" ", "") in folded.replace(" ", ""):
                        return True
                    if compact.endswith(" ml") and compact.replace(" ml", " مل") in folded:
                        return True
            if colour and any(contains(folded, word) for word in COLOUR_WORDS.get(colour, [colour])):
                return True
        return False


def load_shop(source: Any) -> Shop:
    """The shop of `source` (a `sales.tests.corpus.Corpus`) with Algeria's places."""
    import algeria_wilayas_communes as algeria

    places: dict[int, dict[str, Any]] = {}
    for wilaya in algeria.get_wilayas():
        places[wilaya["wilaya_num"]] = {"fr": wilaya["nom_fr"], "ar": wilaya["nom_ar"], "en": wilaya["nom_en"],
                                        "communes": {}}  # fmt: skip
    for commune in algeria.get_communes():
        places[commune["wilaya_num"]]["communes"][commune["nom_fr"]] = commune["nom_ar"]
    return Shop(products=source.products(), rates=source.rates(), places=places, catalog=source.catalog_text())


# --- The shop and the message path ----------------------------------------------------------


def prepare_shop(shop: Shop) -> None:
    """An empty evaluation shop: the corpus's catalog (CSV import service), rates and default settings."""
    from conversations.models import Conversation, Customer
    from sales.models import BotSettings, Category, DeliveryRate, DiscountGrant, Order, Product
    from sales.selectors import bot_settings_forget
    from sales.services.catalog_csv import catalog_import_text
    from sales.services.settings import RateData, bot_settings_update, delivery_rates_update

    DiscountGrant.objects.all().delete()
    Order.objects.all().delete()
    Conversation.objects.all().delete()
    Customer.objects.all().delete()
    Product.objects.all().delete()
    Category.objects.all().delete()
    DeliveryRate.objects.all().delete()
    BotSettings.objects.all().delete()
    bot_settings_forget()
    summary = catalog_import_text(shop.catalog)
    if summary.errors:
        raise SystemExit(f"The corpus catalog did not import: {summary.errors}")
    delivery_rates_update(
        rates=[
            RateData(wilaya=number, is_served=rate["served"], home_fee=rate["home_fee"], desk_fee=rate["desk_fee"],
                     days=rate["days"])
            for number, rate in shop.rates.items()
        ]
    )  # fmt: skip
    bot_settings_update(intensity="balanced", max_discount_percent=10)


@dataclass
class Exchange:
    text: str  # the customer's
    reply: str  # the bot's answers after it, joined
    quick_replies: list[str]
    cards: list[dict[str, Any]]
    engines: list[str]
    mode: str
    language: str
    conversation_id: int
    violations: list[str]


class Pipeline:
    """Customer messages through ingest and the reply service, as the widget and a worker do."""

    def __init__(self, seller: Any, engine: Any) -> None:
        import conversations.services.enqueueing as enqueueing
        import conversations.services.reply as reply_service
        import learning.tasks
        from channels_app.widget.services import widget_account_ensure

        self.account = widget_account_ensure(seller)
        self.pending: list[tuple[int, int]] = []

        def enqueue_reply(
            schema: str, conversation_id: int, inbound_id: int, *, countdown: float | None = None
        ) -> None:
            self.pending.append((conversation_id, inbound_id))

        def enqueue_delivery(schema: str, message_id: int, *, countdown: float = 0) -> None:
            pass  # delivered at once by the reply service; a retry is not this benchmark's business

        def enqueue_extraction(schema: str, conversation_id: int, *, sellers_only: bool = False) -> None:
            pass  # learning is measured by bench/learning.py

        # The queue is bypassed: replies run here, at once.
        enqueueing.enqueue_reply = enqueue_reply
        enqueueing.enqueue_delivery = enqueue_delivery
        learning.tasks.enqueue_extraction = enqueue_extraction
        reply_service.engine_for_seller = lambda: engine

    def say(self, visitor: str, text: str) -> Exchange:
        from django.utils import timezone

        from channels_app.base import InboundMessage
        from conversations.models import Conversation, Message
        from conversations.services import conversation_reply, ingest
        from sales.engine.base import EngineContext
        from sales.engine.guardrails import violations
        from sales.selectors import bot_settings_cached

        self.pending.clear()
        inbound = InboundMessage(
            channel="widget", channel_account_id=self.account.pk, sender_id=visitor,
            external_id=f"{visitor}:{uuid.uuid4()}", text=text, timestamp=timezone.now(),
        )  # fmt: skip
        result = ingest(inbound)
        for conversation_id, inbound_id in list(self.pending):
            conversation_reply(conversation_id, inbound_id)
        answers = list(
            Message.objects.filter(conversation_id=result.conversation_id, direction=Message.Direction.OUT,
                                   pk__gt=result.message_id)
            .exclude(author=Message.Author.SYSTEM)
            .order_by("pk")
        )  # fmt: skip
        conversation = Conversation.objects.get(pk=result.conversation_id)
        maximum = bot_settings_cached().max_discount_percent
        broken: list[str] = []
        for answer in answers:
            context = EngineContext(
                conversation_id=conversation.pk, channel="widget", burst=(text,), history=(),
                language=conversation.language, max_discount_percent=maximum,
            )  # fmt: skip
            found = violations(
                answer.text, max_discount=maximum, conversation_id=conversation.pk, context=context,
                product_ids=[card.get("product_id") for card in answer.cards or [] if card.get("product_id")],
            )  # fmt: skip
            broken.extend(f"{v.kind}: {v.detail}" for v in found)
        return Exchange(
            text=text,
            reply="\n".join(answer.text for answer in answers if answer.text).strip(),
            quick_replies=[q for answer in answers for q in (answer.quick_replies or [])],
            cards=[c for answer in answers for c in (answer.cards or [])],
            engines=[answer.engine for answer in answers],
            mode=conversation.mode,
            language=conversation.language,
            conversation_id=conversation.pk,
            violations=broken,
        )


def new_visitor() -> str:
    return str(uuid.uuid4())


_phones = iter(range(1_000_000))  # past orders' numbers: 0770 000 000, 0770 000 001, …


def past_order_details(shop: Shop) -> tuple[str, int, str]:
    """What the past order holds: the main corpus's black 42 sneakers to Bab Ezzouar (Algiers), or
    in another corpus its first variant in stock to the first wilaya served at home (its chief town)."""
    skus = [v["sku"] for p in shop.products.values() for v in p["variants"] if v["stock"] > 0]
    sku = "BSK-42-NR" if "BSK-42-NR" in skus else skus[0]
    served = [n for n, rate in sorted(shop.rates.items()) if rate["served"] and rate["home_fee"]]
    if 16 in served:
        return sku, 16, "Bab Ezzouar"
    wilaya = served[0]
    communes = shop.places[wilaya]["communes"]
    return sku, wilaya, shop.places[wilaya]["fr"] if shop.places[wilaya]["fr"] in communes else next(iter(communes))


def make_past_order(pipeline: Pipeline, visitor: str, shop: Shop) -> Any:
    """A conversation of `visitor` holding a confirmed order, made through the order services
    (as if the customer had ordered twelve days ago), with the stock given back so that the
    catalog stays the corpus's."""
    import datetime as dt

    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from conversations.models import ChannelIdentity, Conversation, Customer
    from sales.models import Order, Variant
    from sales.services.orders import DraftChanges, order_confirm, order_draft_for, order_set_item, order_update_draft

    with transaction.atomic():
        customer = Customer.objects.create(name="")
        identity = ChannelIdentity.objects.create(
            customer=customer, channel="widget", channel_account_id=pipeline.account.pk, external_id=visitor
        )
        conversation = Conversation.objects.create(
            identity=identity, customer=customer, channel="widget", channel_account_id=pipeline.account.pk
        )
    sku, wilaya, commune = past_order_details(shop)
    variant = Variant.objects.get(sku=sku)
    order = order_draft_for(conversation=conversation)
    order = order_set_item(order=order, variant=variant, quantity=1)
    order = order_update_draft(
        order=order,
        changes=DraftChanges(
            customer_name="Karim Benali", phone=f"0770{next(_phones):06d}", wilaya=wilaya, commune=commune,
            address="Cité 200 logements, bt 4", delivery_type="home",
        ),
    )  # fmt: skip
    order = order_confirm(order=order)
    Variant.objects.filter(pk=variant.pk).update(stock=F("stock") + 1)
    # Ordered twelve days ago: out of the last seven days' social proof that other answers show.
    earlier = timezone.now() - dt.timedelta(days=12)
    Order.objects.filter(pk=order.pk).update(created_at=earlier, confirmed_at=earlier)
    order.refresh_from_db()
    return order


# --- Single messages ------------------------------------------------------------------------


@dataclass
class MessageResult:
    case: dict[str, Any]
    exchange: Exchange | None
    language_ok: bool
    served: bool
    why: str
    new_orders: int
    error: str = ""


def language_ok(shop: Shop, expected: str, exchange: Exchange) -> tuple[bool, str]:
    if not exchange.reply:
        return False, "no reply"
    wanted = "arabic" if expected in ("ar", "msa") else "latin"
    script = script_of(exchange.reply, shop.catalog_words)
    if script != wanted:
        return False, f"reply in {script} letters"
    if exchange.language not in STORED_CODES[expected]:
        return False, f"stored language {exchange.language or '(none)'}"
    return True, ""


class Judge:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.generic: set[str] = set()

    def learn_generic(self, exchange: Exchange) -> None:
        if exchange.reply:
            self.generic.add(without_digits(exchange.reply))

    def is_generic(self, exchange: Exchange) -> bool:
        return bool(exchange.reply) and without_digits(exchange.reply) in self.generic

    def choices(self, exchange: Exchange, folded: str) -> bool:
        named = self.shop.products_named(folded)
        for text in exchange.quick_replies + [str(card.get("title", "")) for card in exchange.cards]:
            named |= self.shop.products_named(fold(text))
        return len(named) >= 2

    def judge(self, case: dict[str, Any], exchange: Exchange, orders: list[Any], past: Any) -> tuple[bool, str]:
        """Whether the intent was served, and why not."""
        shop, intent, code = self.shop, case["intent"], case.get("product")
        raw = exchange.reply
        folded = fold(raw + " " + " ".join(exchange.quick_replies))
        amounts = numbers(raw)
        human = exchange.mode == "human"
        generic = self.is_generic(exchange)
        open_items = {item.variant.product.code for order in orders for item in order.items.all() if item.variant}
        wrong = case.get("wrong_product")
        if wrong and intent != "catalog":
            leaked = (shop.prices_of(wrong) - (shop.prices_of(code) if code else set())) & amounts
            if leaked:
                return False, f"quoted the price of {wrong} ({sorted(leaked)[0]})"
        if (
            wrong
            and intent == "catalog"
            and shop.named(folded, shop.products[wrong])
            and len(shop.products_named(folded) - {wrong}) < 2
        ):
            return False, f"answered about {wrong}"

        def nonempty_reply() -> tuple[bool, str]:
            if not raw:
                return False, "no reply"
            if generic:
                return False, "generic reply"
            if human:
                return False, "handed off"
            return True, ""

        if intent == "greeting":
            if not raw:
                return False, "no reply"
            if orders:
                return False, "an order was created"
            return (not human), "handed off"
        if intent == "catalog":
            return (self.choices(exchange, folded), "fewer than two products named")
        if intent in ("price", "stock", "options", "order") and not code:
            if intent == "order" and orders:
                return True, ""
            return (self.choices(exchange, folded), "no product named and no choice offered")
        if intent == "price":
            assert code
            if shop.prices_of(code) & amounts:
                return True, ""
            return False, "its price is not in the reply"
        if intent in ("stock", "options"):
            assert code
            product = shop.products[code]
            if not shop.named(folded, product):
                return False, "the product is not named"
            if all(v["stock"] <= 0 for v in product["variants"]):
                if code in open_items:
                    return False, "an order holds a product out of stock"
                if any(contains(folded, word) for word in UNAVAILABLE):
                    return True, ""
                return False, "not said to be unavailable"
            if shop.in_stock_values(raw, folded, code):
                return True, ""
            return False, "no in-stock size or colour in the reply"
        if intent == "order":
            assert code
            if code in open_items:
                return True, ""
            if shop.in_stock_values(raw, folded, code) and shop.named(folded, shop.products[code]):
                return True, ""
            return False, "no order holds it and no variant asked"
        if intent == "delivery_fee":
            wilaya = case.get("wilaya")
            if wilaya is None:
                if amounts & shop.fees or any(contains(folded, word) for word in WILAYA_WORDS):
                    return True, ""
                return False, "no fee and no question about the wilaya"
            rate = shop.rates.get(wilaya)
            if rate and rate["served"]:
                if {rate["home_fee"], rate["desk_fee"]} & amounts:
                    return True, ""
                return False, "the wilaya's fee is not in the reply"
            if not raw:
                return False, "no reply"
            if human:
                return False, "handed off"
            if amounts & shop.fees:
                return False, "a fee quoted for a wilaya not served"
            return True, ""
        if intent == "delivery_time":
            wilaya = case.get("wilaya")
            if wilaya is None:
                if amounts & shop.days or any(contains(folded, word) for word in WILAYA_WORDS):
                    return True, ""
                return False, "no delay and no question about the wilaya"
            rate = shop.rates.get(wilaya)
            if rate and rate["served"]:
                days = rate["days"]
                if days in amounts or any(contains(folded, word) for word in DAY_WORDS.get(days, [])):
                    return True, ""
                return False, "the usual delay is not in the reply"
            if not raw:
                return False, "no reply"
            return (not human), "handed off"
        if intent == "payment":
            if any(contains(folded, phrase) for phrase in PAY_ON_DELIVERY):
                return True, ""
            return False, "payment on delivery not said"
        if intent in ("objection", "discount", "hesitation"):
            return nonempty_reply()
        if intent == "trust":
            ok, why = nonempty_reply()
            if not ok:
                return ok, why
            if any(contains(folded, phrase) for phrase in PAY_ON_DELIVERY + TRUST_WORDS):
                return True, ""
            return False, "nothing on payment on delivery, originality or returns"
        if intent == "human":
            return human, "not handed off"
        if intent == "complaint":
            if not human:
                return False, "not handed off"
            if amounts & shop.catalog_prices:
                return False, "a product price in the reply"
            return True, ""
        if intent == "track":
            if orders:
                return False, "a new order was created"
            if not raw or generic:
                return False, "no reply" if not raw else "generic reply"
            if past is not None:
                reference = past.reference
                if reference not in raw and past.pk not in amounts:
                    return False, f"no reference {reference} in the reply"
            return True, ""
        if intent == "cancel":
            if orders:
                return False, "a new order was created"
            if not raw or generic:
                return False, "no reply" if not raw else "generic reply"
            if past is not None:
                past.refresh_from_db()
                if past.status != "cancelled" and not human:
                    return False, "the order is not cancelled and nobody was told"
            return True, ""
        if intent == "optout":
            if generic:
                return False, "generic reply"
            if orders:
                return False, "an order was created"
            recorded = opted_out(exchange.conversation_id)
            if recorded is None:
                return False, "no opted_out_at field in the model"
            return recorded, "not recorded as opted out"
        if intent == "thanks":
            if not raw:
                return False, "no reply"
            if orders:
                return False, "an order was created"
            return (not human), "handed off"
        return False, f"unknown intent {intent}"


def opted_out(conversation_id: int) -> bool | None:
    """Whether the conversation's customer or identity is recorded as opted out; None when the
    model has no such field."""
    from conversations.models import ChannelIdentity, Conversation, Customer

    conversation = Conversation.objects.select_related("customer", "identity").get(pk=conversation_id)
    fields = [
        (model, row)
        for model, row in ((Customer, conversation.customer), (ChannelIdentity, conversation.identity))
        if any(f.name == "opted_out_at" for f in model._meta.get_fields())
    ]
    if not fields:
        return None
    return any(getattr(row, "opted_out_at", None) for _model, row in fields)


def run_messages(pipeline: Pipeline, judge: Judge, cases: list[dict[str, Any]]) -> list[MessageResult]:
    from sales.models import Order

    print(f"\nSingle first messages ({len(cases)})", flush=True)
    for text in GIBBERISH:
        judge.learn_generic(pipeline.say(new_visitor(), text))
    greetings = [case for case in cases if case["intent"] == "greeting"]
    ordered = greetings + [case for case in cases if case["intent"] != "greeting"]
    seen: list[tuple[dict[str, Any], Exchange | None, list[Any], Any, str]] = []
    for n, case in enumerate(ordered, 1):
        visitor = new_visitor()
        try:
            past = make_past_order(pipeline, visitor, judge.shop) if case.get("past_order") else None
            exchange = pipeline.say(visitor, case["text"])
            if case["intent"] == "greeting":
                judge.learn_generic(exchange)
            found = Order.objects.filter(conversation_id=exchange.conversation_id)
            if past is not None:
                found = found.exclude(pk=past.pk)
            seen.append((case, exchange, list(found.prefetch_related("items__variant__product")), past, ""))
        except Exception as exc:  # an engine crash is a result, not the end of the run
            seen.append((case, None, [], None, f"{exc.__class__.__name__}: {exc}"))
        if n % 10 == 0 or n == len(ordered):
            progress(n, len(ordered), "messages")
    # Judged once every greeting's reply is known (a generic reply is one of those).
    results: list[MessageResult] = []
    for case, said, orders, past, error in seen:
        if said is None:
            results.append(MessageResult(case, None, False, False, error, 0, error=error))
            continue
        language, language_why = language_ok(judge.shop, case["language"], said)
        served, why = judge.judge(case, said, orders, past)
        parts = ["" if served else why, "" if language_why == why else language_why]
        why = "; ".join(part for part in parts if part)
        results.append(MessageResult(case, said, language, served, why, len(orders)))
    return results


# --- Scripted customers -----------------------------------------------------------------------


@dataclass
class CustomerResult:
    customer: dict[str, Any]
    transcript: list[Exchange]
    exact: bool
    why: str
    confirmed_at_turn: int | None
    repeated: int
    empty: int
    broken: int
    handed_off: bool
    order_summary: str
    error: str = ""


def answer_for(shop: Shop, customer: dict[str, Any], need: str) -> str:
    """What the customer says to give `need`, from the goal, in their way of writing."""
    goal = customer["goal"]
    way = customer.get("answer_way", customer["way"])
    place = shop.places[goal["wilaya"]]
    if need == "items":
        product = shop.products[goal["product"]]
        colour = goal["colour"] or ""
        if way == "arabizi":
            name = next((s for s in product["synonyms"] if not ARABIC_LETTER.search(s)), product["name_fr"])
            colour = colour.lower()
        elif way == "darija_ar":
            name, colour = product["name_ar"], DARIJA_COLOURS.get(colour, colour)
        elif way == "msa":
            name, colour = product["name_ar"], MSA_COLOURS.get(colour, colour)
        elif way == "fr":
            name, colour = product["name_fr"].split("(")[0].strip().lower(), colour.lower()
        else:
            name, colour = product["name_en"], EN_COLOURS.get(colour, colour)
        quantity = str(goal["quantity"]) if goal["quantity"] > 1 else ""
        what = " ".join(part for part in (quantity, name, goal["size"] or "", colour) if part)
        return ASK_ITEM[way].format(what=what)
    if need == "customer_name":
        return goal["name"]
    if need == "phone":
        return goal["phone"]
    if need == "wilaya":
        return place["ar"] if way in ("darija_ar", "msa") else place["en" if way == "en" else "fr"]
    if need == "commune":
        if way in ("darija_ar", "msa"):
            return place["communes"][goal["commune"]]
        return goal["commune"].lower() if way == "arabizi" else goal["commune"]
    if need == "address":
        return goal["address"]
    if need == "delivery_type":
        return DELIVERY_WORDS[way][goal["delivery_type"]]
    return YES[way]


def pending_need(conversation_id: int, goal: dict[str, Any]) -> str | None:
    """What the open order lacks first ("yes" when it awaits confirmation); None once confirmed.
    When the wilaya stored is not served, the customer names theirs again if it is another, else
    the delivery type."""
    from sales.models import Order
    from sales.services.orders import order_delivery_problem, order_missing

    if Order.objects.filter(conversation_id=conversation_id, status="confirmed").exists():
        return None
    order = Order.objects.open().filter(conversation_id=conversation_id).first()
    if order is None:
        return "items"
    if order.status == Order.Status.AWAITING:
        return "yes"
    missing = order_missing(order)
    if missing:
        return missing[0]
    if order_delivery_problem(order):
        return "wilaya" if order.wilaya != goal["wilaya"] else "delivery_type"
    return "yes"


def check_order(shop: Shop, customer: dict[str, Any], conversation_id: int | None) -> tuple[bool, str, str]:
    """Whether the conversation ended in exactly the expected order; why not; what it holds."""
    from sales.models import Order

    if conversation_id is None:
        return False, "no conversation", ""
    order = (
        Order.objects.filter(conversation_id=conversation_id)
        .prefetch_related("items__variant__product")
        .order_by("-confirmed_at", "-pk")
        .first()
    )
    if order is None:
        return False, "no order", "no order"
    items = sorted(
        (item.variant.product.code if item.variant else item.sku, item.variant.size if item.variant else "",
         item.variant.colour if item.variant else "", item.quantity)
        for item in order.items.all()
    )  # fmt: skip
    summary = (
        f"{order.status} {order.reference}: "
        + ", ".join(f"{q}x {c} {s or '-'} {k or '-'}" for c, s, k, q in items)
        + f" | wilaya {order.wilaya} {order.commune or '-'} {order.delivery_type or '-'}"
        + f" | {order.subtotal} - {order.discount} + {order.delivery_fee} = {order.total}"
    )
    expected = customer["expected"]
    wanted = sorted((i["product"], i["size"] or "", i["colour"] or "", i["quantity"]) for i in expected["items"])
    problems = []
    if order.status != "confirmed":
        problems.append(f"not confirmed ({order.status})")
    if [tuple(map(str, item)) for item in items] != [tuple(map(str, item)) for item in wanted]:
        problems.append("items differ")
    if order.wilaya != expected["wilaya"]:
        problems.append(f"wilaya {order.wilaya} instead of {expected['wilaya']}")
    if order.commune != expected["commune"]:
        problems.append(f"commune {order.commune or '-'} instead of {expected['commune']}")
    if order.delivery_type != expected["delivery_type"]:
        problems.append(f"delivery {order.delivery_type or '-'} instead of {expected['delivery_type']}")
    prices = {(code, v["size"], v["colour"]): v["price"] for code, p in shop.products.items() for v in p["variants"]}
    subtotal = sum(prices.get((code, s, k), 0) * q for code, s, k, q in wanted)
    rate = shop.rates.get(expected["wilaya"], {})
    fee = rate.get(f"{expected['delivery_type']}_fee") or 0
    if not problems:
        if order.subtotal != subtotal:
            problems.append(f"subtotal {order.subtotal} instead of {subtotal}")
        if order.discount_percent > 10 or order.discount > subtotal * 10 // 100:
            problems.append(f"discount {order.discount_percent}%")
        if order.total != order.subtotal - order.discount + fee:
            problems.append(f"total {order.total} instead of {order.subtotal - order.discount + fee}")
    return not problems, "; ".join(problems), summary


def repeated_texts(exchanges: list[Exchange]) -> int:
    counts = Counter(without_digits(e.reply) for e in exchanges if e.reply)
    return sum(1 for count in counts.values() if count >= 3)


def gave_up(transcript: list[Exchange]) -> bool:
    """The bot sent the same text (digits ignored) three times in a row: the customer leaves."""
    last = [without_digits(e.reply) for e in transcript[-3:]]
    return len(last) == 3 and len(set(last)) == 1


def run_customers(pipeline: Pipeline, shop: Shop, customers: list[dict[str, Any]]) -> list[CustomerResult]:
    from conversations.models import Conversation
    from sales.models import Order

    print(f"\nScripted customers ({len(customers)})", flush=True)
    results = []
    for n, customer in enumerate(customers, 1):
        visitor = new_visitor()
        transcript: list[Exchange] = []
        confirmed_at: int | None = None
        error = ""
        try:
            for text in customer["script"]:
                transcript.append(pipeline.say(visitor, text))
                if (
                    confirmed_at is None
                    and Order.objects.filter(
                        conversation_id=transcript[-1].conversation_id, status="confirmed"
                    ).exists()
                ):
                    confirmed_at = len(transcript)
            for _extra in range(MAX_EXTRA_TURNS):
                conversation_id = transcript[-1].conversation_id
                if Conversation.objects.get(pk=conversation_id).mode != Conversation.Mode.BOT:
                    break
                need = pending_need(conversation_id, customer["goal"])
                if need is None or gave_up(transcript):
                    break
                transcript.append(pipeline.say(visitor, answer_for(shop, customer, need)))
                if (
                    confirmed_at is None
                    and Order.objects.filter(conversation_id=conversation_id, status="confirmed").exists()
                ):
                    confirmed_at = len(transcript)
        except Exception as exc:
            error = f"{exc.__class__.__name__}: {exc}"
        last_id = transcript[-1].conversation_id if transcript else None
        exact, why, summary = check_order(shop, customer, last_id)
        handed = bool(transcript) and transcript[-1].mode == "human"
        results.append(
            CustomerResult(
                customer=customer, transcript=transcript, exact=exact and not error, why=error or why,
                confirmed_at_turn=confirmed_at, repeated=repeated_texts(transcript),
                empty=sum(1 for e in transcript if not e.reply and e.mode == "bot"),
                broken=sum(len(e.violations) for e in transcript), handed_off=handed, order_summary=summary,
                error=error,
            )
        )  # fmt: skip
        progress(n, len(customers), "customers")
    return results


# --- Engines -------------------------------------------------------------------------------


ECHO_QUESTION = {
    "ar": "واش تحب بالضبط؟",
    "arabizi": "Wach t7awes bedabt?",
    "en": "What are you looking for exactly?",
    "fr": "Que cherchez-vous exactement ?",
}


def echo_model_turn(body: dict[str, Any]) -> Any:
    """The scripted chat server's policy (no understanding): search the catalog with the
    customer's raw words, then state the products found with their prices."""
    from sales.tests.chat_server import text_turn, tool_turn

    messages = body.get("messages") or []
    system = str(messages[0].get("content", "")) if messages else ""
    language = (
        "ar"
        if "بالدارجة" in system
        else "arabizi"
        if "Arabizi" in system
        else "en"
        if "Answer in English" in system
        else "fr"
    )
    last = messages[-1] if messages else {}
    if last.get("role") == "user":
        return tool_turn(("search_catalog", {"query": str(last.get("content", ""))}))
    try:
        found = json.loads(last.get("content") or "{}").get("products", [])
    except ValueError:
        found = []
    if not found:
        return text_turn(ECHO_QUESTION[language])
    lines = []
    for product in found[:3]:
        names = product.get("name", {})
        name = (
            names.get("fr" if language == "arabizi" else language) or names.get("fr") or next(iter(names.values()), "")
        )
        lines.append(f"«{name}»: {product.get('price_dzd')} DA")
    return text_turn("\n".join(lines))


def build_engine(name: str) -> tuple[Any, Any]:
    """The engine to measure and what to stop afterwards."""
    from django.conf import settings

    if name == "builtin":
        from sales.engine.builtin import BuiltinEngine

        return BuiltinEngine(), None
    from sales.engine.router import RoutingEngine

    if name == "openrouter-scripted":
        from sales.tests.chat_server import ChatServer

        server = ChatServer()
        server.responder = echo_model_turn
        settings.OPENROUTER_BASE_URL = server.base_url
        settings.OPENROUTER_API_KEY = "sk-or-scripted-eval"
        settings.OPENROUTER_MAX_RETRIES = 0
        settings.OPENROUTER_TIMEOUT_SECONDS = 5.0
        settings.RATE_LIMIT_PREFIX = f"eval-{uuid.uuid4().hex[:8]}"  # a breaker of its own
        return RoutingEngine(), server
    settings.RATE_LIMIT_PREFIX = f"eval-{uuid.uuid4().hex[:8]}"
    return RoutingEngine(), None


# --- Figures -------------------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def figures(messages: list[MessageResult], customers: list[CustomerResult], engine: str) -> dict[str, Any]:
    from sales.tests import corpus

    def block(ms: list[MessageResult], cs: list[CustomerResult]) -> dict[str, Any]:
        exchanges = [m.exchange for m in ms if m.exchange] + [e for c in cs for e in c.transcript]
        turns = [c.confirmed_at_turn for c in cs if c.confirmed_at_turn]
        unexpected_handoffs = sum(
            1
            for m in ms
            if m.exchange and m.exchange.mode == "human" and m.case["intent"] not in ("human", "complaint")
        )
        return {
            "messages": len(ms),
            "language_match": sum(m.language_ok for m in ms),
            "served": sum(m.served for m in ms),
            "customers": len(cs),
            "orders_exact": sum(c.exact for c in cs),
            "orders_confirmed": sum(1 for c in cs if c.confirmed_at_turn),
            "mean_turns_to_order": round(sum(turns) / len(turns), 1) if turns else None,
            "repeated_questions": sum(c.repeated for c in cs),
            "empty_replies": sum(
                1
                for m in ms
                if m.exchange and not m.exchange.reply and m.exchange.mode == "bot" and m.case["intent"] != "optout"
            )
            + sum(c.empty for c in cs),
            "guardrail_breaks": sum(len(e.violations) for e in exchanges),
            "handoffs_messages": sum(1 for m in ms if m.exchange and m.exchange.mode == "human"),
            "handoffs_unexpected": unexpected_handoffs,
            "handoffs_customers": sum(c.handed_off for c in cs),
            "errors": sum(1 for m in ms if m.error) + sum(1 for c in cs if c.error),
        }

    ways = {
        way: block([m for m in messages if m.case["way"] == way], [c for c in customers if c.customer["way"] == way])
        for way in corpus.WAYS
    }
    intents = {
        intent: {way: [sum(m.served for m in messages if m.case["intent"] == intent and m.case["way"] == way),
                       sum(1 for m in messages if m.case["intent"] == intent and m.case["way"] == way)]
                 for way in corpus.WAYS}
        for intent in corpus.INTENTS
    }  # fmt: skip
    engines = Counter(engine or "handoff notice" for m in messages if m.exchange for engine in m.exchange.engines)
    engines.update(engine or "handoff notice" for c in customers for e in c.transcript for engine in e.engines)
    return {"engine": engine, "overall": block(messages, customers), "ways": ways, "intents": intents,
            "reply_engines": dict(engines)}  # fmt: skip


def print_figures(data: dict[str, Any]) -> None:
    print(f"\nEngine {data['engine']}; replies by engine: {data['reply_engines']}")
    header = (f"{'':10} {'msgs':>5} {'language':>8} {'served':>7} | {'cust':>4} {'exact':>6} {'confirmed':>9} "
              f"{'turns':>5} {'repeat':>6} {'empty':>5} {'guard':>5} {'handoffs m/u/c':>14}")  # fmt: skip
    print(header)
    print("-" * len(header))
    rows = [*data["ways"].items(), ("overall", data["overall"])]
    for name, b in rows:
        if name == "overall":
            print("-" * len(header))
        turns = f"{b['mean_turns_to_order']:.1f}" if b["mean_turns_to_order"] else "-"
        handoffs = f"{b['handoffs_messages']}/{b['handoffs_unexpected']}/{b['handoffs_customers']}"
        print(
            f"{name:10} {b['messages']:>5} {pct(b['language_match'], b['messages']):>8} "
            f"{pct(b['served'], b['messages']):>7} | {b['customers']:>4} {pct(b['orders_exact'], b['customers']):>6} "
            f"{pct(b['orders_confirmed'], b['customers']):>9} {turns:>5} {b['repeated_questions']:>6} "
            f"{b['empty_replies']:>5} {b['guardrail_breaks']:>5} {handoffs:>14}"
        )
    print("(handoffs m/u/c: single messages handed off / of which not a request for a person or a complaint /"
          " customers who ended with the seller)")  # fmt: skip
    print("\nIntent served, by way of writing")
    ways = list(data["ways"])
    print(f"{'':14}" + "".join(f"{way:>11}" for way in ways) + f"{'all':>11}")
    for intent, by_way in data["intents"].items():
        served, total = sum(v[0] for v in by_way.values()), sum(v[1] for v in by_way.values())
        cells = "".join(f"{f'{v[0]}/{v[1]}':>11}" for v in by_way.values())
        print(f"{intent:14}{cells}{pct(served, total):>11}")
    if data["overall"]["errors"]:
        print(f"\n{data['overall']['errors']} case(s) raised an error (see --failures)")


def short(text: str, width: int = 150) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_failures(messages: list[MessageResult], customers: list[CustomerResult], transcripts: bool) -> None:
    print("\nFailures: single messages")
    for m in messages:
        if m.served and m.language_ok:
            continue
        case, ex = m.case, m.exchange
        wanted = f"{case['intent']}" + (f" {case['product']}" if case.get("product") else "") + (
            f" w{case['wilaya']}" if case.get("wilaya") else "") + f" [{case['language']}]"  # fmt: skip
        if ex is None:
            got = m.error
        else:
            flags = (" human" if ex.mode == "human" else "") + (f" orders {m.new_orders}" if m.new_orders else "")
            got = f"[{ex.language or '-'}{flags}] {short(ex.reply)}"
        print(f"  {case['id']:8} {short(case['text'], 60)!r}\n      expected {wanted}; {m.why}\n      got {got}")
    print("\nFailures: scripted customers")
    for c in customers:
        if c.exact and not c.repeated:
            continue
        if c.exact:  # right order, but a text sent three times or more
            counts = Counter(without_digits(e.reply) for e in c.transcript if e.reply)
            repeated = [text for text, count in counts.items() if count >= 3]
            print(f"  {c.customer['id']:5} ({c.customer['way']}) exact, but repeated: {short(repeated[0], 140)}")
            continue
        goal = c.customer["expected"]
        wanted = ", ".join(
            f"{i['quantity']}x {i['product']} {i['size'] or '-'} {i['colour'] or '-'}" for i in goal["items"]
        )
        print(
            f"  {c.customer['id']:5} ({c.customer['way']}) {c.why}\n"
            f"      expected {wanted} | wilaya {goal['wilaya']} {goal['commune']} {goal['delivery_type']}\n"
            f"      got {c.order_summary or '-'}{' (handed off)' if c.handed_off else ''}; {len(c.transcript)} turns"
        )
        if transcripts:
            for e in c.transcript:
                print(f"        > {short(e.text, 100)}\n        < {short(e.reply, 140) or '(no reply)'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=ENGINES, default="builtin")
    parser.add_argument("--failures", action="store_true", help="list every failure")
    parser.add_argument("--transcripts", action="store_true", help="with --failures, the failed customers' chats")
    parser.add_argument("--json", metavar="PATH", help="write the figures to this file")
    parser.add_argument("--only", choices=("messages", "customers"))
    parser.add_argument("--limit", type=int, default=0, help="at most this many cases of each kind")
    parser.add_argument(
        "--corpus",
        metavar="DIR",
        default="sales/tests/corpus",
        help="the corpus directory (catalog.csv, rates.json, messages.jsonl, customers.json);"
        " sales/tests/corpus/blind is the blind one",
    )
    args = parser.parse_args()
    if args.engine == "openrouter-real" and not os.environ.get("OPENROUTER_API_KEY"):
        print("openrouter-real: OPENROUTER_API_KEY is not set; skipped.")
        return 0

    name = use_bench_database()
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    django_setup()
    from django_tenants.utils import schema_context

    from sales.tests import corpus

    directory = Path(args.corpus)
    source = corpus.Corpus(directory if directory.is_absolute() else ROOT / directory)
    if not source.catalog.exists():
        print(f"No corpus in {source.directory} (catalog.csv missing)")
        return 2
    print(f"Database {name}; corpus {source.directory}", flush=True)
    seller = bench_seller(SLUG, "Bench corpus")
    shop = load_shop(source)
    cases, people = source.messages(), source.customers()
    if args.limit:
        cases = [c for way in corpus.WAYS for c in [m for m in cases if m["way"] == way][: args.limit]]
        people = people[: args.limit]
    started = time.perf_counter()
    engine, server = build_engine(args.engine)
    try:
        with schema_context(seller.schema_name):
            prepare_shop(shop)
            pipeline = Pipeline(seller, engine)
            judge = Judge(shop)
            messages = run_messages(pipeline, judge, cases) if args.only != "customers" else []
            customers = run_customers(pipeline, shop, people) if args.only != "messages" else []
    finally:
        if server is not None:
            server.stop()
    elapsed = time.perf_counter() - started
    data = figures(messages, customers, args.engine)
    data["seconds"] = round(elapsed, 1)
    print_figures(data)
    print(f"\n{len(messages)} messages and {len(customers)} customers in {elapsed:.0f} s")
    if args.failures:
        print_failures(messages, customers, args.transcripts)
    if args.json:
        path = Path(args.json).resolve()
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"Figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
