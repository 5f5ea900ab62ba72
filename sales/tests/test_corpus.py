"""The evaluation corpus (sales/tests/corpus/) is well formed: every field valid, every product,
wilaya and commune it names real, every scripted order possible. Engine scores are not asserted
here: `bench/conversations_eval.py` measures them."""

from __future__ import annotations

import re
from collections import Counter

import algeria_wilayas_communes as places
import phonenumbers
import pytest

from sales.tests import corpus

PHONE = re.compile(r"^0[567]\d{8}$")
WILAYAS = {wilaya["wilaya_num"] for wilaya in places.get_wilayas()}
COMMUNES = {(commune["wilaya_num"], commune["nom_fr"]) for commune in places.get_communes()}
PRODUCTS = corpus.products()
RATES = corpus.rates()
MESSAGES = corpus.messages()
CUSTOMERS = corpus.customers()


def variant_of(product: str, size: str | None, colour: str | None) -> dict | None:
    for variant in PRODUCTS[product]["variants"]:
        if variant["size"] == (size or "") and variant["colour"] == (colour or ""):
            return variant
    return None


# --- catalog and rates ----------------------------------------------------------------------


def test_the_catalog_has_the_demo_catalogs_header_and_the_traps_it_is_meant_to_hold():
    demo = (corpus.HERE.parent.parent / "fixtures" / "demo_catalog.csv").read_text(encoding="utf-8")
    assert corpus.catalog_text().splitlines()[0] == demo.splitlines()[0]
    assert 12 <= len(PRODUCTS) <= 15
    skus = [row["sku"] for row in corpus.catalog_rows()]
    assert len(skus) == len(set(skus))
    assert any(all(v["stock"] == 0 for v in p["variants"]) for p in PRODUCTS.values()), "one product out of stock"
    assert any((p["compare_at_price"] or 0) > p["price"] for p in PRODUCTS.values()), "one product on promotion"
    sizes = {v["size"] for p in PRODUCTS.values() for v in p["variants"]}
    assert {"S", "M", "L", "XL", "42", "50 ml", "100 ml", "iPhone 15", "iPhone 15 Pro"} <= sizes
    assert {"Bleu marine", "Vert olive"} <= {v["colour"] for p in PRODUCTS.values() for v in p["variants"]}
    for product in PRODUCTS.values():
        assert len(product["names"]) == 3 and product["synonyms"], product["code"]


def test_the_rates_name_real_wilayas_and_one_is_not_served():
    assert len(RATES) >= 15
    assert set(RATES) <= WILAYAS
    for number, rate in RATES.items():
        assert set(rate) == {"served", "home_fee", "desk_fee", "days"}, number
        if rate["served"]:
            assert rate["home_fee"] or rate["desk_fee"], number
            assert isinstance(rate["days"], int) and rate["days"] > 0, number
        else:
            assert rate["home_fee"] is None and rate["desk_fee"] is None, number
    assert any(not rate["served"] for rate in RATES.values())
    assert any(rate["served"] and rate["desk_fee"] is None for rate in RATES.values()), "one with home delivery only"


@pytest.mark.django_db
def test_the_catalog_and_rates_load_through_the_real_services(shop_a):
    from sales.models import Product, Variant
    from sales.services.catalog_csv import catalog_import_text
    from sales.services.settings import RateData, delivery_rates_update

    with shop_a.schema():
        summary = catalog_import_text(corpus.catalog_text())
        assert summary.errors == []
        assert Product.objects.count() == len(PRODUCTS)
        assert Variant.objects.count() == len(corpus.catalog_rows())
        assert Variant.objects.get(sku="KRK-L-BRD").price == 25500
        rates = [RateData(wilaya=n, is_served=r["served"], home_fee=r["home_fee"], desk_fee=r["desk_fee"],
                          days=r["days"]) for n, r in RATES.items()]  # fmt: skip
        assert delivery_rates_update(rates=rates) == len(RATES)


# --- single messages ------------------------------------------------------------------------


