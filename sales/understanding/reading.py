"""What one customer message says: intents with scores, the customer's own name, quantities,
a phone number, sizes and colours — everything but the catalog and places (see
sales.understanding.catalog and sales.understanding.places), which need the shop's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property

from sales.understanding.lexicon import ADDRESS_WORDS, COLOURS, INTENTS, NAME_INTRODUCERS, NUMBERS, SIZE_WORDS, WEAK
from sales.understanding.match import TYPO, Hit, PhraseIndex, best_per_label
from sales.understanding.text import Token, clean, tokenize

# A weak entry alone scores this; an intent is read at THRESHOLD.
WEAK_WEIGHT = 0.5
THRESHOLD = 0.7

# Intents a question of the bot makes expected: a weak word then counts in full.
EXPECTED_INTENTS = {
    "delivery_type": {"home", "desk"},
    "confirm": {"yes", "no"},
    "summary": {"yes", "no", "change", "remove", "add", "cancel"},
}


@cache
def intent_index() -> PhraseIndex:
    entries = []
    for intent, phrases in INTENTS.items():
        weak = WEAK.get(intent, frozenset())
        for phrase in phrases:
            entries.append((intent, phrase, WEAK_WEIGHT if clean(phrase) in weak or phrase in weak else 1.0))
    return PhraseIndex(entries)


@cache
def colour_index() -> PhraseIndex:
    return PhraseIndex((code, spelling, 1.0) for code, spellings in COLOURS.items() for spelling in spellings)


@cache
def introducer_index() -> PhraseIndex:
    return PhraseIndex(("name", phrase, 1.0) for phrase in NAME_INTRODUCERS)


QUANTITY_AFTER = frozenset(
    """x pcs pc pieces piece pièces hbat 7bat حبات حبة paires pairs paire pair fois berk brk bark seulement only
    برك فقط قارورات قارورة علب علبة boites flacons flacon bouteilles""".split()
)
QUANTITY_BEFORE = frozenset("x ghir juste seulement only just khalih khaliha khallih غير خليه خليها اجعلها قط".split())


@dataclass
class Reading:
    """One message, read."""

    text: str
    expecting: str | None = None
    tokens: list[Token] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = tokenize(self.text)

    # --- Intents ---------------------------------------------------------------------------

    @cached_property
    def intent_hits(self) -> list[Hit]:
        return intent_index().find(self.tokens, skip=self.name_tokens)

    @cached_property
    def phrase_tokens(self) -> frozenset[int]:
        """Tokens of a phrase of several words that says an intent ("montre-moi", "how much")."""
        return frozenset(i for hit in self.intent_hits if hit.size > 1 and hit.score >= 0.9 for i in hit.span)

    @cached_property
    def intent_scores(self) -> dict[str, float]:
        expected = EXPECTED_INTENTS.get(self.expecting or "", set())
        scores: dict[str, float] = {}
        hits = self.intent_hits
        # A word spelt as some entry is that entry's; read as a typo of another, it is not.
        spelt = {i for hit in hits if hit.level > TYPO for i in hit.span}
        hits = [hit for hit in hits if not (hit.level <= TYPO and spelt.intersection(hit.span))]
        # A word inside a longer phrase of another intent is that phrase's ("stop desk", "plus tard").
        longer = [hit for hit in hits if hit.size > 1]
        hits = [
            hit
            for hit in hits
            if not any(
                o.size > hit.size and o.label != hit.label and o.start <= hit.start and hit.end <= o.end for o in longer
            )
        ]
        for label, hit in best_per_label(hits).items():
            score = hit.score
            if score < THRESHOLD and label in expected:
                score = min(1.0, score * 2)
            # Two weak words of one intent make a strong one ("nheb ... bghit").
            weak_hits = [h for h in hits if h.label == label]
            if score < THRESHOLD and len({h.start for h in weak_hits}) >= 2:
                score = THRESHOLD
            scores[label] = score
        return scores

    @cached_property
    def intents(self) -> set[str]:
        found = {intent for intent, score in self.intent_scores.items() if score >= THRESHOLD}
        if "discount" not in found:
            from sales.engine.amounts import discounts_in

            if discounts_in(self.text):  # "40%", "khamsin fel miya", "b nos soum"
                found.add("discount")
        return found

    def has(self, *intents: str) -> bool:
        return any(intent in self.intents for intent in intents)

    def weakly(self, intent: str) -> bool:
        """Some word of the intent is there, even a weak one."""
        return intent in self.intent_scores

    # --- The customer's name ---------------------------------------------------------------

    @cached_property
    def name_tokens(self) -> frozenset[int]:
        """Indices of the tokens that are the customer's own name: up to three words after
        "ana", "je m'appelle", "my name is"..., or the whole message when a name was asked."""
        if self.expecting == "customer_name":
            # The name asked for: the words that say nothing else ("annuler la commande" is no name).
            candidates = [
                i for i, t in enumerate(self.tokens) if t.script != "digits" and i not in self._lexicon_tokens
            ]
            letters = [i for i, t in enumerate(self.tokens) if t.script != "digits"]
            return frozenset(candidates) if len(candidates) == len(letters) else frozenset()
        found: set[int] = set()
        for hit in introducer_index().find(self.tokens, typos=False):
            strong = hit.phrase not in WEAK_INTRODUCERS
            following = []
            for index in range(hit.end, min(hit.end + 3, len(self.tokens))):
                token = self.tokens[index]
                if token.script == "digits" or token.text in NOT_NAMES or index in self._lexicon_tokens:
                    break
                # In a message written with capitals, a name has one.
                if token.script == "latin" and self._capitals_used and not token.original[:1].isupper():
                    break
                following.append(index)
            # "ana f wahran", "je suis à Sétif", "je suis pas un robot": not a name; after a weak
            # introducer ("ana", "je suis") only a capitalised word, or a word alone, is one.
            if not following:
                continue
            if not strong:
                first = self.tokens[following[0]]
                alone = following[-1] == len(self.tokens) - 1
                if not (first.script == "latin" and first.original[:1].isupper()) and not alone:
                    continue
            found.update(following[:2])
        return frozenset(found)

    @cached_property
    def looks_like_address(self) -> bool:
        """The message holds an address ("cité 200 logements", "حي 100 مسكن", "rue 14")."""
        return any(token.text in ADDRESS_WORDS for token in self.tokens)

    @property
    def lexicon_tokens(self) -> frozenset[int]:
        return self._lexicon_tokens

    @cached_property
    def _lexicon_tokens(self) -> frozenset[int]:
        """Tokens that are words of an intent (even a weak one), a colour, a number word or a size
        (never a name)."""
        found = {i for hit in intent_index().find(self.tokens, typos=False) if hit.level >= 0.9 for i in hit.span}
        # A colour only as written ("Annabi" is a family name, not "3nabi").
        found |= {i for hit in colour_index().find(self.tokens, typos=False) if hit.level == 1.0 for i in hit.span}
        for index, token in enumerate(self.tokens):
            if (
                token.text in NUMBERS
                or token.text in QUANTITY_AFTER
                or token.text in QUANTITY_BEFORE
                or (token.script == "latin" and SIZE_TOKEN.fullmatch(token.original))
            ):
                found.add(index)
        return frozenset(found)

    @cached_property
    def _capitals_used(self) -> bool:
        latin = [token.original for token in self.tokens if token.script == "latin"]
        return any(word[:1].isupper() for word in latin[1:])

    def name(self) -> str:
        """The customer's name as written, when the message gives one."""
        indices = sorted(self.name_tokens)
        if not indices:
            return ""
        if self.expecting == "customer_name":
            text = self.text.strip()
            text = re.sub(INTRODUCER_PATTERN, "", text).strip(" .,!؟?")
            if re.search(r"\d", text) or not (2 <= len(text) <= 60) or len(text.split()) > 4:
                return ""
            return text
        return " ".join(self.tokens[i].original for i in indices).strip()

    # --- Sizes, colours, quantities ----------------------------------------------------------

    @cached_property
    def colour_hits(self) -> list[Hit]:
        return colour_index().find(self.tokens, skip=self.name_tokens)

    @cached_property
    def colours(self) -> set[str]:
        return {hit.label for hit in self.colour_hits if hit.score >= 0.9}

    def size_word_before(self, index: int) -> bool:
        return index > 0 and self.tokens[index - 1].text in SIZE_WORDS

    @cached_property
    def quantity(self) -> int | None:
        """A quantity the customer states: "x2", "2 pcs", "zouj", "deux", "3 hbat"."""
        for index, token in enumerate(self.tokens):
            if index in self.name_tokens:
                continue
            following = self.tokens[index + 1].text if index + 1 < len(self.tokens) else ""
            previous = self.tokens[index - 1].text if index else ""
            if (
                token.script == "digits"
                and len(token.text) <= 2
                and (following in QUANTITY_AFTER or previous in QUANTITY_BEFORE)
            ):
                return int(token.text)
            if token.text in NUMBERS and not self.size_word_before(index):
                # "wahed" is also "someone" ("nheb nahder m3a wahed"): only a count beside a noun
                if NUMBERS[token.text] == 1 and not following and previous not in QUANTITY_BEFORE:
                    continue
                return NUMBERS[token.text]
        return None

    @cached_property
    def bare_numbers(self) -> list[int]:
        return [int(token.text) for token in self.tokens if token.script == "digits" and len(token.text) <= 3]


SIZE_TOKEN = re.compile(r"X{0,3}[SML]|\d{1,3}")

WEAK_INTRODUCERS = frozenset({"ana", "je suis", "i'm", "i am", "this is", "c'est", "انا", "أنا", "name", "nom"})

NOT_NAMES = frozenset(
    """f fi fel fl men mn m3a rani rah rak hna hnaya a au en de du la le l un une pret prete ici la-bas
    ma nheb n7eb bghit habit hab 7ab labas bien tres content contente interesse interessee d'accord
    from in at on here interested ready looking the a an very not""".split()
) | frozenset({"في", "من", "راني", "هنا", "مع", "نحب", "حاب", "بغيت"})

INTRODUCER_PATTERN = re.compile(
    r"(?i)^\s*(ana ismi|ana|je m'appelle|je suis|moi c'est|my name is|i'm|i am|this is|اسمي|انا|أنا|smiti|esmi|ismi"
    r"|le nom|nom)\s*[:,-]?\s+"
)
