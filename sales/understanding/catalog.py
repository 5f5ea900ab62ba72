"""The shop's products and variants named in a message.

A product is named when a whole word of one of its names or synonyms is in the message (or a
known multi-word name, in order): "pen" never names a "Pendentif", and a customer's own name
never names anything. Each name scores the share of its meaningful words found; its head word
(the first, or the last: "Robe kabyle", "Silk hijab") alone is worth 0.6. Products under
MIN_SCORE are not named; products within TIE of the best are all candidates, and the engine
asks which one is meant.

A variant is named by its size and/or colour: the whole value ("50 ml", "iPhone 15 Pro", "Bleu
marine"), a word only that value has among the product's variants ("marine", "pro"), a colour in
any language ("بيج" is Beige, "k7al" is Noir), a single-letter size only where it is clearly a
size (written in capitals, after "taille"/"مقاس", or alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from django.db.models import Q

from sales.models import Product, Variant
from sales.understanding.lexicon import COLOUR_NAMES, NEGATIONS, PRODUCT_KINDS, SIZE_WORDS
from sales.understanding.match import FORM, TYPO, EntryToken, PhraseIndex, entry_tokens, token_level
from sales.understanding.reading import Reading, colour_index
from sales.understanding.text import Token, clean, tokenize

MIN_SCORE = 0.5
TIE = 0.05
HEAD_WEIGHT = 0.6  # the head word of a name alone ("Robe" of "Robe kabyle")
KIND_LEVEL = 0.85  # a word for the same kind of product ("حذاء" for "Baskets")
# Words of product names that name nothing alone.
NAME_STOP_WORDS = frozenset(
    """de du des la le les l d en et a au aux avec pour sans sur un une the of and with for in to
    by ta3 dyal taa el al w ou or x من في و مع ب ل ال ذو""".split()
)
GENERIC_WORDS = frozenset(
    """produit produits article articles modele model product item items chose haja 7aja hadi hada hadak
    hadik this that celui celle ceci cela ca wach wesh quoi what prix price size taille couleur colour
    color stock noir blanc rouge bleu vert black white red blue green""".split()
) | frozenset({"هذا", "هذه", "هادي", "هاذي", "هاد", "المنتج", "منتج", "حاجة", "السلعة", "سلعة"})


@dataclass(frozen=True)
class Match:
    product: Product
    score: float


def _significant(tokens: Sequence[EntryToken]) -> list[EntryToken]:
    return [t for t in tokens if t.text not in NAME_STOP_WORDS and (len(t.text) >= 2 or t.script == "digits")]


@cache
def kind_index() -> PhraseIndex:
    return PhraseIndex((kind, spelling, 1.0) for kind, spellings in PRODUCT_KINDS.items() for spelling in spellings)


@cache
def _part_kinds(text: str) -> frozenset[str]:
    return frozenset(hit.label for hit in kind_index().find(tokenize(text), typos=False) if hit.score >= FORM)


@cache
def _is_place_word(text: str) -> bool:
    from sales.understanding.places import wilaya_index

    tokens = tokenize(text)
    return any(hit.score >= FORM and hit.size == len(tokens) for hit in wilaya_index().find(tokens, typos=False))


@cache
def _is_colour_word(text: str) -> bool:
    tokens = tokenize(text)
    return any(hit.level >= FORM and hit.size == len(tokens) for hit in colour_index().find(tokens, typos=False))


def _token_kinds(tokens: Sequence[Token], index: int) -> frozenset[str]:
    """The kinds of product a token says, alone or in a phrase ("بدلة رياضية")."""
    return _kinds_at(tuple(tokens)).get(index, frozenset())


_KINDS_CACHE: dict[tuple[Token, ...], dict[int, frozenset[str]]] = {}


def _kinds_at(tokens: tuple[Token, ...]) -> dict[int, frozenset[str]]:
    found = _KINDS_CACHE.get(tokens)
    if found is None:
        at: dict[int, set[str]] = {}
        for hit in kind_index().find(tokens, typos=True):
            if hit.score >= TYPO and (hit.level > TYPO or len(tokens[hit.start].text) >= 6):
                for i in hit.span:
                    at.setdefault(i, set()).add(hit.label)
        found = {i: frozenset(kinds) for i, kinds in at.items()}
        if len(_KINDS_CACHE) > 256:
            _KINDS_CACHE.clear()
        _KINDS_CACHE[tokens] = found
    return found


def name_score(
    name: str,
    tokens: Sequence[Token],
    usable: frozenset[int],
    *,
    kinds: bool = True,
    seen: dict[EntryToken, float] | None = None,
) -> float:
    """How much of `name` the message's usable tokens say. A word of the name also meets the
    other words for the same kind of product (PRODUCT_KINDS), a little below its own spellings;
    a place in a name ("Oran blouza dress") does not name the product alone. `seen` keeps each
    word's level for the names of one search (catalogs repeat their words)."""
    parts = _significant(entry_tokens(name))
    if not parts:
        return 0.0
    levels = []
    for part in parts:
        level = seen.get(part) if seen is not None else None
        if level is None:
            level = max(
                (
                    token_level(tokens[i], part)
                    for i in usable
                    if part.script != "digits" or tokens[i].script == "digits"
                ),
                default=0.0,
            )
            if seen is not None:
                seen[part] = level
        of_part = _part_kinds(part.text) if kinds and part.script != "digits" and level < FORM else frozenset()
        if of_part and any(of_part & _token_kinds(tokens, i) for i in usable):
            level = max(level, KIND_LEVEL)
        levels.append(level)
    words = [(part, level) for part, level in zip(parts, levels, strict=True) if part.script != "digits"]
    if not any(level for _, level in words):
        return 0.0  # a number alone ("15") names no product
    if all(_is_place_word(part.text) or _is_colour_word(part.text) for part, level in words if level):
        # "livraison à Oran" names no "Oran blouza dress"; "واحدة سوداء" no "زيت الحبة السوداء".
        return 0.0
    # Numbers in a name (a model, a capacity) count when said, and do not dilute the words.
    numbers = [level for part, level in zip(parts, levels, strict=True) if part.script == "digits"]
    share = (sum(level for _, level in words) + sum(numbers)) / (len(words) + sum(1 for n in numbers if n))
    head = max(words[0][1], words[-1][1]) * HEAD_WEIGHT
    return min(1.0, max(share, head))


