"""No admin of either site shows a secret field, even encrypted, in any form, list or search."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from ma5zani.admin_sites import platform_admin, secret_field_names, seller_admin
from sellers.models import User

pytestmark = pytest.mark.django_db


def _staff_request(seller=None):
    request = RequestFactory().get("/admin/")
    request.user = User(email="staff@ma5zani.test", is_staff=True, is_superuser=True, is_active=True)
    request.seller = seller  # type: ignore[attr-defined]
    request._membership_cache = None  # type: ignore[attr-defined]
    return request


@pytest.mark.parametrize("site", [seller_admin, platform_admin], ids=["seller", "platform"])
def test_no_registered_admin_exposes_a_secret_field(site, shop_a):
    request = _staff_request(shop_a.seller if site is seller_admin else None)
    checked = 0
    with shop_a.schema():
        for model, model_admin in site._registry.items():
            secrets = secret_field_names(model)
            admins = [model_admin, *model_admin.get_inline_instances(request)]
            for each in admins:
                secrets_here = secret_field_names(each.model)
                form = each.get_formset(request).form if each is not model_admin else each.get_form(request)
                assert not secrets_here & set(form.base_fields), (model, each)
                assert not secrets_here & set(each.get_readonly_fields(request)), (model, each)
                checked += 1
            assert not secrets & set(model_admin.get_list_display(request))
            assert not any(f.split("__")[0] in secrets for f in model_admin.get_search_fields(request))
    assert checked


@pytest.mark.parametrize("site", [seller_admin, platform_admin], ids=["seller", "platform"])
def test_nobody_who_may_only_read_sees_a_secret_even_decrypted(site, shop_a, monkeypatch):
    from django.contrib.admin.utils import flatten_fieldsets

    from ma5zani.admin_sites import secret_names

    request = _staff_request(shop_a.seller if site is seller_admin else None)
    with shop_a.schema():
        for model, model_admin in site._registry.items():
            for each in [model_admin, *model_admin.get_inline_instances(request)]:
                monkeypatch.setattr(each, "has_change_permission", lambda request, obj=None: False)
                shown = set(flatten_fieldsets(each.get_fieldsets(request))) | set(each.get_readonly_fields(request))
                assert not secret_names(each.model) & shown, (model, each)


def test_the_bot_settings_key_field_is_a_secret_field():
    from sales.models import BotSettings

    assert secret_field_names(BotSettings) == {"openrouter_key_encrypted"}
