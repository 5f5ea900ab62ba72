"""Money and discounts as people write them, in the five ways customers and models write them:
digits (with spaces, dots, commas or apostrophes between thousands: "2 500", "2.500",
"2,500.00"), number words (French, English, Modern Standard Arabic and Darija in Arabic script,
and Darija in Latin letters: "khamsin", "alf w khamsmiya", "ألفين", "deux mille cinq cents",
"two thousand"), Arabic-Indic and Persian digits, look-alike letters inside numbers ("5O%",
"l5OO DA") and fractions as words ("moitié prix", "half price", "نص الثمن", "b nos").

`find_mentions` returns every money amount and every percentage or fraction discount of a text
with its span, so that the guardrails can check each one; `read_dzd` reads one price cell (the
catalog CSV); `requested_percent` reads the discount a customer asks for.

What counts as money:
- a number with a currency word before or after it (DA, DZD, دج, د.ج, dinar(s), دينار,
  centimes, سنتيم; euro, dollar, €, $ are foreign currencies, which a shop in dinars never quotes);
- a number of at least 100 written next to a money cue: a price word ("prix", "soum", "السعر",
  "total", "au lieu de", "twelli"), a preposition of price ("à", "for", "b", "ب") or "only"
  ("seulement", "brk", "bark", "برك", "فقط"); or written with thousands separators (≥ 1000);
- not a quantity: a number followed by a unit or a counted thing ("2 pièces", "24h",
  "48 heures", "3 jours", "200 logements") or after a size, reference or phone word ("taille 42",
  "n° 1234"); phone numbers, dates, times, "#00012" references and codes like "BS-41" are never
  read at all.
Algerians also count in centimes (1 DA = 100 centimes): "mliun" is a million centimes, 10 000
DA, and "20 alf" may mean 20 000 DA or 20 000 centimes (200 DA). An amount counted with "alf" or
"mliun" and no unit therefore has both readings; with "DA" or "dinar" only the dinar one, with
"centimes" only the centime one. The guardrails accept an amount when one of its readings is a
price the shop can state: the customer reads the amount against the product's price.
A fraction is a discount only next to a price or discount word ("moitié prix", "half off", "b
nos soum"); its discount is the smaller of the share and what is left (half: 50 %, a quarter
or three quarters: 25 %). A percentage is a discount unless it speaks of material or quality
("100% coton", "100 % original").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sales.engine.language import LETTER_FORMS


class Kind(StrEnum):
    AMOUNT = "amount"  # money, with or without a currency word
    PERCENT = "percent"  # "50 %", "cinquante pour cent", "خمسين بالمية", "remise de 15"
    FRACTION = "fraction"  # "moitié prix", "half price", "نص الثمن"


class Currency(StrEnum):
    NONE = ""  # no currency written: read from a money cue
    DZD = "DZD"
    CENTIMES = "centimes"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class Mention:
    start: int  # span in the original text
    end: int
    text: str
    kind: Kind
    # Dinars for an amount (its dinar reading), percentage points for a percentage, the share of
    # the price in percent for a fraction (half: 50, three quarters: 75).
    value: Decimal
    currency: Currency = Currency.NONE
    # The dinar values an amount can mean (both readings of "20 alf"; one for most amounts).
    readings: tuple[Decimal, ...] = ()
    off: bool = False  # an amount written as a reduction ("-590 DA", "500 DA de remise")

    @property
    def discount_percent(self) -> Decimal:
        """The discount a percentage or fraction promises (a fraction: the smaller share)."""
        if self.kind is Kind.FRACTION:
            return min(self.value, 100 - self.value)
        return self.value


# --- Text folding with a map back to the original -------------------------------------------

_DIGITS = {**{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)}}
_SPACES = frozenset("\u00a0\u202f\u2009\u2007\u2002\u2003\u3000\t")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\u061c\ufeff\u0640")
_DASHES = frozenset("\u2212\u2013\u2014\u2010\u2011")
_QUOTES = frozenset("\u2019\u2018\u02bc`\u00b4")
_VULGAR = {"½": "½", "¼": "¼", "¾": "¾", "⅓": "⅓", "⅔": "⅔"}


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _DIGITS:
        return _DIGITS[char]
    if char in _SPACES:
        return " "
    if char in _INVISIBLE:
        return ""
    if char in _DASHES:
        return "-"
    if char in _QUOTES:
        return "'"
    if char in _VULGAR:
        return f" {char} "
    if char == "٬":  # the Arabic thousands separator
        return ","
    if char == "٫":  # the Arabic decimal separator
        return "٫"
    code = ord(char)
    if 0x064B <= code <= 0x065F or code == 0x0670:  # Arabic diacritics
        return ""
    folded = char.lower().translate(LETTER_FORMS)
    folded = unicodedata.normalize("NFKD", folded)
    return "".join(part for part in folded if not unicodedata.combining(part)).lower()


def fold(text: str) -> tuple[str, list[int]]:
    """`text` lower-cased, without accents or Arabic diacritics, one form of alef/ya/ta marbuta,
    ASCII digits; and for each character of the result, the index of the character it came from."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def _folded(word: str) -> str:
    return fold(word)[0].strip()


# --- Words ---------------------------------------------------------------------------------


def _words(table: dict[int, str]) -> dict[str, int]:
    return {_folded(word): value for value, spellings in table.items() for word in spellings.split()}


