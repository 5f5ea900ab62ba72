"""With DEBUG on (make run), public endpoints answer errors without Django's debug pages."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from channels_app.widget.services import widget_account_ensure

pytestmark = pytest.mark.django_db

DEBUG_MARKS = (b"Traceback", b"DEBUG = True", b"URLconf", b"technical", b"SECRET_KEY", b"Request Method")


def assert_plain(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert not any(mark in response.content for mark in DEBUG_MARKS), response.content[:300]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_a_crash_in_the_widget_api_shows_no_debug_page(debug, shop_a, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom with internals")

    monkeypatch.setattr("channels_app.widget.views.ingest", crash)
    key = widget_account_ensure(shop_a.seller).external_id
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    body = {"key": key, "visitor": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "text": "Salam"}
    response = client.post(f"/widget/v1/messages?key={key}", body, content_type="application/json")
    assert_plain(response, 500)
    assert b"boom with internals" not in response.content


@pytest.mark.parametrize(
    "path", ["/widget/v1/nothing", "/widget/", "/webhooks/nothing/", "/media/nobody/products/x.png", "/health/nothing/"]
)
def test_unknown_public_paths_show_no_url_patterns(debug, path):
    assert_plain(Client(HTTP_HOST="localhost").get(path), 404)


@pytest.mark.parametrize("path", ["/no-such-page/", "/accounts/nothing/", "/demo-shop/nothing/"])
def test_unknown_pages_of_the_public_site_show_the_ordinary_error_page(debug, path):
    response = Client(HTTP_HOST="localhost").get(path)
    assert response.status_code == 404
    assert not any(mark in response.content for mark in DEBUG_MARKS), response.content[:300]
    assert b"<html" in response.content


def test_the_dashboard_keeps_the_debug_page_for_developers(debug, shop_a):
    response = shop_a.client().get("/dashboard/no-such-page/")
    assert response.status_code == 404 and b"URLconf" in response.content


def test_metas_webhook_refuses_in_plain_words(debug):
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    for response in (
        client.get("/webhooks/meta/"),
        client.post("/webhooks/meta/", b"{}", content_type="application/json"),
    ):
        assert response.status_code == 403 and response["Content-Type"].startswith("text/plain")
        assert not any(mark in response.content for mark in DEBUG_MARKS)
