"""Does the customer ask for a person? Phrases in Darija (Arabic script and Arabizi), Arabic,
French and English, plus the seller's own handoff keywords."""

from __future__ import annotations

from collections.abc import Iterable

from sales.engine.language import normalize

PHRASES = tuple(
    normalize(phrase)
    for phrase in (
        # Darija, Arabic script
        "نحب نهدر مع", "نحب نتكلم مع", "بغيت نهدر مع", "بغيت نتكلم مع", "حاب نهدر مع", "نهدر مع واحد",
        "عطيني واحد", "واحد من المحل", "مول المحل", "مولات المحل", "عبد حقيقي", "انسان حقيقي", "شخص حقيقي",
        # Arabic
        "اريد التحدث مع", "اريد التكلم مع", "اريد شخصا", "موظف", "خدمة العملاء", "ممثل",
        # Arabizi
        "nheb nahder m3a", "nheb nehder m3a", "n7eb nahder m3a", "n7eb nehder m3a", "bghit nahder m3a",
        "bghit nhder m3a", "habit nahder m3a", "nahder m3a wahed", "nehder m3a wa7ed", "m3a wahed men",
        "insan 7a9i9i", "bnadem", "mol lmahal", "moul el mahal",
        # French
        "parler a quelqu'un", "parler a quelqu un", "parler a une personne", "parler a un humain",
        "un conseiller", "une conseillere", "un vrai humain", "une vraie personne", "service client",
        "parler au vendeur", "parler a un vendeur",
        # English
        "talk to a human", "talk to a person", "speak to a human", "speak to a person", "real person",
        "a human", "customer service", "talk to someone", "speak to someone", "talk to the seller",
        "human agent", "live agent",
    )
)  # fmt: skip


def wants_a_person(text: str, extra_keywords: Iterable[str] = ()) -> bool:
    normalized = f" {normalize(text)} "
    for phrase in (*PHRASES, *(normalize(k) for k in extra_keywords)):
        if not phrase:
            continue
        # Short words must stand alone ("agent" is not in "argent"); phrases may be inflected.
        if f" {phrase} " in normalized or (len(phrase) > 6 and phrase in normalized):
            return True
    return False
