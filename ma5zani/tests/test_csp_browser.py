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
