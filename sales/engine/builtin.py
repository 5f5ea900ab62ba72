"""The built-in engine: works with no network and no key.

At this stage it greets, and answers price and stock questions from the catalog, in the
customer's language and script. The full sales behaviour (objections, discounts, order capture)
comes with the sales engine issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from channels_app.base import ProductCard
from sales.engine.base import EngineContext, EngineReply
from sales.engine.language import guess_language, normalize, search_terms
from sales.models import Product

GREETINGS = frozenset(
    normalize(word)
    for word in """
    salam slm salamou alaykoum bonjour bonsoir salut hello hi hey ahla marhba saha sbah lkhir
    مرحبا السلام سلام اهلا صباح الخير مساء الخير
    """.split()
)
PRICE_WORDS = tuple(
    normalize(word)
    for word in (
        "شحال",
        "بشحال",
        "بكم",
        "السعر",
        "الثمن",
        "سومة",
        "بقداش",
        "قداش",
        "prix",
        "combien",
        "coute",
        "tarif",
        "how much",
        "price",
        "cost",
        "ch7al",
        "chhal",
        "b9adech",
        "9dech",
        "bch7al",
        "soum",
        "souma",
    )
)
STOCK_WORDS = tuple(
    normalize(word)
    for word in (
        "كاين",
        "كاينة",
        "متوفر",
        "متوفرة",
        "موجود",
        "disponible",
        "dispo",
        "en stock",
        "stock",
        "available",
        "in stock",
        "kayen",
        "kayn",
        "kayna",
        "mawjoud",
        "taille",
        "size",
        "مقاس",
    )
)
STOP_WORDS = frozenset(
    normalize(word)
    for word in """
    le la les un une des de du et est il elle je vous pour avec sur quel quelle the a an is of for
    and you do have what how much combien prix price stock dispo disponible available ch7al chhal
    kayen kayn wach wesh هل شحال كاين واش السعر
    """.split()
)

TEXTS = {
    "greet": {
        "ar": "مرحبا بيك! أنا {persona} من {shop}. كيفاش نقدر نعاونك؟",
        "arabizi": "Salam! Ana {persona} men {shop}. Kifach n9der n3awnek?",
        "fr": "Bonjour ! Je suis {persona} de {shop}. Comment puis-je vous aider ?",
        "en": "Hello! I'm {persona} from {shop}. How can I help you?",
    },
    "price": {
        "ar": "{name}: {price} دج",
        "arabizi": "{name}: {price} DA",
        "fr": "{name} : {price} DA",
        "en": "{name}: {price} DZD",
    },
    "was": {
        "ar": " بدلا من {old} دج",
        "arabizi": " blasst {old} DA",
        "fr": " au lieu de {old} DA",
        "en": " instead of {old} DZD",
    },
    "variants": {
        "ar": "المتوفر: {list}",
        "arabizi": "Kayen: {list}",
        "fr": "Disponible : {list}",
        "en": "Available: {list}",
    },
    "out": {
        "ar": "{name} ماكانش في المخزون حالياً.",
        "arabizi": "{name} makanch f stock dork.",
        "fr": "{name} est en rupture de stock pour le moment.",
        "en": "{name} is out of stock at the moment.",
    },
    "which": {
        "ar": "على أي منتج تحب تعرف؟",
        "arabizi": "3la ana produit t7eb ta3ref?",
        "fr": "Quel produit vous intéresse ?",
        "en": "Which product are you interested in?",
    },
    "unknown": {
        "ar": "سمحلي، ما فهمتش مليح. واش تحب تعرف السعر ولا التوفر؟",
        "arabizi": "Sm7li, ma fhemtch mlih. T7eb ta3ref le prix wela ila kayen?",
        "fr": "Pardon, je n'ai pas bien compris. Voulez-vous connaître un prix ou une disponibilité ?",
        "en": "Sorry, I didn't quite get that. Would you like a price or to check availability?",
    },
}


def _price(value: int) -> str:
    return f"{value:,}".replace(",", " ")


@dataclass(frozen=True)
class Match:
    product: Product
    score: int


def match_products(text: str, limit: int = 3) -> list[Match]:
    """Live products whose names or synonyms share words with `text`, best first."""
    words = [w for w in search_terms(text) if len(w) >= 3 and w not in STOP_WORDS]
    if not words:
        return []
    query = Q()
    for word in words:
        query |= (
            Q(name_ar__icontains=word) | Q(name_fr__icontains=word) | Q(name_en__icontains=word)
            | Q(synonyms__icontains=word) | Q(code__icontains=word)
        )  # fmt: skip
    candidates = Product.objects.live().filter(query).prefetch_related("variants", "images")[:50]
    matches = []
    for product in candidates:
        vocabulary = set(
            search_terms(
                " ".join([product.name_ar, product.name_fr, product.name_en, product.code, *product.synonyms]).replace(
                    "-", " "
                )
            )
        )
        score = sum(1 for word in words if word in vocabulary or any(word in term for term in vocabulary))
        if score:
            matches.append(Match(product, score))
    matches.sort(key=lambda match: (-match.score, match.product.pk))
    return matches[:limit]


def product_card(product: Product, language: str) -> ProductCard:
    image = next(iter(product.images.all()), None)
    return ProductCard(
        product_id=product.pk,
        title=product.display_name("ar" if language == "ar" else language if language in ("fr", "en") else "fr"),
        price=product.price,
        in_stock=any(variant.stock > 0 for variant in product.variants.all()),
        image_url=image.image.url if image else "",
    )


class BuiltinEngine:
    name = "builtin"
    shows_typing = False  # answers in milliseconds

    def reply(self, context: EngineContext) -> EngineReply:
        text = context.text
        language = guess_language(text)
        normalized = normalize(text)
        words = set(normalized.split())
        asks_price = any(term in normalized for term in PRICE_WORDS)
        asks_stock = any(term in normalized for term in STOCK_WORDS)
        matches = match_products(text)

        if (asks_price or asks_stock or matches) and matches:
            product = matches[0].product
            return self._product_answer(product, language, asks_stock and not asks_price, matches)
        if asks_price or asks_stock:
            suggestions = [m.product for m in matches] or list(Product.objects.live().order_by("-created_at")[:3])
            return EngineReply(
                text=TEXTS["which"][language],
                quick_replies=tuple(p.display_name(self._name_language(language)) for p in suggestions),
                engine=self.name,
            )
        if words & GREETINGS or context.is_first_contact:
            return EngineReply(text=self._greeting(context, language), engine=self.name)
        return EngineReply(text=TEXTS["unknown"][language], engine=self.name)

    def _greeting(self, context: EngineContext, language: str) -> str:
        if language == "ar" and context.greeting:
            return context.greeting
        return TEXTS["greet"][language].format(persona=context.persona_name or "Amina", shop=context.shop_name)

    @staticmethod
    def _name_language(language: str) -> str:
        return "ar" if language == "ar" else language if language in ("fr", "en") else "fr"

    def _product_answer(self, product: Product, language: str, stock_only: bool, matches: list[Match]) -> EngineReply:
        name = product.display_name(self._name_language(language))
        variants = list(product.variants.all())
        in_stock = [v for v in variants if v.stock > 0]
        lines = []
        if not stock_only:
            line = TEXTS["price"][language].format(name=name, price=_price(product.price))
            if product.compare_at_price:
                line += TEXTS["was"][language].format(old=_price(product.compare_at_price))
            lines.append(line)
        if in_stock:
            options = [" / ".join(value for value in (v.size, v.colour) if value) or name for v in in_stock]
            overrides = {v.price for v in in_stock if v.price != product.price}
            listed = ", ".join(dict.fromkeys(options))
            if overrides and not stock_only:
                listed = ", ".join(
                    f"{' / '.join(x for x in (v.size, v.colour) if x) or name} ({_price(v.price)})" for v in in_stock
                )
            lines.append(TEXTS["variants"][language].format(list=listed))
        else:
            lines.append(TEXTS["out"][language].format(name=name))
        return EngineReply(
            text="\n".join(lines),
            cards=tuple(product_card(m.product, language) for m in matches[:1]),
            quick_replies=tuple(m.product.display_name(self._name_language(language)) for m in matches[1:3]),
            engine=self.name,
        )
