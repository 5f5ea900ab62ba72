"""Seller A can never read or change seller B's data: dashboard, API, admin, search."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from sales.models import Product, Variant

pytestmark = pytest.mark.django_db


def add_product(shop, code: str, name: str, sku: str) -> Product:
    with shop.schema():
        product = Product.objects.create(code=code, name_fr=name, price=1000)
        Variant.objects.create(product=product, sku=sku, stock=3)
    return product


@pytest.fixture
def two_shops(shop_a, shop_b):
    add_product(shop_a, "alpha-shoe", "Chaussure Alpha", "ALPHA-1")
    add_product(shop_b, "bravo-secret", "Produit secret Bravo", "BRAVO-1")
    return shop_a, shop_b


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/",
        "/dashboard/catalog/",
        "/dashboard/catalog/new/",
        "/dashboard/catalog/export.csv",
        "/dashboard/settings/bot/",
        "/dashboard/settings/delivery/",
        "/dashboard/team/",
        "/admin/",
        "/admin/sales/product/",
    ],
)
def test_a_user_of_seller_a_is_refused_on_seller_b_pages(two_shops, path):
    shop_a, shop_b = two_shops
    client = shop_b.anonymous()
    client.force_login(shop_a.owner)
    response = client.get(path)
    assert response.status_code == 403
    assert b"Produit secret Bravo" not in response.content


def test_a_user_of_seller_a_is_refused_on_seller_b_api(two_shops):
    shop_a, shop_b = two_shops
    client = shop_b.anonymous()
    client.force_login(shop_a.owner)
    for path in ("/api/v1/products/", "/api/v1/categories/", "/api/schema/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert b"BRAVO-1" not in response.content
    response = client.post("/api/v1/products/", {"name_fr": "Intrus", "price": 1}, content_type="application/json")
    assert response.status_code == 403
    with shop_b.schema():
        assert not Product.objects.filter(name_fr="Intrus").exists()


def test_a_user_of_seller_a_cannot_change_seller_b_by_posting(two_shops):
    shop_a, shop_b = two_shops
    client = shop_b.anonymous()
    client.force_login(shop_a.owner)
    with shop_b.schema():
        product = Product.objects.get(code="bravo-secret")
    assert client.post(f"/dashboard/catalog/{product.pk}/archive/").status_code == 403
    assert client.post("/dashboard/settings/bot/toggle/").status_code == 403
    with shop_b.schema():
        product.refresh_from_db()
        assert product.archived_at is None


def test_seller_b_products_never_appear_in_seller_a_lists_or_search(two_shops):
    shop_a, _shop_b = two_shops
    client = shop_a.client()
    for path in (
        "/dashboard/catalog/",
        "/dashboard/catalog/?q=secret",
        "/dashboard/catalog/?q=BRAVO",
        "/dashboard/catalog/?status=all",
        "/dashboard/catalog/export.csv",
        "/api/v1/products/",
        "/api/v1/products/?q=secret",
        "/api/v1/products/?status=all",
        "/admin/sales/product/",
        "/admin/sales/product/?q=secret",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"Chaussure Alpha" in body or b"?q=" in path.encode(), path
        assert b"Produit secret Bravo" not in body, path
        assert b"BRAVO-1" not in body, path


def test_an_id_from_another_seller_is_not_found(two_shops):
    shop_a, shop_b = two_shops
    with shop_b.schema():
        Product.objects.create(code="bravo-only-2", name_fr="Bravo 2", price=10)
        bravo_ids = set(Product.objects.values_list("pk", flat=True))
    with shop_a.schema():
        alpha_ids = set(Product.objects.values_list("pk", flat=True))
    foreign = max(bravo_ids - alpha_ids)
    client = shop_a.client()
    assert client.get(f"/dashboard/catalog/{foreign}/").status_code == 404
    assert client.get(f"/api/v1/products/{foreign}/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(shop_a):
    client = shop_a.anonymous()
    response = client.get("/dashboard/catalog/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/catalog/")
    assert client.get("/api/v1/products/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")


def test_platform_staff_reach_every_seller(two_shops, django_user_model):
    _shop_a, shop_b = two_shops
    staff = django_user_model.objects.create_user(email="staff@ma5zani.test", password="pw-For-tests-1", is_staff=True)
    client = shop_b.client(staff)
    assert client.get("/dashboard/catalog/").status_code == 200
    assert client.get("/api/v1/products/").status_code == 200
    assert client.get("/admin/sales/product/").status_code == 200


def test_unknown_and_template_hosts_are_not_served(shop_a, settings):
    from django.test import Client

    assert Client(HTTP_HOST="nobody.localhost").get("/dashboard/").status_code == 404
    # The template schema has no domain: it cannot be reached at all.
    assert Client(HTTP_HOST="tenant-template.localhost").get("/dashboard/").status_code == 404


def test_inactive_seller_is_not_served(shop_a):
    shop_a.seller.is_active = False
    shop_a.seller.save()
    assert shop_a.client().get("/dashboard/").status_code == 404


def test_platform_admin_is_for_staff_only(shop_a, django_user_model):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(shop_a.owner)
    response = client.get("/admin/sellers/seller/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    staff = django_user_model.objects.create_superuser(email="root@ma5zani.test", password="pw-For-tests-1")
    client.force_login(staff)
    response = client.get("/admin/sellers/seller/")
    assert response.status_code == 200
    assert b"Alpha Shop" in response.content
    with schema_context("public"):
        assert b"tenant_template" not in response.content
