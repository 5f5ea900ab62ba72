"""The catalog REST API under the seller's domain."""

from __future__ import annotations

import pytest

from sales.models import Product, Variant

pytestmark = pytest.mark.django_db


def new_product(**overrides):
    body = {
        "name_fr": "Montre",
        "name_ar": "ساعة",
        "price": 4800,
        "category": "Accessoires",
        "synonyms": ["magana"],
        "variants": [
            {"sku": "MT-1", "colour": "Noir", "stock": 3},
            {"sku": "MT-2", "colour": "Or", "stock": 1, "price_override": 5200},
        ],
    }
    body.update(overrides)
    return body


def test_create_read_update_archive_restore(shop_a):
    api = shop_a.client()
    created = api.post("/api/v1/products/", new_product(), content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["code"] == "montre"
    assert data["category"] == "Accessoires"
    assert [(v["sku"], v["price"]) for v in data["variants"]] == [("MT-1", 4800), ("MT-2", 5200)]
    pk = data["id"]

    listed = api.get("/api/v1/products/", {"q": "magana"}).json()
    assert [item["id"] for item in listed["results"]] == [pk]

    mt1 = data["variants"][0]["id"]
    updated = api.patch(
        f"/api/v1/products/{pk}/",
        {
            "price": 4500,
            "variants": [{"id": mt1, "sku": "MT-1", "colour": "Noir", "stock": 9}, {"sku": "MT-3", "colour": "Argent"}],
        },
        content_type="application/json",
    )
    assert updated.status_code == 200, updated.json()
    with shop_a.schema():
        product = Product.objects.get(pk=pk)
        assert product.price == 4500
        assert sorted(product.variants.values_list("sku", "stock")) == [("MT-1", 9), ("MT-3", 0)]

    only_price = api.patch(f"/api/v1/products/{pk}/", {"price": 4400}, content_type="application/json")
    assert only_price.status_code == 200
    with shop_a.schema():
        assert Variant.objects.filter(product_id=pk).count() == 2  # variants untouched

    assert api.delete(f"/api/v1/products/{pk}/").status_code == 204
    assert api.get("/api/v1/products/").json()["count"] == 0
    assert api.get("/api/v1/products/", {"status": "archived"}).json()["count"] == 1
    assert api.post(f"/api/v1/products/{pk}/restore/").status_code == 200
    assert api.get("/api/v1/products/").json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_product(variants=[]), "variants"),
        (new_product(price=-1), "price"),
        (new_product(compare_at_price=100), "compare_at_price"),
        (new_product(name_fr="", name_ar=""), "__all__"),
        (new_product(variants=[{"sku": "A"}, {"sku": "B"}]), "__all__"),
    ],
)
def test_invalid_products_are_refused_with_reasons_and_store_nothing(shop_a, body, field):
    response = shop_a.client().post("/api/v1/products/", body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json() or field == "__all__"
    with shop_a.schema():
        assert Product.objects.count() == 0


def test_openapi_schema_and_docs_page_are_served_to_members(shop_a):
    client = shop_a.client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = schema.json()
    assert "/api/v1/products/" in document["paths"]
    assert "/api/v1/products/{id}/restore/" in document["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # assets are served locally


def test_categories_list_counts_products(shop_a):
    client = shop_a.client()
    client.post("/api/v1/products/", new_product(), content_type="application/json")
    results = client.get("/api/v1/categories/").json()["results"]
    assert results == [{"id": results[0]["id"], "name": "Accessoires", "product_count": 1}]
