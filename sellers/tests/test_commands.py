"""The demo seller that `make run` loads."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from sales.models import DeliveryRate, Product, ProductImage, Variant
from sellers.models import Domain, Membership, Seller, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_follows_demo_password(settings):
    settings.DEMO_PASSWORD = "first-Password-1"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEMO_PASSWORD = "second-Password-2"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    seller = Seller.objects.get(slug="demo")
    assert Domain.objects.get(tenant=seller).domain == "demo.localhost"
    user = User.objects.get(email="demo@ma5zani.local")
    assert user.check_password("second-Password-2")
    assert Membership.objects.get(user=user, seller=seller).role == "owner"
    with schema_context(seller.schema_name):
        assert Product.objects.count() == 20
        assert Variant.objects.count() == 36
        assert ProductImage.objects.count() == 20
        assert DeliveryRate.objects.filter(is_served=True).count() == 69
        names = Product.objects.values_list("name_ar", "name_fr", "name_en")
        assert all(all(name) for name in names)  # every product named in the three languages
        assert Variant.objects.filter(stock=0).exists()  # some are out of stock, as in real life
