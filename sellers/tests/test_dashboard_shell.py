"""The dashboard shell: home status, navigation, languages (Arabic right to left)."""

from __future__ import annotations

import pytest

from channels_app.models import ChannelAccount
from sales.services.catalog_csv import catalog_import_text

pytestmark = pytest.mark.django_db


def test_home_shows_products_channels_and_bot_state(shop_a, shop_b):
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price,stock\nbol,BOL-1,Bol,300,0\ntasse,T-1,Tasse,200,4\n")
    ChannelAccount.objects.create(
        seller=shop_a.seller,
        channel="whatsapp",
        external_id="213555000111@s.whatsapp.net",
        display_name="+213 555 00 01 11",
        status="connected",
    )
    ChannelAccount.objects.create(
        seller=shop_b.seller, channel="instagram", external_id="1789", display_name="bravo.ig"
    )
    response = shop_a.client().get("/dashboard/")
    assert response.status_code == 200
    status = response.context["status"]
    assert (status["products_active"], status["variants_out_of_stock"], status["bot_enabled"]) == (2, 1, 1)
    body = response.content.decode()
    assert "+213 555 00 01 11" in body
    assert "bravo.ig" not in body


@pytest.mark.parametrize(
    ("language", "direction", "word"),
    [("ar", "rtl", "الكتالوج"), ("fr", "ltr", "Catalogue"), ("en", "ltr", "Catalog")],
)
def test_the_ui_speaks_arabic_french_and_english(shop_a, language, direction, word):
    client = shop_a.client()
    body = client.get("/dashboard/catalog/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in body
    assert word in body


def test_the_language_switcher_remembers_the_choice(shop_a):
    client = shop_a.client()
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/dashboard/"})
    assert response.status_code == 302
    body = client.get("/dashboard/").content.decode()
    assert 'dir="rtl"' in body


def test_public_pages_are_translated_too():
    from django.test import Client

    body = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="ar").get("/").content.decode()
    assert 'dir="rtl"' in body and "واتساب" in body
