"""Sign-up on the public site, the hand-off to the seller's domain, roles and API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail, signing
from django.test import Client
from knox.models import AuthToken

from sales.models import BotSettings
from sellers.handoff import SALT, handoff_consume
from sellers.models import Membership, Seller, User

pytestmark = pytest.mark.django_db

PUBLIC = "localhost"


def follow_handoff(location: str) -> tuple[Client, Any]:
    url = urlparse(location)
    client = Client(HTTP_HOST=url.netloc)
    return client, client.get(f"{url.path}?{url.query}")


def test_sign_up_lands_on_the_new_seller_dashboard():
    client = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/accounts/signup/",
        {
            "shop_name": "Dar El Hayek",
            "slug": "dar-el-hayek",
            "email": "owner@darelhayek.dz",
            "password1": "Haik-Blanc-2026",
            "password2": "Haik-Blanc-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    seller = Seller.objects.get(slug="dar-el-hayek")
    user = User.objects.get(email="owner@darelhayek.dz")
    assert Membership.objects.get(user=user, seller=seller).role == "owner"

    response = client.get(response["Location"])  # /accounts/continue/
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("http://dar-el-hayek.localhost/accounts/handoff/?token=")

    tenant_client, response = follow_handoff(location)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    page = tenant_client.get("/dashboard/")
    assert page.status_code == 200
    assert "Dar El Hayek" in page.content.decode()


def test_sign_up_errors_store_nothing():
    client = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/accounts/signup/",
        {
            "shop_name": "X",
            "slug": "admin",
            "email": "x@example.com",
            "password1": "Haik-Blanc-2026",
            "password2": "Haik-Blanc-2026",
        },
    )
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()


def test_sign_up_is_closed_on_a_seller_domain(shop_a):
    response = shop_a.anonymous().get("/accounts/signup/")
    assert response.status_code == 200
    assert b'name="slug"' not in response.content


def test_sign_in_on_the_seller_domain_goes_to_its_dashboard(shop_a):
    client = shop_a.anonymous()
    response = client.post("/accounts/login/", {"login": shop_a.owner.email, "password": "pw-For-tests-1"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_a_user_of_several_sellers_chooses_one(shop_a, shop_b):
    Membership.objects.create(user=shop_a.owner, seller=shop_b.seller, role="agent")
    client = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(shop_a.owner)
    page = client.get("/accounts/continue/")
    assert page.status_code == 200
    assert "Alpha Shop" in page.content.decode() and "Bravo Shop" in page.content.decode()
    response = client.post("/accounts/open/bravo/")
    assert response["Location"].startswith("http://bravo.localhost/accounts/handoff/")
    # Not a member of that one:
    assert client.post("/accounts/open/nope/").status_code == 404


def test_handoff_token_is_single_use_and_bound_to_its_seller(shop_a, shop_b):
    client = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(shop_a.owner)
    location = client.get("/accounts/continue/")["Location"]
    token = parse_qs(urlparse(location).query)["token"][0]

    # Replayed on another seller's domain: refused, nobody is signed in.
    other = Client(HTTP_HOST="bravo.localhost")
    response = other.get(f"/accounts/handoff/?token={token}")
    assert response["Location"].startswith("/accounts/login/")
    assert other.get("/dashboard/").status_code == 302

    _first, response = follow_handoff(location)
    assert response["Location"] == "/dashboard/"
    _second, response = follow_handoff(location)
    assert response["Location"].startswith("/accounts/login/")


def test_forged_or_stale_handoff_tokens_are_refused(shop_a, monkeypatch):
    forged = signing.dumps({"u": shop_a.owner.pk, "s": shop_a.seller.schema_name, "n": "x"}, salt="other-salt")
    assert handoff_consume(forged, seller=shop_a.seller) is None
    valid = signing.dumps({"u": shop_a.owner.pk, "s": shop_a.seller.schema_name, "n": "stale"}, salt=SALT)
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    assert handoff_consume(valid, seller=shop_a.seller) is None


def test_handoff_refuses_a_user_who_lost_the_membership(shop_a):
    token = signing.dumps({"u": shop_a.owner.pk, "s": shop_a.seller.schema_name, "n": "lost"}, salt=SALT)
    Membership.objects.filter(user=shop_a.owner).delete()
    assert handoff_consume(token, seller=shop_a.seller) is None


def test_owner_invites_an_agent_who_joins_only_by_accepting(shop_a, django_capture_on_commit_callbacks):
    client = shop_a.client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboard/team/", {"email": "Agent@Alpha.test", "role": "agent"})
    assert response.status_code == 302
    # Nobody is a member, and no account exists, until the invitation is accepted.
    assert not User.objects.filter(email="agent@alpha.test").exists()
    assert not Membership.objects.filter(seller=shop_a.seller).exclude(user=shop_a.owner).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["agent@alpha.test"]
    # The same address twice is refused while the first invitation is open.
    response = client.post("/dashboard/team/", {"email": "agent@alpha.test", "role": "agent"})
    assert response.status_code == 200
    assert len(mail.outbox) == 1


def test_agents_work_in_the_catalog_but_cannot_change_settings_or_team(shop_a, add_member):
    agent = add_member(shop_a, "agent@alpha.test")
    client = shop_a.client(agent)
    assert client.get("/dashboard/catalog/").status_code == 200
    assert client.get("/dashboard/settings/bot/").status_code == 200
    assert client.post("/dashboard/settings/bot/toggle/").status_code == 403
    assert client.post("/dashboard/team/", {"email": "x@alpha.test", "role": "owner"}).status_code == 403
    assert client.post("/dashboard/settings/delivery/", {"served_16": "on", "home_16": "400"}).status_code == 403
    with shop_a.schema():
        assert BotSettings.objects.filter(is_enabled=False).count() == 0


def test_the_last_owner_cannot_be_removed(shop_a):
    membership = Membership.objects.get(user=shop_a.owner)
    client = shop_a.client()
    client.post(f"/dashboard/team/{membership.pk}/remove/")
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_api_token_is_shown_once_stored_as_digest_and_works_for_own_seller_only(shop_a, shop_b):
    page = shop_a.client().post("/dashboard/api/")
    token = page.context["new_token"]
    assert token.startswith("m5z_")
    stored = AuthToken.objects.get(user=shop_a.owner)
    assert token not in (stored.digest, stored.token_key)
    assert shop_a.client().get("/dashboard/api/").context["new_token"] is None

    api = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/products/").status_code == 200
    foreign = Client(HTTP_HOST="bravo.localhost", HTTP_AUTHORIZATION=f"Token {token}")
    assert foreign.get("/api/v1/products/").status_code == 403
    wrong = Client(HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION="Token m5z_notatoken")
    assert wrong.get("/api/v1/products/").status_code == 401


def test_repeated_failed_sign_ins_are_rate_limited(shop_a, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/h/ip"}
    settings.LOGIN_FAILURES_PER_ADDRESS_ACCOUNT = "3/5 minutes"  # sellers.login_throttle
    client = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    pages = [
        client.post("/accounts/login/", {"login": shop_a.owner.email, "password": "wrong"}).content.decode()
        for _ in range(4)
    ]
    assert not any("Too many failed login attempts" in page for page in pages[:3])
    assert "Too many failed login attempts" in pages[3]
    # Even the right password is refused while the limit holds.
    page = client.post("/accounts/login/", {"login": shop_a.owner.email, "password": "pw-For-tests-1"})
    assert "Too many failed login attempts" in page.content.decode()
    assert "_auth_user_id" not in client.session
    # Sign-ups from one address are limited too.
    statuses = [
        client.post("/accounts/signup/", {"shop_name": "S", "slug": f"spam-{n}", "email": f"s{n}@x.dz"}).status_code
        for n in range(3)
    ]
    assert statuses[-1] == 429
