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
