"""Failed sign-ins are throttled on every sign-in form (the admins' too), per address and
account, per address and per account from unknown browsers, without locking the owner out of
the browser they signed in on before."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from sellers.login_throttle import DEVICE_COOKIE
from sellers.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "pw-For-tests-1"


def admin_login(client: Client, email: str, password: str, address: str):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=address)


def seller_login(client: Client, email: str, password: str, address: str):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def staff():
    return User.objects.create_superuser(email="staff@ma5zani.test", password=PASSWORD)


def test_the_platform_admin_login_is_throttled(staff):
    attacker = Client(HTTP_HOST=settings.BASE_DOMAIN, HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        response = admin_login(attacker, staff.email, "wrong-password", "203.0.113.66")
        assert response.status_code == 200 and "_auth_user_id" not in attacker.session
    # The right password from the guessing address is refused now: the guess cannot be confirmed.
    refused = admin_login(attacker, staff.email, PASSWORD, "203.0.113.66")
    assert refused.status_code == 200 and "_auth_user_id" not in attacker.session
    assert b"Too many failed sign-in attempts" in refused.content
    # The staff member, from their own address, signs in.
    own = Client(HTTP_HOST=settings.BASE_DOMAIN, HTTP_ACCEPT_LANGUAGE="en")
    response = admin_login(own, staff.email, PASSWORD, "198.51.100.10")
    assert response.status_code == 302 and own.session["_auth_user_id"] == str(staff.pk)
    assert DEVICE_COOKIE in response.cookies


def test_one_address_trying_many_accounts_is_throttled(shop_a, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "6/15 minutes"
    attacker = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    for n in range(6):
        seller_login(attacker, f"someone{n}@example.test", "wrong-password", "203.0.113.70")
    response = seller_login(attacker, shop_a.owner.email, PASSWORD, "203.0.113.70")
    assert response.status_code == 200 and "_auth_user_id" not in attacker.session
    assert b"Too many failed login attempts" in response.content


def test_a_stranger_cannot_lock_the_owner_out(shop_a, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "12/hour"
    owner_browser = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    first = seller_login(owner_browser, shop_a.owner.email, PASSWORD, "198.51.100.20")
    assert first.status_code == 302 and DEVICE_COOKIE in first.cookies
    owner_browser.post("/accounts/logout/")
    # Someone guesses the owner's password: from one address, then from many.
    attacker = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        seller_login(attacker, shop_a.owner.email, "wrong-password", "203.0.113.80")
    blocked = seller_login(attacker, shop_a.owner.email, PASSWORD, "203.0.113.80")
    assert blocked.status_code == 200 and "_auth_user_id" not in attacker.session
    for n in range(12):
        seller_login(
            Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en"),
            shop_a.owner.email,
            "wrong-password",
            f"203.0.113.{100 + n}",
        )
    # A browser the owner never used, from a fresh address, now waits (the distributed guessing
    # is stopped for the account)...
    fresh = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    assert seller_login(fresh, shop_a.owner.email, PASSWORD, "198.51.100.99").status_code == 200
    assert "_auth_user_id" not in fresh.session
    # ...but the owner's own browser signs in at once, even from the attacker's address.
    again = seller_login(owner_browser, shop_a.owner.email, PASSWORD, "203.0.113.80")
    assert again.status_code == 302 and owner_browser.session["_auth_user_id"] == str(shop_a.owner.pk)


def _guess_five_then_try_the_right_password(client: Client, shop, address: str) -> bool:
    for _ in range(5):
        seller_login(client, shop.owner.email, "wrong-password", address)
    response = seller_login(client, shop.owner.email, PASSWORD, address)
    return response.status_code == 302 and "_auth_user_id" in client.session


def test_a_forged_or_foreign_device_cookie_does_not_loosen_the_limits(shop_a, make_shop, settings):
    from django.core import signing

    from sellers.login_throttle import DEVICE_SALT, _device_entry

    settings.LOGIN_FAILURES_PER_DEVICE = "100/hour"  # a trusted browser would get through below
    other = make_shop("charlie", owner_email="owner@charlie.test")
    # A real device cookie, but earned by another account.
    foreign = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    assert seller_login(foreign, other.owner.email, PASSWORD, "203.0.113.90").status_code == 302
    foreign.post("/accounts/logout/")
    assert not _guess_five_then_try_the_right_password(foreign, shop_a, "203.0.113.91")
    # The owner's very entry, signed with a key the server does not have.
    forged = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    payload = {"d": "forged-device", "a": [_device_entry(shop_a.owner.email)]}
    forged.cookies[DEVICE_COOKIE] = signing.dumps(payload, key="not-the-servers-key", salt=DEVICE_SALT)
    assert not _guess_five_then_try_the_right_password(forged, shop_a, "203.0.113.92")
    # The same entry signed by the server is trusted: the check above is what refused it.
    genuine = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    genuine.cookies[DEVICE_COOKIE] = signing.dumps(payload, salt=DEVICE_SALT)
    assert _guess_five_then_try_the_right_password(genuine, shop_a, "203.0.113.93")


def test_a_password_change_ends_the_trust_of_the_browsers_it_had(shop_a, settings):
    settings.LOGIN_FAILURES_PER_DEVICE = "100/hour"
    browser = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    assert seller_login(browser, shop_a.owner.email, PASSWORD, "203.0.113.100").status_code == 302
    browser.post("/accounts/logout/")
    shop_a.owner.set_password("New-Pass-For-tests-2")
    shop_a.owner.save()
    # Someone who kept the old cookie is an unknown browser now: five wrong guesses and it waits.
    for _ in range(5):
        seller_login(browser, shop_a.owner.email, "wrong-password", "203.0.113.101")
    response = seller_login(browser, shop_a.owner.email, "New-Pass-For-tests-2", "203.0.113.101")
    assert "_auth_user_id" not in browser.session and response.status_code == 200


def test_attempts_are_counted_before_the_password_is_checked():
    # Attempts sent at once all reach the check before any of them fails: each is counted there.
    from django.test import RequestFactory

    from sellers.login_throttle import LoginThrottled, login_throttle_attempt

    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.110")
    for _ in range(5):
        login_throttle_attempt(request, "someone@example.test")
    with pytest.raises(LoginThrottled):
        login_throttle_attempt(request, "someone@example.test")


def test_the_shop_admin_has_no_sign_in_form_of_its_own(shop_a):
    # On a seller's host the admin's sign-in is the shop's (throttled) sign-in page.
    attacker = Client(HTTP_HOST=shop_a.host, HTTP_ACCEPT_LANGUAGE="en")
    response = admin_login(attacker, shop_a.owner.email, PASSWORD, "203.0.113.95")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in attacker.session
