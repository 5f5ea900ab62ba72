"""The Content-Security-Policy: every page works under it in Chromium (no violation reported),
and a script injected into a page without the response's nonce does not run."""

from __future__ import annotations

import re

import pytest

from channels_app.widget.services import widget_account_ensure
from ma5zani.testing import committed_db
from sellers.tests.test_browser import CHROMIUM, browser_page  # noqa: F401 (the fixture)

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""

SELLER_PAGES = [
    "/dashboard/",
    "/dashboard/catalog/",
    "/dashboard/catalog/new/",
    "/dashboard/catalog/import/",
    "/dashboard/settings/bot/",
    "/dashboard/settings/delivery/",
    "/dashboard/settings/usage/",
    "/dashboard/settings/bot/try/",
    "/dashboard/conversations/",
    "/dashboard/orders/",
    "/dashboard/customers/",
    "/dashboard/knowledge/",
    "/dashboard/team/",
    "/dashboard/api/",
    "/dashboard/channels/widget/",
    "/dashboard/channels/whatsapp/",
    "/dashboard/channels/meta/",
    "/api/docs/",
    "/admin/",
    "/admin/sales/product/",
    "/admin/sales/product/add/",
]
PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/api/docs/"]


def test_every_page_works_under_the_policy_and_injected_scripts_do_not_run(
    live_server,
    drop_new_sellers,
    browser_page,  # noqa: F811
    make_shop,
):
    shop = make_shop("demo", name="Demo")
    widget_account_ensure(shop.seller)
    page = browser_page
    port = live_server.url.rsplit(":", 1)[1]
    page.add_init_script(WATCH)

    def visit(url: str) -> None:
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, url
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], url

    for path in PUBLIC_PAGES:
        visit(f"http://localhost:{port}{path}")
    page.goto(f"http://demo.localhost:{port}/accounts/login/")
    page.fill("#id_login", shop.owner.email)
    page.fill("#id_password", "pw-For-tests-1")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    for path in SELLER_PAGES:
        visit(f"http://demo.localhost:{port}{path}")
    # The dashboard's own script carries the response's nonce and runs (the menu toggle works).
    visit(f"http://demo.localhost:{port}/dashboard/")
    assert page.evaluate("document.querySelector('script[nonce]') !== null")
    page.set_viewport_size({"width": 375, "height": 740})
    page.click(".nav-toggle")
    assert page.locator("#nav").is_visible()
    page.set_viewport_size({"width": 1280, "height": 800})

    # The shop page with the chat widget: it opens, styles itself and talks to the server.
    visit(f"http://localhost:{port}/demo-shop/")
    page.wait_for_function("document.querySelector('[data-ma5zani-widget]') !== null || window.__violations.length")

    # A script injected without the nonce (as an XSS would) is blocked and reported.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__pwned === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))


def test_the_widget_works_on_a_shop_page_with_a_strict_nonce_policy(
    live_server,
    drop_new_sellers,
    browser_page,  # noqa: F811
    make_shop,
):
    """A seller's site whose policy allows scripts and styles by nonce only: the widget's styles
    carry the nonce of its script tag, and it works there without a violation."""
    import http.server
    import threading

    from channels_app.widget.services import widget_settings_update

    shop = make_shop("strict-shop")
    key = widget_account_ensure(shop.seller).external_id
    server = live_server.url
    policy = (
        f"default-src 'none'; script-src 'nonce-n0nce42'; style-src 'nonce-n0nce42'; "
        f"connect-src {server} {server.replace('http', 'ws')}; img-src {server} data:"
    )
    body = (
        "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
        f'<script src="{server}/static/widget/widget.js" data-key="{key}" nonce="n0nce42" async></script>'
        "</body></html>"
    ).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{site.server_address[1]}"
        widget_settings_update(account=widget_account_ensure(shop.seller), origins=[origin])
        page = browser_page
        page.add_init_script(WATCH)
        page.goto(f"{origin}/")
        page.wait_for_selector("[data-ma5zani-widget]", state="attached")  # no eval: the policy forbids it
        # The widget's own styles apply inside its shadow root: its button is fixed to a corner.
        position = page.evaluate(
            "getComputedStyle(document.querySelector('[data-ma5zani-widget]').shadowRoot.querySelector('button'))"
            ".position"
        )
        assert position == "fixed"
        assert page.evaluate("window.__violations") == []
    finally:
        site.shutdown()
