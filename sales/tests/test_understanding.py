"""sales.understanding without the pipeline: tokens per script, whole-word matching, names,
places, and any input at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sales.understanding import intents_of
from sales.understanding.places import commune_named, wilaya_named
from sales.understanding.reading import Reading
from sales.understanding.text import tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("50ml", ["50", "ml"]),
        ("ch7al", ["ch7al"]),
        ("iPhone15 pro", ["iphone", "15", "pro"]),
        ("x2", ["x", "2"]),
        ("3andek", ["3andek"]),
        ("٣ حبات", ["3", "حبات"]),
        ("50 مل", ["50", "ml"]),
    ],
)
def test_tokens_are_of_one_script_and_numbers_stand_apart(text, tokens):
    assert [token.text for token in tokenize(text)] == tokens


@pytest.mark.parametrize(
    ("word", "form"), [("فوهران", "وهران"), ("بالصباط", "صباط"), ("للعاصمه", "عاصمه"), ("خمارات", "خمار")]
)
def test_arabic_tokens_are_also_read_without_glued_prepositions_and_plural_endings(word, form):
    assert form in tokenize(word)[0].forms


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("chhhhal", "price"), ("b9adach", "price"), ("بقداش", "price"), ("كم سعر", "price"), ("combiien", "price"),
        ("nheb ncommandi", "order"), ("أريد أن أطلب", "order"), ("nediha", "order"), ("je le prends", "order"),
        ("n9asli chwiya", "discount"), ("هل يوجد خصم", "discount"), ("ghali bezzaf", "objection"),
        ("machi robot", "human"), ("t'es un robot ?", "human"), ("STOP", "optout"), ("ma tb3atliche", "optout"),
        ("win rahi la commande ta3i", "track"), ("أين طلبي", "track"), ("jatni mkasra", "complaint"),
        ("livraision", "delivery"), ("twasslou l setif", "delivery"), ("annuler la commande", "cancel"),
    ],
)  # fmt: skip
def test_intents_in_every_way_of_writing(text, intent):
    assert intent in intents_of(text)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("hi there", "objection"),  # "there" is no typo of "chère"
        ("price of the iphone case", "complaint"),  # "case" is not "cassé"
        ("power bank", "discount"),  # "power" is not "lower"
        ("stop desk", "optout"),  # a word inside a phrase of another intent is the phrase's
        ("je vais voir plus tard", "add"),
        ("ya kho ghalia chwiya", "complaint"),  # "ghalia" is spelt as an entry: no typo of "ghalta"
    ],
)
def test_words_are_never_read_as_another_words_typo(text, absent):
    assert absent not in intents_of(text)


@pytest.mark.parametrize(
    "text",
    ["je le prends", "ana Amina", "Amine", "rani hna", "l dar", "Karakou algérois", "Rania", "Imane Benali",
     "nour el houda", "ana Sabrina", "je suis à la maison", "dar lmima ta3i", "bureau de poste", "c'est cher"],
)  # fmt: skip
def test_ordinary_words_and_first_names_are_not_wilayas(text):
    assert wilaya_named(Reading(text)) is None


@pytest.mark.parametrize(
    ("text", "number", "certain"),
    [
        ("nskon f wahran", 31, True), ("فوهران", 31, True), ("للعاصمة", 16, True), ("wilaya 19", 19, True),
        ("19 setif", 19, True), ("Setiff", 19, True), ("je suis à Sétif", 19, True), ("bjaya", 6, False),
        ("machi wahran, setif", 19, True), ("f mila", 43, True),
    ],
)  # fmt: skip
def test_wilayas_only_from_a_strong_match_and_near_spellings_to_confirm(text, number, certain):
    hit = wilaya_named(Reading(text))
    assert hit is not None and hit.place.number == number and hit.certain is certain


def test_a_bare_number_is_a_wilaya_only_when_asked():
    assert wilaya_named(Reading("19")) is None
    hit = wilaya_named(Reading("19"), asked=True)
    assert hit is not None and hit.place.number == 19


@pytest.mark.parametrize(
    ("text", "wilaya", "commune"),
    [("bab zouar", 16, "Bab Ezzouar"), ("es senia", 31, "Es Senia"), ("senia", 31, "Es Senia"),
     ("العلمة", 19, "El Eulma"), ("f el eulma", 19, "El Eulma")],
)  # fmt: skip
def test_communes_of_the_wilaya_with_or_without_their_article(text, wilaya, commune):
    hit = commune_named(Reading(text), wilaya, asked=True)
    assert hit is not None and hit.place.name_fr == commune


@pytest.mark.parametrize(
    ("text", "name"),
    [("ana Amina nheb nechri", "Amina"), ("smiti sabrina", "sabrina"), ("my name is Nour and I want it", "Nour")],
)
def test_the_customers_own_name(text, name):
    assert Reading(text).name() == name


@pytest.mark.parametrize("text", ["je suis pas un robot", "ana f wahran", "je suis à Sétif", "ana rani nheb"])
def test_what_follows_an_introducer_is_not_always_a_name(text):
    assert Reading(text).name() == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_without_error(text):
    reading = Reading(text)
    assert isinstance(reading.intents, set)
    assert reading.quantity is None or 0 <= reading.quantity <= 99
    wilaya_named(reading)
    commune_named(reading, 16, asked=True)


def test_a_very_long_message_is_read():
    reading = Reading("ch7al sabat 42 f wahran " * 400)
    assert "price" in reading.intents
    assert wilaya_named(reading) is not None
