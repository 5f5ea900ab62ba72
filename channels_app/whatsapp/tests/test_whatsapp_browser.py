"""In headless Chromium, against the real processes (web and a gateway with loopback clients):
the seller presses "Connect WhatsApp" and the QR code appears on the open page, pushed over the
websocket, without a reload."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command

from ma5zani.testing import committed_db
from sellers.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in_demo

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


def test_the_qr_code_arrives_live_on_the_whatsapp_page(live_stack, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stack = live_stack(WHATSAPP_REDIS_PREFIX=settings.WHATSAPP_REDIS_PREFIX, WHATSAPP_LEASE_SECONDS="3")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    stack.start_web()
    stack.wait_web()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="ar-DZ")
            page.set_default_timeout(20_000)
            sign_in_demo(page, stack, settings.DEMO_PASSWORD)
            page.goto(stack.url("/dashboard/channels/whatsapp/", host="demo.localhost"))
            assert page.get_attribute("html", "dir") == "rtl"  # the Arabic dashboard, right to left
            page.click("form:has(input[value=connect]) button")
            page.wait_for_url(re.compile(r"/dashboard/channels/whatsapp/$"))
            assert page.locator("[data-qr]").is_hidden()
            page.wait_for_selector("[data-whatsapp][data-connected=true]")  # the live socket is open
            page.evaluate("() => { window.__same_page = true; }")

            # Only now does a gateway start: it takes the session, its client shows a QR code.
            stack.start_gateway("gw-browser")
            page.wait_for_selector("[data-qr]:not([hidden])")
            src = page.get_attribute("[data-qr-image]", "src") or ""
            assert src.startswith("data:image/svg+xml")
            assert page.evaluate("() => window.__same_page") is True  # no reload: it came live
            assert page.inner_text("[data-field=state_label]").strip() != ""
        finally:
            browser.close()
