"""The built-in engine's sentences: five forms for every key, a sensible fallback, and sentences
that stay right whatever the product's name (masculine, feminine, plural)."""

from __future__ import annotations

import re
import string

import pytest

from sales.engine import texts
from sales.engine.language import ARABIC_LETTERS, FORMS
from sales.engine.texts import TEXTS, say
from sales.understanding import intents_of

NAMES = ["Écouteurs sans fil", "Montre classique", "Sac à dos", "Baskets", "سماعات", "ساعة", "صباط رياضي"]
VALUES = {
    "persona": "Amina", "shop": "Alpha", "name": "Sac à dos", "price": "5 900", "old": "7 500", "list": "41, 42",
    "count": 3, "date": "2025-06-01", "wilaya": "Oran", "fees": "600 DA", "fee": "600", "days": 3, "percent": 5,
    "lines": "1 × Sac", "delivery": "home", "commune": "Bir El Djir", "discount": "", "total": "6 500",
    "reference": "A-12", "items": "1 × Sac", "home": "600 DA", "desk": "400 DA", "amount": "295",
    "example": "41 / Noir", "status": "confirmée", "options": "41 / Noir", "quantity": 2, "place": "Sétif",
}  # fmt: skip


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", TEXTS)
def test_every_key_has_the_five_forms_with_the_same_fields(key):
    forms = TEXTS[key]
    assert set(forms) == set(FORMS)
    assert {form: fields(text) <= set(VALUES) for form, text in forms.items()} == dict.fromkeys(FORMS, True)
    # Standard Arabic and Darija take the same values as French (the engine passes one set).
    assert fields(forms["msa"]) <= fields(forms["fr"]) | fields(forms["ar"])


@pytest.mark.parametrize("key", TEXTS)
def test_standard_arabic_is_written_in_arabic_script(key):
    words = re.sub(r"\{\w+\}", "", TEXTS[key]["msa"])
    assert ARABIC_LETTERS.search(words) and not re.search(r"[A-Za-z]", words)


def test_a_missing_form_falls_back_to_the_nearest(monkeypatch):
    monkeypatch.setitem(TEXTS, "only_darija", {"ar": "سلام {name}", "fr": "Salut {name}"})
    monkeypatch.setitem(TEXTS, "only_msa", {"msa": "مرحبًا", "fr": "Bonjour"})
    monkeypatch.setitem(TEXTS, "only_english", {"en": "Hi"})
    assert say("only_darija", "msa", name="Karim") == "سلام Karim"  # msa → ar, not French
    assert say("only_msa", "ar") == "مرحبًا"
    assert say("only_darija", "en", name="Karim") == "Salut Karim"  # then French
    assert say("only_english", "ar") == "Hi"  # then whatever there is


# Words that would agree with the product's name: French and English pronouns and a verb right
# after the name; Arabic and Arabizi pronoun suffixes (سومتها، منو، tchoufha).
AGREEING = {
    "fr": re.compile(r"\b(elle|ils|elles|lui)\b|\bil (?!ne reste|y a)|\b(le|la|les) (?:réserve|prends)"),
    "en": re.compile(r"\b(it|its|it's|they|them|their)\b"),
    "ar": re.compile(r"(منو|منها|منه|ها|هم)(?=[\s.،؟!:]|$)"),
    "msa": re.compile(r"(منه|منها|ها|هم|هن)(?=[\s.،؟!:]|$)"),
    "arabizi": re.compile(r"\w(ha|hom|ou|o)\b(?<!\bsoum)"),
}


WITH_PRODUCT_NAME = [key for key, forms in TEXTS.items() if "{name}" in forms["fr"] and key != "welcome_back"]


@pytest.mark.parametrize("key", WITH_PRODUCT_NAME)
def test_sentences_with_a_product_name_do_not_agree_with_it(key):
    for form, text in TEXTS[key].items():
        # The name stands apart (a colon, a bracket, the end) or after a preposition: no verb
        # or adjective follows it.
        assert re.search(r"\{name\}(?:$|[\s]?[:.?؟!،,)(]| \()", text), (form, text)
        rest = text.replace("{name}", "")
        pattern = AGREEING[form]
        if form == "arabizi":
            assert not re.search(r"\b(menou|menha|tchoufha|soumtha|soumtou)\b", rest), (form, text)
        else:
            assert not pattern.search(rest), (form, text)
        for name in NAMES:
            assert name in say(key, form, **{**VALUES, "name": name})


def test_the_former_agreement_mistakes_are_gone():
    assert "elle vaut son prix" not in TEXTS["value"]["fr"]
    assert "{name} est" not in TEXTS["out"]["fr"] and "{name} is" not in TEXTS["out"]["en"]
    assert "سومتها" not in TEXTS["value"]["ar"] and "soumtha" not in TEXTS["value"]["arabizi"]
    assert "منو" not in TEXTS["social_proof"]["ar"] and "menou" not in TEXTS["social_proof"]["arabizi"]
    assert "Ravi" not in TEXTS["welcome_back"]["fr"]  # the persona may be a woman


@pytest.mark.parametrize(
    ("key", "intent"),
    [("yes", "yes"), ("no", "no"), ("order_it", "order"), ("home_choice", "home"), ("desk_choice", "desk")],
)
def test_quick_replies_in_standard_arabic_are_understood_when_tapped(key, intent):
    assert intent in intents_of(TEXTS[key]["msa"])


def test_texts_module_documents_the_five_forms():
    assert texts.__doc__ and '"msa"' in texts.__doc__
