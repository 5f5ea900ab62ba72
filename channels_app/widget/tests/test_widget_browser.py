"""In headless Chromium, against the real processes: a customer chats on the demo shop page,
the seller answers from the dashboard, and script-like customer text stays text everywhere."""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

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
    stack.start_replies()
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


SHOP_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Boutique</title></head>
<body><h1>Boutique</h1><script src="{server}/static/widget/widget.js" data-key="{key}" async></script></body></html>"""


# Every websocket opened and every request made by the page, counted in the page: a handshake
# that fails and a fetch that CORS blocks are attempts too.
COUNT_ATTEMPTS = """
window.__attempts = {sockets: 0, fetches: 0};
const RealSocket = window.WebSocket;
if (RealSocket) {
  window.WebSocket = function (url, protocols) {
    window.__attempts.sockets += 1;
    return new RealSocket(url, protocols);
  };
  window.WebSocket.prototype = RealSocket.prototype;
}
const realFetch = window.fetch;
window.fetch = function (input, init) { window.__attempts.fetches += 1; return realFetch.call(this, input, init); };
"""


def stopped_state(page) -> dict[str, str] | None:
    """The widget host's data attributes once it says it stopped (polled from here: the page's
    own timers are Playwright's fake clock)."""
    state = page.evaluate(
        "() => { const host = document.querySelector('[data-ma5zani-widget]'); return host && {...host.dataset}; }"
    )
    return state if state and state.get("state") == "stopped" else None


@contextlib.contextmanager
def shop_site(server: str) -> Iterator[int]:
    """A shop's own site on loopback (another origin than the platform's): /shop/?key=… is a page
    with the widget's tag for that key. Yields its port."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = parse_qs(urlsplit(self.path).query).get("key", [""])[0]
            body = SHOP_PAGE.format(server=server, key=html.escape(key)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield site.server_address[1]
    finally:
        site.shutdown()
        site.server_close()


def test_the_widget_stops_for_good_on_a_final_answer(live_stack, shop_a):
    """An unknown (revoked) key, a site that is not allowed and a bad visitor id are answers that
    asking again cannot change: over the websocket (close 4404 / 4403 / 4400 after the accept)
    and over the HTTP fallback (404 / 403 / 400), the widget makes one attempt, stops, and shows
    nothing broken. The page runs on Playwright's clock, so a minute of would-be retries and polls
    (reconnect after 1 s and more, a poll every 3 s) passes at once, with no sleep in the test."""
    from playwright.sync_api import sync_playwright

    stack = live_stack()
    stack.start_web()
    stack.wait_web()
    server = stack.url("").rstrip("/")
    site = contextlib.ExitStack()
    port = site.enter_context(shop_site(server))
    allowed, foreign = f"http://127.0.0.1:{port}", f"http://localhost:{port}"  # the same page, two sites
    account = widget_settings_update(account=widget_account_ensure(shop_a.seller), origins=[allowed])
    cases = [  # (page's site, key, a stored visitor id, websockets?, the reason it stops)
        (allowed, "wk_revoked0123456789", None, True, "unknown_key"),
        (foreign, account.external_id, None, True, "forbidden_origin"),
        (allowed, account.external_id, "not-a-uuid", True, "bad_visitor"),
        (allowed, "wk_revoked0123456789", None, False, "unknown_key"),
        (foreign, account.external_id, None, False, "forbidden_origin"),
        (allowed, account.external_id, "not-a-uuid", False, "bad_visitor"),
    ]
    with site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for origin, key, visitor, websockets, reason in cases:
                context = browser.new_context(locale="fr-FR")
                page = context.new_page()
                page.set_default_timeout(20_000)
                if visitor:
                    page.add_init_script(f"localStorage.setItem('m5z_visitor', {visitor!r})")
                if not websockets:
                    page.add_init_script("window.WebSocket = undefined")
                page.add_init_script(COUNT_ATTEMPTS)
                page.clock.install()
                page.goto(f"{origin}/shop/?{urlencode({'key': key})}")

                state = wait_for(functools.partial(stopped_state, page), 20, message=f"the widget to stop ({reason})")
                assert state is not None
                assert state["stopReason"] == reason, (origin, key, state)
                assert state["timers"] == "0"  # no reconnection, no poll, no catch-up scheduled
                # A minute of the page's time: every retry and poll that was due would run now.
                page.clock.run_for(60_000)
                attempts = page.evaluate("() => window.__attempts")
                assert attempts == {"sockets": 1 if websockets else 0, "fetches": 0 if websockets else 1}, reason
                # Nothing broken is shown: the bubble is gone.
                assert page.locator("[data-ma5zani-widget] .bubble-btn").is_hidden()
                if reason == "bad_visitor":  # the next page starts with a new visitor id
                    assert page.evaluate("() => localStorage.getItem('m5z_visitor')") is None
                context.close()
        finally:
            browser.close()
