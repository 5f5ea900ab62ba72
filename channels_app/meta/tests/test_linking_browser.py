"""In headless Chromium, against the live server and the loopback Graph API: the owner presses
"Connect with Facebook", goes through Meta's dialog (the loopback one sends the browser straight
back), ticks the Page and its Instagram account, and sees both connected; a Messenger
conversation then shows in the inbox with its Messenger badge."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.base import InboundMedia, InboundMessage
from channels_app.meta.tests.conftest import INSTAGRAM_A, PAGE_A
from channels_app.models import ChannelAccount
from conversations.services import ingest
from ma5zani.testing import committed_db
from sellers.tests.test_browser import CHROMIUM, browser_page  # noqa: F401 (the fixture)

pytestmark = [
    committed_db,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"),
]


def test_the_owner_links_a_page_and_its_instagram_account_and_sees_messenger_in_the_inbox(
    live_server,
    drop_new_sellers,
    browser_page,  # noqa: F811
    make_shop,
    graph,
    meta_settings,
):
    graph.add_page(PAGE_A, "Alpha Boutique", "page-token-alpha", {"id": INSTAGRAM_A, "username": "alpha.dz"})
    shop = make_shop("alpha", name="Alpha")
    page = browser_page
    page.set_default_timeout(30_000)  # a loaded machine: every wait is on a condition, none fixed
    base = f"http://alpha.localhost:{live_server.url.rsplit(':', 1)[1]}"

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", shop.owner.email)
    page.fill("#id_password", "pw-For-tests-1")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))

    page.get_by_role("link", name="Messenger & Instagram").click()
    page.wait_for_url(re.compile(r"/dashboard/channels/meta/$"))
    page.get_by_text("No Page or Instagram account is linked yet.").wait_for()
    page.get_by_role("button", name="Connect with Facebook").click()
    # Meta's dialog (loopback) answers with a redirect to the callback, which sends to the pick list.
    page.wait_for_url(re.compile(r"/dashboard/channels/meta/pick/[^/]+/$"))
    assert graph.calls_to("/dialog/oauth") and graph.calls_to("/me/accounts")
    assert "page-token-alpha" not in page.content()

    page.check(f"input[name=pick][value='page:{PAGE_A}']")
    page.check(f"input[name=pick][value='instagram_page:{INSTAGRAM_A}']")
    page.get_by_role("button", name="Link the ticked accounts").click()
    page.wait_for_url(re.compile(r"/dashboard/channels/meta/$"))
    for external_id, name in ((PAGE_A, "Alpha Boutique"), (INSTAGRAM_A, "@alpha.dz")):
        section = page.locator(f"section[data-meta-account='{external_id}']")
        section.wait_for()
        assert section.get_attribute("data-state") == "ok"
        assert section.locator("[data-field=state]").inner_text().strip() == "Connected"
        assert name in section.locator("h3").inner_text()
    assert set(graph.subscriptions) == {PAGE_A}

    with schema_context(get_public_schema_name()):
        messenger = ChannelAccount.objects.get(seller=shop.seller, channel="messenger", external_id=PAGE_A)
    with shop.schema():
        ingest(
            InboundMessage(
                channel="messenger",
                channel_account_id=messenger.pk,
                sender_id="6024958127593810",
                external_id="m_browser-test-1",
                text="Salam, c'est combien ?",
                timestamp=timezone.now(),
                sender_name="Yacine",
            ),
            reply=False,
        )
    page.get_by_role("link", name="Conversations").click()
    page.wait_for_url(re.compile(r"/dashboard/conversations/$"))
    row = page.locator("tr[data-conversation]", has_text="Yacine")
    row.wait_for()
    badge = row.locator("[data-channel-badge=messenger]")
    assert badge.inner_text().strip() == "Messenger"  # the name is the text, the icon decoration
    assert badge.locator("svg").get_attribute("aria-hidden") == "true"
    assert badge.is_visible()

    # An Instagram story reply is shown from its link; the story is gone (Meta's link cannot be
    # reached here, as once a story expired): a placeholder takes its place.
    with schema_context(get_public_schema_name()):
        instagram = ChannelAccount.objects.get(seller=shop.seller, channel="instagram", external_id=INSTAGRAM_A)
    with shop.schema():
        story = ingest(
            InboundMessage(
                channel="instagram",
                channel_account_id=instagram.pk,
                sender_id="1049283746501928",
                external_id="aWdfc3RvcnlfcmVwbHk",
                text="ch7al hada?",
                timestamp=timezone.now(),
                sender_name="Amina",
                media=(InboundMedia(kind="story", url="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1790"),),
            ),
            reply=False,
        )
    page.goto(f"{base}/dashboard/conversations/{story.conversation_id}/")
    bubble = page.locator(f"[data-message='{story.message_id}']")
    bubble.locator("[data-media-expired]").wait_for(state="visible")
    assert not bubble.locator("[data-media-preview]").is_visible()
    assert bubble.locator(".bubble-text").inner_text() == "ch7al hada?"
