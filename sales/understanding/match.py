"""Finding known names and phrases in a message: whole tokens and whole token sequences, with a
score, never a fragment inside another word.

A token meets an entry's token at one of three levels: the same cleaned text (1.0), the same
tolerant form — an Arabizi key, an Arabic stem without its glued prefixes, a singular — (0.9),
or, for words of five letters or more, one typo away (0.75). A phrase of several tokens is found
only when all its tokens follow one another; its score is its weakest token's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from sales.understanding.text import Token, tokenize

EXACT, FORM, TYPO = 1.0, 0.9, 0.75
TYPO_MIN_LENGTH = 5


@dataclass(frozen=True)
class EntryToken:
    text: str
    script: str
    forms: frozenset[str]


@dataclass(frozen=True)
class Entry:
    label: str  # what finding it means (an intent, a product id, a wilaya number...)
    phrase: str
    tokens: tuple[EntryToken, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    label: str
    phrase: str
    start: int  # token index
    end: int  # one past the last token
    score: float  # level × the entry's weight
    level: float = EXACT  # how its weakest token met (EXACT, FORM or TYPO)

    @property
    def span(self) -> range:
        return range(self.start, self.end)

    @property
    def size(self) -> int:
        return self.end - self.start


@lru_cache(maxsize=65536)
def entry_tokens(phrase: str) -> tuple[EntryToken, ...]:
    tokens = []
    for token in tokenize(phrase):
        forms = set(token.forms[:2]) if token.script != "arabic" else {token.text}
        if token.script == "arabic" and token.text.startswith("ال") and len(token.text) >= 4:
            forms.add(token.text[2:])  # "السعر" is also "سعر"
        if token.script == "arabic" and token.text.endswith("ه") and len(token.text) >= 4:
            forms.update(form[:-1] for form in list(forms) if form.endswith("ه"))  # "بيجامه" meets "بيجامات"
        if token.script == "latin":
            forms.update(token.forms)
        tokens.append(EntryToken(token.text, token.script, frozenset(forms)))
    return tuple(tokens)


def token_level(token: Token, entry: EntryToken, *, typos: bool = True) -> float:
    """How well a message token meets an entry token (0: not at all)."""
    if token.text == entry.text:
        return EXACT
    if token.script != entry.script and not (token.script == "digits" or entry.script == "digits"):
        return 0.0
    if token.text in common_words():
        return FORM if token.text in entry.forms and len(token.forms) > 2 and token.forms[2] == entry.text else 0.0
    if entry.forms.intersection(token.forms):
        return FORM
    if (
        typos
        and token.script == entry.script
        and token.script != "digits"
        and len(token.text) >= TYPO_MIN_LENGTH
        and len(entry.text) >= TYPO_MIN_LENGTH
        and _one_typo(token, entry)
    ):
        return TYPO
    return 0.0


def _one_typo(token: Token, entry: EntryToken) -> bool:
    """One letter added, dropped or changed, in the words as written or (six letters or more)
    in their tolerant keys. An everyday word is never a typo of another."""
    if token.text in common_words():
        return False
    if Levenshtein.distance(token.text, entry.text, score_cutoff=1) <= 1:
        return True
    if token.script != "latin" or len(token.forms) < 2:
        return False
    key = token.forms[1]
    return len(key) >= 6 and any(
        len(form) >= 6 and Levenshtein.distance(key, form, score_cutoff=1) <= 1 for form in entry.forms
    )


def common_words() -> frozenset[str]:
    from sales.understanding.lexicon import COMMON_WORDS

    return COMMON_WORDS


MEMO_SIZE = 50_000  # words remembered per index (then forgotten all at once)


class PhraseIndex:
    """Entries found by their first token's forms; typos are looked for among long first tokens."""

    def __init__(self, entries: Iterable[tuple[str, str, float]]) -> None:
        self.entries: list[Entry] = []
        self._by_form: dict[str, list[Entry]] = defaultdict(list)
        self._long: list[Entry] = []
        self._memo: dict[tuple[str, str, bool], list[Entry]] = {}
        for label, phrase, weight in entries:
            tokens = entry_tokens(phrase)
            if not tokens:
                continue
            entry = Entry(label, phrase, tokens, weight)
            self.entries.append(entry)
            for form in tokens[0].forms | {tokens[0].text}:
                self._by_form[form].append(entry)
            if len(tokens[0].text) >= TYPO_MIN_LENGTH and tokens[0].script != "digits":
                self._long.append(entry)

    def _candidates(self, token: Token, typos: bool) -> list[Entry]:
        # A word's candidates depend on the word alone: customers repeat the same words, and the
        # typo scan over the long entries is the costly part of reading a message.
        key = (token.text, token.script, typos)
        known = self._memo.get(key)
        if known is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            known = self._memo[key] = self._scan(token, typos)
        return known

    def _scan(self, token: Token, typos: bool) -> list[Entry]:
        found: dict[int, Entry] = {}
        for form in (token.text, *token.forms):
            for entry in self._by_form.get(form, ()):
                found[id(entry)] = entry
        if typos and len(token.text) >= TYPO_MIN_LENGTH and token.script != "digits":
            for entry in self._long:
                if id(entry) not in found and token_level(token, entry.tokens[0]) > 0:
                    found[id(entry)] = entry
        return list(found.values())

    def find(self, tokens: Sequence[Token], *, typos: bool = True, skip: frozenset[int] = frozenset()) -> list[Hit]:
        """Every entry found in `tokens` (tokens whose index is in `skip` are never part of a
        hit), best and longest first."""
        hits = []
        for start, token in enumerate(tokens):
            if start in skip:
                continue
            for entry in self._candidates(token, typos):
                end = start + len(entry.tokens)
                if end > len(tokens) or any(i in skip for i in range(start, end)):
                    continue
                levels = [token_level(tokens[start + i], part, typos=typos) for i, part in enumerate(entry.tokens)]
                if min(levels) > 0:
                    hits.append(Hit(entry.label, entry.phrase, start, end, min(levels) * entry.weight, min(levels)))
        hits.sort(key=lambda hit: (-hit.score, -hit.size, hit.start))
        return hits


def best_per_label(hits: Iterable[Hit]) -> dict[str, Hit]:
    best: dict[str, Hit] = {}
    for hit in hits:
        current = best.get(hit.label)
        if current is None or (hit.score, hit.size) > (current.score, current.size):
            best[hit.label] = hit
    return best


def non_overlapping(hits: Sequence[Hit]) -> list[Hit]:
    """The hits kept when the longest, best ones claim their tokens first."""
    taken: set[int] = set()
    kept = []
    for hit in sorted(hits, key=lambda h: (-h.size, -h.score, h.start)):
        if taken.isdisjoint(hit.span):
            kept.append(hit)
            taken.update(hit.span)
    return sorted(kept, key=lambda h: h.start)