# Values below 100 that add up ("vingt" + "cinq", "خمسة و عشرين", "khamsa w 3achrin").
UNITS = _words(
    {
        1: "un une one wahed wa7ed wahd wa7d واحد واحدة",
        2: "deux two zouj zoudj zoj jouj joj zouz tnin اثنين اثنان اثنتين زوج زوز جوج",
        3: "trois three tlata tleta tlat tlet thlatha ثلاثة ثلاث تلاتة تلات",
        4: "quatre four arba3a arb3a rb3a reb3a rab3a rba3a أربعة أربع اربعة اربع ربعة",
        5: "cinq five khamsa khemsa khamssa khams 5amsa خمسة خمس",
        6: "six setta sta stta sitta ستة ست",
        7: "sept seven sab3a seb3a sb3a سبعة سبع",
        8: "huit eight tmanya tmenya tmania thmania thmanya ثمانية ثمان تمنية تمانية ثمنية",
        9: "neuf nine tes3a tis3a ts3a تسعة تسع",
        10: "dix ten 3achra 3ashra 3chra achra عشرة عشر",
        11: "onze eleven 7dach hdach ahdach حداش احداش",
        12: "douze twelve tnach tnash اطناش طناش",
        13: "treize thirteen tlettach tltach tlatach تلطاش ثلطاش",
        14: "quatorze fourteen rba3tach arba3tach rb3tach ربعطاش اربعطاش",
        15: "quinze fifteen khmastach khamastach 5mastach خمسطاش",
        16: "seize sixteen settach sttach sitach سطاش ستاش",
        17: "seventeen sba3tach sbe3tach سبعطاش",
        18: "eighteen tmantach tmentach ثمنطاش تمنطاش",
        19: "nineteen tsa3tach tse3tach تسعطاش",
        20: "vingt vingts twenty 3achrin 3ichrin 3echrin achrin ichrin عشرين عشرون",
        30: "trente thirty tlatin tlathin tletin thlathin ثلاثين ثلاثون تلاتين",
        40: "quarante forty rab3in arb3in reb3in rb3in أربعين أربعون اربعين",
        50: "cinquante fifty khamsin khemsin khamssin 5amsin خمسين خمسون",
        60: "soixante sixty settin sittin stin ستين ستون",
        70: "septante seventy sab3in seb3in sb3in سبعين سبعون",
        80: "huitante octante eighty tmanin tmenin thmanin ثمانين ثمانون تمانين ثمنين",
        90: "nonante ninety tes3in tis3in ts3in تسعين تسعون",
    }
)
HUNDRED = frozenset(
    _folded(word) for word in "cent cents hundred hundreds miya mya mia meya myia مية مائة مئة ميا".split()
)
# Hundreds in one word ("khamsmiya", "خمسمائة").
HUNDREDS = _words(
    {
        200: "mitin miten mytin mitine ميتين مئتين مئتان مائتين مائتان",
        300: " ".join(f"{stem}{tail}" for stem in ("tlat", "tlet", "tlt") for tail in ("miya", "mya", "mia"))
        + " ثلاثمائة ثلاثمية تلتمية تلاتمية ثلثمائة",
        400: " ".join(f"{stem}{tail}" for stem in ("rba3", "rb3", "reb3", "arba3") for tail in ("miya", "mya", "mia"))
        + " أربعمائة اربعمائة ربعمية اربعمية",
        500: " ".join(
            f"{stem}{tail}" for stem in ("khams", "khems", "5ams", "khamse") for tail in ("miya", "mya", "mia")
        )
        + " خمسمائة خمسمية",
        600: " ".join(f"{stem}{tail}" for stem in ("sett", "set", "sit", "st") for tail in ("miya", "mya", "mia"))
        + " ستمائة ستمية",
        700: " ".join(f"{stem}{tail}" for stem in ("sba3", "seb3", "sb3") for tail in ("miya", "mya", "mia"))
        + " سبعمائة سبعمية",
        800: " ".join(f"{stem}{tail}" for stem in ("tman", "tmen", "thman", "tmn") for tail in ("miya", "mya", "mia"))
        + " ثمانمائة ثمنمية تمنمية ثمانمية",
        900: " ".join(f"{stem}{tail}" for stem in ("tsa3", "tes3", "ts3", "tis3") for tail in ("miya", "mya", "mia"))
        + " تسعمائة تسعمية",
    }
)
# Multipliers that close a group ("trois mille", "tlata alaf", "20 alf").
BIG = _words(
    {
        1000: "mille milles mil thousand thousands alf alef alaf k الف آلاف الاف ألاف",
        1_000_000: "million millions mliun mlioun melyoun malyoun milyoun mlayen mlayin مليون ملايين ملاين",
        1_000_000_000: "milliard milliards billion melyar mlyar مليار",
    }
)
# Two thousand, two million in one word ("alfin", "ألفين").
DUALS = _words({2000: "alfin alfine alfeyn alfayn الفين الفان", 2_000_000: "mlyounin مليونين مليونان"})
# "a hundred", "a thousand": one only before a multiplier.
ONE_BEFORE_MULTIPLIER = frozenset({"a", "an"})
CONNECTORS = frozenset({"et", "and", "w", "wa", "و"})
# Fractions, as the share of the price in percent.
FRACTIONS: dict[str, Decimal] = {
    **{_folded(w): Decimal(50) for w in "moitie demi half nos noss nouss nuss nss نص نصف ½".split()},
    **{_folded(w): Decimal(25) for w in "quart quarter rob3 roub3 rbo3 ربع ¼".split()},
    **{_folded(w): Decimal(75) for w in "¾".split()},
    **{_folded(w): Decimal("33.33") for w in "tiers third tolt toult tult tholt ثلث ⅓".split()},
    **{_folded(w): Decimal("66.67") for w in "⅔".split()},
}
PLURAL_FRACTIONS = {
    "quarts": Decimal(25),
    "quarters": Decimal(25),
    "thirds": Decimal("33.33"),
}  # "trois quarts", "two thirds"

# Marker sequences (folded words), longest first when matched.
_MIYA = ("miya", "mya", "mia", "meya", "myia")
PERCENT_MARKERS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            ("%",), ("٪",), ("pour", "cent"), ("pourcent",), ("pour", "cents"), ("pour", "-", "cent"),
            ("percent",), ("per", "cent"), ("pct",),
            *((_folded(w),) for w in "بالمية بالمائة بالمئة فالمية فالمائة بالميا فالميا".split()),
            *((_folded("في"), _folded(w)) for w in "المية المائة المئة الميا".split()),
            *((first, miya) for first in ("fel", "fil", "bel", "bil", "fl", "bl") for miya in _MIYA),
            *((first, f"l{miya}") for first in ("f", "b", "fi", "bi") for miya in _MIYA),
            *((first, "el", miya) for first in ("f", "b", "fi", "bi") for miya in _MIYA),
            *((first, "l", miya) for first in ("f", "b", "fi", "bi") for miya in _MIYA),
            *((f"{first}{miya}",) for first in ("fel", "fl", "bel", "bl", "fil", "bil") for miya in _MIYA),
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
CURRENCY_MARKERS: dict[tuple[str, ...], Currency] = {
    **{(w,): Currency.DZD for w in ("da", "dzd", "dz", "dinar", "dinars", "dinard", "dj")},
    **{(_folded(w),): Currency.DZD for w in "دج دينار دنانير الدينار".split()},
    (_folded("د"), ".", _folded("ج")): Currency.DZD,
    (_folded("د"), _folded("ج")): Currency.DZD,
    ("d", ".", "a"): Currency.DZD,
    **{(w,): Currency.CENTIMES for w in ("centime", "centimes", "cts", "ct", "santim", "sentim", "santime")},
    **{(_folded(w),): Currency.CENTIMES for w in "سنتيم سانتيم سنتيمات".split()},
    **{(w,): Currency.FOREIGN for w in ("€", "$", "eur", "euro", "euros", "usd", "dollar", "dollars", "£")},
    **{(_folded(w),): Currency.FOREIGN for w in "يورو اورو دولار".split()},
}
# "dinars algériens": the second word belongs to the currency.
CURRENCY_TAILS = frozenset({"algeriens", "algerien", "algerian", _folded("جزائري"), _folded("جزائرية")})

