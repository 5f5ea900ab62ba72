"""Wilayas and communes named in a message, taken only from a strong match.

A place is named by one of its names (French, Arabic, English, the common Darija spellings),
whole and in order, with or without its article ("El Eulma", "Eulma"), glued prepositions
allowed in Arabic script ("فوهران", "للعاصمة"); by "wilaya 19" / "ولاية 19" / "19 Sétif"; by a bare
number only when the wilaya was just asked. Names stay names: the customer's own name and the
words of a product's name are never read as places. A name one typo away from a place is not
taken: it is proposed, and the engine asks the customer to confirm ("Sétif, c'est bien ça ?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from sales.geo import WILAYA_ALIASES, Place, communes_of, wilaya_by_number, wilayas
from sales.understanding.lexicon import NEGATIONS
from sales.understanding.match import FORM, TYPO, Hit, PhraseIndex, non_overlapping
from sales.understanding.reading import Reading
from sales.understanding.text import clean

ARTICLES = ("el ", "al ", "l ", "ال")
WILAYA_WORDS = frozenset({"wilaya", "wilayat", "wlaya", "ولاية", "ولايه", "w"})
# Place names that are also everyday words or first names: taken only after a place word
# ("f", "men", "wilaya", "à", "في", "من") or when the place was just asked.
AMBIGUOUS = frozenset({"mila", "el bayadh", "bayadh", "ain", "sidi", "el oued", "oued", "saida", "naama", "nour",
                       "bordj", "el kef", "adrar"})  # fmt: skip
PLACE_WORDS = frozenset(
    """f fi fel fl men mn mel l li lel ila a au de depuis vers pour sur wilaya wilayat wlaya commune baladiya
    bladiya rani sakna nskon naskon in at from to for near ville city""".split()
) | frozenset({"في", "من", "ولاية", "بلدية", "ساكن", "ساكنة", "نسكن", "الى", "إلى", "ل", "حتى"})


@dataclass(frozen=True)
class PlaceHit:
    place: Place
    certain: bool  # False: one typo away, to be confirmed
    start: int
    end: int

    @property
    def span(self) -> range:
        return range(self.start, self.end)


# The article assimilated to a "sun letter": "Ezzouar", "Es Senia", "Ech Chatt", "Ed Dis".
SUN_ARTICLE = re.compile(r"\b(?:e|a)([ztsdrnl]|ch)\1", re.IGNORECASE)
SUN_ARTICLE_WORD = re.compile(r"^(?:es|ez|et|ed|er|en|ech|el|al)\s+(?=\w{3,})", re.IGNORECASE)


def _spellings(place: Place, aliases: tuple[str, ...] = ()) -> set[str]:
    names = {place.name_fr, place.name_ar, place.name_en, *aliases}
    spellings = set()
    for name in names:
        if not name:
            continue
        name = name.replace("-", " ").replace("'", " ")
        spellings.add(name)
        lowered = name.lower()
        for article in ARTICLES:
            if lowered.startswith(article) and len(lowered) - len(article) >= 4:
                spellings.add(name[len(article) :])
        # "Bab Ezzouar" is also written "Bab Zouar"; "Es Senia", "Senia".
        assimilated = SUN_ARTICLE.sub(lambda m: m.group(1), name)
        if assimilated != name:
            spellings.add(assimilated)
        bare = SUN_ARTICLE_WORD.sub("", name)
        if bare != name and len(bare) >= 4:
            spellings.add(bare)
    return spellings


@cache
def wilaya_index() -> PhraseIndex:
    aliases: dict[int, list[str]] = {}
    for alias, number in WILAYA_ALIASES.items():
        aliases.setdefault(number, []).append(alias)
    entries = []
    for place in wilayas():
        for spelling in _spellings(place, tuple(aliases.get(place.number, ()))):
            entries.append((str(place.number), spelling, 1.0))
    return PhraseIndex(entries)


@cache
def commune_index(wilaya: int) -> PhraseIndex:
    return PhraseIndex(
        (place.name_fr, spelling, 1.0) for place in communes_of(wilaya) for spelling in _spellings(place)
    )


def _commune(wilaya: int, name_fr: str) -> Place | None:
    return next((place for place in communes_of(wilaya) if place.name_fr == name_fr), None)


def _allowed(hit: Hit, reading: Reading, asked: bool) -> bool:
    first = reading.tokens[hit.start]
    short = len(hit.phrase) <= (3 if first.script == "arabic" else 4)
    if hit.phrase.lower() in AMBIGUOUS or short:
        before = reading.tokens[hit.start - 1].text if hit.start else ""
        glued = first.script == "arabic" and first.text != clean(hit.phrase).split()[0]  # "لسطيف", "فوهران"
        about_delivery = reading.weakly("delivery")
        alone = hit.start == 0 and hit.end == len(reading.tokens)
        capital = first.original[:1].isupper() and hit.phrase.lower() not in AMBIGUOUS  # "Oran", never "Saida"
        return asked or glued or before in PLACE_WORDS or alone or about_delivery or capital
    return True


def _best(hits: list[Hit], reading: Reading, asked: bool) -> Hit | None:
    hits = [hit for hit in hits if _allowed(hit, reading, asked)]
    if not hits:
        return None
    hits.sort(key=lambda hit: (-(hit.score >= FORM), -hit.size, -hit.score, hit.start))
    named = [hit for hit in non_overlapping(hits) if hit.score >= FORM]
    if len({hit.label for hit in named}) > 1:
        # "machi wahran, setif", "non pas Oran, plutôt Sétif": among the places written best, the
        # one not denied, else the last.
        top = max(hit.level for hit in named)
        named = [hit for hit in named if hit.level == top]
        kept = [hit for hit in named if not _denied(hit, reading)]
        return (kept or named)[-1]
    return hits[0]


def _denied(hit: Hit, reading: Reading) -> bool:
    before = {token.text for token in reading.tokens[max(0, hit.start - 2) : hit.start]}
    return bool(before & NEGATIONS)


def wilaya_named(
    reading: Reading, *, asked: bool = False, exclude: frozenset[int] = frozenset(), names: bool = True
) -> PlaceHit | None:
    """The wilaya the message names (`asked`: the bot just asked for it, so a bare number or a
    short name counts; `names`: the customer's own name is not looked in)."""
    skip = (reading.name_tokens if names else frozenset()) | exclude
    tokens = reading.tokens
    # "wilaya 19", "ولاية 19", "19 - Sétif", or "19" when asked.
    for index, token in enumerate(tokens):
        if token.script != "digits" or index in skip or not 1 <= int(token.text) <= 69 or len(token.text) > 2:
            continue
        before = tokens[index - 1].text if index else ""
        place = wilaya_by_number(int(token.text))
        if place is None:
            continue
        if before in WILAYA_WORDS or (asked and len([t for t in tokens if t.script != "digits"]) == 0):
            return PlaceHit(place, True, index, index + 1)
        after = reading.tokens[index + 1 : index + 4]
        if after:
            named = wilaya_index().find(after, typos=False)
            if any(hit.label == str(place.number) for hit in named):
                return PlaceHit(place, True, index, index + 1)
    hits = wilaya_index().find(tokens, skip=skip)
    best = _best(hits, reading, asked)
    if best is None:
        return None
    place = wilaya_by_number(int(best.label))
    assert place is not None
    return PlaceHit(place, best.score > TYPO, best.start, best.end)


def commune_named(
    reading: Reading, wilaya: int, *, asked: bool = False, exclude: frozenset[int] = frozenset(), names: bool = True
) -> PlaceHit | None:
    """The commune of `wilaya` the message names."""
    hits = commune_index(wilaya).find(reading.tokens, skip=(reading.name_tokens if names else frozenset()) | exclude)
    best = _best(hits, reading, asked)
    if best is None:
        return _near_commune(reading, wilaya) if asked else None
    place = _commune(wilaya, best.label)
    if place is None:
        return None
    return PlaceHit(place, best.score > TYPO, best.start, best.end)


@cache
def national_commune_index() -> PhraseIndex:
    """Every commune of the country whose name is distinctive: several words, or one word of
    seven letters or more, that no other commune (nor any wilaya) shares."""
    from collections import Counter

    from sales.geo import communes_of_country

    spellings: dict[str, list[Place]] = {}
    for place in communes_of_country():
        for spelling in _spellings(place):
            spellings.setdefault(clean(spelling), []).append(place)
    wilaya_names = {clean(s) for w in wilayas() for s in _spellings(w)}
    counts = Counter(key for key, places in spellings.items() for _ in {p.number for p in places})
    entries = []
    for key, places in spellings.items():
        numbers = {p.number for p in places}
        if len(numbers) != 1 or counts[key] != 1 or key in wilaya_names:
            continue
        if len(key.split()) < 2 and len(key) < 7:
            continue
        entries.append((f"{places[0].number}|{places[0].name_fr}", key, 1.0))
    return PhraseIndex(entries)


def commune_anywhere(reading: Reading, *, exclude: frozenset[int] = frozenset()) -> PlaceHit | None:
    """A commune named plainly that only one wilaya has ("ras el oued", "Hassi Messaoud"): it
    gives its wilaya too."""
    hits = [
        hit for hit in national_commune_index().find(reading.tokens, typos=False, skip=exclude) if hit.score >= FORM
    ]
    if not hits:
        return None
    best = max(hits, key=lambda hit: (hit.size, hit.score))
    number, name = best.label.split("|", 1)
    place = _commune(int(number), name)
    return PlaceHit(place, True, best.start, best.end) if place is not None else None


def _near_commune(reading: Reading, wilaya: int) -> PlaceHit | None:
    """When the commune was just asked, the message as a whole may be a misspelt commune of the
    wilaya: proposed (to be confirmed), never taken."""
    wanted = " ".join(token.text for token in reading.tokens if token.script != "digits")
    if len(wanted) < 4 or len(reading.tokens) > 4:
        return None
    names = {}
    for place in communes_of(wilaya):
        for spelling in _spellings(place):
            names[clean(spelling)] = place
    found = process.extractOne(wanted, list(names), scorer=fuzz.ratio, score_cutoff=80)
    if found is None:
        return None
    return PlaceHit(names[found[0]], False, 0, len(reading.tokens))
