"""In headless Chromium: sign up a seller, add a product with a variant, see it listed,
switch the UI to Arabic (right to left), and use the dashboard on a phone-size screen."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from ma5zani.testing import committed_db
from sales.models import Product
from sellers.models import Seller

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]

if CHROMIUM is None and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError("Chromium is required for the browser tests (apt-get install chromium).")

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


def sign_in_demo(page, stack, password: str) -> None:
    """Sign the demo seller's owner in on a live stack's page; lands on the dashboard."""
    page.goto(stack.url("/accounts/login/", host="demo.localhost"))
    page.fill("#id_login", "demo@ma5zani.local")
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))


@pytest.fixture
def browser_page(monkeypatch) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    profile = tempfile.mkdtemp(prefix="ma5zani-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="en-US"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def test_sign_up_add_a_product_and_switch_to_arabic(live_server, drop_new_sellers, browser_page):
    page = browser_page
    port = live_server.url.rsplit(":", 1)[1]

    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_shop_name", "Souk El Fellah")
    page.fill("#id_slug", "souk-fellah")
    page.fill("#id_email", "owner@souk-fellah.dz")
    page.fill("#id_password1", "Tomates-Rouges-2026")
    page.fill("#id_password2", "Tomates-Rouges-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(rf"^http://souk-fellah\.localhost:{port}/dashboard/$"))
    assert "Souk El Fellah" in page.inner_text("h1")
    assert Seller.objects.filter(slug="souk-fellah").exists()

    page.goto(f"http://souk-fellah.localhost:{port}/dashboard/catalog/new/")
    page.fill("#id_name_fr", "Huile d'olive de Kabylie")
    page.fill("#id_name_ar", "زيت زيتون القبائل")
    page.fill("#id_price", "1200")
    page.fill("#id_variants-0-sku", "HO-1L")
    page.fill("#id_variants-0-size", "1 L")
    page.fill("#id_variants-0-stock", "30")
    page.click("form button[type=submit]:has-text('Save')")
    page.wait_for_url(re.compile(r"/dashboard/catalog/$"))
    row = page.locator('tr[data-product="huile-d-olive-de-kabylie"]')
    assert row.count() == 1
    assert "Huile d'olive de Kabylie" in row.inner_text()
    assert "1 L" in row.inner_text()
    seller = Seller.objects.get(slug="souk-fellah")
    from django_tenants.utils import tenant_context

    with tenant_context(seller):
        assert Product.objects.get().variants.get().sku == "HO-1L"

    assert page.evaluate("document.documentElement.dir") == "ltr"
    with page.expect_navigation():
        page.select_option("#language-select", "ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "الكتالوج" in page.inner_text("h1")
    assert "زيت زيتون القبائل" in page.locator('tr[data-product="huile-d-olive-de-kabylie"]').inner_text()
    # In right to left the navigation starts on the right: the brand sits right of the menu.
    brand = page.locator(".brand").bounding_box()
    nav = page.locator("#nav").bounding_box()
    assert brand["x"] > nav["x"]


def test_the_dashboard_is_usable_on_a_phone_screen(live_server, drop_new_sellers, browser_page, make_shop):
    shop = make_shop("phone-shop")
    page = browser_page
    port = live_server.url.rsplit(":", 1)[1]
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"http://phone-shop.localhost:{port}/accounts/login/")
    page.fill("#id_login", shop.owner.email)
    page.fill("#id_password", "pw-For-tests-1")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    for path in ("/dashboard/", "/dashboard/catalog/", "/dashboard/settings/bot/"):
        page.goto(f"http://phone-shop.localhost:{port}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
    assert not page.locator("#nav").is_visible()
    page.click(".nav-toggle")
    assert page.locator("#nav").is_visible()
    page.click("#nav >> text=Catalog")
    page.wait_for_url(re.compile(r"/dashboard/catalog/$"))
