"""Tokens as customers write them, per script.

A message is cut into tokens of one script each (Arabic letters, Latin letters, digits), so
"50ml", "بالصباط" and "ch7al" become comparable units. Every token carries the forms it may be
matched on, from strict to tolerant:

- Latin: lower case without accents; its *key* (Arabizi digits read as letters: 3→a, 7→h, 9→q,
  5→kh, 2→a; "ou"→"u", "sh"→"ch", "dj"→"j"; vowels folded into three classes; letters written
  twice or more written once), so "ch7al", "chhhal" and "chal" meet, and "nheb", "n7eb" and
  "nhab" meet. Consonants are never dropped: "rani" never meets "Oran".
- Arabic: one form of alef, ya, ta marbuta and hamza seats, no diacritics or tatweel, an
  elongation written once; its *stems*: the token without the glued prepositions and article
  (و ف ب ل ك, ال, لل), so "فوهران" is "وهران" and "بالصباط" is "صباط".

Matching is on whole tokens and on known multi-word names (sales.understanding.match), never on
a fragment inside another word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ARABIC_DIACRITICS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
ARABIC_FORMS = str.maketrans("أإآٱىةؤئ", "اااايهوي")
EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
ARABIC_LETTER = "\u0621-\u063a\u0641-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f"
TOKEN = re.compile(rf"[{ARABIC_LETTER}]+|[a-z0-9]+(?:'[a-z]+)?|[0-9]+")
LATIN_WITH_DIGITS = re.compile(r"[a-z0-9]+")
ARABIC = re.compile(rf"[{ARABIC_LETTER}]")

# Arabizi: a digit inside a word is a letter.
ARABIZI_DIGITS = {"3": "a", "7": "h", "9": "q", "5": "kh", "2": "a", "8": "gh"}
VOWEL_CLASS = str.maketrans({"e": "a", "o": "u", "y": "i"})

# Glued to the front of an Arabic word: a conjunction (و ف), a preposition (ب ل ك) and/or the
# article (ال); "لل" is ل + ال.
ARABIC_PREFIXES = (
    "وبال",
    "وال",
    "فال",
    "بال",
    "كال",
    "ولل",
    "فلل",
    "لل",
    "ال",
    "وب",
    "ول",
    "فب",
    "فل",
    "و",
    "ف",
    "ب",
    "ل",
    "ك",
)


ARABIC_SUFFIXES = ("ات", "ين", "ون", "يه", "ه")


ARABIC_UNITS = {
    "مل": "ml", "ملل": "ml", "لتر": "l", "لترات": "l", "غرام": "g", "غ": "g", "كغ": "kg", "سم": "cm", "مم": "mm",
    "سنوات": "ans", "سنة": "ans", "سنين": "ans", "عام": "ans", "اعوام": "ans", "أعوام": "ans",
}  # fmt: skip
# Units written in other words: "2 years", "8 litres", "250gr" are "2 ans", "8 l", "250 g".
LATIN_UNITS = {
    "years": "ans", "year": "ans", "yrs": "ans", "yo": "ans", "an": "ans", "sna": "ans", "snin": "ans", "snine": "ans",
    "litres": "l", "litre": "l", "liters": "l", "liter": "l", "ltr": "l", "lt": "l", "gr": "g", "grammes": "g",
    "gramme": "g", "grams": "g", "mls": "ml",
}  # fmt: skip


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean(text: str) -> str:
    """Lower case, NFKC, Western digits, no accents or Arabic diacritics, one form per letter."""
    text = unicodedata.normalize("NFKC", text or "").lower().translate(EASTERN_DIGITS)
    text = ARABIC_DIACRITICS.sub("", text).translate(ARABIC_FORMS)
    return strip_accents(text).replace("’", "'").replace("`", "'")


@lru_cache(maxsize=65536)
def latin_key(word: str) -> str:
    """The spelling-tolerant key of a Latin (or Arabizi) word."""
    if not word.isdigit():
        word = "".join(ARABIZI_DIGITS.get(ch, ch) if ch.isdigit() else ch for ch in word)
    word = word.replace("'", "")
    word = word.replace("ou", "u").replace("sh", "ch").replace("dj", "j").replace("tch", "ch")
    word = word.translate(VOWEL_CLASS)
    return re.sub(r"(.)\1+", r"\1", word)


@lru_cache(maxsize=65536)
def arabic_stems(word: str) -> tuple[str, ...]:
    """The word and the word without each glued prefix that leaves at least two letters."""
    word = re.sub(r"(.)\1{2,}", r"\1", word)  # "شحاااال"
    stems = [word]
    for prefix in ARABIC_PREFIXES:
        rest = len(word) - len(prefix)
        if word.startswith(prefix) and (rest >= 3 or (rest >= 2 and "ال" in prefix)):
            stem = word[len(prefix) :]
            if stem not in stems:
                stems.append(stem)
    # A plural or a feminine ending: "خمارات" is "خمار", "وهرانية" is "وهراني".
    for stem in list(stems):
        for suffix in ARABIC_SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 3 and stem[: -len(suffix)] not in stems:
                stems.append(stem[: -len(suffix)])
    return tuple(stems)


@dataclass(frozen=True)
class Token:
    text: str  # cleaned
    original: str  # as written (case kept: "L" the size, "l" the preposition)
    script: str  # "arabic", "latin", "digits"
    start: int  # index in the original text
    end: int

    @property
    def forms(self) -> tuple[str, ...]:
        """The forms this token may be matched on, strictest first."""
        return token_forms(self.text, self.script)

    @property
    def is_upper(self) -> bool:
        return self.original.isupper()


@lru_cache(maxsize=65536)
def token_forms(text: str, script: str) -> tuple[str, ...]:
    if script == "arabic":
        return arabic_stems(text)
    if script == "digits":
        return (text,)
    forms = [text]
    if text in LATIN_UNITS:
        forms.append(LATIN_UNITS[text])
    key = latin_key(text)
    if key not in forms:
        forms.append(key)
    # A pronoun glued to a Darija verb: "nakhodhom", "nediha", "bghitou" are "nakhod", "nedi", "bghit".
    for suffix in ("houm", "hom", "ha", "hou"):
        if text.endswith(suffix) and len(text) - len(suffix) >= 4 and not text.isdigit():
            stem = latin_key(text[: -len(suffix)])
            if stem not in forms:
                forms.append(stem)
            break
    # A plural finds the singular ("baskets", "chaussures", "sbabet" stays).
    if len(text) > 4 and text[-1] in "sx" and not text.endswith("ss"):
        singular = latin_key(text[:-1])
        if singular not in forms:
            forms.append(singular)
    return tuple(forms)


def _script(chunk: str) -> str:
    if ARABIC.match(chunk):
        return "arabic"
    return "digits" if chunk.isdigit() else "latin"


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, each of one script. Latin letters and digits glued together are
    split when the digits are a number ("50ml", "x2", "iphone15") and kept when they are
    Arabizi letters ("ch7al", "3andek", "b9adech")."""
    original = unicodedata.normalize("NFKC", text or "")
    cleaned = clean(original)
    if len(cleaned) != len(original):  # a character changed length: positions are approximate
        original = cleaned
    tokens: list[Token] = []
    for match in TOKEN.finditer(cleaned):
        chunk, start = match.group(0), match.start()
        if _script(chunk) == "latin" and any(ch.isdigit() for ch in chunk) and not chunk.isdigit():
            for part, offset in _split_number(chunk):
                tokens.append(
                    Token(part, original[start + offset : start + offset + len(part)], _script(part),
                          start + offset, start + offset + len(part))
                )  # fmt: skip
            continue
        if chunk in ARABIC_UNITS:  # "50 مل" is "50 ml"
            tokens.append(Token(ARABIC_UNITS[chunk], original[start : match.end()], "latin", start, match.end()))
            continue
        tokens.append(Token(chunk, original[start : match.end()], _script(chunk), start, match.end()))
    return tokens


UNITS = frozenset({"ml", "cl", "l", "g", "gr", "kg", "cm", "mm", "m", "pcs", "pc", "x", "da", "dzd", "go", "gb", "to"})


def _split_number(chunk: str) -> list[tuple[str, int]]:
    """ "50ml" → 50, ml; "x2" → x, 2; "iphone15" → iphone, 15; but "ch7al", "wa7da", "3andek",
    "ma3" and "b9adech" stay words: a single digit among letters is an Arabizi letter."""
    parts = [(m.group(0), m.start()) for m in re.finditer(r"[a-z']+|[0-9]+", chunk)]
    if len(parts) == 1:
        return parts
    numbers = [part for part, _ in parts if part.isdigit()]
    arabizi = all(len(n) == 1 and n in ARABIZI_DIGITS for n in numbers)
    if not arabizi:
        return parts
    if chunk[0].isdigit():  # "5kg" is a count and a unit; "3andek" is a word
        return parts if parts[1][0] in UNITS else [(chunk, 0)]
    if chunk[-1].isdigit() and parts[0][0] in ("x", "t", "n", "no"):  # "x2", "t2" (a size), "n3"
        return parts
    return [(chunk, 0)]
