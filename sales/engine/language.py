"""Text normalization and a first language guess for Darija (Arabic script and Arabizi), Arabic,
French and English. The sales engine issue replaces the guess with lingua plus these markers."""

from __future__ import annotations

import re
import unicodedata

ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
ARABIC_DIACRITICS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
LATIN_WORD = re.compile(r"[a-z0-9']+")
ARABIZI_DIGIT_IN_WORD = re.compile(r"\b[a-z]*[23579][a-z]+\b|\b[a-z]+[23579][a-z]*\b")

DARIJA_LATIN = frozenset(
    """
    salam slm wach wesh wech chhal ch7al bch7al b9adech 9dech bghit nheb n7eb habit kayen kayn kayna
    mlih mli7 sahit sa7it khoya khti rak raki rakom labas bezaf bzaf chwiya chouia ana nta nti
    nchri nechri n3awnek kifach kifech wqtach wa9tach fin win rani rahi yaatik ya3tik barak
    wahed wa7ed m3a maa swalah dyal ta3 taa3 hna ghir
    """.split()
)
FRENCH_WORDS = frozenset(
    """
    bonjour bonsoir salut merci combien prix est le la les un une des je vous tu il elle nous
    disponible dispo taille couleur livraison commande avec pour sur dans pas oui non svp stp
    quel quelle coute coûte voudrais veux cher
    """.split()
)


# One form for the letters people write interchangeably.
LETTER_FORMS = str.maketrans("أإآٱىةؤئ", "اااايهوي")


# One form for the letters people write interchangeably.
LETTER_FORMS = str.maketrans("أإآٱىةؤئ", "اااايهوي")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower case, no diacritics, one form of alef/ya/ta marbuta, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = ARABIC_DIACRITICS.sub("", text)
    text = text.translate(LETTER_FORMS)
    text = strip_accents(text)
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def search_terms(text: str) -> list[str]:
    """Normalized words with the Arabic definite article (and its joined prepositions) removed:
    "الصباط" and "بالصباط" both look for "صباط"."""
    terms = []
    for word in normalize(text).split():
        for prefix in ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix) :]
                break
        terms.append(word)
    return terms


def guess_language(text: str) -> str:
    """'ar' (Arabic script: Darija or Arabic), 'arabizi', 'fr' or 'en'."""
    if ARABIC_LETTERS.search(text or ""):
        return "ar"
    words = LATIN_WORD.findall(normalize(text))
    if not words:
        return "fr"
    darija = sum(1 for word in words if word in DARIJA_LATIN)
    french = sum(1 for word in words if word in FRENCH_WORDS)
    if darija > french or (darija and ARABIZI_DIGIT_IN_WORD.search(" ".join(words))):
        return "arabizi"
    if ARABIZI_DIGIT_IN_WORD.search(" ".join(words)) and not french:
        return "arabizi"
    if french:
        return "fr"
    return "en"