# Money cues next to a number without a currency. Words before the number:
PRICE_BEFORE = frozenset(
    _folded(w)
    for w in """
    prix price priced tarif unitaire cout coute coutent couter cost costs montant amount total totale soit
    payez payer paye pay paying seulement only just juste que ghir blasst blast twelli tewelli twali
    tweli ywelli ywali welat walat soum souma essoum ssoum soumha soumtha soumto soumou taman thaman
    ttaman tkhalles tkhales tkhalas tkhalsou nkhalsou instead lieu
    السعر سعر بسعر سعرها سعره الثمن ثمن بثمن ثمنها السومة سومة سومتها سومتو سومته المبلغ مبلغ
    المجموع مجموع غير فقط تولي يولي ولات تخلص تخلصو بدل بدلا بلاصة
    """.split()
)
# Prepositions of price: money before a number only from 100 up, like every cue.
PRICE_PREPOSITIONS = frozenset({"a", "at", "for", "pour", "b", "be", "bi", "ب"})
PRICE_AFTER = frozenset(
    _folded(w)
    for w in """
    seulement only brk bark barka berk barak berka each chacun chacune ttc net final finale
    برك بركا بركة فقط برك الواحد للواحدة للحبة
    """.split()
)
PRICE_AFTER_PAIRS = frozenset(
    {("la", "piece"), ("l", "unite"), ("le", "tout"), ("tout", "compris"), ("the", "piece"), ("per", "piece"),
     ("a", "piece"), ("l", "wa7da"), ("l", "wahda"), ("el", "wa7da"), ("lel", "wa7da"), ("la", "paire")}
)  # fmt: skip
# A reduction: an amount after these is an amount off, a bare number up to 100 a percentage.
DISCOUNT_WORDS = frozenset(
    _folded(w)
    for w in """
    remise reduction rabais discount discounts off promo promotion solde soldes moins minus less save
    economisez economiser economie saving savings takhfid ta5fid tkhfid n9eslek nn9eslek n9sslek
    nna9sek nna9slek tna9as
    تخفيض تخفيظ تنقيص نقص ننقصلك ننقصك تنقص خصم
    """.split()
)
# Around a fraction: the words that make it a price ("moitié prix", "b nos soum").
PRICE_WORDS = (PRICE_BEFORE | DISCOUNT_WORDS | {"tarif", "prix", "price", "cher", "cheaper", "rkhis"}) - {
    "que", "ghir", "غير", "فقط", "seulement", "only", "just", "juste", "soit", "lieu", "instead", "total",
    "totale", "moins", "less", "minus", "off",
}  # fmt: skip
# "à moitié", "at half", "b nos", "بالنص": a share of the price by itself ("a third party" is not).
FRACTION_PREPOSITIONS = frozenset({"at", "b", "be", "bi", "ب", "بال", "f", "fi"})
# The Darija words for the price after "nos" ("nos soum"); French "nos prix", "nos soldes" are "our".
NOS_PRICE = frozenset({"soum", "souma", "essoum", "ssoum", "soumha", "soumtha", "soumto", "taman", "thaman", "ttaman"})
# A number followed by these is a quantity, a time, a size or a count, not money.
QUANTITY_AFTER = frozenset(
    _folded(w)
    for w in """
    piece pieces pcs pc paire paires pair pairs article articles produit produits product products item
    items unite unites unit units commande commandes order orders client clients customer customers
    personne personnes person people avis review reviews etoile etoiles star stars vente ventes sales
    modele modeles model models taille tailles size sizes couleur couleurs colour colours color colors
    jour jours j jrs day days nuit nuits heure heures h hr hrs hour hours minute minutes min mn mins
    seconde secondes sec semaine semaines week weeks mois month months an ans annee annees year years
    iyam ayam youm yom nhar nharat sa3a sa3at swaye3 dqay9 d9ay9 chhar chhour 3am
    cm mm m km kg g gr mg ml cl l litre litres metre metres x fois times marra marrat tour
    logement logements etage etages stock exemplaire exemplaires lot lots boite boites colis
    hba 7aba hbat 7bat hbet 7bet pointure pointures
    أيام ايام يوم ساعة ساعات دقيقة دقائق أسبوع اسبوع أسابيع شهر أشهر اشهر شهور سنة سنوات عام
    حبة حبات قطعة قطع طلبية طلبيات طلب زبون زبائن مرة مرات كلغ غرام متر سم مسكن
    """.split()
)
QUANTITY_BEFORE = frozenset(
    _folded(w)
    for w in """
    taille size pointure pointura n no num numero number ref reference code tel telephone phone mobile
    whatsapp wilaya cite bt bloc batiment immeuble rue lot villa appartement app apt etage porte route
    qte quantite quantity qty x depuis since annee year en in 9yas l9yas qyas
    مقاس قياس رقم ولاية ولايه عمارة حي سنة عام منذ
    """.split()
)
# A percentage that speaks of material or quality, not of a discount ("100% coton").
NOT_A_DISCOUNT = frozenset(
    _folded(w)
    for w in """
    coton cotton cuir leather laine wool lin linen soie silk polyester viscose elasthanne naturel
    naturelle natural pur pure original originale originaux authentique authentic garanti garantie
    guaranteed guarantee satisfaction satisfait satisfaits satisfaite satisfied fiable reliable sure
    algerien algerienne algerian local locale bio organic vegan handmade fait made madmoun mdamen asli
    قطن جلد صوف حرير طبيعي أصلي اصلي مضمون مضمونة أصلية اصلية
    """.split()
)
SENTENCE_END = frozenset(".!?؟\n;")

