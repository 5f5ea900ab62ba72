"""Text normalization and language detection for Darija (Arabic script and Arabizi), Arabic,
French and English.

The bot answers in four forms: "ar" (Arabic script, Darija or Arabic), "arabizi" (Darija in
Latin letters with the digits 3, 7, 9), "fr" and "en". Arabizi is recognised by its own markers
(no detector knows it); French and English by lingua; a message too short to tell (a size, "ok")
keeps the conversation's language.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
ARABIC_DIACRITICS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
LATIN_WORD = re.compile(r"[a-z0-9']+")
ARABIZI_DIGIT_IN_WORD = re.compile(r"\b[a-z]*[23579][a-z]+\b|\b[a-z]+[23579][a-z]*\b")

DARIJA_LATIN = frozenset(
    """
    salam slm wach wesh wech chhal ch7al bch7al b9adech 9dech bghit nheb n7eb habit kayen kayn kayna
    mlih mli7 sahit sa7it khoya khti rak raki rakom labas bezaf bzaf chwiya chouia ana nta nti
    nchri nechri n3awnek kifach kifech wqtach wa9tach fin win rani rahi yaatik ya3tik barak
    wahed wa7ed m3a maa swalah dyal ta3 taa3 hna ghir nchouf nrodlek nfekker nkhamem ba3d mba3d
    """.split()
)
FRENCH_WORDS = frozenset(
    """
    bonjour bonsoir salut merci combien prix est le la les un une des je vous tu il elle nous
    disponible dispo taille couleur livraison commande avec pour sur dans pas oui non svp stp
    quel quelle coute coûte voudrais veux cher
    """.split()
)
ENGLISH_WORDS = frozenset(
    """
    hello hi is it the do you your yes no please thanks thank how much what want order deliver
    delivery price available size colour color too expensive can i my name
    """.split()
)


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


_detector: Any = None


def _lingua() -> Any:
    global _detector
    if _detector is None:
        from lingua import Language, LanguageDetectorBuilder

        _detector = (
            LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH, Language.ARABIC)
            .with_low_accuracy_mode()
            .build()
        )
    return _detector


def detect_language(text: str, fallback: str = "") -> str:
    """The form to answer `text` in; `fallback` (the conversation's) when the text cannot tell."""
    if ARABIC_LETTERS.search(text or ""):
        return "ar"
    words = LATIN_WORD.findall(normalize(text))
    letters = [word for word in words if not word.isdigit()]
    if not letters:
        return fallback or "fr"
    darija = sum(1 for word in letters if word in DARIJA_LATIN)
    digit_words = bool(ARABIZI_DIGIT_IN_WORD.search(" ".join(letters)))
    french = sum(1 for word in letters if word in FRENCH_WORDS)
    english = sum(1 for word in letters if word in ENGLISH_WORDS)
    if darija > french or (digit_words and darija) or (digit_words and not french):
        return "arabizi"
    if english > french and (english >= 2 or not darija):
        return "en"
    if fallback and not (darija or french or english):
        return fallback  # a name, an address, a size: no sign of another language
    from lingua import Language

    values = _lingua().compute_language_confidence_values(" ".join(letters))
    best = values[0] if values else None
    if best is None or (fallback and best.value < 0.7 and not french):
        return fallback or ("fr" if french else "en")
    if best.language == Language.ENGLISH and french <= 1:
        return "en"
    if best.language == Language.FRENCH or french:
        return "fr"
    return fallback or "en"


FORMS_OF_SETTING = {"darija": ("ar", "arabizi"), "ar": ("ar",), "fr": ("fr",), "en": ("en",)}


def answer_language(detected: str, allowed: tuple[str, ...] | list[str]) -> str:
    """The form to answer in: the customer's, unless the seller does not answer in it; then the
    closest the seller allows (Latin letters stay Latin when Darija in Arabizi is allowed)."""
    forms = [form for setting in allowed for form in FORMS_OF_SETTING.get(setting, ())]
    if not forms or detected in forms:
        return detected
    latin = ("fr", "en", "arabizi") if detected in ("fr", "en") else ("arabizi", "fr", "en")
    for preferred in latin if detected != "ar" else ("ar",):
        if preferred in forms:
            return preferred
    return forms[0]
