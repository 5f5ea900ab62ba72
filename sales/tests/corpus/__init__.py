"""The evaluation corpus: how Algerian customers write to a shop, and what they mean.

- `catalog.csv`: an evaluation shop's catalog in the import format (`sales/fixtures/demo_catalog.csv`).
- `rates.json`: its delivery fees, by wilaya number (`served`, `home_fee`, `desk_fee`, `days`).
- `messages.jsonl`: single first messages with the intent, the product and wilaya meant, and the
  form the answer should take.
- `customers.json`: scripted customers with a goal (the order they want) and the order expected
  at the end of the conversation.

`blind/` holds the same four files for another shop (cosmetics, kitchenware, children's clothes,
phone accessories), written from scratch without reading the engine's lexicons or the main
corpus, and never used to tune the engine: its figures measure how well the engine generalises.

The files describe customers, not the engine; `bench/conversations_eval.py` measures an engine
against them and `sales/tests/test_corpus.py` checks the files themselves.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "catalog.csv"
RATES = HERE / "rates.json"
MESSAGES = HERE / "messages.jsonl"
CUSTOMERS = HERE / "customers.json"
# The blind corpus: the same files for another shop, written without looking at the engine.
BLIND_DIR = HERE / "blind"

# How the customer writes: Darija in Arabic script, Darija in Latin letters (3/7/9), Modern
# Standard Arabic, French, English.
WAYS = ("darija_ar", "arabizi", "msa", "fr", "en")
# The form the answer should take: Darija in Arabic script, Arabizi, MSA, French, English.
LANGUAGES = ("ar", "arabizi", "msa", "fr", "en")
INTENTS = (
    "greeting", "catalog", "price", "stock", "options", "delivery_fee", "delivery_time", "payment", "order",
    "objection", "discount", "hesitation", "trust", "human", "track", "complaint", "optout", "thanks", "cancel",
)  # fmt: skip
MESSAGE_FIELDS = {"id", "text", "way", "language", "intent", "product", "wilaya", "note", "wrong_product", "past_order"}


class Corpus:
    """One corpus directory: the main one (tuned against) or the blind one (`blind/`), written
    apart from the engine and never used to tune it, to measure how well the engine generalises."""

    def __init__(self, directory: Path = HERE) -> None:
        self.directory = Path(directory).resolve()
        self.catalog = self.directory / "catalog.csv"
        self.rates_file = self.directory / "rates.json"
        self.messages_file = self.directory / "messages.jsonl"
        self.customers_file = self.directory / "customers.json"

    def catalog_rows(self) -> list[dict[str, str]]:
        with self.catalog.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def catalog_text(self) -> str:
        return self.catalog.read_text(encoding="utf-8")

    def products(self) -> dict[str, dict[str, Any]]:
        """Each product code with its names, prices, synonyms and variants (size, colour, stock, price)."""
        found: dict[str, dict[str, Any]] = {}
        for row in self.catalog_rows():
            code = row["product_code"]
            product = found.get(code)
            if product is None:
                product = found[code] = {
                    "code": code,
                    "names": [name for name in (row["name_ar"], row["name_fr"], row["name_en"]) if name],
                    "name_fr": row["name_fr"],
                    "name_ar": row["name_ar"],
                    "name_en": row["name_en"],
                    "price": int(row["price"]),
                    "compare_at_price": int(row["compare_at_price"]) if row["compare_at_price"] else None,
                    "synonyms": [word for word in row["synonyms"].split("|") if word],
                    "variants": [],
                }
            product["variants"].append(
                {
                    "sku": row["sku"],
                    "size": row["size"],
                    "colour": row["colour"],
                    "stock": int(row["stock"]),
                    "price": int(row["variant_price"]) if row["variant_price"] else product["price"],
                }
            )
        return found

    def rates(self) -> dict[int, dict[str, Any]]:
        raw = json.loads(self.rates_file.read_text(encoding="utf-8"))
        return {int(number): value for number, value in raw.items()}

    def messages(self) -> list[dict[str, Any]]:
        with self.messages_file.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def customers(self) -> list[dict[str, Any]]:
        return json.loads(self.customers_file.read_text(encoding="utf-8"))


MAIN = Corpus(HERE)
BLIND = Corpus(BLIND_DIR)


def catalog_rows() -> list[dict[str, str]]:
    return MAIN.catalog_rows()


def catalog_text() -> str:
    return MAIN.catalog_text()


def products() -> dict[str, dict[str, Any]]:
    """Each product code with its names, prices, synonyms and variants (size, colour, stock, price)."""
    return MAIN.products()


def rates() -> dict[int, dict[str, Any]]:
    return MAIN.rates()


def messages() -> list[dict[str, Any]]:
    return MAIN.messages()


def customers() -> list[dict[str, Any]]:
    return MAIN.customers()
