from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from sales.models import Product
from sellers.models import Domain, Membership, Seller, User
from sellers.services import seller_provision, seller_sign_up, seller_validate_slug

pytestmark = pytest.mark.django_db


def tables_of(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def test_provisioning_creates_an_isolated_schema_cloned_from_the_template(shop_a, shop_b):
    assert schema_exists(shop_a.seller.schema_name)
    assert shop_a.seller.schema_name == "s_alpha"
    assert tables_of("s_alpha") == tables_of(settings.TENANT_TEMPLATE_SCHEMA)
    assert {"sales_product", "sales_variant", "django_migrations"} <= tables_of("s_alpha")
    # The seller's tables are its own: nothing of the catalog lives in the public schema.
    assert "sales_product" not in tables_of("public")
    assert Domain.objects.get(tenant=shop_a.seller).domain == "alpha.localhost"
    assert Membership.objects.get(seller=shop_a.seller).role == Membership.Role.OWNER

    with schema_context("s_alpha"):
        Product.objects.create(code="only-alpha", name_fr="Alpha", price=100)
    with schema_context("s_bravo"):
        assert not Product.objects.filter(code="only-alpha").exists()
    with schema_context("s_alpha"):
        assert Product.objects.filter(code="only-alpha").exists()


def test_cloned_schema_records_every_migration(shop_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM s_alpha.django_migrations WHERE app = 'sales'")
        applied = {name for _app, name in cursor.fetchall()}
    assert "0001_initial" in applied


def test_a_failure_during_provisioning_leaves_nothing_behind(monkeypatch, make_shop):
    owner = User.objects.create_user(email="x@example.com", password="pw-For-tests-1")

    def broken(*args, **kwargs):
        raise RuntimeError("domain table unavailable")

    monkeypatch.setattr(Domain.objects, "create", broken)
    with pytest.raises(RuntimeError):
        seller_provision(name="Broken", slug="broken", owner=owner)
    assert not Seller.objects.filter(slug="broken").exists()
    assert not schema_exists("s_broken")
    assert not Membership.objects.filter(user=owner).exists()


@pytest.mark.parametrize(
    ("slug", "ok"),
    [
        ("my-shop", True),
        ("abc", True),
        ("boutique-2026", True),
        ("ab", False),
        ("-shop", False),
        ("shop-", False),
        ("my--shop", False),
        ("My Shop", False),
        ("shop_1", False),
        ("admin", False),
        ("www", False),
        ("a" * 31, False),
        ("متجر", False),
    ],
)
def test_slug_rules(slug, ok):
    if ok:
        assert seller_validate_slug(slug) == slug
    else:
        with pytest.raises(ValidationError):
            seller_validate_slug(slug)


def test_taken_slug_is_refused(shop_a):
    with pytest.raises(ValidationError) as info:
        seller_validate_slug("alpha")
    assert info.value.code == "slug_taken"


def test_sign_up_creates_user_seller_schema_domain_and_owner_membership():
    user, seller = seller_sign_up(
        email="Fatima@Example.com", password="a-Strong-pass-2026", shop_name="Fatima Store", slug="fatima"
    )
    assert user.email == "fatima@example.com"
    assert user.check_password("a-Strong-pass-2026")
    assert seller.name == "Fatima Store"
    assert schema_exists("s_fatima")
    assert Domain.objects.get(tenant=seller, is_primary=True).domain == "fatima.localhost"
    assert Membership.objects.get(user=user, seller=seller).role == "owner"
    assert EmailAddress.objects.get(user=user).email == "fatima@example.com"


def test_sign_up_with_a_weak_password_stores_nothing():
    with pytest.raises(ValidationError):
        seller_sign_up(email="weak@example.com", password="123", shop_name="Weak", slug="weak-shop")
    assert not User.objects.filter(email="weak@example.com").exists()
    assert not Seller.objects.filter(slug="weak-shop").exists()
    assert not schema_exists("s_weak_shop")


def test_sign_up_with_a_taken_address_stores_nothing(shop_a):
    with pytest.raises(ValidationError):
        seller_sign_up(email="new@example.com", password="a-Strong-pass-2026", shop_name="Again", slug="alpha")
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_template_schema_found_without_its_row_is_migrated_again():
    from django.core.management import call_command

    from sellers.services import template_tenant_ensure

    template = settings.TENANT_TEMPLATE_SCHEMA
    call_command("migrate_schemas", "sales", "0001", tenant=True, schema_name=template, interactive=False, verbosity=0)
    Seller.objects.filter(schema_name=template).delete()  # the row only; the schema stays
    assert schema_exists(template)
    template_tenant_ensure()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {template}.django_migrations WHERE app = 'sales'")
        assert cursor.fetchone()[0] >= 2
