"""In headless Chromium, against the real processes: a customer chats on the demo shop page,
the seller answers from the dashboard, and script-like customer text stays text everywhere."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from django.core.management import call_command

from channels_app.widget.services import widget_account_ensure, widget_settings_update
from conversations.models import Conversation, Message
from ma5zani.testing import committed_db, wait_for
from sellers.models import Seller
from sellers.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in_demo

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]

WIDGET_ROOT = "document.querySelector('[data-ma5zani-widget]').shadowRoot"
XSS = '<img src=x onerror="window.__owned=1"><script>window.__owned=2</script>'


def note_dialog(dialogs: list[str], dialog) -> None:
    """A script that ran would open a dialog: note it and close it."""
    dialogs.append(dialog.message)
    dialog.dismiss()


def widget_texts(page) -> list[str]:
    return page.evaluate(
        """() => {
            const host = document.querySelector('[data-ma5zani-widget]');
            return Array.from(host.shadowRoot.querySelectorAll('.msg')).map(m => m.textContent);
        }"""
    )


def wait_widget(page, predicate, timeout=20):
    return wait_for(lambda: predicate(widget_texts(page)), timeout, message="the widget to show the answer")


def type_in_widget(page, text: str) -> None:
    page.locator("[data-ma5zani-widget] textarea").fill(text)
    page.locator("[data-ma5zani-widget] form button").click()


def test_a_full_widget_chat_with_the_seller_answering(live_stack, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    stack = live_stack(BOT_ENGINE_CLASS="sales.engine.builtin.BuiltinEngine")
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    seller = Seller.objects.get(slug="demo")
    widget_settings_update(account=widget_account_ensure(seller), origins=[stack.url("").rstrip("/")])
    stack.start_web()
    stack.start_worker()
    stack.wait_healthy()

    profile = tempfile.mkdtemp(prefix="ma5zani-chromium-")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            shop = browser.new_page(locale="fr-FR")
            shop.set_default_timeout(20_000)
            dialogs: list[str] = []
            shop.on("dialog", lambda dialog: note_dialog(dialogs, dialog))
            shop.goto(stack.url("/demo-shop/"))
            shop.locator("[data-ma5zani-widget] .bubble-btn").click()

            type_in_widget(shop, "Bonjour")
            wait_widget(shop, lambda texts: any("Amina" in t for t in texts))
            type_in_widget(shop, "Combien coûte le hijab en soie ?")
            wait_widget(shop, lambda texts: any("1 800" in t for t in texts))
            card_title = shop.evaluate(f"() => {WIDGET_ROOT}.querySelector('.card strong').textContent")
            assert "Hijab" in card_title

            type_in_widget(shop, XSS)
            wait_widget(shop, lambda texts: XSS in texts)
            assert shop.evaluate("() => window.__owned") is None
            injected = shop.evaluate(f"() => {WIDGET_ROOT}.querySelectorAll('.msg img, .msg script').length")
            assert injected == 0

            # The seller opens the conversation and answers.
            seller_page = browser.new_page(locale="fr-FR")
            seller_page.set_default_timeout(20_000)
            seller_page.on("dialog", lambda dialog: note_dialog(dialogs, dialog))
            sign_in_demo(seller_page, stack, settings.DEMO_PASSWORD)
            with schema(seller):
                conversation = Conversation.objects.get()
            seller_page.goto(stack.url(f"/dashboard/conversations/{conversation.pk}/", host="demo.localhost"))
            texts = seller_page.locator("#thread .bubble-text").all_inner_texts()
            assert XSS in texts and "Bonjour" in texts
            assert seller_page.evaluate("() => window.__owned") is None
            # The customer asks for a person: the seller is told at once, wherever they are.
            type_in_widget(shop, "Je veux parler à un conseiller")
            seller_page.wait_for_selector("#handoff-toast:not([hidden])")
            wait_widget(shop, lambda texts: any("quelqu'un de la boutique" in t for t in texts))
            seller_page.fill("#reply-text", "Bienvenue chez nous, je suis Sara de la boutique.")
            seller_page.click("#reply-form button[type=submit]")
            wait_widget(shop, lambda texts: any("Sara de la boutique" in t for t in texts))

            # The seller's page updates live when the customer writes again.
            type_in_widget(shop, "Merci beaucoup !")
            wait_for(
                lambda: "Merci beaucoup !" in seller_page.locator("#thread .bubble-text").all_inner_texts(),
                20,
                message="the seller's thread to show the new message without a reload",
            )

            # An answer whose push is lost on the way (stored, never pushed) still reaches the
            # customer: the widget, awaiting an answer since its last message, asks for it.
            with schema(seller):
                Message.objects.create(
                    conversation=conversation,
                    direction=Message.Direction.OUT,
                    author=Message.Author.SELLER,
                    channel="widget",
                    text="Votre colis part demain.",
                    status=Message.Status.SENT,
                )
            wait_widget(shop, lambda texts: "Votre colis part demain." in texts)

            # Reloading the shop restores the whole conversation from the server.
            shop.reload()
            shop.locator("[data-ma5zani-widget] .bubble-btn").click()
            wait_widget(shop, lambda texts: "Bonjour" in texts and any("Sara" in t for t in texts))
            assert dialogs == []
        finally:
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)

    with schema(seller):
        conversation = Conversation.objects.get()
        assert conversation.mode == Conversation.Mode.HUMAN
        # greeting, price, the odd one, and "I'm passing you to someone"
        assert Message.objects.filter(author="bot", status="sent").count() == 4
        assert Message.objects.filter(author="seller", status="sent").count() == 2


def schema(seller):
    from django_tenants.utils import schema_context

    return schema_context(seller.schema_name)
