"""The OpenRouter engine's tools against the loopback chat-completions server: the model finds
ids with search and every other tool takes them; each order edit is a tool whose result is the
order's summary; a bad, foreign or guessed id, a wrong variant, missing stock, a bad phone or a
commune of another wilaya come back to the model as results it can act on (asserted exactly),
and a failed call stores nothing. A scripted conversation ends with the right confirmed order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conversations.models import Conversation
from sales.engine.tools import PHONE_FORMAT, SCHEMAS, TOOLS
from sales.geo import find_commune
from sales.models import DiscountGrant, Order, OrderItem, OrderStatusChange, Product, Variant
from sales.tests.chat_server import empty_turn, respond, text_turn, tool_results, tool_turn

pytestmark = pytest.mark.django_db

SAY_BASKETS = "Je prends les baskets"


@pytest.fixture
def ids(chat) -> dict[str, int]:
    return {
        "basket": Product.objects.get(code="basket").pk,
        "watch": Product.objects.get(code="montre").pk,
        "v41": Variant.objects.get(sku="BS-41").pk,
        "v42": Variant.objects.get(sku="BS-42").pk,
        "mt": Variant.objects.get(sku="MT-1").pk,
    }


def call(server, chat, name: str, arguments: dict[str, Any] | str, said: str = SAY_BASKETS) -> dict[str, Any]:
    """The customer says `said`; the model calls one tool, then answers. The tool's result as
    the model received it."""
    server.script(tool_turn((name, arguments)), text_turn("D'accord."))
    reply = chat.say(said)
    assert reply.engine == "openrouter" and reply.text == "D'accord."
    (result,) = server.tool_results()
    return dict(result["result"])


def state() -> dict[str, Any]:
    """Everything a tool could store: orders, lines, stock, discounts, status history."""
    return {
        "orders": list(
            Order.objects.order_by("pk").values_list(
                "status", "customer_name", "phone", "wilaya", "commune", "address", "delivery_type",
                "discount_percent", "delivery_fee", "total",
            )
        ),
        "items": list(OrderItem.objects.order_by("pk").values_list("order_id", "variant_id", "quantity", "unit_price")),
        "stock": dict(Variant.objects.values_list("sku", "stock")),
        "grants": DiscountGrant.objects.count(),
        "history": OrderStatusChange.objects.count(),
    }  # fmt: skip


def variant(ids, key: str) -> dict[str, Any]:
    return {
        "v41": {"variant_id": ids["v41"], "size": "41", "colour": "Blanc", "stock": 4, "price_dzd": 5900},
        "v42": {"variant_id": ids["v42"], "size": "42", "colour": "Noir", "stock": 1, "price_dzd": 5900},
        "mt": {"variant_id": ids["mt"], "size": "", "colour": "Marron", "stock": 2, "price_dzd": 4800},
    }[key]


def line(ids, key: str, quantity: int) -> dict[str, Any]:
    facts = variant(ids, key)
    product, name, price = ("watch", "Montre", 4800) if key == "mt" else ("basket", "Baskets de sport", 5900)
    return {
        "product_id": ids[product], "variant_id": facts["variant_id"], "name": name, "size": facts["size"],
        "colour": facts["colour"], "quantity": quantity, "unit_price_dzd": price, "line_total_dzd": price * quantity,
    }  # fmt: skip


ALL_DETAILS = ["customer_name", "phone", "wilaya", "commune", "address", "delivery_type"]


def summary(**values: Any) -> dict[str, Any]:
    """An order summary: an empty draft unless told otherwise."""
    return {
        "status": "draft", "items": [], "customer_name": "", "phone": "", "wilaya": None, "commune": "",
        "address": "", "delivery_type": "", "subtotal_dzd": 0, "discount_percent": 0, "discount_dzd": 0,
        "delivery_fee_dzd": None, "total_dzd": 0, "total_includes_delivery": False,
        "missing": ([] if values.get("items") else ["items"]) + ALL_DETAILS,
        **values,
    }  # fmt: skip


KARIM = {
    "customer_name": "Karim Benali", "phone": "0550 12 34 56", "wilaya": "Alger", "commune": "Bab Ezzouar",
    "address": "Cité 200 logements, bt 4", "delivery_type": "home",
}  # fmt: skip
KARIM_STORED = {
    "customer_name": "Karim Benali", "phone": "+213550123456", "wilaya": {"number": 16, "name": "Alger"},
    "commune": "Bab Ezzouar", "address": "Cité 200 logements, bt 4", "delivery_type": "home",
}  # fmt: skip


# --- The schemas ------------------------------------------------------------------------------


def test_every_tool_schema_is_precise_and_ids_are_integers():
    for tool in TOOLS:
        name, parameters = tool["function"]["name"], tool["function"]["parameters"]
        assert parameters["type"] == "object" and parameters["additionalProperties"] is False, name
        assert set(parameters["required"]) <= set(parameters["properties"]), name
        for key, prop in parameters["properties"].items():
            assert key not in ("sku", "name", "product_name", "product"), name  # never a free-text product
            if key.endswith("_id"):
                assert prop == {**prop, "type": "integer", "minimum": 1}, (name, key)
    item_tools = ("check_stock", "quote_price", "add_item", "change_variant", "set_quantity", "remove_item")
    for name in item_tools:
        assert {"product_id", "variant_id"} <= set(SCHEMAS[name]["required"]), name
    assert SCHEMAS["set_delivery_details"]["properties"]["delivery_type"]["enum"] == ["home", "desk"]
    assert SCHEMAS["set_delivery_details"]["minProperties"] == 1
    assert SCHEMAS["confirm_order"]["required"] == ["total_dzd"]


# --- Reading: search gives the ids ----------------------------------------------------------------


def test_search_gives_ids_with_size_colour_stock_and_price_and_the_read_tools_take_them(server, chat, ids):
    server.script(
        tool_turn(
            ("search_catalog", {"query": "baskets"}),
            ("check_stock", {"product_id": ids["basket"], "variant_id": ids["v42"]}),
            (
                "quote_price",
                {"product_id": ids["basket"], "variant_id": ids["v41"], "quantity": 2, "discount_percent": 40},
            ),
            ("get_product", {"product_id": ids["basket"]}),
        ),
        text_turn("D'accord."),
    )
    reply = chat.say("Vous avez des baskets ?")
    search, stock, quote, product = (call["result"] for call in server.tool_results())
    basket = {
        "product_id": ids["basket"],
        "name": {"ar": "صباط رياضي", "fr": "Baskets de sport", "en": "Running sneakers"},
        "price_dzd": 5900,
        "was_dzd": 7500,
        "variants": [variant(ids, "v41"), variant(ids, "v42")],
    }
    assert search == {"ok": True, "products": [basket]}
    assert stock == {"ok": True, "variant": variant(ids, "v42"), "in_stock": True}
    assert quote == {
        "ok": True, "unit_price_dzd": 5900, "quantity": 2, "discount_percent_granted": 10,
        "discount_percent_max": 10, "total_before_delivery_dzd": 10620,
    }  # fmt: skip
    assert product == {"ok": True, "product": basket}
    assert [card["product_id"] for card in reply.cards] == [ids["basket"]]
    assert state()["orders"] == [] and state()["grants"] == 0  # reading changes nothing


def test_a_search_that_finds_nothing_says_so(server, chat):
    result = call(server, chat, "search_catalog", {"query": "parapluie"}, said="Vous avez des parapluies ?")
    assert result == {
        "ok": True, "products": [],
        "message": "Nothing in the catalog matches; ask the customer to say it with other words.",
    }  # fmt: skip


# --- Order edits ------------------------------------------------------------------------------


def test_each_order_edit_is_a_tool_and_answers_with_the_exact_summary(server, chat, ids):
    b, w = ids["basket"], ids["watch"]
    result = call(server, chat, "add_item", {"product_id": b, "variant_id": ids["v41"], "quantity": 1})
    assert result == {"ok": True, "order": summary(items=[line(ids, "v41", 1)], subtotal_dzd=5900, total_dzd=5900)}

    # Another size: the variant is replaced, the quantity kept.
    to_42 = {"product_id": b, "variant_id": ids["v41"], "new_variant_id": ids["v42"]}
    result = call(server, chat, "change_variant", to_42, said="Plutôt en 42")
    assert result["order"] == summary(items=[line(ids, "v42", 1)], subtotal_dzd=5900, total_dzd=5900)

    # A second product, then its quantity.
    result = call(
        server, chat, "add_item", {"product_id": w, "variant_id": ids["mt"], "quantity": 1}, said="Et la montre"
    )
    assert result["order"] == summary(
        items=[line(ids, "v42", 1), line(ids, "mt", 1)], subtotal_dzd=10700, total_dzd=10700
    )
    result = call(
        server, chat, "set_quantity", {"product_id": w, "variant_id": ids["mt"], "quantity": 2}, said="Deux montres"
    )
    assert result["order"] == summary(
        items=[line(ids, "v42", 1), line(ids, "mt", 2)], subtotal_dzd=15500, total_dzd=15500
    )
    result = call(
        server, chat, "remove_item", {"product_id": b, "variant_id": ids["v42"]}, said="Finalement pas les baskets"
    )
    assert result["order"] == summary(items=[line(ids, "mt", 2)], subtotal_dzd=9600, total_dzd=9600)

    # Every detail at once: complete, so it awaits the customer's yes (stop desk in Alger: 400 DA).
    result = call(server, chat, "set_delivery_details", {**KARIM, "delivery_type": "desk"}, said="Karim Benali ...")
    done = {"items": [line(ids, "mt", 2)], "subtotal_dzd": 9600, "missing": []}
    assert result["order"] == summary(
        **done, **{**KARIM_STORED, "delivery_type": "desk"}, status="awaiting", delivery_fee_dzd=400, total_dzd=10000,
        total_includes_delivery=True,
    )  # fmt: skip
    result = call(server, chat, "set_delivery_details", {"delivery_type": "home"}, said="À domicile plutôt")
    assert result["order"] == summary(
        **done, **KARIM_STORED, status="awaiting", delivery_fee_dzd=600, total_dzd=10200, total_includes_delivery=True
    )
    # Another wilaya: the commune of Alger no longer holds, the order is a draft again.
    result = call(server, chat, "set_delivery_details", {"wilaya": "31"}, said="Je suis à Oran en fait")
    oran = {**KARIM_STORED, "wilaya": {"number": 31, "name": "Oran"}, "commune": ""}
    assert result["order"] == summary(
        **{**done, "missing": ["commune"]}, **oran, delivery_fee_dzd=900, total_dzd=10500, total_includes_delivery=True
    )
    result = call(server, chat, "request_discount", {"percent": 40}, said="Une remise de 40% ?")
    assert result == {
        "ok": True, "requested_percent": 40, "granted_percent": 10, "max_percent": 10,
        "order": summary(**{**done, "missing": ["commune"]}, **oran, discount_percent=10, discount_dzd=960,
                         delivery_fee_dzd=900, total_dzd=9540, total_includes_delivery=True),
    }  # fmt: skip
    assert list(DiscountGrant.objects.values_list("requested_percent", "granted_percent", "engine")) == [
        (40, 10, "openrouter")
    ]
    order = Order.objects.get()
    assert (order.status, order.wilaya, order.commune, order.total) == ("draft", 31, "", 9540)

    result = call(server, chat, "cancel_order", {}, said="Non, j'annule")
    assert result == {"ok": True, "reference": order.reference, "status": "cancelled"}
    order.refresh_from_db()
    assert order.status == "cancelled" and Variant.objects.get(sku="MT-1").stock == 2  # a draft took no stock


def test_a_scripted_sale_search_add_delivery_summary_confirm(server, chat):
    """The model reads the ids from the search result and the totals from the summaries, as a
    model does; the order it confirms is the one the customer was told."""
    seen: dict[str, Any] = {}

    def add_the_41(body):
        (search,) = tool_results(body)
        (basket,) = search["result"]["products"]
        size_41 = next(v for v in basket["variants"] if v["size"] == "41")
        return tool_turn(
            ("add_item", {"product_id": basket["product_id"], "variant_id": size_41["variant_id"], "quantity": 1})
        )

    def state_the_total(body):
        (details,) = tool_results(body)
        seen["summary"] = details["result"]["order"]
        total = f"{seen['summary']['total_dzd']:,}".replace(",", " ")
        return text_turn(f"Total : {total} DA avec la livraison à domicile. Je confirme ?")

    def confirm_what_the_context_says(body):
        context = json.loads(body["messages"][1]["content"].split("\n", 1)[1])
        assert context["open_order"] == seen["summary"]  # the next reply's context: the same summary
        return tool_turn(("confirm_order", {"total_dzd": context["open_order"]["total_dzd"]}))

    def say_confirmed(body):
        (confirmation,) = tool_results(body)
        assert confirmation["result"]["ok"] and confirmation["result"]["status"] == "confirmed"
        seen["confirmed"] = confirmation["result"]["order"]
        return text_turn(f"Commande {confirmation['result']['reference']} confirmée, merci !")

    server.script(
        tool_turn(("search_catalog", {"query": "baskets"})),
        respond(add_the_41),
        text_turn("C'est noté, «Baskets de sport» en 41. À quel nom et quel numéro ?"),
    )
    chat.say("Je veux les baskets en 41")
    server.script(tool_turn(("set_delivery_details", KARIM)), respond(state_the_total))
    reply = chat.say("Karim Benali, 0550 12 34 56, Cité 200 logements bt 4, Bab Ezzouar, Alger, à domicile")
    assert reply.text == "Total : 6 500 DA avec la livraison à domicile. Je confirme ?"
    assert Order.objects.get().status == "awaiting"
    server.script(respond(confirm_what_the_context_says), respond(say_confirmed))
    reply = chat.say("oui")
    order = Order.objects.get()
    assert reply.text == f"Commande {order.reference} confirmée, merci !"
    assert (order.status, order.subtotal, order.delivery_fee, order.discount, order.total) == (
        "confirmed",
        5900,
        600,
        0,
        6500,
    )
    assert (order.customer_name, str(order.phone), order.wilaya, order.commune) == (
        "Karim Benali",
        "+213550123456",
        16,
        "Bab Ezzouar",
    )
    assert list(order.items.values_list("sku", "quantity", "unit_price")) == [("BS-41", 1, 5900)]
    assert Variant.objects.get(sku="BS-41").stock == 3
    assert seen["confirmed"] == {**seen["summary"], "status": "confirmed"}
    assert chat.conversation.sales_stage == Conversation.Stage.ORDERED
    assert len(server.requests) == 7


# --- Ids the model was not given, wrong variants, stock -------------------------------------------


def test_an_unknown_a_foreign_a_guessed_or_a_deleted_id_is_refused_and_nothing_is_stored(server, chat, ids, shop_b):
    with shop_b.schema():  # another shop's product: its id means nothing here
        from sales.tests.test_orders import setup_catalog

        setup_catalog()
        foreign = Product.objects.create(code="veste", name_fr="Veste en cuir", price=9000)
        foreign_variant = Variant.objects.create(product=foreign, sku="VE-1", stock=5)
    assert not Product.objects.filter(pk=foreign.pk).exists()
    before = state()
    message = (
        "No product {} was given to you: product ids come from search_catalog or the context. "
        "Search the catalog for what the customer wants."
    )
    refused = {"ok": False, "error": "unknown_product"}
    cases = [
        (999_999, 1),  # no such product
        (foreign.pk, foreign_variant.pk),  # another shop's
        (ids["watch"], ids["mt"]),  # this shop's, but the model was never given it (a guess)
    ]
    for product_id, variant_id in cases:
        result = call(server, chat, "add_item", {"product_id": product_id, "variant_id": variant_id, "quantity": 1})
        assert result == {**refused, "message": message.format(product_id)}
    Product.objects.filter(pk=ids["watch"]).delete()
    result = call(server, chat, "add_item", {"product_id": ids["watch"], "variant_id": ids["mt"], "quantity": 1},
                  said="Et la montre ?")  # fmt: skip
    assert result == {**refused, "message": message.format(ids["watch"])}
    assert state() == {**before, "stock": {"BS-41": 4, "BS-42": 1}}  # no order, not even an empty draft


def test_a_variant_of_another_product_is_refused_with_the_products_variants(server, chat, ids):
    basket_variants = [variant(ids, "v41"), variant(ids, "v42")]
    result = call(server, chat, "add_item", {"product_id": ids["basket"], "variant_id": ids["mt"], "quantity": 1})
    assert result == {
        "ok": False, "error": "unknown_variant", "variants": basket_variants,
        "message": f"Product {ids['basket']} has no variant {ids['mt']}; its variants are listed.",
    }  # fmt: skip
    assert state()["orders"] == []
    call(server, chat, "add_item", {"product_id": ids["basket"], "variant_id": ids["v41"], "quantity": 1})
    before = state()
    arguments = {"product_id": ids["basket"], "variant_id": ids["v41"], "new_variant_id": ids["mt"]}
    result = call(server, chat, "change_variant", arguments, said="Et la montre à la place des baskets")
    assert result == {
        "ok": False, "error": "unknown_variant", "variants": basket_variants,
        "message": f"Product {ids['basket']} has no variant (new_variant_id) {ids['mt']}; its variants are listed.",
    }  # fmt: skip
    result = call(server, chat, "set_quantity", {"product_id": ids["basket"], "variant_id": ids["v42"], "quantity": 2})
    assert result == {
        "ok": False, "error": "not_in_order", "items": [line(ids, "v41", 1)],
        "message": f"Variant {ids['v42']} is not in the order; its lines are listed.",
    }  # fmt: skip
    assert state() == before


def test_out_of_stock_gives_the_units_left_and_nothing_is_half_stored(server, chat, ids):
    b = ids["basket"]
    result = call(server, chat, "add_item", {"product_id": b, "variant_id": ids["v42"], "quantity": 2})
    assert result == {
        "ok": False, "error": "out_of_stock", "message": f"Only 1 left of variant {ids['v42']}; nothing was changed.",
        "available": 1, "variants_in_stock": [variant(ids, "v41"), variant(ids, "v42")],
    }  # fmt: skip
    assert state()["orders"] == []  # not even an empty draft
    # A complete order awaiting the yes: a change it cannot take leaves it as it was (still awaiting).
    call(server, chat, "add_item", {"product_id": b, "variant_id": ids["v41"], "quantity": 2})
    call(server, chat, "set_delivery_details", KARIM, said="Karim Benali ...")
    assert Order.objects.get().status == "awaiting"
    before = state()
    result = call(server, chat, "set_quantity", {"product_id": b, "variant_id": ids["v41"], "quantity": 5})
    assert (result["error"], result["available"]) == ("out_of_stock", 4)
    result = call(
        server, chat, "change_variant", {"product_id": b, "variant_id": ids["v41"], "new_variant_id": ids["v42"]}
    )
    assert (result["error"], result["available"]) == ("out_of_stock", 1)  # two in 42: one left
    assert state() == before


def test_a_product_withdrawn_from_sale_can_be_removed_not_added(server, chat, ids):
    b = ids["basket"]
    call(server, chat, "add_item", {"product_id": b, "variant_id": ids["v41"], "quantity": 1})
    Product.objects.filter(pk=b).update(is_active=False)  # the seller withdraws it: the order's context keeps it
    before = state()
    result = call(server, chat, "add_item", {"product_id": b, "variant_id": ids["v42"], "quantity": 1})
    assert result == {"ok": False, "error": "not_for_sale", "message": f"Product {b} is no longer for sale."}
    result = call(server, chat, "set_quantity", {"product_id": b, "variant_id": ids["v41"], "quantity": 2})
    assert result == {
        "ok": False,
        "error": "not_for_sale",
        "message": "A product of the order is no longer for sale: remove it.",
    }
    assert state() == before
    context = json.loads(server.requests[-2]["body"]["messages"][1]["content"].split("\n", 1)[1])
    assert [(p["product_id"], p.get("for_sale")) for p in context["products"]] == [(b, False)]
    result = call(server, chat, "remove_item", {"product_id": b, "variant_id": ids["v41"]})
    assert result == {"ok": True, "order": summary()}


# --- Delivery details ------------------------------------------------------------------------------


def test_delivery_details_errors_give_what_is_expected_and_save_nothing(server, chat, ids):
    call(server, chat, "add_item", {"product_id": ids["basket"], "variant_id": ids["v41"], "quantity": 1})
    before = state()
    result = call(server, chat, "set_delivery_details", {"customer_name": "Karim Benali", "phone": "12345"})
    assert result == {
        "ok": False, "error": "invalid_phone", "expected": PHONE_FORMAT,
        "message": "'12345' is not an Algerian mobile number; nothing was saved.",
    }  # fmt: skip
    result = call(server, chat, "set_delivery_details", {"wilaya": "Alger", "commune": "Es Senia"})
    close = result.pop("close_communes")
    assert result == {
        "ok": False, "error": "commune_not_in_wilaya",
        "message": "'Es Senia' is not a commune of Alger (16); nothing was saved.",
        "wilaya": {"number": 16, "name": "Alger"},
        "found_in_wilayas": [{"wilaya": 31, "wilaya_name": "Oran", "commune": "Es Senia"}],
    }  # fmt: skip
    assert len(close) == 5 and all(find_commune(16, name, fuzzy=False) for name in close)
    result = call(server, chat, "set_delivery_details", {"wilaya": "Alger", "commune": "Bab Zouar"})
    assert result["ok"] is True and result["order"]["commune"] == "Bab Ezzouar"  # a misspelling is read
    before = state()
    result = call(server, chat, "set_delivery_details", {"commune": "Bab Zwarr"})
    assert (result["error"], result["close_communes"][0]) == ("commune_not_in_wilaya", "Bab Ezzouar")
    result = call(server, chat, "set_delivery_details", {"wilaya": "Atlantide"})
    assert (result["error"], result["expected"], len(result["close_wilayas"])) == (
        "unknown_wilaya", "a wilaya's name or its number (1-69)", 5,
    )  # fmt: skip
    result = call(server, chat, "set_delivery_details", {"wilaya": "Sétif"})
    assert result == {
        "ok": False,
        "error": "not_served",
        "message": "The shop does not deliver to Setif (19); nothing was saved.",
    }
    result = call(server, chat, "set_delivery_details", {"wilaya": "Oran", "delivery_type": "desk"})
    assert result == {
        "ok": False, "error": "delivery_type_unavailable", "message": "No desk delivery to Oran; nothing was saved.",
        "choices": [{"delivery_type": "home", "fee_dzd": 900}],
    }  # fmt: skip
    result = call(server, chat, "set_delivery_details", {"phone": "0550", "address": "x", "customer_name": "Karim"})
    assert (result["error"], [error["error"] for error in result["other_errors"]]) == (
        "invalid_phone",
        ["invalid_address"],
    )
    assert state() == before  # the valid name of the last call was not saved either


def test_a_commune_before_any_wilaya_asks_for_the_wilaya(server, chat):
    result = call(server, chat, "set_delivery_details", {"commune": "Bab Ezzouar"}, said="J'habite à Bab Ezzouar")
    assert result == {
        "ok": False,
        "error": "wilaya_first",
        "message": "Give the wilaya before the commune; nothing was saved.",
    }
    assert state()["orders"] == []


# --- Arguments the schema does not allow ------------------------------------------------------------


def test_names_skus_bad_types_and_broken_json_are_refused_with_the_schema(server, chat, ids):
    parameters = SCHEMAS["add_item"]
    cases: list[tuple[dict[str, Any] | str, str]] = [
        ({"sku": "BS-41", "quantity": 1},
         "'product_id' is a required property; 'variant_id' is a required property; "
         "Additional properties are not allowed ('sku' was unexpected)."),
        ({"product_id": ids["basket"], "variant_id": ids["v41"], "quantity": 0},
         "quantity: 0 is less than the minimum of 1."),
        ({"product_id": "Baskets de sport", "variant_id": ids["v41"], "quantity": 1},
         "product_id: 'Baskets de sport' is not of type 'integer'."),
        ('{"product_id": 1, ', "The arguments are not valid JSON (Expecting property name enclosed in double quotes)."),
    ]  # fmt: skip
    for arguments, message in cases:
        result = call(server, chat, "add_item", arguments)
        expected = {"ok": False, "error": "bad_arguments", "message": message, "parameters": parameters}
        assert result == (
            expected if isinstance(arguments, dict) else {k: v for k, v in expected.items() if k != "parameters"}
        )
    result = call(server, chat, "delete_catalog", {})
    assert result == {
        "ok": False,
        "error": "unknown_tool",
        "message": "There is no tool 'delete_catalog'.",
        "tools": sorted(SCHEMAS),
    }
    # Digits sent as a string are read as the integer meant.
    result = call(
        server, chat, "add_item", {"product_id": str(ids["basket"]), "variant_id": ids["v41"], "quantity": "1"}
    )
    assert result["ok"] is True
    assert list(OrderItem.objects.values_list("sku", "quantity")) == [("BS-41", 1)]


# --- Confirmation ---------------------------------------------------------------------------------


def test_confirmation_takes_the_total_the_customer_agreed_to_and_checks_stock(server, chat, ids):
    result = call(server, chat, "confirm_order", {"total_dzd": 6500}, said="oui")
    assert result == {"ok": False, "error": "no_open_order", "message": "There is no open order to confirm."}
    call(server, chat, "add_item", {"product_id": ids["basket"], "variant_id": ids["v41"], "quantity": 1})
    result = call(server, chat, "confirm_order", {"total_dzd": 5900}, said="oui")
    assert result == {
        "ok": False, "error": "incomplete", "message": "The order cannot be confirmed yet: ask for what is missing.",
        "missing": ALL_DETAILS,
    }  # fmt: skip
    call(server, chat, "set_delivery_details", KARIM, said="Karim Benali ...")
    before = state()
    result = call(server, chat, "confirm_order", {"total_dzd": 5900}, said="oui")
    awaiting = summary(
        items=[line(ids, "v41", 1)], **KARIM_STORED, status="awaiting", subtotal_dzd=5900, delivery_fee_dzd=600,
        total_dzd=6500, total_includes_delivery=True, missing=[],
    )  # fmt: skip
    assert result == {
        "ok": False, "error": "total_changed", "order": awaiting,
        "message": "The order's total is 6500 DZD, not 5900: give the customer the summary again "
        "and confirm after their yes.",
    }  # fmt: skip
    Variant.objects.filter(sku="BS-41").update(stock=0)  # sold elsewhere meanwhile
    before = {**state(), "stock": {**before["stock"], "BS-41": 0}}
    result = call(server, chat, "confirm_order", {"total_dzd": 6500}, said="oui")
    assert result == {
        "ok": False, "error": "out_of_stock", "variant_id": ids["v41"], "available": 0,
        "message": f"Only 0 left of variant {ids['v41']}: change the quantity or the variant.",
    }  # fmt: skip
    assert state() == before and Order.objects.get().status == "awaiting"
    Variant.objects.filter(sku="BS-41").update(stock=4)
    result = call(server, chat, "confirm_order", {"total_dzd": 6500}, said="oui")
    order = Order.objects.get()
    assert result == {
        "ok": True,
        "reference": order.reference,
        "status": "confirmed",
        "order": {**awaiting, "status": "confirmed"},
    }
    assert Variant.objects.get(sku="BS-41").stock == 3
    result = call(server, chat, "cancel_order", {}, said="J'annule")  # a confirmed order is the seller's now
    assert result == {"ok": False, "error": "no_open_order", "message": "There is no open order to cancel."}
    order.refresh_from_db()
    assert order.status == "confirmed"


# --- The loop never ends on an empty text --------------------------------------------------------


@pytest.mark.parametrize("content", [None, "", "  \n "])
def test_an_empty_final_answer_is_never_sent_and_the_builtin_engine_answers(server, chat, content):
    server.script(empty_turn(content))
    reply = chat.say("Combien coûtent les baskets ?")
    assert "5 900 DA" in reply.text and reply.engine == "openrouter:replaced" and reply.tokens_in == 120


def test_a_hand_off_without_a_word_gets_the_hand_off_sentence(server, chat):
    server.script(tool_turn(("hand_off", {"reason": "asks for the manager"})), empty_turn())
    reply = chat.say("Je veux parler au responsable")
    assert reply.text == "Je passe la main à quelqu'un de la boutique pour bien vous répondre."
    assert server.tool_results()[0]["result"] == {"ok": True}
    conversation = chat.conversation
    assert conversation.mode != Conversation.Mode.BOT
