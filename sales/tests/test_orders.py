"""Orders: drafts filled step by step, prices from the catalog, confirmation and stock, statuses."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from conversations.services import ingest
from conversations.tests.factories import widget_inbound
from ma5zani.testing import committed_db
from sales.geo import find_commune, find_wilaya, phone_in_text
from sales.models import DeliveryRate, DiscountGrant, Order, OrderStatusChange, Variant
from sales.services.catalog_csv import catalog_import_text
from sales.services.orders import (
    DraftChanges,
    OrderError,
    OutOfStock,
    order_confirm,
    order_draft_for,
    order_grant_discount,
    order_missing,
    order_set_item,
    order_set_status,
    order_submit,
    order_update_draft,
    orders_csv_rows,
)

CATALOG = (
    "product_code,sku,name_ar,name_fr,name_en,price,compare_at_price,size,colour,stock,synonyms\n"
    "basket,BS-41,صباط رياضي,Baskets de sport,Running sneakers,5900,7500,41,Blanc,4,sabat\n"
    "basket,BS-42,,,,,,42,Noir,1,\n"
    "montre,MT-1,ساعة,Montre,Watch,4800,,,Marron,2,\n"
)


def setup_catalog() -> None:
    catalog_import_text(CATALOG)
    DeliveryRate.objects.update_or_create(wilaya=16, defaults={"is_served": True, "home_fee": 600, "desk_fee": 400})
    DeliveryRate.objects.update_or_create(wilaya=31, defaults={"is_served": True, "home_fee": 900, "desk_fee": None})


def conversation_of(shop, visitor="00000000-0000-4000-8000-0000000000aa"):
    from conversations.models import Conversation

    result = ingest(widget_inbound(shop, "salam", visitor=visitor))
    return Conversation.objects.select_related("customer").get(pk=result.conversation_id)


def complete_order(shop, quantity=1, sku="BS-41", visitor="00000000-0000-4000-8000-0000000000aa") -> Order:
    order = order_draft_for(conversation=conversation_of(shop, visitor))
    order = order_set_item(order=order, variant=Variant.objects.get(sku=sku), quantity=quantity)
    return order_update_draft(
        order=order,
        changes=DraftChanges(
            customer_name="Karim Benali", phone="0550 12 34 56", wilaya="dzayer", commune="bab zouar",
            address="Cité 200 logements, bt 4", delivery_type="home",
        ),
    )  # fmt: skip


def wilaya(text: str) -> int | None:
    place = find_wilaya(text)
    return place.number if place else None


def commune(wilaya_number: int, text: str) -> str | None:
    place = find_commune(wilaya_number, text)
    return place.name_fr if place else None


def test_wilayas_communes_and_phones_are_read_as_customers_write_them():
    assert wilaya("16") == wilaya("Alger") == wilaya("الجزائر") == wilaya("dzayer") == 16
    assert wilaya("wahran") == wilaya("وهران") == 31
    assert wilaya("Sétif") == wilaya("stif") == 19
    assert commune(16, "Bab-Ezzouar") == commune(16, "باب الزوار") == commune(16, "bab zouar") == "Bab Ezzouar"
    assert commune(16, "lbiar") == "El Biar"
    assert find_commune(31, "Bab Ezzouar") is None  # a commune of another wilaya
    assert find_wilaya("Atlantis") is None
    assert phone_in_text("raqmi 0550 12 34 56 choukran") == "+213550123456"
    assert phone_in_text("٠٦٦١٢٣٤٥٦٧") == "+213661234567"
    assert phone_in_text("021 23 45 67") is None  # a landline: couriers call mobiles


def test_a_draft_is_filled_step_by_step_and_priced_from_the_catalog(shop_a):
    with shop_a.schema():
        setup_catalog()
        conversation = conversation_of(shop_a)
        order = order_draft_for(conversation=conversation)
        assert order_draft_for(conversation=conversation).pk == order.pk  # one open draft
        assert order_missing(order) == [
            "items", "customer_name", "phone", "wilaya", "commune", "address", "delivery_type",
        ]  # fmt: skip
        order = order_set_item(order=order, variant=Variant.objects.get(sku="BS-41"), quantity=2)
        order = order_update_draft(order=order, changes=DraftChanges(wilaya="wahran", delivery_type="home"))
        assert (order.subtotal, order.delivery_fee, order.total) == (11800, 900, 12700)
        assert order_missing(order) == ["customer_name", "phone", "commune", "address"]
        # Bad details are refused together and change nothing.
        with pytest.raises(ValidationError) as error:
            order_update_draft(order=order, changes=DraftChanges(phone="021 23 45 67", commune="Hydra"))
        assert set(error.value.message_dict) == {"phone", "commune"}
        order.refresh_from_db()
        assert order.phone == "" and order.commune == ""
        # Moving to another wilaya forgets a commune of the old one and reprices the delivery.
        order = order_update_draft(order=order, changes=DraftChanges(commune="Es Senia"))
        assert order.commune == "Es Senia"
        order = order_update_draft(order=order, changes=DraftChanges(wilaya=16, delivery_type="desk"))
        assert order.commune == "" and order.delivery_fee == 400 and order.total == 11800 + 400
        assert order.conversation_id == conversation.pk and order.channel == "widget"


def test_discounts_are_clamped_to_the_sellers_maximum_and_logged(shop_a):
    with shop_a.schema():
        setup_catalog()
        order = complete_order(shop_a, quantity=2)
        quote = order_grant_discount(order=order, requested_percent=40, engine="builtin")
        assert (quote.requested_percent, quote.granted_percent, quote.max_percent) == (40, 10, 10)
        order.refresh_from_db()
        assert order.discount_percent == 10 and order.discount == 1180
        assert order.total == 11800 - 1180 + 600
        grant = DiscountGrant.objects.get()
        assert (grant.requested_percent, grant.granted_percent, grant.order_id) == (40, 10, order.pk)


def test_confirming_takes_units_out_of_stock_and_records_history(shop_a):
    with shop_a.schema():
        setup_catalog()
        order = complete_order(shop_a, quantity=3)
        order = order_submit(order=order)
        assert order.status == Order.Status.AWAITING
        order = order_confirm(order=order)
        assert order.status == Order.Status.CONFIRMED and order.confirmed_at
        assert Variant.objects.get(sku="BS-41").stock == 1
        assert (
            order.customer is not None and order.customer.phone == "+213550123456"
        )  # the customer is known by phone from now on
        with pytest.raises(OrderError):
            order_update_draft(order=order, changes=DraftChanges(address="elsewhere"))
        order_set_status(order=order, status="shipped", member_id=7)
        with pytest.raises(OrderError) as error:
            order_set_status(order=order, status="draft")
        assert error.value.code == "transition"
        order = order_set_status(order=order, status="returned", note="refused at the door")
        assert Variant.objects.get(sku="BS-41").stock == 4  # the parcel came back
        history = list(OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status", "by"))
        assert history == [
            ("", "draft", "bot"), ("draft", "awaiting", "bot"), ("awaiting", "confirmed", "customer"),
            ("confirmed", "shipped", "seller"), ("shipped", "returned", "seller"),
        ]  # fmt: skip


def test_an_order_asking_more_than_the_stock_is_refused_whole(shop_a):
    with shop_a.schema():
        setup_catalog()
        with pytest.raises(OutOfStock):
            complete_order(shop_a, quantity=5)
        order = complete_order(shop_a, quantity=1, sku="BS-42")
        Variant.objects.filter(sku="BS-42").update(stock=0)  # sold elsewhere meanwhile
        with pytest.raises(OutOfStock):
            order_confirm(order=order)
        order.refresh_from_db()
        assert order.status == Order.Status.DRAFT
        assert order_missing(order) == []
        with pytest.raises(OrderError) as error:
            order_update_draft(order=order, changes=DraftChanges(wilaya=31, commune="Es Senia", delivery_type="desk"))
            order_confirm(order=order)
        assert error.value.code == "not_served"  # no stop desk in Oran for this seller


def test_csv_export_lists_orders_with_formula_cells_defused(shop_a):
    with shop_a.schema():
        setup_catalog()
        order = complete_order(shop_a)
        order_update_draft(order=order, changes=DraftChanges(customer_name="=HYPERLINK(1)"))
        text = "".join(orders_csv_rows(Order.objects.prefetch_related("items")))
    assert text.startswith("\ufeffreference,created_at,status")
    assert "'=HYPERLINK(1)" in text and "1 x BS-41 (41 / Blanc) @ 5900" in text and "Bab Ezzouar" in text


@committed_db
def test_two_customers_racing_for_the_last_unit_cannot_both_get_it(drop_new_sellers, make_shop):
    shop = make_shop("racer")
    with shop.schema():
        setup_catalog()  # BS-42 has one unit
        first = complete_order(shop, sku="BS-42", visitor="00000000-0000-4000-8000-000000000001")
        second = complete_order(shop, sku="BS-42", visitor="00000000-0000-4000-8000-000000000002")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(order: Order) -> None:
        try:
            with schema_context(shop.seller.schema_name):
                barrier.wait()
                order_confirm(order=order)
                outcomes.append("confirmed")
        except OutOfStock:
            outcomes.append("out_of_stock")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(order,)) for order in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["confirmed", "out_of_stock"]
    with shop.schema():
        assert Variant.objects.get(sku="BS-42").stock == 0
        assert Order.objects.filter(status="confirmed").count() == 1