# What is never read as a number at all (on the folded text).
_MASKS = re.compile(
    r"""
    https?://\S++ | www\.\S++ | (?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++   # links, e-mails
    | (?<![\d+])(?:\+|00)\s?213[\s.-]*(?:\(0\)|0)?[\s.-]*[1-9](?:[\s.-]?\d){7,8}(?!\d)   # +213 phones
    | (?<![\d,.])0[1-9](?:[\s.-]?\d){7,8}(?![\d,.])                     # 0550 12 34 56, 021 23 45 67
    | (?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?![\d/.-])             # dates
    | (?<![\d-])\d{4}-\d{1,2}-\d{1,2}(?!\d)
    | (?<!\d)\d{1,2}[h:]\d{2}(?!\d)                                      # times: 14h30, 14:30
    | (?<!\d)\d{1,2}\s?[hj]?\s?/\s?\d{1,2}\s?[hj]?(?!\d)                 # 24h/24, 7j/7, 24/7, 41/42
    | \#\s?\d+ | (?<![a-z])n\s?[°º]\s?\d+                                 # references: #00012, n° 12
    | (?<![^\W\d_])[a-z]{1,6}[-_]\d+[a-z0-9-]* | (?<!\d)\d++[a-z]?[-_][a-z]{1,4}\d+   # codes: BS-41, MT-1
    """,
    re.VERBOSE,
)
_FRACTION_PAIRS = {("1", "2"): Decimal(50), ("1", "4"): Decimal(25), ("3", "4"): Decimal(75),
                   ("1", "3"): Decimal("33.33"), ("2", "3"): Decimal("66.67")}  # fmt: skip
_FRACTION_PAIR = re.compile(r"(?<![\d/])([123])\s?/\s?([234])(?![\d/])")
_RUN = re.compile(r"[½¼¾⅓⅔]|[^\W_]+|\n|[^\s\w]|_")  # a line break ends a sentence: it is a token
_LOOKALIKE = re.compile(r"(?=[0-9oil]*\d)(?=[0-9oil]*[oil])[0-9oil]+")
_LOOKALIKE_DIGITS = str.maketrans("oil", "011")
_DIGIT_SUFFIX = re.compile(r"(\d+)([^\W\d_]+)")
_LETTER_DIGITS = re.compile(r"([\u0600-\u06ff]+)(\d+)")
SUFFIXES = frozenset(
    """
    da dzd dz dinar dinars k h hrs hr x cm mm m km kg g gr mg ml cl l j jrs mn min mins pcs pc p e eme em
    er ere eres st nd rd th ans an ko mo go gb mb fois
    """.split()
)
MAX_DIGITS = 15
ARABIC_PREFIXES = ("وب", "بال", "فال", "وال", "ال", "و", "ب", "ف")


# --- Tokens --------------------------------------------------------------------------------


@dataclass
class _Token:
    kind: str  # num, word, punct, mask
    text: str  # folded
    start: int  # in the folded text
    end: int
    value: Decimal | None = None
    digits: int = 0  # how many digits a num token has
    lookalike: bool = False
    grouped: bool = False  # written with thousands separators
    raw: str = ""  # the original text, lower-cased ("sûr" and "sur" fold alike)


def _is_word_value(word: str) -> bool:
    return word in UNITS or word in HUNDREDS or word in BIG or word in DUALS or word in HUNDRED or word in FRACTIONS


# Every word of a marker, kept whole by the tokenizer ("المية" is not "ال" + "مية").
MARKER_WORDS = frozenset(word for marker in (*PERCENT_MARKERS, *CURRENCY_MARKERS) for word in marker)


def _known(word: str) -> bool:
    return (
        _is_word_value(word)
        or word in MARKER_WORDS
        or word in PRICE_BEFORE
        or word in PRICE_AFTER
        or word in DISCOUNT_WORDS
    )


def _split_run(run: str, start: int) -> Iterator[_Token]:
    """One run of letters and digits as tokens: "3800da" is a number and a currency, "ب3800"
    a preposition and a number, "وخمسمائة" a connector and a number, "3achrin" a number word,
    "b9aw" a word."""
    end = start + len(run)
    if len(run) > MAX_DIGITS and any(char.isdigit() for char in run):
        yield _Token("word", run, start, end)  # no amount has that many digits
        return
    if run.isdigit():
        yield _Token("num", run, start, end, Decimal(run), digits=len(run))
        return
    if _known(run):
        yield _Token("word", run, start, end)
        return
    if _LOOKALIKE.fullmatch(run):
        digits = run.translate(_LOOKALIKE_DIGITS)
        yield _Token("num", run, start, end, Decimal(digits), digits=len(run), lookalike=True)
        return
    match = _DIGIT_SUFFIX.fullmatch(run)
    if match and (match.group(2) in SUFFIXES or _known(match.group(2)) or not match.group(2).isascii()):
        number, suffix = match.groups()
        yield _Token("num", number, start, start + len(number), Decimal(number), digits=len(number))
        yield from _split_run(suffix, start + len(number))
        return
    match = _LETTER_DIGITS.fullmatch(run)
    if match:
        letters, number = match.groups()
        yield from _split_run(letters, start)
        yield _Token("num", number, start + len(letters), end, Decimal(number), digits=len(number))
        return
    if not run.isascii():
        for prefix in ARABIC_PREFIXES:
            rest = run[len(prefix) :]
            if run.startswith(prefix) and len(rest) >= 2 and (_is_word_value(rest) or (rest,) in CURRENCY_MARKERS):
                yield _Token("word", prefix, start, start + len(prefix))
                yield _Token("word", rest, start + len(prefix), end)
                return
    elif run[0] in "wb" and len(run) > 4 and _is_word_value(run[1:]):  # "walf", "bkhamsin"
        yield _Token("word", run[0], start, start + 1)
        yield _Token("word", run[1:], start + 1, end)
        return
    yield _Token("word", run, start, end)


def _tokens(folded: str) -> list[_Token]:
    masked = [False] * len(folded)
    for match in _MASKS.finditer(folded):
        if _FRACTION_PAIR.fullmatch(match.group(0).strip()):
            continue
        for index in range(match.start(), match.end()):
            masked[index] = True
    tokens: list[_Token] = []
    for match in _RUN.finditer(folded):
        if any(masked[match.start() : match.end()]):
            if not tokens or tokens[-1].kind != "mask":
                tokens.append(_Token("mask", "", match.start(), match.end()))
            else:
                tokens[-1].end = match.end()
            continue
        run = match.group(0)
        if run[0].isalnum() or run in _VULGAR:
            tokens.extend(_split_run(run, match.start()))
        else:
            tokens.append(_Token("punct", run, match.start(), match.end()))
    return _group_digits(folded, tokens)


