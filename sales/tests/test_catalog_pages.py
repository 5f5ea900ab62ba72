"""The catalog pages of the dashboard: list, search, create, edit, archive, images."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from sales.models import Product, ProductImage, Variant
from sales.services.catalog_csv import catalog_import_text

pytestmark = pytest.mark.django_db


def product_post(**overrides):
    data = {
        "name_ar": "صباط رياضي",
        "name_fr": "Baskets",
        "name_en": "",
        "code": "",
        "category_name": "Chaussures",
        "price": "5900",
        "compare_at_price": "",
        "description_ar": "",
        "description_fr": "Légères",
        "description_en": "",
        "synonyms": "sabat, صباط",
        "is_active": "on",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-sku": "BSK-42",
        "variants-0-size": "42",
        "variants-0-colour": "Noir",
        "variants-0-stock": "7",
        "variants-0-price_override": "",
    }
    data.update(overrides)
    return data


def png(name: str = "p.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_create_a_product_with_a_variant_and_an_image(shop_a):
    client = shop_a.client()
    assert client.get("/dashboard/catalog/new/").status_code == 200
    response = client.post("/dashboard/catalog/new/", product_post(new_images=[png()]))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    with shop_a.schema():
        product = Product.objects.get(name_fr="Baskets")
        assert product.code == "baskets"
        assert product.synonyms == ["sabat", "صباط"]
        assert product.category is not None and product.category.name == "Chaussures"
        variant = product.variants.get()
        assert (variant.sku, variant.size, variant.colour, variant.stock, variant.price) == (
            "BSK-42",
            "42",
            "Noir",
            7,
            5900,
        )
        image = ProductImage.objects.get(product=product)
        assert image.image.name.startswith("products/")
        assert "s_alpha" in image.image.path  # the seller's own folder
    listing = client.get("/dashboard/catalog/")
    assert "Baskets" in listing.content.decode()
    media = client.get(image.image.url)
    assert media.status_code == 200


def test_a_bad_form_stores_nothing_and_says_why(shop_a):
    client = shop_a.client()
    cases = [
        (product_post(name_ar="", name_fr=""), "at least one language"),
        (product_post(compare_at_price="5000"), "higher than the price"),
        (product_post(**{"variants-TOTAL_FORMS": "0"}), "at least 1"),
        (product_post(price="-3"), "greater than or equal to 0"),
        (product_post(new_images=[SimpleUploadedFile("x.png", b"not an image", content_type="image/png")]), "image"),
    ]
    for data, reason in cases:
        response = client.post("/dashboard/catalog/new/", data)
        assert response.status_code == 200
        assert reason in response.content.decode(), reason
    with shop_a.schema():
        assert Product.objects.count() == 0
        assert Variant.objects.count() == 0


def test_a_duplicate_sku_is_refused(shop_a):
    client = shop_a.client()
    assert client.post("/dashboard/catalog/new/", product_post()).status_code == 302
    response = client.post("/dashboard/catalog/new/", product_post(name_fr="Autre", code="autre"))
    assert response.status_code == 200
    assert "SKU" in response.content.decode()
    with shop_a.schema():
        assert Product.objects.count() == 1


def test_edit_adds_a_variant_and_deletes_another(shop_a):
    client = shop_a.client()
    client.post("/dashboard/catalog/new/", product_post())
    with shop_a.schema():
        product = Product.objects.get()
        first = product.variants.get()
    data = product_post(
        name_fr="Baskets route",
        **{
            "variants-TOTAL_FORMS": "2",
            "variants-INITIAL_FORMS": "1",
            "variants-0-id": str(first.pk),
            "variants-0-DELETE": "on",
            "variants-1-sku": "BSK-43",
            "variants-1-size": "43",
            "variants-1-colour": "Noir",
            "variants-1-stock": "2",
        },
    )
    response = client.post(f"/dashboard/catalog/{product.pk}/", data)
    assert response.status_code == 302
    with shop_a.schema():
        product.refresh_from_db()
        assert product.name_fr == "Baskets route"
        assert list(product.variants.values_list("sku", flat=True)) == ["BSK-43"]


def test_archive_hides_from_the_list_and_restore_brings_back(shop_a):
    client = shop_a.client()
    client.post("/dashboard/catalog/new/", product_post())
    with shop_a.schema():
        product = Product.objects.get()
    assert client.post(f"/dashboard/catalog/{product.pk}/archive/").status_code == 302
    assert 'data-product="baskets"' not in client.get("/dashboard/catalog/").content.decode()
    assert 'data-product="baskets"' in client.get("/dashboard/catalog/?status=archived").content.decode()
    with shop_a.schema():
        assert Product.objects.live().count() == 0
    client.post(f"/dashboard/catalog/{product.pk}/restore/")
    with shop_a.schema():
        assert Product.objects.live().count() == 1
    assert client.get(f"/dashboard/catalog/{product.pk}/archive/").status_code == 405


@pytest.mark.parametrize(
    ("query", "expected"),
    [("robe", {"robe-ete"}), ("فستان", {"robe-ete"}), ("CH-1", {"chemise"}), ("homme", {"chemise"}), ("blue", set())],
)
def test_search_looks_at_names_synonyms_skus_and_categories(shop_a, query, expected):
    with shop_a.schema():
        catalog_import_text(
            "product_code,sku,name_fr,name_ar,category,price,synonyms\n"
            "robe-ete,RE-1,Robe d'été,فستان صيفي,Femme,3500,robe\n"
            "chemise,CH-1,Chemise,قميص,Homme,2500,\n"
        )
    response = shop_a.client().get("/dashboard/catalog/", {"q": query})
    shown = {row for row in ("robe-ete", "chemise") if f'data-product="{row}"' in response.content.decode()}
    assert shown == expected


def test_customer_text_in_product_names_is_escaped(shop_a):
    client = shop_a.client()
    client.post("/dashboard/catalog/new/", product_post(name_fr="<script>alert(1)</script>", code="xss"))
    body = client.get("/dashboard/catalog/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_export_downloads_every_variant(shop_a):
    with shop_a.schema():
        catalog_import_text("product_code,sku,name_fr,price,size\nt,T-1,T,10,S\nt,T-2,,,M\n")
    response = shop_a.client().get("/dashboard/catalog/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert "T-1" in text and "T-2" in text
    assert text.splitlines()[0].lstrip("\ufeff").startswith("product_code,sku")


def test_import_page_queues_a_job_and_the_status_endpoint_reports_it(
    shop_a, django_capture_on_commit_callbacks, monkeypatch
):
    from sales.models import CatalogImport
    from sales.services.catalog_csv import catalog_import_run

    monkeypatch.setattr("sales.services.catalog_csv.enqueue", lambda task, job_id, schema: catalog_import_run(job_id))
    client = shop_a.client()
    upload = SimpleUploadedFile(
        "c.csv", b"product_code,sku,name_fr,price\nz,Z-1,Zed,10\nz,Z-2,,,x\n", content_type="text/csv"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/catalog/import/", {"file": upload})
    assert response.status_code == 302
    with shop_a.schema():
        job = CatalogImport.objects.get()
    status = client.get(f"/dashboard/catalog/import/{job.pk}/status/").json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["created"] == 1
    # Z-2 has the same (empty) size and colour as Z-1: reported, not stored.
    assert status["errors"] == [
        {"line": 3, "sku": "Z-2", "errors": ["Variant with this Product, Size and Colour already exists."]}
    ]
    page = client.get(f"/dashboard/catalog/import/{job.pk}/")
    assert page.status_code == 200 and "data-import-status-url" in page.content.decode()


def test_an_upload_while_the_broker_is_down_is_kept_for_the_sweeper(
    shop_a, django_capture_on_commit_callbacks, monkeypatch
):
    from kombu.exceptions import OperationalError

    from sales.models import CatalogImport
    from sales.tasks import catalog_import_task

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(catalog_import_task, "apply_async", broker_down)
    upload = SimpleUploadedFile("c.csv", b"product_code,sku,name_fr,price\nz,Z-1,Zed,10\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = shop_a.client().post("/dashboard/catalog/import/", {"file": upload})
    assert response.status_code == 302  # not an error page: the upload is stored
    with shop_a.schema():
        assert CatalogImport.objects.get().status == CatalogImport.Status.QUEUED
