"""The seller's own Django admin: its catalog only, CSV import and export."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sales.models import CatalogImport, Product
from sales.services.catalog_csv import catalog_import_text

pytestmark = pytest.mark.django_db


def test_members_manage_their_catalog_in_the_seller_admin(shop_a, add_member):
    agent = add_member(shop_a, "agent@alpha.test")
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price\nbol,BOL-1,Bol,300\n")
        product = Product.objects.get()
    client = shop_a.client(agent)
    assert client.get("/admin/").status_code == 200
    changelist = client.get("/admin/sales/product/")
    assert changelist.status_code == 200 and "Bol" in changelist.content.decode()
    assert client.get(f"/admin/sales/product/{product.pk}/change/").status_code == 200
    response = client.post(
        "/admin/sales/product/",
        {"action": "archive", "_selected_action": [product.pk]},
    )
    assert response.status_code == 302
    with shop_a.schema():
        product.refresh_from_db()
        assert product.archived_at is not None


def test_admin_export_action_and_import_page(shop_a, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("sales.services.catalog_csv.enqueue", lambda task, job_id, schema: None)
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price\nbol,BOL-1,Bol,300\n")
        product = Product.objects.get()
    client = shop_a.client()
    exported = client.post("/admin/sales/product/", {"action": "export_csv", "_selected_action": [product.pk]})
    assert b"BOL-1" in b"".join(exported.streaming_content)
    assert client.get("/admin/sales/product/import/").status_code == 200
    upload = SimpleUploadedFile(
        "a.csv", b"product_code,sku,name_fr,price\ntasse,T-1,Tasse,200\n", content_type="text/csv"
    )
    response = client.post("/admin/sales/product/import/", {"file": upload})
    assert response.status_code == 302
    with shop_a.schema():
        job = CatalogImport.objects.get()
    assert response["Location"] == f"/dashboard/catalog/import/{job.pk}/"


def test_the_seller_admin_log_stays_in_the_seller_schema(shop_a, shop_b):
    from django.contrib.admin.models import LogEntry

    client = shop_a.client()
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price\nbol,BOL-1,Bol,300\n")
        product = Product.objects.get()
    client.post("/admin/sales/product/", {"action": "archive", "_selected_action": [product.pk]})
    data = {
        "code": "bol",
        "name_fr": "Bol bleu",
        "price": "300",
        "synonyms": "",
        "is_active": "on",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    assert client.post(f"/admin/sales/product/{product.pk}/change/", data).status_code == 302
    with shop_a.schema():
        assert LogEntry.objects.filter(object_repr__contains="Bol bleu").count() == 1
    with shop_b.schema():
        assert LogEntry.objects.count() == 0


def _bot_settings_post(row, **changes):
    import json

    data = {
        "is_enabled": "on" if row.is_enabled else "",
        "intensity": row.intensity,
        "max_discount_percent": row.max_discount_percent,
        "languages": row.languages,
        "persona_name": row.persona_name,
        "greeting": row.greeting,
        "handoff_keywords": ",".join(row.handoff_keywords),
        "business_hours": json.dumps(row.business_hours),
        "timezone": row.timezone,
        "bot_resume_after_minutes": row.bot_resume_after_minutes,
        "ai_model": row.ai_model,
        "monthly_budget_usd": str(row.monthly_budget_usd),
        "draft_reminder_minutes": row.draft_reminder_minutes,
        "after_hours": row.after_hours,
        "_save": "Save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_agents_cannot_change_owner_only_settings_in_the_seller_admin(shop_a, add_member):
    from sales.models import BotSettings, DeliveryRate
    from sales.selectors import bot_settings
    from sales.services.settings import bot_settings_set_openrouter_key

    agent = add_member(shop_a, "agent@alpha.test")
    with shop_a.schema():
        row = bot_settings()
        bot_settings_set_openrouter_key(key="sk-or-v1-owner-key-123")
        DeliveryRate.objects.create(wilaya=16, is_served=True, home_fee=500, desk_fee=300)
        rate = DeliveryRate.objects.get(wilaya=16)
        row = BotSettings.objects.get()
    client = shop_a.client(agent)
    url = f"/admin/sales/botsettings/{row.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200  # agents may read the settings, as on the dashboard
    assert b'name="max_discount_percent"' not in page.content and b'name="persona_name"' not in page.content
    # ...but never the key: read-only, the admin would show it decrypted.
    assert (
        b"sk-or-v1-owner-key-123" not in page.content and b"openrouter_key" not in page.content
    )  # nor its form fields
    assert row.openrouter_key_encrypted.encode() not in page.content
    for attempt in (
        _bot_settings_post(row, max_discount_percent=90, persona_name="Evil"),
        _bot_settings_post(row, openrouter_key="sk-or-v1-agent-key"),
        _bot_settings_post(row, openrouter_key_encrypted="gAAAA-forged"),
    ):
        assert client.post(url, attempt).status_code == 403
    assert (
        client.post(
            f"/admin/sales/deliveryrate/{rate.pk}/change/",
            {"wilaya": 16, "is_served": "on", "home_fee": 1, "desk_fee": 1},
        ).status_code
        == 403
    )
    with shop_a.schema():
        after = BotSettings.objects.get()
        assert (after.max_discount_percent, after.persona_name) == (row.max_discount_percent, row.persona_name)
        assert after.openrouter_key == "sk-or-v1-owner-key-123"
        assert DeliveryRate.objects.get(wilaya=16).home_fee == 500


def test_the_key_never_appears_in_the_admin_and_owners_change_settings_through_the_services(shop_a):
    from sales.models import BotSettings
    from sales.selectors import bot_settings
    from sales.services.settings import bot_settings_set_openrouter_key

    with shop_a.schema():
        bot_settings()
        bot_settings_set_openrouter_key(key="sk-or-v1-owner-key-123")
        row = BotSettings.objects.get()
    client = shop_a.client()
    url = f"/admin/sales/botsettings/{row.pk}/change/"
    page = client.get(url).content.decode()
    assert "openrouter_key_encrypted" not in page
    assert row.openrouter_key_encrypted not in page and "sk-or-v1-owner-key-123" not in page
    assert 'name="openrouter_key"' in page and 'type="password"' in page
    # A forged encrypted value is ignored; a new key is stored encrypted; the rules apply.
    response = client.post(
        url,
        _bot_settings_post(
            row, max_discount_percent=15, openrouter_key="sk-or-v1-new-456", openrouter_key_encrypted="forged"
        ),
    )
    assert response.status_code == 302
    with shop_a.schema():
        after = BotSettings.objects.get()
        assert after.max_discount_percent == 15
        assert after.openrouter_key == "sk-or-v1-new-456"
    refused = client.post(url, _bot_settings_post(row, max_discount_percent=95))
    assert refused.status_code == 200 and b"errornote" in refused.content
    with shop_a.schema():
        assert BotSettings.objects.get().max_discount_percent == 15


def test_owners_add_and_edit_delivery_fees_in_the_admin_with_the_dashboards_rules(shop_a):
    from sales.models import DeliveryRate

    client = shop_a.client()
    added = client.post("/admin/sales/deliveryrate/add/", {"wilaya": 16, "is_served": "on", "home_fee": 600})
    assert added.status_code == 302
    # A served wilaya without any fee, a fee out of range: refused on the page, nothing stored.
    for data in ({"wilaya": 31, "is_served": "on"}, {"wilaya": 31, "is_served": "on", "home_fee": 500_000}):
        refused = client.post("/admin/sales/deliveryrate/add/", data)
        assert refused.status_code == 200 and b"errornote" in refused.content
    with shop_a.schema():
        rate = DeliveryRate.objects.get(wilaya=16)
        assert rate.home_fee == 600 and not DeliveryRate.objects.filter(wilaya=31).exists()
    # The list's inline edits get the same checks.
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(rate.pk),
        "form-0-is_served": "on",
        "form-0-home_fee": "",
        "form-0-desk_fee": "",
        "_save": "Save",
    }
    assert client.post("/admin/sales/deliveryrate/", form).status_code == 200
    edited = client.post("/admin/sales/deliveryrate/", {**form, "form-0-home_fee": "650"})
    assert edited.status_code == 302
    with shop_a.schema():
        assert DeliveryRate.objects.get(wilaya=16).home_fee == 650
