"""The built-in engine at this stage: greeting, price and stock, in the customer's language."""

from __future__ import annotations

import pytest

from sales.engine.base import EngineContext
from sales.engine.builtin import BuiltinEngine
from sales.engine.language import guess_language, normalize
from sales.services.catalog_csv import catalog_import_text

pytestmark = pytest.mark.django_db

CATALOG = (
    "product_code,sku,name_ar,name_fr,name_en,price,compare_at_price,size,colour,stock,synonyms\n"
    "basket,BS-41,صباط رياضي,Baskets de sport,Running sneakers,5900,7500,41,Blanc,4,sabat|chaussure\n"
    "basket,BS-42,,,,,,42,Noir,0,\n"
    "montre,MT-1,ساعة,Montre,Watch,4800,,,Marron,0,magana\n"
)


def ask(text: str, first: bool = False):
    context = EngineContext(
        conversation_id=1, channel="widget", burst=(text,), history=(), persona_name="Amina",
        greeting="مرحبا بيك في متجرنا!", is_first_contact=first, shop_name="Alpha",
    )  # fmt: skip
    return BuiltinEngine().reply(context)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("شحال هاد الصباط؟", "ar"),
        ("ch7al had sabat?", "arabizi"),
        ("salam khoya, wach kayen 42?", "arabizi"),
        ("Bonjour, combien coûte la montre ?", "fr"),
        ("How much is the watch?", "en"),
    ],
)
def test_language_and_script_are_recognised(text, language):
    assert guess_language(text) == language


def test_normalization_unifies_arabic_letters_and_french_accents():
    assert normalize("أُريدُ الإستِفسار") == normalize("اريد الاستفسار")
    assert normalize("Coûte  Élégante!") == "coute elegante"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("شحال الصباط الرياضي؟", ["5 900 دج", "7 500"]),
        ("ch7al sabat?", ["5 900 DA", "blasst 7 500"]),
        ("Combien coûtent les baskets ?", ["Baskets de sport : 5 900 DA", "au lieu de 7 500"]),
        ("How much are the running sneakers?", ["Running sneakers: 5 900 DZD"]),
    ],
)
def test_price_answers_come_from_the_catalog_in_the_customer_language(shop_a, text, expected):
    with shop_a.schema():
        catalog_import_text(CATALOG)
        reply = ask(text)
    for part in expected:
        assert part in reply.text
    assert reply.cards and reply.cards[0].price == 5900 and reply.cards[0].in_stock


def test_stock_answers_list_only_what_is_in_stock(shop_a):
    with shop_a.schema():
        catalog_import_text(CATALOG)
        sneakers = ask("Les baskets sont disponibles ?")
        watch = ask("wach kayna magana?")
    assert "41 / Blanc" in sneakers.text and "42" not in sneakers.text
    assert "stock" in watch.text.lower() and "makanch" in watch.text


def test_greeting_uses_the_seller_greeting_in_arabic_and_the_persona_elsewhere(shop_a):
    with shop_a.schema():
        assert ask("السلام عليكم").text == "مرحبا بيك في متجرنا!"
        assert "Amina" in ask("Bonjour").text and "Alpha" in ask("Bonjour").text
        assert ask("salam").text.startswith("Salam! Ana Amina")


def test_a_price_question_without_a_product_asks_which_one(shop_a):
    with shop_a.schema():
        catalog_import_text(CATALOG)
        reply = ask("C'est combien ?")
    assert reply.text == "Quel produit vous intéresse ?"
    assert len(reply.quick_replies) >= 2
