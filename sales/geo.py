"""Wilayas, communes and phone numbers as customers write them.

Names come from the algeria-wilayas-communes package; a customer may write them in Arabic,
French, English or Latin-letter Darija, with or without the article, vowels or hyphens
("bab ezzouar", "Bab-Ezzouar", "باب الزوار"), or give a wilaya by its number.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache

import algeria_wilayas_communes as dz
import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sales.engine.language import normalize

# Names people use that are far from all three official ones.
WILAYA_ALIASES = {
    "dzayer": 16, "dzair": 16, "djazair": 16, "el djazair": 16, "lalgerie": 16, "alger centre": 16,
    "wahran": 31, "wehran": 31, "qsentina": 25, "ksentina": 25, "constantina": 25, "stif": 19,
    "bgayet": 6, "vgayet": 6, "bejaya": 6, "tizi": 15, "tizi ouzou": 15, "annaba": 23, "3annaba": 23,
    "blida": 9, "lblida": 9, "bba": 34, "tlemcen": 13, "tilimsen": 13, "boumerdes": 35, "bumerdas": 35,
    "3assima": 16, "l3assima": 16, "la capitale": 16, "alger": 16, "العاصمة": 16, "الجزائر العاصمة": 16,
    "دزاير": 16, "lasima": 16, "bel abbes": 22, "belabbes": 22, "sba": 22, "بلعباس": 22, "tlemsen": 13,
    "تلمسان": 13, "بونة": 23, "bouna": 23, "bejaia": 6, "bougie": 6, "ghardaya": 47, "ghardaia": 47,
    "msila": 28, "bordj": 34, "bordj bou": 34, "lbordj": 34, "البرج": 34, "برج بوعريريج": 34,
}  # fmt: skip
ARABIC_ARTICLE = re.compile(r"(^|\s)ال")
DIGIT_LETTERS = str.maketrans({"3": "", "7": "h", "9": "q", "5": "kh", "2": ""})


def _key(text: str) -> str:
    """A spelling-tolerant key: normalized, without article, vowels, separators or doubled letters."""
    value = normalize(text).replace("-", " ").replace("'", " ")
    value = ARABIC_ARTICLE.sub(r"\1", value)
    value = re.sub(r"\b(el|al|l|ain|ait|oued|ouled|sidi|bordj|beni)\b", lambda m: m.group(1)[:1], value)
    value = value.translate(DIGIT_LETTERS)
    value = value.replace("ou", "u").replace("dj", "j").replace("ch", "sh").replace("kh", "x").replace("gh", "g")
    value = re.sub(r"[aeiouy\s]", "", value)
    return re.sub(r"(.)\1+", r"\1", value)


@dataclass(frozen=True)
class Place:
    number: int  # wilaya number
    name_fr: str
    name_ar: str
    name_en: str

    def name(self, language: str) -> str:
        return {"ar": self.name_ar, "en": self.name_en}.get(language, self.name_fr)

    @property
    def code(self) -> str:
        return f"{self.number:02d}"


@cache
def wilayas() -> tuple[Place, ...]:
    """The 69 wilayas, in their official order."""
    return tuple(
        Place(int(w["wilaya_num"]), str(w["nom_fr"]), str(w["nom_ar"]), str(w["nom_en"])) for w in dz.get_wilayas()
    )


@cache
def communes_of_country() -> tuple[Place, ...]:
    """Every commune, in the package's order."""
    return tuple(
        Place(int(c["wilaya_num"]), str(c["nom_fr"]), str(c["nom_ar"]), str(c["nom_en"])) for c in dz.get_communes()
    )


@cache
def communes_of(wilaya: int) -> tuple[Place, ...]:
    """The communes of wilaya `wilaya`."""
    return tuple(place for place in communes_of_country() if place.number == wilaya)


def wilaya_by_number(number: int) -> Place | None:
    return next((place for place in wilayas() if place.number == number), None)


@dataclass(frozen=True)
class _Forms:
    """The spellings of a place's names, computed once."""

    place: Place
    normalized: tuple[str, ...]
    keys: frozenset[str]
    key_fr: str


@cache
def _forms(places: tuple[Place, ...]) -> tuple[_Forms, ...]:
    return tuple(
        _Forms(
            place,
            tuple(normalize(name) for name in (place.name_fr, place.name_ar, place.name_en)),
            frozenset(_key(name) for name in (place.name_fr, place.name_ar, place.name_en)),
            _key(place.name_fr),
        )
        for place in places
    )


def _best(text: str, places: tuple[Place, ...], cutoff: float, *, fuzzy: bool = True) -> Place | None:
    wanted = normalize(text)
    wanted_key = _key(text)
    if not wanted:
        return None
    forms = _forms(places)
    for form in forms:  # exact, in any language
        if wanted in form.normalized:
            return form.place
    for form in forms:
        if wanted_key and wanted_key in form.keys:
            return form.place
    if not fuzzy:
        return None
    scored = []
    for form in forms:
        score = max(difflib.SequenceMatcher(None, wanted, name).ratio() for name in form.normalized)
        score = max(score, difflib.SequenceMatcher(None, wanted_key, form.key_fr).ratio() - 0.05)
        scored.append((score, form.place))
    scored.sort(key=lambda item: -item[0])
    if scored and scored[0][0] >= cutoff and (len(scored) == 1 or scored[0][0] - scored[1][0] > 0.02):
        return scored[0][1]
    return None


def find_wilaya(text: str, *, fuzzy: bool = True) -> Place | None:
    """The wilaya meant by `text`: its number (1-69), or a name in any spelling."""
    cleaned = normalize(text)
    number = re.fullmatch(r"(?:wilaya|wilayat|ولاية)?\s*0?(\d{1,2})", cleaned)
    if number:
        return wilaya_by_number(int(number.group(1)))
    if cleaned in WILAYA_ALIASES:
        return wilaya_by_number(WILAYA_ALIASES[cleaned])
    cleaned = re.sub(r"^(wilaya|wilayat|ولايه)\s+", "", cleaned)
    return _best(cleaned, wilayas(), cutoff=0.8, fuzzy=fuzzy)


def find_commune(wilaya: int, text: str, *, fuzzy: bool = True) -> Place | None:
    """The commune of wilaya `wilaya` meant by `text`, or None."""
    return _best(text, communes_of(wilaya), cutoff=0.82, fuzzy=fuzzy)


# --- Phones -------------------------------------------------------------------------------

PHONE_IN_TEXT = re.compile(r"(?:\+|00)?(?:213[\s.-]?)?0?[\s.-]?[5-7](?:[\s.-]?\d){8}")


def algerian_mobile(value: str) -> str:
    """`value` as an E.164 Algerian mobile number, or a ValidationError."""
    try:
        number = phonenumbers.parse(value, "DZ")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid Algerian mobile number, e.g. 0550 12 34 56.")) from exc
    if (
        number.country_code != 213
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationError(_("Enter a valid Algerian mobile number, e.g. 0550 12 34 56."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_in_text(text: str) -> str | None:
    """The first Algerian mobile number written in `text` (E.164), or None."""
    for match in PHONE_IN_TEXT.finditer(text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))):
        try:
            return algerian_mobile(match.group(0))
        except ValidationError:
            continue
    return None
