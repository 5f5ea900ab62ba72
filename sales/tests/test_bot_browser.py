"""In headless Chromium, against the real processes: the seller tries the bot from the
dashboard; the question goes down the real path and the answer appears without a reload."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from ma5zani.testing import committed_db, wait_for
from sellers.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in_demo

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]

XSS = '<img src=x onerror="window.__owned=1">'


def test_try_your_bot_answers_live_in_the_dashboard(live_stack, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stack = live_stack()  # the product's engine: no key, so the built-in engine answers
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    stack.start_web()
    stack.start_worker()
    stack.start_replies()
    stack.wait_healthy()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="fr-FR")
            page.set_default_timeout(20_000)
            sign_in_demo(page, stack, settings.DEMO_PASSWORD)
            page.goto(stack.url("/dashboard/settings/bot/try/", host="demo.localhost"))

            def texts() -> list[str]:
                return page.locator("#thread .bubble-text").all_inner_texts()

            page.fill("#try-text", "Combien coûte le hijab en soie ?")
            page.click("#try-form button[type=submit]")
            wait_for(lambda: any("1 800" in t for t in texts()), 30, message="the bot's answer on the page")
            assert page.url.endswith("/dashboard/settings/bot/try/")  # no reload: sent in the background
            page.fill("#try-text", XSS)
            page.click("#try-form button[type=submit]")
            wait_for(lambda: XSS in texts(), 30, message="the typed text shown as text")
            assert page.evaluate("() => window.__owned") is None
        finally:
            browser.close()
