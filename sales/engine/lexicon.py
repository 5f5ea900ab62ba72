"""What customers write, by intent, in Darija (Arabic script and Arabizi with 3, 7, 9), Arabic,
French and English. Entries are matched on normalized text (sales.engine.language.normalize):
single words as whole words, phrases anywhere."""

from __future__ import annotations

import re

from sales.engine.amounts import discounts_in
from sales.engine.language import normalize

LEXICON: dict[str, tuple[str, ...]] = {
    "greeting": (
        "salam", "slm", "assalam", "salamou alaykoum", "bonjour", "bonsoir", "salut", "hello", "hi", "hey",
        "ahla", "marhba", "sbah lkhir", "السلام", "سلام", "مرحبا", "اهلا", "صباح الخير", "مساء الخير",
    ),
    "price": (
        "شحال", "بشحال", "بكم", "السعر", "الثمن", "سومة", "سومته", "بقداش", "قداش", "prix", "combien", "coute",
        "tarif", "how much", "price", "cost", "ch7al", "chhal", "b9adech", "9dech", "bch7al", "soum", "souma",
    ),
    "stock": (
        "كاين", "كاينة", "متوفر", "متوفرة", "موجود", "disponible", "dispo", "en stock", "available",
        "in stock", "kayen", "kayn", "kayna", "mawjoud", "do you have", "vous avez",
    ),
    "options": (
        "taille", "tailles", "pointure", "size", "sizes", "couleur", "couleurs", "colour", "color", "colors",
        "مقاس", "مقاسات", "لون", "الوان", "قياس", "9yas", "l9yas", "pointura",
    ),
    "delivery": (
        "livraison", "livrez", "livrer", "delivery", "deliver", "shipping", "توصيل", "التوصيل", "ليفريزون",
        "tawsil", "twasslou", "twaslou", "twasslo", "توصلو", "توصلوا", "frais de port", "يوصل", "chhal livraison",
        "combien de jours", "how long", "ch7al men youm", "قداش من يوم",
    ),
    "payment": (
        "paiement", "payer", "payment", "pay", "cash", "عند الاستلام", "الدفع", "نخلص", "nkhales", "nkhalas",
        "khlas", "a la livraison", "on delivery", "cod", "ccp", "baridimob", "carte",
    ),
    "order": (
        "commander", "commande", "je prends", "je le prends", "je la prends", "order", "i want to buy",
        "i'll take", "i will take", "buy it", "نطلب", "نشري", "نكوموندي", "نكمندي", "nheb nechri", "n7eb nchri",
        "n7eb nechri", "nheb nchri", "ncommandi", "nkomandi", "nkoumandi", "nechri", "nchri", "ndir commande",
        "حاب نشري", "نحب نشري", "بغيت نشري", "nakhdou", "nakhdo", "ناخذه", "ناخدو", "je veux le", "je veux la",
    ),
    "objection": (
        "cher", "trop cher", "expensive", "too much", "ghali", "ghalia", "غالي", "غالية", "bezaf 3lia",
        "بزاف عليا", "chwiya ghali", "c'est beaucoup", "pricey",
    ),
    "hesitation": (
        "je vais reflechir", "je reflechis", "plus tard", "pas sur", "pas sure", "later", "think about it",
        "not sure", "maybe later", "nfekker", "nkhamem", "nchouf", "ba3d", "mba3d", "نخمم", "نشوف", "من بعد",
        "مازال", "ماشي متأكد", "ndir fiha", "hesitate", "j'hesite",
    ),
    "discount": (
        "remise", "reduction", "promo", "discount", "cheaper", "moins cher", "تخفيض", "نقص", "نقصلي", "تنقص",
        "naqes", "n9es", "na9es", "n9ssli", "tn9es", "n9asli", "%", "solde", "rabais",
    ),
    "trust": (
        "original", "authentique", "garantie", "fiable", "arnaque", "confiance", "trust", "legit", "scam",
        "guarantee", "أصلي", "اصلي", "ضمان", "مضمون", "نصب", "ثقة", "s7i7", "mdamen", "madmoun", "vrai",
    ),
    "thanks": (
        "merci", "thanks", "thank you", "شكرا", "يعطيك الصحة", "ya3tik sa7a", "ya3tik saha", "choukran",
        "chokran", "barak allah", "saha", "sahit",
    ),
    "yes": (
        "oui", "ouais", "yes", "yep", "ok", "okay", "d'accord", "dacord", "je confirme", "confirme", "confirm",
        "نعم", "ايه", "واه", "موافق", "wah", "ih", "iyeh", "eh", "mwafe9", "confirmi", "c bon", "تمام", "tamam",
        "أكد", "اكد", "نأكد", "sure",
    ),
    "no": ("non", "no", "nope", "لا", "la la", "machi", "ماشي", "annuler", "cancel", "بلاش", "blach", "pas maintenant"),
    "home": (
        "domicile", "maison", "home", "a la maison", "dar", "الدار", "البيت", "للدار", "للبيت", "لدار", "ldar",
        "lbit", "l dar", "door", "chez moi",
    ),
    "desk": (
        "bureau", "stop desk", "stopdesk", "desk", "agence", "point relais", "لبيرو", "مكتب", "للمكتب", "المكتب",
        "bureau yalidine", "lbureau", "lbiro", "biro",
    ),
}  # fmt: skip

_SINGLE: dict[str, frozenset[str]] = {}
_PHRASES: dict[str, tuple[str, ...]] = {}
for _intent, _entries in LEXICON.items():
    _normalized = [normalize(entry) or entry for entry in _entries]
    _SINGLE[_intent] = frozenset(entry for entry in _normalized if " " not in entry)
    _PHRASES[_intent] = tuple(entry for entry in _normalized if " " in entry)


def intents_of(text: str) -> set[str]:
    """Every intent whose words appear in `text`."""
    normalized = normalize(text)
    words = set(normalized.split())
    padded = f" {normalized} "
    found = {
        intent
        for intent in LEXICON
        if words & _SINGLE[intent] or any(f" {phrase} " in padded for phrase in _PHRASES[intent])
    }
    if "discount" not in found and discounts_in(text):  # "40%", "khamsin fel miya", "b nos soum"
        found.add("discount")
    return found


QUANTITY_WORDS = {
    "زوج": 2, "زوز": 2, "zouj": 2, "zoudj": 2, "deux": 2, "two": 2, "ثلاثة": 3, "tlata": 3, "trois": 3,
    "three": 3, "اربعة": 4, "quatre": 4, "four": 4, "arba3a": 4,
}  # fmt: skip
QUANTITY_PATTERN = re.compile(
    r"(?:x\s*(\d{1,2})\b|\b(\d{1,2})\s*(?:x|pcs|pieces|pièces|حبات|hbat|7bat|paires|pairs)\b)"
)


def quantity_in(text: str) -> int | None:
    lowered = text.lower()
    match = QUANTITY_PATTERN.search(lowered)
    if match:
        return int(match.group(1) or match.group(2))
    for word in normalize(text).split():
        if word in QUANTITY_WORDS:
            return QUANTITY_WORDS[word]
    return None