def test_the_messages_are_valid():
    assert len(MESSAGES) >= 400
    ids = [message["id"] for message in MESSAGES]
    assert len(ids) == len(set(ids))
    texts = [message["text"] for message in MESSAGES]
    assert len(texts) == len(set(texts)), "each text once"
    for message in MESSAGES:
        where = message["id"]
        assert set(message) <= corpus.MESSAGE_FIELDS, where
        assert message["text"].strip() == message["text"] and message["text"], where
        assert message["way"] in corpus.WAYS, where
        assert message["language"] in corpus.LANGUAGES, where
        assert message["intent"] in corpus.INTENTS, where
        if "product" in message:
            assert message["product"] in PRODUCTS, where
        if "wrong_product" in message:
            assert message["wrong_product"] in PRODUCTS and message["wrong_product"] != message.get("product"), where
        if "wilaya" in message:
            assert isinstance(message["wilaya"], int) and message["wilaya"] in WILAYAS, where
        if "past_order" in message:
            assert message["past_order"] is True and message["intent"] in ("track", "complaint", "cancel"), where


def test_every_way_of_writing_is_covered_with_every_intent():
    ways = Counter(message["way"] for message in MESSAGES)
    assert set(ways) == set(corpus.WAYS)
    assert min(ways.values()) >= 60, ways
    pairs = {(message["way"], message["intent"]) for message in MESSAGES}
    missing = [(way, intent) for way in corpus.WAYS for intent in corpus.INTENTS if (way, intent) not in pairs]
    assert missing == []


def test_the_script_of_a_message_agrees_with_its_way():
    arabic = re.compile(r"[\u0600-\u06ff]")
    for message in MESSAGES:
        has_arabic = bool(arabic.search(message["text"]))
        assert has_arabic == (message["way"] in ("darija_ar", "msa")), message["id"]


# --- scripted customers ---------------------------------------------------------------------


def test_the_customers_are_valid_and_their_orders_possible():
    assert len(CUSTOMERS) >= 40
    assert len({c["id"] for c in CUSTOMERS}) == len(CUSTOMERS)
    for customer in CUSTOMERS:
        where = customer["id"]
        assert set(customer) <= {"id", "persona", "way", "language", "goal", "script", "expected", "answer_way"}
        assert customer["persona"] and customer["way"] in corpus.WAYS, where
        assert customer["language"] in corpus.LANGUAGES, where
        assert customer.get("answer_way", customer["way"]) in corpus.WAYS, where
        assert customer["script"] and all(isinstance(t, str) and t.strip() for t in customer["script"]), where
        goal, expected = customer["goal"], customer["expected"]
        assert set(goal) == {"product", "size", "colour", "quantity", "wilaya", "commune", "delivery_type", "name",
                             "phone", "address"}, where  # fmt: skip
        assert goal["product"] in PRODUCTS and variant_of(goal["product"], goal["size"], goal["colour"]), where
        assert isinstance(goal["quantity"], int) and goal["quantity"] >= 1, where
        assert PHONE.match(goal["phone"]), where
        assert phonenumbers.is_valid_number(phonenumbers.parse(goal["phone"], "DZ")), where
        assert goal["name"].strip() and goal["address"].strip(), where
        assert goal["delivery_type"] in ("home", "desk"), where
        assert (goal["wilaya"], goal["commune"]) in COMMUNES, where
        rate = RATES.get(goal["wilaya"])
        assert rate and rate["served"] and rate[f"{goal['delivery_type']}_fee"] is not None, where
        assert (expected["wilaya"], expected["commune"], expected["delivery_type"]) == (
            goal["wilaya"], goal["commune"], goal["delivery_type"],
        ), where  # fmt: skip
        assert expected["items"], where
        for line in expected["items"]:
            assert set(line) == {"product", "size", "colour", "quantity"}, where
            variant = variant_of(line["product"], line["size"], line["colour"])
            assert variant is not None, (where, line)
            assert variant["stock"] >= line["quantity"] >= 1, (where, line)


def test_the_customers_cover_every_way_and_the_detours_they_are_meant_to():
    ways = Counter(customer["way"] for customer in CUSTOMERS)
    assert set(ways) == set(corpus.WAYS) and min(ways.values()) >= 6, ways
    assert any(len(c["expected"]["items"]) > 1 for c in CUSTOMERS), "an order of several items"
    assert any(c["language"] != c["way"].replace("darija_ar", "ar") for c in CUSTOMERS), "a language switch"
    assert any(c["goal"]["delivery_type"] == "desk" for c in CUSTOMERS)
    assert any(c["goal"]["delivery_type"] == "home" for c in CUSTOMERS)
