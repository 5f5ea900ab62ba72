"""Signing in and working in the dashboard with Redis down or hanging.

Sessions live in the database and the cache is only a hint: a Redis that refuses connections, or
accepts them and never answers, must not log sellers out, break sign-in or make pages fail. The
hand-off's one-time nonce is the exception where failing open would be wrong: it lives in the
database, so an outage can neither break it nor allow a replay.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.test import Client

from ma5zani import settings as production_settings
from ma5zani.testing import free_port
from sellers.handoff import handoff_consume

pytestmark = pytest.mark.django_db

PUBLIC = "localhost"


@pytest.fixture
def hanging_redis_url() -> Iterator[str]:
    """A server that accepts connections (the kernel's backlog) and never answers a command."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


@pytest.fixture(params=["down", "hanging"])
def broken_redis(request, settings, hanging_redis_url) -> str:
    """The Django cache pointed at a Redis that is down (refused) or hanging, with the
    production sign-in rate limits on (the test settings turn them off; they use the cache)."""
    url = f"redis://127.0.0.1:{free_port()}/0" if request.param == "down" else hanging_redis_url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    settings.REDIS_URL = url  # the rate limiters (sign-in throttle, widget)
    settings.ACCOUNT_RATE_LIMITS = production_settings.ACCOUNT_RATE_LIMITS
    return request.param


def sign_in_through_the_public_site(email: str, password: str) -> Client:
    public = Client(HTTP_HOST=PUBLIC, HTTP_ACCEPT_LANGUAGE="en")
    response = public.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    response = public.get(response["Location"])  # /accounts/continue/
    assert response.status_code == 302
    handoff = urlparse(response["Location"])
    assert handoff.path == "/accounts/handoff/"
    seller_site = Client(HTTP_HOST=handoff.netloc, HTTP_ACCEPT_LANGUAGE="en")
    response = seller_site.get(f"{handoff.path}?{handoff.query}")
    assert response["Location"] == "/dashboard/"
    return seller_site


def test_sign_in_and_the_dashboard_work_while_redis_is_broken(shop_a, broken_redis):
    seller_site = sign_in_through_the_public_site(shop_a.owner.email, "pw-For-tests-1")
    for path in ("/dashboard/", "/dashboard/conversations/", "/dashboard/catalog/", "/dashboard/orders/"):
        response = seller_site.get(path)
        assert response.status_code == 200, path
    # Signing out works too, and the session is gone for good.
    assert seller_site.post("/accounts/logout/").status_code == 302
    assert seller_site.get("/dashboard/").status_code == 302


def test_a_signed_in_seller_stays_signed_in_while_redis_is_broken(shop_a, broken_redis):
    client = shop_a.client()
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/settings/bot/").status_code == 200


def test_a_handoff_token_cannot_be_replayed_while_redis_is_broken(shop_a, broken_redis):
    public = Client(HTTP_HOST=PUBLIC)
    public.force_login(shop_a.owner)
    location = urlparse(public.get("/accounts/continue/")["Location"])
    token = location.query.removeprefix("token=")
    assert handoff_consume(token, seller=shop_a.seller) == shop_a.owner
    assert handoff_consume(token, seller=shop_a.seller) is None
    replay = Client(HTTP_HOST=location.netloc)
    assert replay.get(f"{location.path}?{location.query}")["Location"].startswith("/accounts/login/")
    assert replay.get("/dashboard/").status_code == 302


def test_the_api_answers_while_redis_is_broken(shop_a, broken_redis):
    """DRF's throttle counts in the cache: it lets requests through rather than failing."""
    token = client_token(shop_a)
    response = Client(HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/products/")
    assert response.status_code == 200


def client_token(shop) -> str:
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user=shop.owner)
    return token
