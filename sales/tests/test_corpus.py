"""The evaluation corpora (sales/tests/corpus/ and its blind twin sales/tests/corpus/blind/) are
well formed: every field valid, every product, wilaya and commune they name real, every scripted
order possible. Both corpora go through the same checks; the blind one is smaller. Engine scores
are not asserted here: `bench/conversations_eval.py` measures them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import algeria_wilayas_communes as places
import phonenumbers
import pytest

from sales.tests import corpus

PHONE = re.compile(r"^0[567]\d{8}$")
WILAYAS = {wilaya["wilaya_num"] for wilaya in places.get_wilayas()}
COMMUNES = {(commune["wilaya_num"], commune["nom_fr"]) for commune in places.get_communes()}


@dataclass
class Expected:
    """What one corpus must hold: its size and the traps its catalog is meant to set."""

    name: str
    source: corpus.Corpus
    products: tuple[int, int]  # fewest and most products
    rates: int
    sizes: set[str]
    colours: set[str]
    priced_sku: tuple[str, int]  # a variant with a price of its own
    messages: int
    messages_per_way: int
    customers: int
    customers_per_way: int
    loaded: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.loaded = {
            "products": self.source.products(),
            "rates": self.source.rates(),
            "messages": self.source.messages(),
            "customers": self.source.customers(),
        }


CORPORA = {
    "main": lambda: Expected(
        name="main", source=corpus.MAIN, products=(12, 15), rates=15,
        sizes={"S", "M", "L", "XL", "42", "50 ml", "100 ml", "iPhone 15", "iPhone 15 Pro"},
        colours={"Bleu marine", "Vert olive"}, priced_sku=("KRK-L-BRD", 25500),
        messages=400, messages_per_way=60, customers=40, customers_per_way=6,
    ),
    "blind": lambda: Expected(
        name="blind", source=corpus.BLIND, products=(10, 12), rates=12,
        sizes={"50 ml", "100 ml", "250 g", "6 L", "10 L", "24", "28", "18", "21", "2 ans", "4 ans", "Type-C"},
        colours={"Rose poudré", "Bleu marine", "Bleu ciel"}, priced_sku=("CSK-10", 6100),
        messages=150, messages_per_way=30, customers=15, customers_per_way=3,
    ),
}  # fmt: skip


@pytest.fixture(params=list(CORPORA), scope="module")
def expected(request: pytest.FixtureRequest) -> Expected:
    return CORPORA[request.param]()


def variant_of(products: dict, product: str, size: str | None, colour: str | None) -> dict | None:
    for variant in products[product]["variants"]:
        if variant["size"] == (size or "") and variant["colour"] == (colour or ""):
            return variant
    return None


# --- catalog and rates ----------------------------------------------------------------------


def test_the_catalog_has_the_demo_catalogs_header_and_the_traps_it_is_meant_to_hold(expected):
    products = expected.loaded["products"]
    demo = (corpus.HERE.parent.parent / "fixtures" / "demo_catalog.csv").read_text(encoding="utf-8")
    assert expected.source.catalog_text().splitlines()[0] == demo.splitlines()[0]
    assert expected.products[0] <= len(products) <= expected.products[1]
    skus = [row["sku"] for row in expected.source.catalog_rows()]
    assert len(skus) == len(set(skus))
    assert any(all(v["stock"] == 0 for v in p["variants"]) for p in products.values()), "one product out of stock"
    assert any((p["compare_at_price"] or 0) > p["price"] for p in products.values()), "one product on promotion"
    sizes = {v["size"] for p in products.values() for v in p["variants"]}
    assert expected.sizes <= sizes, expected.sizes - sizes
    assert expected.colours <= {v["colour"] for p in products.values() for v in p["variants"]}
    for product in products.values():
        assert len(product["names"]) == 3 and product["synonyms"], product["code"]


def test_the_rates_name_real_wilayas_and_one_is_not_served(expected):
    rates = expected.loaded["rates"]
    assert len(rates) >= expected.rates
    assert set(rates) <= WILAYAS
    for number, rate in rates.items():
        assert set(rate) == {"served", "home_fee", "desk_fee", "days"}, number
        if rate["served"]:
            assert rate["home_fee"] or rate["desk_fee"], number
            assert isinstance(rate["days"], int) and rate["days"] > 0, number
        else:
            assert rate["home_fee"] is None and rate["desk_fee"] is None, number
    assert any(not rate["served"] for rate in rates.values())
    assert any(rate["served"] and rate["desk_fee"] is None for rate in rates.values()), "one with home delivery only"


@pytest.mark.django_db
def test_the_catalog_and_rates_load_through_the_real_services(shop_a, expected):
    from sales.models import Product, Variant
    from sales.services.catalog_csv import catalog_import_text
    from sales.services.settings import RateData, delivery_rates_update

    products, rates = expected.loaded["products"], expected.loaded["rates"]

    with shop_a.schema():
        summary = catalog_import_text(expected.source.catalog_text())
        assert summary.errors == []
        assert Product.objects.count() == len(products)
        assert Variant.objects.count() == len(expected.source.catalog_rows())
        sku, price = expected.priced_sku
        assert Variant.objects.get(sku=sku).price == price
        rows = [RateData(wilaya=n, is_served=r["served"], home_fee=r["home_fee"], desk_fee=r["desk_fee"],
                         days=r["days"]) for n, r in rates.items()]  # fmt: skip
        assert delivery_rates_update(rates=rows) == len(rates)


# --- single messages ------------------------------------------------------------------------


def test_the_messages_are_valid(expected):
    messages, products = expected.loaded["messages"], expected.loaded["products"]
    assert len(messages) >= expected.messages
    ids = [message["id"] for message in messages]
    assert len(ids) == len(set(ids))
    texts = [message["text"] for message in messages]
    assert len(texts) == len(set(texts)), "each text once"
    for message in messages:
        where = message["id"]
        assert set(message) <= corpus.MESSAGE_FIELDS, where
        assert message["text"].strip() == message["text"] and message["text"], where
        assert message["way"] in corpus.WAYS, where
        assert message["language"] in corpus.LANGUAGES, where
        assert message["intent"] in corpus.INTENTS, where
        if "product" in message:
            assert message["product"] in products, where
        if "wrong_product" in message:
            assert message["wrong_product"] in products and message["wrong_product"] != message.get("product"), where
        if "wilaya" in message:
            assert isinstance(message["wilaya"], int) and message["wilaya"] in WILAYAS, where
        if "past_order" in message:
            assert message["past_order"] is True and message["intent"] in ("track", "complaint", "cancel"), where


def test_every_way_of_writing_is_covered_with_every_intent(expected):
    messages = expected.loaded["messages"]
    ways = Counter(message["way"] for message in messages)
    assert set(ways) == set(corpus.WAYS)
    assert min(ways.values()) >= expected.messages_per_way, ways
    pairs = {(message["way"], message["intent"]) for message in messages}
    missing = [(way, intent) for way in corpus.WAYS for intent in corpus.INTENTS if (way, intent) not in pairs]
    assert missing == []


def test_the_script_of_a_message_agrees_with_its_way(expected):
    messages = expected.loaded["messages"]
    arabic = re.compile(r"[\u0600-\u06ff]")
    for message in messages:
        has_arabic = bool(arabic.search(message["text"]))
        assert has_arabic == (message["way"] in ("darija_ar", "msa")), message["id"]


# --- scripted customers ---------------------------------------------------------------------


def test_the_customers_are_valid_and_their_orders_possible(expected):
    customers, products, rates = (expected.loaded[key] for key in ("customers", "products", "rates"))
    assert len(customers) >= expected.customers
    assert len({c["id"] for c in customers}) == len(customers)
    for customer in customers:
        where = customer["id"]
        assert set(customer) <= {"id", "persona", "way", "language", "goal", "script", "expected", "answer_way"}
        assert customer["persona"] and customer["way"] in corpus.WAYS, where
        assert customer["language"] in corpus.LANGUAGES, where
        assert customer.get("answer_way", customer["way"]) in corpus.WAYS, where
        assert customer["script"] and all(isinstance(t, str) and t.strip() for t in customer["script"]), where
        goal, expected = customer["goal"], customer["expected"]
        assert set(goal) == {"product", "size", "colour", "quantity", "wilaya", "commune", "delivery_type", "name",
                             "phone", "address"}, where  # fmt: skip
        assert goal["product"] in products and variant_of(products, goal["product"], goal["size"], goal["colour"]), (
            where
        )
        assert isinstance(goal["quantity"], int) and goal["quantity"] >= 1, where
        assert PHONE.match(goal["phone"]), where
        assert phonenumbers.is_valid_number(phonenumbers.parse(goal["phone"], "DZ")), where
        assert goal["name"].strip() and goal["address"].strip(), where
        assert goal["delivery_type"] in ("home", "desk"), where
        assert (goal["wilaya"], goal["commune"]) in COMMUNES, where
        rate = rates.get(goal["wilaya"])
        assert rate and rate["served"] and rate[f"{goal['delivery_type']}_fee"] is not None, where
        assert (expected["wilaya"], expected["commune"], expected["delivery_type"]) == (
            goal["wilaya"], goal["commune"], goal["delivery_type"],
        ), where  # fmt: skip
        assert expected["items"], where
        for line in expected["items"]:
            assert set(line) == {"product", "size", "colour", "quantity"}, where
            variant = variant_of(products, line["product"], line["size"], line["colour"])
            assert variant is not None, (where, line)
            assert variant["stock"] >= line["quantity"] >= 1, (where, line)


def test_the_customers_cover_every_way_and_the_detours_they_are_meant_to(expected):
    customers = expected.loaded["customers"]
    ways = Counter(customer["way"] for customer in customers)
    assert set(ways) == set(corpus.WAYS) and min(ways.values()) >= expected.customers_per_way, ways
    assert any(len(c["expected"]["items"]) > 1 for c in customers), "an order of several items"
    assert any(c["language"] != c["way"].replace("darija_ar", "ar") for c in customers), "a language switch"
    assert any(c["goal"]["delivery_type"] == "desk" for c in customers)
    assert any(c["goal"]["delivery_type"] == "home" for c in customers)