def _gap(folded: str, left: _Token, right: _Token) -> str:
    return folded[left.end : right.start]


def _group_digits(folded: str, tokens: list[_Token]) -> list[_Token]:
    """Join "2 500", "2.500", "2,500.00", "2.500,00" and "1,5" into single numbers."""
    out: list[_Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind != "num":
            out.append(token)
            index += 1
            continue
        digits = token.text.translate(_LOOKALIKE_DIGITS)
        lookalike = token.lookalike
        end, last = token.end, index
        separator = None
        if token.digits <= 3:  # thousands groups
            probe = index
            while probe + 1 < len(tokens):
                nxt = tokens[probe + 1]
                gap = _gap(folded, tokens[probe], nxt)
                sep: str | None = None
                if gap == " " and nxt.kind == "num" and nxt.digits == 3:
                    sep, group = " ", nxt
                elif (
                    gap == ""
                    and nxt.kind == "punct"
                    and nxt.text in ".,'"
                    and probe + 2 < len(tokens)
                    and _gap(folded, nxt, tokens[probe + 2]) == ""
                    and tokens[probe + 2].kind == "num"
                    and tokens[probe + 2].digits == 3
                ):
                    sep, group = nxt.text, tokens[probe + 2]
                if sep is None or (separator is not None and sep != separator) or len(digits) + 3 > MAX_DIGITS:
                    break
                separator = sep
                digits += group.text.translate(_LOOKALIKE_DIGITS)
                lookalike = lookalike or group.lookalike
                end = group.end
                probe = probe + 1 if sep == " " else probe + 2
            last = probe if separator is not None else index
        # A decimal part: ".00", ",5", "٫5".
        decimal = ""
        if last + 2 < len(tokens):
            point, fraction = tokens[last + 1], tokens[last + 2]
            if (
                point.kind == "punct"
                and point.text in ".,٫"
                and point.text != separator
                and fraction.kind == "num"
                and not fraction.lookalike
                and _gap(folded, tokens[last], point) == ""
                and _gap(folded, point, fraction) == ""
                and (separator is None or fraction.digits <= 2)
                and not (
                    last + 3 < len(tokens)
                    and tokens[last + 3].kind == "punct"
                    and tokens[last + 3].text == point.text
                    and _gap(folded, fraction, tokens[last + 3]) == ""
                )
            ):
                decimal = fraction.text
                end = fraction.end
                last += 2
        value = Decimal(f"{digits}.{decimal}") if decimal else Decimal(digits)
        out.append(
            _Token(
                "num", folded[token.start : end], token.start, end, value,
                digits=len(digits), lookalike=lookalike, grouped=separator is not None,
            )
        )  # fmt: skip
        index = last + 1
    return out


# --- Numbers -------------------------------------------------------------------------------


@dataclass
class _Number:
    first: int  # token indices, inclusive
    last: int
    value: Decimal
    lookalike: bool
    grouped: bool  # written with thousands separators
    counted: bool  # counted with "alf", "mliun"... (centimes reading possible)
    words: bool


def _word_kind(token: _Token) -> str | None:
    if token.kind == "num":
        return "num"
    if token.kind != "word":
        return None
    word = token.text
    if word in UNITS:
        return "unit"
    if word in HUNDREDS:
        return "hundreds"
    if word in HUNDRED:
        return "hundred"
    if word in BIG:
        return "big"
    if word in DUALS:
        return "dual"
    return None


def _numbers(tokens: list[_Token], consumed: set[int]) -> list[_Number]:
    """Numbers in words, digits, or both ("20 alf", "alf w khamsmiya", "deux mille cinq cents")."""
    found: list[_Number] = []
    index = 0
    while index < len(tokens):
        number = _read_number(tokens, index, consumed)
        if number is None:
            index += 1
            continue
        found.append(number)
        index = number.last + 1
    return found


def _read_number(tokens: list[_Token], start: int, consumed: set[int]) -> _Number | None:
    if start in consumed:
        return None
    first = tokens[start]
    kind = _word_kind(first)
    half_before_big = False
    if kind is None:
        # "a hundred", "nos mliun" (half a million), "quatre-vingts" is handled below.
        nxt = _next_word(tokens, start)
        if nxt is not None and _word_kind(tokens[nxt]) in ("big", "hundred"):
            if first.text in ONE_BEFORE_MULTIPLIER:
                kind = "one"
            elif first.text in FRACTIONS and FRACTIONS[first.text] == 50 and _word_kind(tokens[nxt]) == "big":
                kind, half_before_big = "one", True
        if kind is None:
            return None
    total = Decimal(0)
    current = Decimal(0)
    last_added: Decimal | None = None
    last_big: Decimal | None = None
    words = kind != "num"
    counted = False
    lookalike = first.lookalike
    grouped = first.grouped
    end = start
    index = start
    connector = False
    digits_seen = False
    while index < len(tokens):
        if index in consumed:
            break
        token = tokens[index]
        kind = _word_kind(token)
        if index == start and kind is None:
            kind = "one"
        if kind is None:
            # A connector or a hyphen between two parts of one number.
            if (
                index > start
                and (token.text in CONNECTORS or (token.kind == "punct" and token.text == "-"))
                and index + 1 < len(tokens)
                and (
                    _word_kind(tokens[index + 1]) in ("unit", "hundreds", "hundred", "dual")
                    or (last_big is not None and tokens[index + 1].text in FRACTIONS
                        and FRACTIONS[tokens[index + 1].text] == 50)
                    # "mliun w 180 alf", "alf w 500": digits after a thousand or a million
                    or (last_big is not None and current == 0 and tokens[index + 1].kind == "num"
                        and not tokens[index + 1].lookalike)
                )
                and not (token.kind == "punct" and digits_seen)
            ):  # fmt: skip
                connector = True
                index += 1
                continue
            # "mliun w nos": a million and a half.
            if connector and last_big is not None and token.text in FRACTIONS and FRACTIONS[token.text] == 50:
                total += last_big / 2
                end = index
                index += 1
            break
        value = token.value if kind == "num" else None
        if kind == "one":
            current = Decimal("0.5") if half_before_big else Decimal(1)
            last_added = current
        elif kind == "num":
            # Digits add up with what precedes them only after a thousand or a million ("41 et 42"
            # are two numbers, "mliun w 180 alf" one).
            if index > start and not (connector and last_big is not None and current == 0 and value is not None):
                break
            assert value is not None
            if last_big is not None and value >= last_big:
                break
            current = value
            last_added = None
            digits_seen = True
        elif kind == "unit":
            unit = UNITS[token.text]
            if digits_seen:
                break
            if unit == 20 and last_added == 4 and current % 100 == 4:  # "quatre-vingts": four twenties
                current += 76
                last_added = Decimal(80)
            elif (
                last_added is not None
                and not connector
                and unit >= last_added
                and not (unit == 10 and last_added < 10 and current < 10)
            ):
                break  # "cinq trois" are two numbers
            else:
                current += unit
                last_added = Decimal(unit)
        elif kind == "hundreds":
            if digits_seen or (current % 1000 >= 100):
                break
            current += HUNDREDS[token.text]
            last_added = Decimal(100)
        elif kind == "hundred":
            if digits_seen and current >= 10:
                break
            if current == 0:
                current = Decimal(100)
            elif current < 100:
                current *= 100
            else:
                break
            last_added = Decimal(100)
        elif kind == "big":
            multiplier = Decimal(BIG[token.text])
            if last_big is not None and multiplier >= last_big and current == 0:
                break
            total += (current or 1) * multiplier
            current = Decimal(0)
            last_big = multiplier
            last_added = multiplier
            counted = True
            digits_seen = False
        elif kind == "dual":
            if current:
                break
            total += DUALS[token.text]
            last_big = Decimal(DUALS[token.text] // 2)
            last_added = last_big
            counted = True
        words = words or kind != "num"
        lookalike = lookalike or token.lookalike
        connector = False
        end = index
        index += 1
    if end < start:
        return None
    value = total + current
    if tokens[start].kind != "num" and value == 0:
        return None
    return _Number(start, end, value, lookalike, grouped, counted, words)


def _next_word(tokens: list[_Token], index: int) -> int | None:
    nxt = index + 1
    if nxt < len(tokens) and tokens[nxt].kind in ("word", "num"):
        return nxt
    if nxt + 1 < len(tokens) and tokens[nxt].kind == "punct" and tokens[nxt].text == "-":
        return nxt + 1
    return None


# --- Markers and cues ----------------------------------------------------------------------


def _match_at(tokens: list[_Token], index: int, sequence: tuple[str, ...]) -> bool:
    if index + len(sequence) > len(tokens):
        return False
    return all(tokens[index + offset].text == part for offset, part in enumerate(sequence))


def _by_first_word(markers: Iterable[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for marker in markers:
        index.setdefault(marker[0], []).append(marker)
    return {word: tuple(sorted(found, key=len, reverse=True)) for word, found in index.items()}


_PERCENT_BY_FIRST = _by_first_word(PERCENT_MARKERS)
_CURRENCY_BY_FIRST = _by_first_word(CURRENCY_MARKERS)


def _percent_marker(tokens: list[_Token], index: int) -> int:
    """How many tokens a percent marker takes at `index` (0: none)."""
    for marker in _PERCENT_BY_FIRST.get(tokens[index].text, ()):
        if _match_at(tokens, index, marker):
            return len(marker)
    return 0


def _currency_at(tokens: list[_Token], index: int) -> tuple[Currency, int] | None:
    for sequence in _CURRENCY_BY_FIRST.get(tokens[index].text, ()):
        if _match_at(tokens, index, sequence):
            length = len(sequence)
            if index + length < len(tokens) and tokens[index + length].text in CURRENCY_TAILS:
                length += 1
            return CURRENCY_MARKERS[sequence], length
    return None


def _word_before(
    tokens: list[_Token], index: int, skip: frozenset[str] = frozenset(), *, colon: bool = True
) -> int | None:
    """The index of the word before `index`, skipping `skip` words and (with `colon`) ":", "="
    and "("; None after any other punctuation."""
    probe = index - 1
    while probe >= 0:
        token = tokens[probe]
        if colon and token.kind == "punct" and token.text in ":=(":
            probe -= 1
            continue
        if token.kind == "word" and token.text in skip:
            probe -= 1
            continue
        if token.kind in ("word", "num"):
            return probe
        return None
    return None


def _word_after(tokens: list[_Token], index: int) -> int | None:
    probe = index + 1
    while probe < len(tokens):
        token = tokens[probe]
        if token.kind in ("word", "num"):
            return probe
        if token.kind == "punct" and token.text in "'":
            probe += 1
            continue
        return None
    return None


def _is_off(tokens: list[_Token], number: _Number, after: int) -> bool:
    """Written as a reduction: "-590 DA", "remise de 500 DA", "500 DA de remise", "500 DA off"."""
    before = number.first - 1
    if before >= 0 and tokens[before].kind == "punct" and tokens[before].text == "-":
        left = before - 1
        if left < 0 or tokens[left].kind != "num":  # "2-3" is a range
            return True
    # "remise de 500 DA", not "remise 10 % : 5 310 DA" (the price after the discount).
    word = _word_before(tokens, number.first, skip=frozenset({"de", "d", "of", "du"}), colon=False)
    if word is not None and tokens[word].text in DISCOUNT_WORDS:
        return True
    nxt = _word_after(tokens, after)
    if nxt is not None:
        if tokens[nxt].text in DISCOUNT_WORDS:
            return True
        if tokens[nxt].text in ("de", "d", "of") and (far := _word_after(tokens, nxt)) is not None:
            return tokens[far].text in DISCOUNT_WORDS
    return False


# --- Mentions ------------------------------------------------------------------------------

_Build = Callable[..., "Mention"]  # a Mention from token indices and its fields


def find_mentions(text: str) -> list[Mention]:
    """Every money amount and every percentage or fraction discount in `text`, in order."""
    folded, origin = fold(text or "")
    if not folded.strip():
        return []
    tokens = _tokens(folded)
    for token in tokens:
        token.raw = text[origin[token.start] : origin[token.end - 1] + 1].lower()

    def span(first: int, last: int) -> tuple[int, int]:
        start, end = origin[tokens[first].start], origin[tokens[last].end - 1] + 1
        return start, end

    def mention(first: int, last: int, **values: object) -> Mention:
        start, end = span(first, last)
        return Mention(start=start, end=end, text=text[start:end], **values)  # type: ignore[arg-type]

    # Percent markers first: "cent" of "pour cent" and "miya" of "fel miya" are no numbers.
    consumed: set[int] = set()
    percent_at: dict[int, int] = {}
    for index in range(len(tokens)):
        if index in consumed:
            continue
        length = _percent_marker(tokens, index)
        if length:
            percent_at[index] = length
            consumed.update(range(index, index + length))
    found: list[Mention] = []
    used: set[int] = set()
    for number in _numbers(tokens, consumed):
        result = _classify(tokens, number, percent_at, mention)
        if result is not None:
            found.append(result)
            used.update(range(number.first, number.last + 1))
    found.extend(_fractions(tokens, used, mention))
    found.sort(key=lambda item: item.start)
    return found


def _classify(tokens: list[_Token], number: _Number, percent_at: dict[int, int], mention: _Build) -> Mention | None:
    after = number.last
    value = number.value
    # A percentage: "50%", "50 %", "cinquante pour cent", "khamsin fel miya", "-20%".
    marker = after + 1
    if marker in percent_at:
        last = marker + percent_at[marker] - 1
        if _speaks_of_quality(tokens, number.first, last):
            return None
        return mention(number.first, last, kind=Kind.PERCENT, value=value)
    # A currency after ("3800 DA", "mille dinars", "un million de centimes") or before ("DA 3800").
    currency: Currency | None = None
    last = after
    probe = after + 1
    if probe < len(tokens) and tokens[probe].text in ("de", "d", "'") and number.words:
        probe += 1
        if probe < len(tokens) and tokens[probe].text == "'":
            probe += 1
    hit = _currency_at(tokens, probe) if probe < len(tokens) else None
    if hit is not None and (probe == after + 1 or number.counted):
        currency, length = hit
        last = probe + length - 1
    first = number.first
    if currency is None and number.first > 0:
        for length in (3, 2, 1):
            begin = number.first - length
            if begin >= 0:
                hit = _currency_at(tokens, begin)
                if hit is not None and hit[1] == length:
                    currency, first = hit[0], begin
                    break
    if currency is not None:
        readings = _readings(value, currency, number.counted)
        return mention(
            first, last, kind=Kind.AMOUNT, value=readings[0], currency=currency, readings=readings,
            off=_is_off(tokens, number, last),
        )  # fmt: skip
    # No currency: money only from a cue, and never a quantity.
    if number.lookalike and not _has_cue(tokens, number):
        return None
    if _is_quantity(tokens, number):
        return None
    if _has_discount_cue(tokens, number) and value <= 100 and not number.counted:
        return mention(number.first, number.last, kind=Kind.PERCENT, value=value)
    # Counted with "alf" or "mliun" after a count ("tlata alaf", "20 alf", "nos mliun"): money in
    # Darija, where these words count dinars or centimes; "alf" or "mille" alone is not ("mille mercis").
    counted = number.counted and number.last > number.first and _ends_alone(tokens, number.last)
    grouped = number.grouped and value >= 1000 and _ends_alone(tokens, number.last)
    money = value >= 100 and (_has_cue(tokens, number) or counted or grouped)
    if not money:
        return None
    readings = _readings(value, Currency.NONE, number.counted)
    return mention(
        number.first, number.last, kind=Kind.AMOUNT, value=readings[0], readings=readings,
        off=_is_off(tokens, number, number.last),
    )  # fmt: skip


def _ends_alone(tokens: list[_Token], last: int) -> bool:
    """Nothing counted follows ("tlata alaf.", "20 alf brk", not "3 mille abonnés")."""
    nxt = last + 1
    if nxt >= len(tokens) or tokens[nxt].kind != "word":
        return True
    return tokens[nxt].text in PRICE_AFTER | DISCOUNT_WORDS | CONNECTORS | {"wela", "ola", "ولا"}


def _whole(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() else value


def _readings(value: Decimal, currency: Currency, counted: bool) -> tuple[Decimal, ...]:
    if currency is Currency.CENTIMES:
        return (_whole(value / 100),)
    if counted and currency is Currency.NONE:
        return (_whole(value), _whole(value / 100))
    return (_whole(value),)


def _speaks_of_quality(tokens: list[_Token], first: int, last: int) -> bool:
    """ "100% coton", "100 % original", "sûr à 100 %": a percentage of something else than a price."""
    around = [tokens[i] for i in range(max(0, first - 2), min(len(tokens), last + 3)) if i < first or i > last]
    if any(token.text in NOT_A_DISCOUNT or token.raw in ("sûr", "sûrs") for token in around):
        return True
    # "à 100 %" (fully) when no discount is spoken of around it.
    before = _word_before(tokens, first, colon=False)
    if before is None or tokens[before].raw != "à" or tokens[first].value != 100:
        return False
    return not any(word in DISCOUNT_WORDS for word in _window(tokens, first, last))


def _has_cue(tokens: list[_Token], number: _Number) -> bool:
    before = _word_before(tokens, number.first)
    if before is not None:
        word = tokens[before].text
        if word in PRICE_BEFORE or word in DISCOUNT_WORDS:
            return True
        if word in PRICE_PREPOSITIONS:
            return True
        # "au lieu de 7 500", "instead of 7500", "un prix de 3 800", "remise de 500"
        earlier = _word_before(tokens, before) if word in ("de", "of") else None
        if earlier is not None and (tokens[earlier].text in PRICE_BEFORE or tokens[earlier].text in DISCOUNT_WORDS):
            return True
    nxt = _word_after(tokens, number.last)
    if nxt is not None:
        word = tokens[nxt].text
        if word in PRICE_AFTER or word in DISCOUNT_WORDS:
            return True
        far = _word_after(tokens, nxt)
        if far is not None and (word, tokens[far].text) in PRICE_AFTER_PAIRS:
            return True
    return False


def _has_discount_cue(tokens: list[_Token], number: _Number) -> bool:
    before = _word_before(tokens, number.first, skip=frozenset({"de", "d", "of"}))
    if before is not None and tokens[before].text in DISCOUNT_WORDS - {"moins", "less", "minus", "save"}:
        return True
    nxt = _word_after(tokens, number.last)
    if nxt is not None and tokens[nxt].text in ("de", "d") and (far := _word_after(tokens, nxt)) is not None:
        nxt = far
    return nxt is not None and tokens[nxt].text in {"remise", "reduction", "rabais", "discount", "off", "تخفيض"}


def _is_quantity(tokens: list[_Token], number: _Number) -> bool:
    nxt = number.last + 1
    if number.counted and nxt + 1 < len(tokens) and tokens[nxt].text in ("de", "d", "of"):
        nxt += 1  # "deux millions de clients"
    if nxt < len(tokens) and tokens[nxt].text == "'":
        nxt += 1
    if nxt < len(tokens):
        token = tokens[nxt]
        if (
            token.kind == "word"
            and token.text in QUANTITY_AFTER
            and not (token.text in ("m", "l", "x") and nxt + 1 < len(tokens) and tokens[nxt + 1].text == "'")
        ):
            return True
        if token.kind == "punct" and token.text in "×*/":
            return True
    before = number.first - 1
    if before >= 0 and tokens[before].kind == "punct" and tokens[before].text in "×*/#":
        return True
    word = _word_before(tokens, number.first)
    return word is not None and tokens[word].text in QUANTITY_BEFORE


def _fractions(tokens: list[_Token], used: set[int], mention: _Build) -> Iterator[Mention]:
    index = 0
    while index < len(tokens):
        token = tokens[index]
        share: Decimal | None = None
        first = last = index
        if index in used:
            index += 1
            continue
        if token.kind == "word" and token.text in FRACTIONS:
            share = FRACTIONS[token.text]
        elif token.kind == "word" and token.text in PLURAL_FRACTIONS:
            before = index - 1
            if before >= 0 and tokens[before].text in UNITS and 1 < UNITS[tokens[before].text] < 10:
                share = UNITS[tokens[before].text] * PLURAL_FRACTIONS[token.text]
                first = before
        elif token.kind == "num" and index + 2 < len(tokens) and tokens[index + 1].text == "/":
            pair = (token.text, tokens[index + 2].text)
            if pair in _FRACTION_PAIRS:
                share, last = _FRACTION_PAIRS[pair], index + 2
        if share is not None and _fraction_is_price(tokens, first, last):
            if token.text in ("demi",) and not _demi_price(tokens, last):
                index = last + 1
                continue
            if token.text == "nos" and not _nos_is_half(tokens, first, last):
                index = last + 1
                continue
            yield mention(first, last, kind=Kind.FRACTION, value=share)
        index = last + 1


def _window(tokens: list[_Token], first: int, last: int, size: int = 3) -> list[str]:
    """Words around a fraction within its sentence."""
    words: list[str] = []
    for step in (-1, 1):
        probe, taken = (first - 1, 0) if step < 0 else (last + 1, 0)
        while 0 <= probe < len(tokens) and taken < size:
            token = tokens[probe]
            if token.kind == "punct" and token.text in SENTENCE_END:
                break
            if token.kind == "word":
                words.append(token.text)
                taken += 1
            probe += step
    return words


def _fraction_is_price(tokens: list[_Token], first: int, last: int) -> bool:
    words = _window(tokens, first, last)
    if any(word in PRICE_WORDS for word in words):
        return True
    before = _word_before(tokens, first)
    nxt = _word_after(tokens, last)
    if nxt is not None and tokens[nxt].text in QUANTITY_AFTER:
        return False
    # "à moitié", "b nos", "بالنص" say a price by themselves; "half off".
    if before is not None and tokens[first].text != "tiers":
        word = tokens[before]
        if word.text in FRACTION_PREPOSITIONS or word.raw == "à":
            return True
    return nxt is not None and tokens[nxt].text in ("off",)


def _demi_price(tokens: list[_Token], index: int) -> bool:
    nxt = _word_after(tokens, index)
    if nxt is None and index + 2 < len(tokens) and tokens[index + 1].text == "-":
        nxt = index + 2
    return nxt is not None and tokens[nxt].text in ("prix", "tarif")


def _nos_is_half(tokens: list[_Token], first: int, last: int) -> bool:
    """Darija "nos" (half), not French "nos" (our): after a preposition, or before a Darija word
    for the price ("nos soum"), never in "nos prix"."""
    before = _word_before(tokens, first)
    if before is not None and tokens[before].text in ("b", "be", "bi", "f", "fi", "l", "el", "ب"):
        return True
    nxt = _word_after(tokens, last)
    return nxt is not None and tokens[nxt].text in NOS_PRICE


# --- Helpers for callers -------------------------------------------------------------------


def amounts_in(text: str) -> list[Mention]:
    return [item for item in find_mentions(text) if item.kind is Kind.AMOUNT]


def discounts_in(text: str) -> list[Mention]:
    return [item for item in find_mentions(text) if item.kind in (Kind.PERCENT, Kind.FRACTION)]


def requested_percent(text: str) -> int | None:
    """The discount a customer asks for ("40%", "khamsin fel miya", "b nos soum"), in whole
    percent, or None."""
    for item in discounts_in(text):
        return int(item.discount_percent.to_integral_value())
    return None


def read_dzd(value: str) -> int:
    """One price cell in whole dinars: '2500', '2 500', '2.500,00 DA', '٢٥٠٠ دج' -> 2500. Digits
    only (no words, no look-alike letters); a decimal part only when it is zero. ValueError
    otherwise."""
    folded, _ = fold((value or "").strip())
    if not folded.strip():
        raise ValueError("empty")
    tokens = _tokens(folded)
    words = [token for token in tokens if token.kind == "word"]
    if words:
        hit = _currency_at(tokens, tokens.index(words[0]))
        if hit is None or hit[0] is not Currency.DZD or tokens.index(words[0]) + hit[1] != len(tokens):
            raise ValueError(value)
        tokens = tokens[: tokens.index(words[0])]
    if len(tokens) != 1 or tokens[0].kind != "num" or tokens[0].lookalike or tokens[0].value is None:
        raise ValueError(value)
    number = tokens[0].value
    if number != number.to_integral_value():
        raise ValueError(value)
    try:
        return int(number)
    except (InvalidOperation, ValueError) as error:
        raise ValueError(value) from error


def spellings(value: int) -> Iterable[str]:
    """The ways a whole amount is written in digits ("10000", "10 000", "10.000", "10,000")."""
    grouped = f"{value:,}"
    return {str(value), grouped.replace(",", " "), grouped.replace(",", "\u00a0"), grouped.replace(",", "."), grouped}
