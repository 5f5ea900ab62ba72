"""The one parser of money and discounts (sales.engine.amounts): every way customers and models
write an amount or a percentage is read with its value and span, and quantities, sizes, times,
phone numbers and references are never read as money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales.engine.amounts import Currency, Kind, find_mentions, read_dzd, requested_percent
from sales.understanding import intents_of


def only(text: str):
    mentions = find_mentions(text)
    assert len(mentions) == 1, f"{text!r} → {mentions}"
    mention = mentions[0]
    assert text[mention.start : mention.end] == mention.text
    return mention


AMOUNTS = [
    # Digits, with each thousands separator and decimals.
    ("3800 DA", 3800, "3800 DA"),
    ("2 500 DA", 2500, "2 500 DA"),
    ("2\u00a0500 DA", 2500, "2\u00a0500 DA"),
    ("2\u202f500 DA", 2500, "2\u202f500 DA"),
    ("2.500 DA", 2500, "2.500 DA"),
    ("2,500 DZD", 2500, "2,500 DZD"),
    ("2,500.00 DZD", 2500, "2,500.00 DZD"),
    ("2.500,00 DA", 2500, "2.500,00 DA"),
    ("2'500 DA", 2500, "2'500 DA"),
    ("1 250 000 DA", 1250000, "1 250 000 DA"),
    ("prix: 3800da", 3800, "3800da"),
    ("Taille 41 : 5 900 DA", 5900, "5 900 DA"),
    ("Livraison 24h, 600 DA", 600, "600 DA"),
    ("DA 4 200", 4200, "DA 4 200"),
    ("DZD 3,800", 3800, "DZD 3,800"),
    ("4 200 dinars algériens", 4200, "4 200 dinars algériens"),
    ("السعر 3800 دج", 3800, "3800 دج"),
    ("السعر 3800 د.ج", 3800, "3800 د.ج"),
    ("السعر 3800دج", 3800, "3800دج"),
    ("بـ3800 دينار", 3800, "3800 دينار"),
    # Arabic-Indic and Persian digits, and both mixed with ASCII ones.
    ("٣٨٠٠ دج", 3800, "٣٨٠٠ دج"),
    ("۳۸۰۰ دج", 3800, "۳۸۰۰ دج"),
    ("٣٬٨٠٠ دج", 3800, "٣٬٨٠٠ دج"),
    ("٣8٠0 دج", 3800, "٣8٠0 دج"),
    ("٥ ٩٠٠ دج", 5900, "٥ ٩٠٠ دج"),
    # Look-alike letters inside numbers.
    ("l5OO DA", 1500, "l5OO DA"),
    ("19OO DA", 1900, "19OO DA"),
    ("I9oo DA", 1900, "I9oo DA"),
    ("3 8OO DA", 3800, "3 8OO DA"),
    # French words.
    ("deux mille cinq cents dinars", 2500, "deux mille cinq cents dinars"),
    ("trois mille huit cents DA", 3800, "trois mille huit cents DA"),
    ("mille cinq cents DA", 1500, "mille cinq cents DA"),
    ("quatre-vingt-dix-neuf mille DA", 99000, "quatre-vingt-dix-neuf mille DA"),
    ("soixante-dix mille dinars", 70000, "soixante-dix mille dinars"),
    ("un million de centimes", 10000, "un million de centimes"),
    # English words.
    ("two thousand dinars", 2000, "two thousand dinars"),
    ("two thousand five hundred and fifty DZD", 2550, "two thousand five hundred and fifty DZD"),
    ("a thousand dinars", 1000, "a thousand dinars"),
    ("forty-five hundred DA", 4500, "forty-five hundred DA"),
    # Modern Standard Arabic and Darija in Arabic script.
    ("ألفين دج", 2000, "ألفين دج"),
    ("ثلاث آلاف وثمانمائة دينار", 3800, "ثلاث آلاف وثمانمائة دينار"),
    ("خمسة آلاف دج", 5000, "خمسة آلاف دج"),
    ("ألف وخمسمية دج", 1500, "ألف وخمسمية دج"),
    ("ثلاثة آلاف و ثمانمائة دينار", 3800, "ثلاثة آلاف و ثمانمائة دينار"),
    ("خمسة وعشرين ألف دج", 25000, "خمسة وعشرين ألف دج"),
    ("مليون سنتيم", 10000, "مليون سنتيم"),
    # Darija in Latin letters (Arabizi).
    ("alf w khamsmiya DA", 1500, "alf w khamsmiya DA"),
    ("khamsa alaf DA", 5000, "khamsa alaf DA"),
    ("tlata alaf w tmanmiya DA", 3800, "tlata alaf w tmanmiya DA"),
    ("alfin DA", 2000, "alfin DA"),
    ("khamsa w 3achrin alf DA", 25000, "khamsa w 3achrin alf DA"),
    ("5 alaf w tes3miya dinar", 5900, "5 alaf w tes3miya dinar"),
    ("20 alf DA", 20000, "20 alf DA"),
    ("mitin alf centimes", 2000, "mitin alf centimes"),
    ("20k DA", 20000, "20k DA"),
]


@pytest.mark.parametrize(("text", "value", "span"), AMOUNTS, ids=[case[0] for case in AMOUNTS])
def test_amounts_with_a_currency_are_read_in_every_form(text, value, span):
    mention = only(text)
    assert mention.kind is Kind.AMOUNT
    assert mention.value == value and mention.text == span
    assert mention.currency in (Currency.DZD, Currency.CENTIMES)


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("3800 seulement", 3800, "3800"),
        ("les baskets à 3 800 !", 3800, "3 800"),
        ("b 1900 brk", 1900, "1900"),
        ("b 1900 bark", 1900, "1900"),
        ("twelli b 5310", 5310, "5310"),
        ("Prix : 4 200", 4200, "4 200"),
        ("au lieu de 7 500", 7500, "7 500"),
        ("instead of 7500", 7500, "7500"),
        ("بـ 3800 برك", 3800, "3800"),
        ("ب3800 فقط", 3800, "3800"),
        ("السعر: 3800", 3800, "3800"),
        ("tkhalles 6500", 6500, "6500"),
        ("for 2,500", 2500, "2,500"),
        ("5 900 la pièce", 5900, "5 900"),
        ("Sabat b khamsa alaf", 5000, "khamsa alaf"),
        ("trois mille huit cents seulement", 3800, "trois mille huit cents"),
        ("1 × Baskets : 5 900", 5900, "5 900"),
        ("b 19OO brk", 1900, "19OO"),
        ("Prix unitaire 5900, quantité 2", 5900, "5900"),
        ("Les baskets : 5 900", 5900, "5 900"),
    ],
)
def test_amounts_without_a_currency_are_read_from_their_money_cue(text, value, span):
    mention = only(text)
    assert (mention.kind, mention.value, mention.text, mention.currency) == (Kind.AMOUNT, value, span, Currency.NONE)


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("b 20 alf", (20000, 200)),  # twenty thousand dinars, or twenty thousand centimes
        ("tlata alaf w tmanmiya.", (3800, 38)),
        ("b mliun", (1000000, 10000)),  # a million centimes is 10 000 DA
        ("b mliun w nos", (1500000, 15000)),
        ("nos mliun brk", (500000, 5000)),
        ("b mliun w 180 alf", (1180000, 11800)),
        ("20 alf DA", (20000,)),  # a dinar unit: only the dinar reading
        ("20 alf centimes", (200,)),
        ("مليون سنتيم", (10000,)),
        ("بمليون", (1000000, 10000)),
    ],
)
def test_amounts_counted_in_thousands_or_millions_have_their_centime_reading(text, readings):
    mention = only(text)
    assert mention.kind is Kind.AMOUNT and mention.readings == tuple(Decimal(value) for value in readings)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50%", 50),
        ("50 %", 50),
        ("50\u00a0%", 50),
        ("-50%", 50),
        ("12,5 %", Decimal("12.5")),
        ("٥٠٪", 50),
        ("50 pour cent", 50),
        ("50 pourcent", 50),
        ("50 per cent", 50),
        ("50 percent", 50),
        ("cinquante pour cent", 50),
        ("quatre-vingt-dix pour cent", 90),
        ("cent pour cent de remise", 100),
        ("fifty percent", 50),
        ("twenty-five per cent", 25),
        ("خمسين بالمية", 50),
        ("خمسين بالمائة", 50),
        ("50 في المية", 50),
        ("خمسة وعشرين في المائة", 25),
        ("khamsin fel miya", 50),
        ("50 fel miya", 50),
        ("50 f lmiya", 50),
        ("50 f el miya", 50),
        ("50 fl mya", 50),
        ("khamsin bel miya", 50),
        ("3achrin f lmiya", 20),
        ("5O%", 50),
        ("5o %", 50),
        ("remise de 30", 30),
        ("30 de remise", 30),
        ("20 off", 20),
        ("تخفيض 20", 20),
    ],
)
def test_percentages_are_read_in_every_form(text, value):
    mention = only(text)
    assert (mention.kind, mention.value) == (Kind.PERCENT, value)


@pytest.mark.parametrize(
    ("text", "share", "discount"),
    [
        ("moitié prix", 50, 50),
        ("à moitié prix", 50, 50),
        ("la moitié du prix", 50, 50),
        ("demi-tarif", 50, 50),
        ("half price", 50, 50),
        ("half off", 50, 50),
        ("at half the price", 50, 50),
        ("نص الثمن", 50, 50),
        ("بنص السومة", 50, 50),
        ("بالنص", 50, 50),
        ("b nos soum", 50, 50),
        ("b nos", 50, 50),
        ("nouss prix", 50, 50),
        ("un quart de remise", 25, 25),
        ("a quarter off", 25, 25),
        ("ربع الثمن", 25, 25),
        ("rob3 soum", 25, 25),
        ("le tiers du prix", Decimal("33.33"), Decimal("33.33")),
        ("a third off", Decimal("33.33"), Decimal("33.33")),
        ("ثلث السعر", Decimal("33.33"), Decimal("33.33")),
        ("trois quarts du prix", 75, 25),  # pay three quarters: a quarter off
        ("½ prix", 50, 50),
        ("1/2 prix", 50, 50),
    ],
)
def test_fractions_of_the_price_are_discounts(text, share, discount):
    mention = only(text)
    assert (mention.kind, mention.value, mention.discount_percent) == (Kind.FRACTION, share, discount)


NOT_MONEY = [
    "2 pièces",
    "taille 42",
    "size 40",
    "pointure 41",
    "مقاس 41",
    "0550 12 34 56",
    "0550123456",
    "+213 550 12 34 56",
    "021 23 45 67",
    "commande #00012",
    "n° 1234",
    "référence BS-41",
    "en 2026",
    "depuis 2019",
    "24h",
    "24 h",
    "48 heures",
    "48h",
    "sous 72 heures",
    "14h30",
    "à 14:30",
    "24h/24 7j/7",
    "16 - Alger",
    "wilaya 16",
    "3 jours",
    "2 à 4 jours",
    "youssel f 3 iyam",
    "يوصل في 3 أيام",
    "Cité 200 logements",
    "il en reste 3",
    "B9aw ghir 2 f stock",
    "150 commandes cette semaine",
    "à 200 m de la gare",
    "le 31/12/2026",
    "31‏/12‏/2026",
    "2026-12-31",
    "41/42",
    "100% coton",
    "100 % original",
    "قطن 100%",
    "mille mercis",
    "alf mer7ba",
    "trois mille abonnés",
    "la moitié du stock est partie",
    "une demi-heure",
    "half an hour",
    "نص ساعة",
    "nos prix sont les meilleurs",
    "nos clients sont contents",
    "Découvrez nos soldes",
    "à nos prix imbattables",
    "through a third party courier",
    "a quarter of an hour",
    "2 pc",
    "10 000 abonnés",
    "Il m'en reste 1 000 en stock",
    "plus de 5 000 clients satisfaits",
    "je suis sûr à 100 %",
    "satisfaction garantie à 100%",
    "fabrication 100% algérienne",
    "un quart d'heure",
    "veste demi-saison",
    "x2",
    "2x",
    "1 × Baskets",
    "pour 2 personnes",
    "b9aw 3",
    "3lach?",
    "chkoun 7abes?",
    "https://shop.example/p/5900",
    "contact@shop5900.dz",
    "",
]


@pytest.mark.parametrize("text", NOT_MONEY)
def test_quantities_sizes_times_phones_and_references_are_not_money(text):
    assert find_mentions(text) == []


def test_a_sentence_gives_every_mention_in_order_with_its_span():
    text = "Remise 10 % : -590 DA\nTotal : 5 910 DA, livré en 3 jours au 0550 12 34 56."
    mentions = find_mentions(text)
    assert [(m.kind, m.value, m.text, m.off) for m in mentions] == [
        (Kind.PERCENT, 10, "10 %", False),
        (Kind.AMOUNT, 590, "590 DA", True),
        (Kind.AMOUNT, 5910, "5 910 DA", False),
    ]
    percent_and_amount = find_mentions("cinquante pour cent et deux mille cinq cents dinars")
    assert [(m.kind, m.value) for m in percent_and_amount] == [(Kind.PERCENT, 50), (Kind.AMOUNT, 2500)]


@pytest.mark.parametrize(
    ("text", "off"),
    [
        ("je vous fais 500 DA de remise", True),
        ("remise de 500 DA", True),
        ("500 DA off", True),
        ("-590 DA", True),
        ("économisez 1 600 DA", True),
        ("Remise 10 % : 5 310 DA", False),
        ("5 310 DA au lieu de 5 900 DA", False),
    ],
)
def test_an_amount_written_as_a_reduction_is_marked(text, off):
    assert find_mentions(text)[-1 if "Remise 10" in text else 0].off is off


def test_foreign_currencies_are_marked():
    assert [m.currency for m in find_mentions("40 €, $45, 30 euros")] == [Currency.FOREIGN] * 3


@pytest.mark.parametrize(
    ("text", "percent"),
    [
        ("n9asli 40%", 40),
        ("Faites-moi 40% de réduction", 40),
        ("dirli khamsin fel miya", 50),
        ("نقصلي خمسين بالمية", 50),
        ("b nos soum?", 50),
        ("je veux la moitié prix", 50),
        ("half price please", 50),
        ("c'est trop cher", None),
        ("ch7al sabat?", None),
    ],
)
def test_the_discount_a_customer_asks_for(text, percent):
    assert requested_percent(text) == percent
    assert ("discount" in intents_of(text)) is (percent is not None)


@pytest.mark.parametrize(
    ("text", "value"),
    [("2500", 2500), ("2 500", 2500), ("2.500,00 DZD", 2500), ("٢٥٠٠ دج", 2500), ("2\u202f500 dinars", 2500)],
)
def test_a_catalog_cell_is_read_with_the_same_parser(text, value):
    assert read_dzd(text) == value


@pytest.mark.parametrize("text", ["5OO", "deux mille", "2500 €", "2500 DA 3", "25 00", "-5"])
def test_a_catalog_cell_that_is_not_one_price_in_digits_is_refused(text):
    with pytest.raises(ValueError):
        read_dzd(text)


@pytest.mark.parametrize(
    "text",
    ["0" * 20000, "٣" * 20000, "@" * 10000 + "a", "a" * 20000, "x." * 10000, "1," * 10000, "1 000" * 4000],
    ids=["zeros", "arabic-digits", "ats", "letters", "dots", "commas", "groups"],
)
def test_long_and_odd_inputs_are_read_in_one_pass(text):
    # Numbers longer than any amount are no amounts; the text is read without backtracking.
    assert all(len(str(mention.value)) <= 20 for mention in find_mentions(text))