# Words that are also everyday words of French ("pendant combien de jours", "montre-moi"): a
# product only after a determiner ("le pendentif", "the pendant", "la montre").
FUNCTION_WORDS = frozenset({"pendant", "montre", "montrez", "sac", "case", "pour"})
DETERMINERS = frozenset(
    "le la les l un une des du de ce cette ces the a an this that my your mon ma ton ta votre hadi hada had lel".split()
)


def _usable(reading: Reading, exclude: Iterable[int] = ()) -> frozenset[int]:
    # The customer's name, and the words of a phrase that says something else ("montre-moi").
    excluded = set(reading.name_tokens) | set(exclude) | set(reading.phrase_tokens)
    for index, token in enumerate(reading.tokens):
        before = reading.tokens[index - 1].text if index else ""
        if token.text in FUNCTION_WORDS and index == 0 and before not in DETERMINERS and len(reading.tokens) > 2:
            excluded.add(index)
    return frozenset(
        i
        for i, token in enumerate(reading.tokens)
        if i not in excluded
        and token.text not in NAME_STOP_WORDS
        and token.text not in GENERIC_WORDS
        and (len(token.text) >= 3 or token.script == "digits" or (token.script == "arabic" and len(token.text) >= 2))
    )


def _prefilter(reading: Reading, usable: frozenset[int]) -> Q | None:
    query = Q()
    terms: set[str] = set()
    for i in usable:
        token = reading.tokens[i]
        if token.script == "digits":
            continue
        forms = token.forms if token.script == "arabic" else (token.text, *token.forms[2:])
        for form in forms:
            if len(form) >= 2 and form not in terms:
                terms.add(form)
                query |= Q(search_text__contains=form)
    for i in usable:  # the other words for the kinds of product named
        for kind in _token_kinds(reading.tokens, i):
            for spelling in PRODUCT_KINDS[kind]:
                form = clean(spelling)
                if len(form) >= 3 and form not in terms:
                    terms.add(form)
                    query |= Q(search_text__contains=form)
    return query if terms else None


