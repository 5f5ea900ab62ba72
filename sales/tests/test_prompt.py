"""The OpenRouter prompt stays within a fixed size however large the catalog is: only the few
products relevant to the chat go into it."""

from __future__ import annotations

import json

import pytest

from sales.engine.base import EngineContext, Turn
from sales.engine.language import FORMS
from sales.engine.prompt import MAX_PRODUCTS, build_messages, prompt_file
from sales.models import Product, Variant, product_search_text

pytestmark = pytest.mark.django_db

PROMPT_BOUND_CHARS = 9_000


def grow_catalog(total: int) -> None:
    """Add products until there are `total`; one in ten is a basket (all match the question)."""
    have = Product.objects.count()
    products = [
        Product(
            code=f"p-{n}",
            name_fr=f"Basket modèle {n}" if n % 10 == 0 else f"Article {n} coton",
            name_ar=f"صباط {n}" if n % 10 == 0 else f"سلعة {n}",
            price=1000 + n,
        )
        for n in range(have, total)
    ]
    for product in products:  # bulk_create skips save(), which keeps the search text
        product.search_text = product_search_text(product)
    Product.objects.bulk_create(products, batch_size=2000)
    Variant.objects.bulk_create(
        [Variant(product=p, sku=f"SKU-{p.code}", size="M", stock=3) for p in products], batch_size=2000
    )


def context(text: str) -> EngineContext:
    history = tuple(
        Turn(author="customer" if n % 2 == 0 else "bot", text=f"message {n} " + "x" * 300) for n in range(30)
    )
    return EngineContext(
        conversation_id=1, channel="widget", burst=(text,), history=history, persona_name="Amina",
        shop_name="Alpha", language="fr", max_discount_percent=10,
    )  # fmt: skip


def test_prompt_size_is_flat_from_10_to_10000_products(shop_a):
    sizes = {}
    with shop_a.schema():
        for total in (10, 100, 1_000, 10_000):
            grow_catalog(total)
            messages, language = build_messages(context("Combien coûtent les baskets ?"))
            facts = json.loads(messages[1]["content"].split("\n", 1)[1])
            assert len(facts["products"]) == min(MAX_PRODUCTS, total // 10)  # only the few best go in
            sizes[total] = len(json.dumps(messages, ensure_ascii=False))
        assert Product.objects.count() == 10_000
    assert language == "fr"
    assert max(sizes.values()) <= PROMPT_BOUND_CHARS, sizes
    # Flat: from 100 products on, the prompt holds five of them, whatever the catalog's size.
    assert sizes[10_000] - sizes[100] < 200, sizes


def test_prompts_are_versioned_files_per_language_and_intensity():
    for language in FORMS:
        text = prompt_file(f"system.{language}.txt")
        assert "{max_discount}" in text and "hand_off" in text and "confirm_order" in text
    assert "بالعربية الفصحى" in prompt_file("system.msa.txt") and "بالدارجة" in prompt_file("system.ar.txt")
    gentle, aggressive = prompt_file("intensity.gentle.txt"), prompt_file("intensity.aggressive.txt")
    assert "Never use urgency" in gentle and "first price objection" in aggressive


@pytest.mark.parametrize(
    ("language", "languages", "expected", "words"),
    [
        ("msa", (), "msa", "بالعربية الفصحى"),  # Standard Arabic is answered in Standard Arabic
        ("msa", ("darija", "fr"), "ar", "بالدارجة"),  # unless the seller answers only in Darija
        ("ar", ("ar",), "ar", "بالدارجة"),
    ],
)
def test_the_system_prompt_is_the_one_of_the_answer_language(shop_a, language, languages, expected, words):
    from dataclasses import replace

    with shop_a.schema():
        messages, answer = build_messages(replace(context("كم سعر الحذاء؟"), language=language, languages=languages))
    assert answer == expected
    assert words in messages[0]["content"]