def match_products(
    text: str,
    limit: int = 3,
    *,
    reading: Reading | None = None,
    exclude: Iterable[int] = (),
    ties_only: bool = True,
) -> list[Match]:
    """Live products named in `text`, best first: those within TIE of the best (the candidates
    for "the one the customer means"), or, without `ties_only`, every product named (a reply
    that lists several)."""
    reading = reading or Reading(text)
    usable = _usable(reading, exclude)
    query = _prefilter(reading, usable)
    if query is None:
        return []
    live = Product.objects.live()
    candidates = list(live.filter(query).values_list("pk", flat=True)[:300])
    typo_words = [reading.tokens[i].text for i in usable if len(reading.tokens[i].text) >= 5]
    if typo_words and len(candidates) < 300:
        similar = Q()
        for word in typo_words[:6]:
            similar |= Q(search_text__trigram_word_similar=word)
        candidates += list(live.filter(similar).exclude(pk__in=candidates).values_list("pk", flat=True)[:100])
    if not candidates:
        return []
    # Scored on the names alone; only the products kept are loaded with their variants and images.
    rows = Product.objects.filter(pk__in=candidates).values_list("pk", "name_fr", "name_ar", "name_en", "synonyms")
    scores: dict[int, float] = {}
    own_words: set[int] = set()
    seen: dict[EntryToken, float] = {}
    for pk, name_fr, name_ar, name_en, synonyms in rows:
        names = [name for name in (name_fr, name_ar, name_en, *synonyms) if name]
        own = max((name_score(name, reading.tokens, usable, kinds=False, seen=seen) for name in names), default=0.0)
        score = (
            own if own >= 1.0 else max(own, *(name_score(name, reading.tokens, usable, seen=seen) for name in names))
        )
        if score >= MIN_SCORE:
            scores[pk] = round(score, 3)
            if own >= MIN_SCORE:
                own_words.add(pk)
    # A product named by its own words beats one found only through the kind of product.
    if own_words:
        scores = {pk: score for pk, score in scores.items() if pk in own_words}
    if not scores:
        return []
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    best_score = ranked[0][1]
    kept = [(pk, score) for pk, score in ranked if score >= best_score - TIE or not ties_only][:limit]
    prefetch = Product.objects.filter(pk__in=[pk for pk, _ in kept]).prefetch_related("variants", "images")
    loaded = {product.pk: product for product in prefetch}
    scored = [Match(loaded[pk], score) for pk, score in kept if pk in loaded]
    if not scored:
        return []
    return scored


def product_word_tokens(reading: Reading, products: Iterable[Product]) -> frozenset[int]:
    """The tokens that are words of these products' names (never read as a place)."""
    found: set[int] = set()
    for product in products:
        for name in (product.name_fr, product.name_ar, product.name_en, *product.synonyms):
            for part in _significant(entry_tokens(name or "")):
                if part.script == "digits":
                    continue
                for i, token in enumerate(reading.tokens):
                    if token_level(token, part, typos=False) >= 0.9:
                        found.add(i)
    return frozenset(found)


# --- Variants ---------------------------------------------------------------------------------


def colour_code(value: str) -> str | None:
    """The colour a variant's colour value names ("Noir" → black, "Bleu marine" → navy)."""
    tokens = tokenize(value)
    hits = [hit for hit in colour_index().find(tokens, typos=False) if hit.start == 0 and hit.end == len(tokens)]
    return hits[0].label if hits else None


def colour_name(value: str, language: str) -> str:
    """A variant's colour as the customer's language names it (the seller's words otherwise)."""
    code = colour_code(value)
    if code is None:
        return value
    return COLOUR_NAMES[code].get(language) or COLOUR_NAMES[code].get("fr") or value


def variant_label(variant: Variant, language: str = "") -> str:
    colour = colour_name(variant.colour, language) if (variant.colour and language) else variant.colour
    return " / ".join(value for value in (variant.size, colour) if value)


def _value_score(value: str, reading: Reading, others: Sequence[str], *, size: bool) -> tuple[float, set[int]]:
    """How clearly the message names this size or colour value (0: not at all), and where."""
    parts = entry_tokens(value)
    tokens = reading.tokens
    if not parts:
        return 0.0, set()
    usable = [i for i in range(len(tokens)) if i not in reading.name_tokens]
    # The whole value, in order.
    for start in usable:
        end = start + len(parts)
        if end <= len(tokens) and all(
            token_level(tokens[start + k], part, typos=len(part.text) >= 5) >= 0.9 for k, part in enumerate(parts)
        ):
            if size and len(parts) == 1 and len(parts[0].text) == 1 and not _clearly_a_size(reading, start):
                continue
            return float(len(parts)) + 0.5, set(range(start, end))
    # A word of it no other value has ("marine", "pro", "olive").
    other_words = {t.text for other in others for t in entry_tokens(other)}
    own = [part for part in parts if part.text not in other_words and part.text not in NAME_STOP_WORDS]
    address = reading.looks_like_address
    for part in own:
        if len(part.text) < (2 if part.script == "digits" else 3) or (part.script == "digits" and address):
            continue  # "100" of "100 ml", "14" of "iPhone 14", "marine" of "Bleu marine"; not "حي 100 مسكن"
        for i in usable:
            if token_level(tokens[i], part, typos=False) >= 0.9:
                return 1.0, {i}
    return 0.0, set()


def _denied(reading: Reading) -> set[int]:
    """Tokens right after a negation ("42 machi 43", "L ماشي XL", "pas le noir"); a "non" or "لا"
    that opens a correction denies nothing ("لا لا L ماشي XL")."""
    denied: set[int] = set()
    for index, token in enumerate(reading.tokens):
        if token.text in NEGATIONS:
            denied.update(range(index + 1, min(index + 3, len(reading.tokens))))
    return denied


def _clearly_a_size(reading: Reading, index: int) -> bool:
    token = reading.tokens[index]
    significant = [t for t in reading.tokens if t.text not in SIZE_WORDS]
    return token.is_upper or reading.size_word_before(index) or len(significant) == 1


def variant_in(text: str, variants: Sequence[Variant], *, reading: Reading | None = None) -> Variant | None:
    """The one variant the message names by size and/or colour (None when none or several)."""
    ranked = variants_named(text, variants, reading=reading)
    if ranked and (len(ranked) == 1 or ranked[0][0] > ranked[1][0]):
        return ranked[0][1]
    return None


def variants_named(
    text: str, variants: Sequence[Variant], *, reading: Reading | None = None
) -> list[tuple[float, Variant]]:
    """Variants the message names, best first, with their scores."""
    reading = reading or Reading(text)
    sizes = [v.size for v in variants if v.size]
    colours = [v.colour for v in variants if v.colour]
    named_colours = reading.colours
    denied = _denied(reading)
    colour_at = {
        code: {i for hit in reading.colour_hits if hit.label == code for i in hit.span} for code in named_colours
    }
    scored = []
    for variant in variants:
        score, where = 0.0, set[int]()
        if variant.size:
            value, at = _value_score(variant.size, reading, [s for s in sizes if s != variant.size], size=True)
            if at and at <= denied:  # "42 machi 43": the value said after a negation is not wanted
                value, at = -value, set()
            score, where = score + value, where | at
        if variant.colour:
            by_words, at = _value_score(
                variant.colour, reading, [c for c in colours if c != variant.colour], size=False
            )
            code = colour_code(variant.colour)
            by_code = 1.5 if code is not None and code in named_colours else 0.0
            if by_code > by_words and code is not None:
                at = colour_at.get(code, set())
            value = max(by_words, by_code)
            if at and at <= denied:
                value, at = -value, set()
            score, where = score + value, where | at
        if score > 0:
            scored.append((score, variant, where))
    scored.sort(key=lambda item: -item[0])
    return [(score, variant) for score, variant, _ in scored]


def variant_numbers(variants: Sequence[Variant], product: Product | None = None) -> set[int]:
    """Numbers that are part of the variants' values or the product's names ("iPhone 14", "100 ml")."""
    texts = [v.size for v in variants] + [v.colour for v in variants]
    if product is not None:
        texts += [product.name_fr, product.name_ar, product.name_en, *product.synonyms]
    return {int(t.text) for text in texts if text for t in tokenize(text) if t.script == "digits" and len(t.text) < 6}
